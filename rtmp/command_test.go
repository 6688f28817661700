package rtmp_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
)

func TestCommandRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		cmd  rtmp.Command
	}{
		{"connect", rtmp.Command{Name: "connect", TransactionID: 1, Object: amf.Object{
			{Key: "app", Value: "live"}, {Key: "tcUrl", Value: "rtmp://example.com/live"},
		}}},
		{"publish with txid 0", rtmp.Command{Name: "publish", Object: nil, Args: []any{"cam?token=x", "live"}}},
		{"play with start, duration, reset", rtmp.Command{Name: "play", TransactionID: 4, Args: []any{"cam", -2000.0, -1.0, true}}},
		{"createStream result", rtmp.Command{Name: "_result", TransactionID: 2, Args: []any{1.0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := rtmp.AppendCommand(nil, tc.cmd)
			if err != nil {
				t.Fatal(err)
			}
			got, err := rtmp.ParseCommand(&chunk.Message{Type: chunk.TypeCommandAMF0, Payload: b})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.cmd) {
				t.Errorf("decode(encode) = %#v, want %#v", got, tc.cmd)
			}
			again, err := rtmp.AppendCommand(nil, got)
			if err != nil || !bytes.Equal(again, b) {
				t.Errorf("encode(decode) = %x, %v; want %x", again, err, b)
			}
			// The same command as AMF3 (type 17) starts with a format byte.
			got3, err := rtmp.ParseCommand(&chunk.Message{Type: chunk.TypeCommandAMF3, Payload: append([]byte{0}, b...)})
			if err != nil || !reflect.DeepEqual(got3, tc.cmd) {
				t.Errorf("AMF3 command = %#v, %v", got3, err)
			}
		})
	}
}

func TestParseCommandErrors(t *testing.T) {
	cases := map[string]*chunk.Message{
		"empty":             {Type: chunk.TypeCommandAMF0},
		"name not a string": {Type: chunk.TypeCommandAMF0, Payload: []byte{0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0}},
		"empty AMF3":        {Type: chunk.TypeCommandAMF3},
		"truncated string":  {Type: chunk.TypeCommandAMF0, Payload: []byte{0x02, 0x00, 0x10, 'a'}},
	}
	for name, msg := range cases {
		if _, err := rtmp.ParseCommand(msg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, err := rtmp.ParseCommand(&chunk.Message{Type: chunk.TypeCommandAMF0, Payload: []byte{0x05}})
	if !errors.Is(err, rtmp.ErrMalformedCommand) {
		t.Errorf("null name: %v, want ErrMalformedCommand", err)
	}
}

func FuzzParseCommand(f *testing.F) {
	seed, _ := rtmp.AppendCommand(nil, rtmp.Command{Name: "connect", TransactionID: 1, Object: amf.Object{{Key: "app", Value: "live"}}})
	f.Add(seed)
	f.Add([]byte{0x02, 0x00, 0x04, 'p', 'l', 'a', 'y', 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, 0x02, 0x00, 0x01, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		cmd, err := rtmp.ParseCommand(&chunk.Message{Type: chunk.TypeCommandAMF0, Payload: b})
		if err != nil {
			return
		}
		enc, err := rtmp.AppendCommand(nil, cmd)
		if err != nil {
			t.Fatalf("decoded %#v but cannot encode: %v", cmd, err)
		}
		// Compare encodings rather than values: NaN is a legal number.
		again, err := rtmp.ParseCommand(&chunk.Message{Type: chunk.TypeCommandAMF0, Payload: enc})
		if err != nil {
			t.Fatalf("re-decode of %x: %v", enc, err)
		}
		enc2, err := rtmp.AppendCommand(nil, again)
		if err != nil || !bytes.Equal(enc2, enc) {
			t.Fatalf("re-encode = %x, %v; want %x", enc2, err, enc)
		}
	})
}

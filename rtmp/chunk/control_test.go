package chunk

import (
	"bytes"
	"errors"
	"testing"
)

func TestControlPayloads(t *testing.T) {
	cases := []struct {
		name   string
		bytes  []byte
		encode func(dst []byte) []byte
		decode func(p []byte) (any, error)
		value  any
	}{
		{"set chunk size", []byte{0, 0, 0x10, 0}, func(d []byte) []byte { return AppendSetChunkSize(d, 4096) },
			func(p []byte) (any, error) { return ParseSetChunkSize(p) }, uint32(4096)},
		{"set chunk size max", []byte{0x7f, 0xff, 0xff, 0xff}, func(d []byte) []byte { return AppendSetChunkSize(d, 0x7FFFFFFF) },
			func(p []byte) (any, error) { return ParseSetChunkSize(p) }, uint32(0x7FFFFFFF)},
		{"abort", []byte{0, 0, 0, 6}, func(d []byte) []byte { return AppendAbort(d, 6) },
			func(p []byte) (any, error) { return ParseAbort(p) }, uint32(6)},
		{"ack", []byte{0xde, 0xad, 0xbe, 0xef}, func(d []byte) []byte { return AppendAck(d, 0xdeadbeef) },
			func(p []byte) (any, error) { return ParseAck(p) }, uint32(0xdeadbeef)},
		{"window ack size", []byte{0, 0x26, 0x25, 0xa0}, func(d []byte) []byte { return AppendWindowAckSize(d, 2500000) },
			func(p []byte) (any, error) { return ParseWindowAckSize(p) }, uint32(2500000)},
		{"set peer bandwidth hard", []byte{0, 0x26, 0x25, 0xa0, 0},
			func(d []byte) []byte {
				return AppendSetPeerBandwidth(d, SetPeerBandwidth{Size: 2500000, Limit: LimitHard})
			},
			func(p []byte) (any, error) { return ParseSetPeerBandwidth(p) }, SetPeerBandwidth{Size: 2500000, Limit: LimitHard}},
		{"set peer bandwidth soft", []byte{0, 0, 1, 0, 1},
			func(d []byte) []byte { return AppendSetPeerBandwidth(d, SetPeerBandwidth{Size: 256, Limit: LimitSoft}) },
			func(p []byte) (any, error) { return ParseSetPeerBandwidth(p) }, SetPeerBandwidth{Size: 256, Limit: LimitSoft}},
		{"set peer bandwidth dynamic", []byte{0, 0, 1, 0, 2},
			func(d []byte) []byte {
				return AppendSetPeerBandwidth(d, SetPeerBandwidth{Size: 256, Limit: LimitDynamic})
			},
			func(p []byte) (any, error) { return ParseSetPeerBandwidth(p) }, SetPeerBandwidth{Size: 256, Limit: LimitDynamic}},
		{"set peer bandwidth unknown limit kept", []byte{0, 0, 1, 0, 9},
			func(d []byte) []byte { return AppendSetPeerBandwidth(d, SetPeerBandwidth{Size: 256, Limit: 9}) },
			func(p []byte) (any, error) { return ParseSetPeerBandwidth(p) }, SetPeerBandwidth{Size: 256, Limit: 9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.encode([]byte{0xAA}); !bytes.Equal(got, append([]byte{0xAA}, tc.bytes...)) {
				t.Errorf("encoded %x, want %x", got[1:], tc.bytes)
			}
			got, err := tc.decode(tc.bytes)
			if err != nil || got != tc.value {
				t.Errorf("decoded %v, %v; want %v", got, err, tc.value)
			}
			// Trailing bytes are ignored; short payloads are refused.
			if got, err := tc.decode(append(tc.bytes, 1, 2)); err != nil || got != tc.value {
				t.Errorf("with trailing bytes: %v, %v", got, err)
			}
			if _, err := tc.decode(tc.bytes[:len(tc.bytes)-1]); !errors.Is(err, ErrShortPayload) {
				t.Errorf("short payload: %v", err)
			}
		})
	}
}

func TestParseSetChunkSizeInvalid(t *testing.T) {
	for _, p := range [][]byte{{0, 0, 0, 0}, {0x80, 0, 0, 0}, {0xff, 0xff, 0xff, 0xff}} {
		if _, err := ParseSetChunkSize(p); !errors.Is(err, ErrInvalidChunkSize) {
			t.Errorf("%x: %v", p, err)
		}
	}
}

func TestUserControl(t *testing.T) {
	cases := []struct {
		name  string
		bytes []byte
		ev    UserControl
	}{
		{"stream begin", []byte{0, 0, 0, 0, 0, 1}, UserControl{Type: EventStreamBegin, Value: 1}},
		{"stream EOF", []byte{0, 1, 0, 0, 0, 2}, UserControl{Type: EventStreamEOF, Value: 2}},
		{"stream dry", []byte{0, 2, 0, 0, 0, 3}, UserControl{Type: EventStreamDry, Value: 3}},
		{"set buffer length", []byte{0, 3, 0, 0, 0, 1, 0, 0, 0x0b, 0xb8}, UserControl{Type: EventSetBufferLength, Value: 1, BufferLength: 3000}},
		{"stream is recorded", []byte{0, 4, 0, 0, 0, 1}, UserControl{Type: EventStreamIsRecorded, Value: 1}},
		{"ping request", []byte{0, 6, 0x12, 0x34, 0x56, 0x78}, UserControl{Type: EventPingRequest, Value: 0x12345678}},
		{"ping response", []byte{0, 7, 0x12, 0x34, 0x56, 0x78}, UserControl{Type: EventPingResponse, Value: 0x12345678}},
		{"unknown event (buffer empty) kept raw", []byte{0, 31, 0, 0, 0, 1}, UserControl{Type: 31, Data: []byte{0, 0, 0, 1}}},
		{"unknown event without data", []byte{0, 26}, UserControl{Type: 26, Data: []byte{}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := AppendUserControl(nil, tc.ev); !bytes.Equal(got, tc.bytes) {
				t.Errorf("encoded %x, want %x", got, tc.bytes)
			}
			got, err := ParseUserControl(tc.bytes)
			if err != nil || got.Type != tc.ev.Type || got.Value != tc.ev.Value ||
				got.BufferLength != tc.ev.BufferLength || !bytes.Equal(got.Data, tc.ev.Data) {
				t.Errorf("decoded %+v, %v; want %+v", got, err, tc.ev)
			}
			if tc.ev.Type.known() {
				if _, err := ParseUserControl(tc.bytes[:len(tc.bytes)-1]); !errors.Is(err, ErrShortPayload) {
					t.Errorf("short: %v", err)
				}
			}
		})
	}
	if _, err := ParseUserControl([]byte{0}); !errors.Is(err, ErrShortPayload) {
		t.Errorf("1-byte payload: %v", err)
	}
}

func TestControlMessage(t *testing.T) {
	m := ControlMessage(TypeUserControl, AppendUserControl(nil, UserControl{Type: EventStreamBegin, Value: 1}))
	want := cat(bh(0, 2), mh0(0, 6, TypeUserControl, 0), []byte{0, 0, 0, 0, 0, 1})
	if got := AppendMessage(nil, &m, DefaultChunkSize); !bytes.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
}

func TestStringers(t *testing.T) {
	if EventPingRequest.String() != "PingRequest" || EventType(99).String() != "Event(99)" {
		t.Error("EventType.String")
	}
	if LimitDynamic.String() != "dynamic" || LimitType(7).String() != "limit(7)" {
		t.Error("LimitType.String")
	}
}

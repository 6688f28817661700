package chunk

import (
	"bytes"
	"errors"
	"testing"
)

// sub builds an aggregate sub-message by hand.
func sub(typ MessageType, ts uint32, streamID uint32, data []byte, backPointer uint32) []byte {
	n := len(data)
	h := []byte{byte(typ), byte(n >> 16), byte(n >> 8), byte(n), byte(ts >> 16), byte(ts >> 8), byte(ts), byte(ts >> 24),
		byte(streamID >> 16), byte(streamID >> 8), byte(streamID)}
	return cat(h, data, u32(backPointer))
}

type part struct {
	typ  MessageType
	ts   uint32
	data string
}

func collect(payload []byte, base uint32) ([]part, error) {
	var got []part
	err := SplitAggregateAt(base, payload, func(typ MessageType, ts uint32, data []byte) error {
		got = append(got, part{typ, ts, string(data)})
		return nil
	})
	return got, err
}

func TestSplitAggregate(t *testing.T) {
	cases := []struct {
		name      string
		payload   []byte
		want      []part // timestamps relative to the aggregate's
		canonical bool   // AppendAggregate of want yields payload
	}{
		{"empty", nil, nil, true},
		{"one sub-message", sub(TypeVideo, 0, 0, []byte("frame"), 16), []part{{TypeVideo, 0, "frame"}}, true},
		{"relative to the first sub-message", cat(
			sub(TypeAudio, 1000, 1, []byte("a1"), 13),
			sub(TypeVideo, 1000, 1, []byte("v1"), 13),
			sub(TypeAudio, 1023, 1, []byte("a2"), 13),
			sub(TypeVideo, 1040, 1, []byte("v2"), 13),
		), []part{{TypeAudio, 0, "a1"}, {TypeVideo, 0, "v1"}, {TypeAudio, 23, "a2"}, {TypeVideo, 40, "v2"}}, false},
		{"extended timestamp byte", cat(
			sub(TypeVideo, 0x01FFFFF0, 0, []byte("x"), 12),
			sub(TypeVideo, 0x02000010, 0, []byte("y"), 12),
		), []part{{TypeVideo, 0, "x"}, {TypeVideo, 0x20, "y"}}, false},
		{"timestamps before the first wrap", cat(
			sub(TypeVideo, 100, 0, []byte("x"), 12),
			sub(TypeVideo, 90, 0, []byte("y"), 12),
		), []part{{TypeVideo, 0, "x"}, {TypeVideo, 0xFFFFFFF6, "y"}}, false},
		{"wrong back pointers ignored", cat(
			sub(TypeAudio, 0, 0, []byte("a"), 999),
			sub(TypeAudio, 5, 0, []byte("b"), 0),
		), []part{{TypeAudio, 0, "a"}, {TypeAudio, 5, "b"}}, false},
		{"missing final back pointer tolerated", sub(TypeAudio, 7, 0, []byte("a"), 12)[:12],
			[]part{{TypeAudio, 0, "a"}}, false},
		{"empty sub-message data", sub(TypeDataAMF0, 0, 0, nil, 11), []part{{TypeDataAMF0, 0, ""}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(tc.payload, 0)
			if err != nil || !equalParts(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
			// Absolute timestamps: base + relative.
			abs, err := collect(tc.payload, 5000)
			for i := range abs {
				if err != nil || abs[i].ts != 5000+tc.want[i].ts {
					t.Errorf("base 5000: sub-message %d at %d, %v", i, abs[i].ts, err)
				}
			}
			// Encode direction.
			var parts []AggregatePart
			for _, p := range tc.want {
				parts = append(parts, AggregatePart{Type: p.typ, Timestamp: p.ts, Data: []byte(p.data)})
			}
			enc := AppendAggregate(nil, parts...)
			if tc.canonical && !bytes.Equal(enc, tc.payload) {
				t.Errorf("encoded %x, want %x", enc, tc.payload)
			}
			again, err := collect(enc, 0)
			if err != nil || !equalParts(again, tc.want) {
				t.Errorf("round trip %v, %v", again, err)
			}
		})
	}
}

func equalParts(a, b []part) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSplitAggregateMalformed(t *testing.T) {
	good := sub(TypeVideo, 0, 0, []byte("frame"), 16)
	cases := []struct {
		name    string
		payload []byte
		before  int
	}{
		{"short header", good[:10], 0},
		{"data past the end", good[:14], 0},
		{"size field past the end", cat([]byte{byte(TypeVideo), 0xff, 0xff, 0xff}, make([]byte, 7), []byte("abc")), 0},
		{"partial back pointer", good[:len(good)-2], 0},
		{"garbage after a good sub-message", cat(good, []byte{1, 2, 3}), 1},
	}
	for _, tc := range cases {
		n := 0
		err := SplitAggregate(tc.payload, func(MessageType, uint32, []byte) error { n++; return nil })
		if !errors.Is(err, ErrMalformedAggregate) || n != tc.before {
			t.Errorf("%s: %d sub-messages, %v", tc.name, n, err)
		}
	}
}

func TestSplitAggregateStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	payload := cat(sub(TypeAudio, 0, 0, []byte("a"), 12), sub(TypeAudio, 1, 0, []byte("b"), 12))
	n := 0
	err := SplitAggregate(payload, func(MessageType, uint32, []byte) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("%d calls, %v", n, err)
	}
}

func TestSplitAggregateDataCapacity(t *testing.T) {
	payload := cat(sub(TypeAudio, 0, 0, []byte("a"), 12), sub(TypeAudio, 1, 0, []byte("b"), 12))
	_ = SplitAggregate(payload, func(_ MessageType, _ uint32, data []byte) error {
		if cap(data) != len(data) {
			t.Errorf("data capacity %d exceeds its length %d", cap(data), len(data))
		}
		return nil
	})
}

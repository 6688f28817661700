package chunk

import (
	"bytes"
	"testing"
)

// FuzzChunkReader: whatever decodes re-encodes with AppendMessage (and the
// chunk size changes it carries) and decodes again to the same messages;
// nothing panics.
func FuzzChunkReader(f *testing.F) {
	for _, tc := range readCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := ReaderConfig{MaxMessageSize: 1 << 16, MaxChunkStreams: 8}
		msgs, r, _ := decodeAll(data, cfg)
		if r.BytesRead() > uint64(len(data)) {
			t.Fatalf("BytesRead %d of %d", r.BytesRead(), len(data))
		}
		enc := encodeAll(msgs)
		again, _, err := decodeAll(enc, cfg)
		if err != nil {
			t.Fatalf("re-encoded stream: %v", err)
		}
		if !messagesEqual(again, msgs) {
			logMessages(t, "first", msgs)
			logMessages(t, "again", again)
			t.Fatal("re-encoded messages differ")
		}
	})
}

// FuzzAggregate: whatever splits re-encodes with AppendAggregate and splits
// again to the same sub-messages; nothing panics.
func FuzzAggregate(f *testing.F) {
	f.Add(cat(sub(TypeAudio, 1000, 1, []byte("a1"), 13), sub(TypeVideo, 1040, 1, []byte("v1"), 13)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var parts []AggregatePart
		err := SplitAggregate(data, func(typ MessageType, ts uint32, d []byte) error {
			parts = append(parts, AggregatePart{Type: typ, Timestamp: ts, Data: d})
			return nil
		})
		if err != nil {
			return
		}
		i := 0
		err = SplitAggregate(AppendAggregate(nil, parts...), func(typ MessageType, ts uint32, d []byte) error {
			if i >= len(parts) || parts[i].Type != typ || parts[i].Timestamp != ts || !bytes.Equal(parts[i].Data, d) {
				t.Fatalf("sub-message %d differs", i)
			}
			i++
			return nil
		})
		if err != nil || i != len(parts) {
			t.Fatalf("re-encoded: %d of %d sub-messages, %v", i, len(parts), err)
		}
	})
}

// FuzzUserControl: user control and protocol control payloads that decode
// re-encode and decode again to the same values; nothing panics.
func FuzzUserControl(f *testing.F) {
	f.Add([]byte{0, 3, 0, 0, 0, 1, 0, 0, 0x0b, 0xb8})
	f.Fuzz(func(t *testing.T, data []byte) {
		if ev, err := ParseUserControl(data); err == nil {
			again, err := ParseUserControl(AppendUserControl(nil, ev))
			if err != nil || again.Type != ev.Type || again.Value != ev.Value ||
				again.BufferLength != ev.BufferLength || !bytes.Equal(again.Data, ev.Data) {
				t.Fatalf("user control %+v re-decoded as %+v, %v", ev, again, err)
			}
		}
		if bw, err := ParseSetPeerBandwidth(data); err == nil {
			if again, err := ParseSetPeerBandwidth(AppendSetPeerBandwidth(nil, bw)); err != nil || again != bw {
				t.Fatalf("set peer bandwidth %+v re-decoded as %+v, %v", bw, again, err)
			}
		}
		if n, err := ParseSetChunkSize(data); err == nil {
			if again, err := ParseSetChunkSize(AppendSetChunkSize(nil, n)); err != nil || again != n {
				t.Fatalf("set chunk size %d re-decoded as %d, %v", n, again, err)
			}
		}
	})
}

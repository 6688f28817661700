package handshake

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzServerHandshake feeds arbitrary C0C1C2 bytes to the server: it must
// never panic, and a completed handshake must have answered consistently.
func FuzzServerHandshake(f *testing.F) {
	f.Add([]byte{})
	f.Add(append([]byte{3}, make([]byte, 2*PacketSize)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		rw := &scriptedRW{r: bytes.NewReader(data)}
		res, err := Accept(rw, ServerConfig{Rand: newDetRand(1)})
		out := rw.out.Bytes()
		if err != nil {
			if len(data) >= 1+2*PacketSize && data[0] == Version {
				t.Fatalf("complete handshake refused: %v", err)
			}
			if len(data) > 0 && data[0] == Version && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("truncated handshake: %v, want unexpected EOF", err)
			}
			return
		}
		if len(data) < 1+2*PacketSize || len(out) != 1+2*PacketSize || out[0] != Version {
			t.Fatalf("accepted %d input bytes, wrote %d", len(data), len(out))
		}
		c1, s1, s2 := data[1:1+PacketSize], out[1:1+PacketSize], out[1+PacketSize:]
		if res.Schema == SchemaNone {
			if !bytes.Equal(s2, c1) {
				t.Fatal("plain handshake: S2 does not echo C1")
			}
			return
		}
		cOff := digestOffset(c1, res.Schema)
		sOff := digestOffset(s1, res.Schema)
		if d := packetDigest(s1, sOff, serverKeyText); !bytes.Equal(d[:], s1[sOff:sOff+DigestSize]) {
			t.Fatal("S1 digest does not verify")
		}
		if !signatureValid(s2, serverKey, c1[cOff:cOff+DigestSize]) {
			t.Fatal("S2 signature does not verify")
		}
	})
}

package amf

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// roundTrip checks decode ok ⇒ encode ok ⇒ decode again equal ⇒ encode again
// identical (the encoder's output is a fixed point).
func roundTrip(t *testing.T, b []byte,
	decode func([]byte) ([]any, error),
	encode func([]byte, ...any) ([]byte, error)) {
	vals, err := decode(b)
	if err != nil {
		return
	}
	enc, err := encode(nil, vals...)
	if err != nil {
		t.Fatalf("decoded % x but cannot encode %#v: %v", b, vals, err)
	}
	vals2, err := decode(enc)
	if err != nil {
		t.Fatalf("cannot decode own encoding % x: %v", enc, err)
	}
	if !equalValues(vals, vals2) {
		t.Fatalf("round trip changed values:\n%#v\n%#v", vals, vals2)
	}
	enc2, err := encode(nil, vals2...)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding not canonical:\n% x\n% x (%v)", enc, enc2, err)
	}
}

func FuzzDecode0(f *testing.F) {
	for _, c := range cases0(f) {
		f.Add(c.wire)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, Decode0, Append0)
	})
}

func FuzzDecode3(f *testing.F) {
	for _, c := range cases3(f) {
		f.Add(c.wire)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, Decode3, Append3)
	})
}

// TestSeedCorpusDecodes keeps the committed seed corpora meaningful: every
// seed is a valid message that survives the round trip.
func TestSeedCorpusDecodes(t *testing.T) {
	targets := map[string]func([]byte) ([]any, error){"FuzzDecode0": Decode0, "FuzzDecode3": Decode3}
	for target, decode := range targets {
		files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
		if err != nil || len(files) < 5 {
			t.Fatalf("%s: %d seeds (%v)", target, len(files), err)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
			if len(lines) != 2 || lines[0] != "go test fuzz v1" {
				t.Fatalf("%s: not a single-value corpus file", f)
			}
			quoted := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
			b, err := strconv.Unquote(quoted)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if _, err := decode([]byte(b)); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
}

package testenv

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// Hex decodes a hex fixture that may be split by spaces and newlines,
// failing the test when it is not valid hex.
func Hex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// Cat concatenates fixture parts into one byte slice: a []byte or a string
// is appended as its bytes, a byte or an int as one byte (an int is
// truncated to its low byte). Any other part is a bug in the test and
// panics.
func Cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case []byte:
			b = append(b, p...)
		case string:
			b = append(b, p...)
		case byte:
			b = append(b, p)
		case int:
			b = append(b, byte(p))
		default:
			panic(fmt.Sprintf("testenv.Cat: unsupported part of type %T", p))
		}
	}
	return b
}

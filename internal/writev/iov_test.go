package writev

import (
	"bytes"
	"slices"
	"testing"
)

func TestAppendRest(t *testing.T) {
	iov := [][]byte{[]byte("ab"), []byte("cde"), []byte("f")}
	for n, want := range map[int]string{0: "abcdef", 1: "bcdef", 2: "cdef", 4: "ef", 5: "f", 6: ""} {
		if got := string(bytes.Join(AppendRest(nil, iov, n), nil)); got != want {
			t.Errorf("AppendRest(%d) = %q, want %q", n, got, want)
		}
	}
	if got := AppendRest(nil, iov, 2); !slices.Equal(got[0], []byte("cde")) || len(got) != 2 {
		t.Errorf("AppendRest(2) = %q: the next slice should be kept whole", got)
	}
}

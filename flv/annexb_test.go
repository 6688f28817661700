package flv

import (
	"bytes"
	"errors"
	"testing"
)

func TestAVCCAnnexBBothDirections(t *testing.T) {
	sps, pps, idr := unhex(t, sps720p), unhex(t, "68ebe3cb22c0"), unhex(t, "6588840021ff")
	annexB := cat(0, 0, 0, 1, sps, 0, 0, 0, 1, pps, 0, 0, 0, 1, idr)
	cases := []struct {
		name       string
		avcc       []byte
		lengthSize int
	}{
		{"length size 4", cat(0, 0, 0, len(sps), sps, 0, 0, 0, len(pps), pps, 0, 0, 0, len(idr), idr), 4},
		{"length size 2", cat(0, len(sps), sps, 0, len(pps), pps, 0, len(idr), idr), 2},
		{"length size 1", cat(len(sps), sps, len(pps), pps, len(idr), idr), 1},
		{"empty units skipped", cat(0, 0, 0, 0, 0, 0, 0, len(sps), sps, 0, 0, 0, len(pps), pps, 0, 0, 0, 0, 0, 0, 0, len(idr), idr), 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := AVCCToAnnexB([]byte{0xee}, c.avcc, c.lengthSize)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[1:], annexB) {
				t.Fatalf("AVCCToAnnexB = %x\nwant %x", got[1:], annexB)
			}
			var units [][]byte
			if err := ForEachNALU(c.avcc, c.lengthSize, func(n []byte) error { units = append(units, n); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(units) != 3 || !bytes.Equal(units[0], sps) || !bytes.Equal(units[2], idr) {
				t.Fatalf("ForEachNALU gave %x", units)
			}
		})
	}
	want4 := cat(0, 0, 0, len(sps), sps, 0, 0, 0, len(pps), pps, 0, 0, 0, len(idr), idr)
	if got := AnnexBToAVCC([]byte{0xee}, annexB); !bytes.Equal(got[1:], want4) {
		t.Fatalf("AnnexBToAVCC = %x\nwant %x", got[1:], want4)
	}
}

func TestAnnexBToAVCCStartCodes(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"three and four byte start codes", "000001 0911 00000001 6742 000001 68", "00000002 0911 00000002 6742 00000001 68"},
		{"leading garbage dropped", "ffee 000001 65aa", "00000002 65aa"},
		{"trailing zeros dropped", "000001 65aa0000 00000001 41bb 0000", "00000002 65aa 00000002 41bb"},
		{"empty units skipped", "00000001 00000001 000001 65", "00000001 65"},
		{"emulation prevention kept", "000001 65 000003 01", "00000005 65 000003 01"},
		{"no start code", "6588", ""},
		{"empty", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := AnnexBToAVCC(nil, unhex(t, c.in)); !bytes.Equal(got, unhex(t, c.want)) {
				t.Fatalf("got %x, want %s", got, c.want)
			}
		})
	}
}

func TestAVCCErrors(t *testing.T) {
	cases := []struct {
		name       string
		in         string
		lengthSize int
		want       error
	}{
		{"length past end", "00000005 6588", 4, ErrTruncated},
		{"partial length", "00000002 6588 0000", 4, ErrTruncated},
		{"length size 3", "000002 6588", 3, ErrLengthSize},
		{"length size 0", "", 0, ErrLengthSize},
		{"huge length", "ffffffff 65", 4, ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte{1, 2}
			got, err := AVCCToAnnexB(dst, unhex(t, c.in), c.lengthSize)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !bytes.Equal(got, []byte{1, 2}) {
				t.Fatalf("dst changed on error: %x", got)
			}
		})
	}
	stop := errors.New("stop")
	calls := 0
	err := ForEachNALU(unhex(t, "0001 65 0001 41"), 2, func([]byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("callback error not propagated: %v after %d calls", err, calls)
	}
	err = ForEachAnnexBNALU(unhex(t, "000001 65 000001 41"), func([]byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("Annex-B callback error not propagated: %v", err)
	}
}

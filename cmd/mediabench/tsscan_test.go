package main

import (
	"errors"
	"testing"
)

// appendTSPacket appends one 188-byte packet: header, an adaptation field
// (when rai is set, carrying the random access indicator; otherwise only
// when stuffing is needed) and payload, stuffed to size.
func appendTSPacket(dst []byte, pid int, start, rai bool, payload []byte) []byte {
	b0 := byte(pid>>8) & 0x1f
	if start {
		b0 |= 0x40
	}
	free := tsPacketSize - 4 - len(payload)
	if free < 0 {
		panic("payload too large for one packet")
	}
	if !rai && free == 0 {
		return append(append(dst, tsSyncByte, b0, byte(pid), 0x10), payload...)
	}
	// Adaptation field: length byte, flags byte, stuffing.
	afLen := max(free-1, 1)
	if free < 2 {
		panic("payload leaves no room for an adaptation field")
	}
	flags := byte(0)
	if rai {
		flags = 0x40
	}
	dst = append(dst, tsSyncByte, b0, byte(pid), 0x30, byte(afLen), flags)
	for range afLen - 1 {
		dst = append(dst, 0xff)
	}
	return append(dst, payload...)
}

// appendSection wraps a PSI section body (after section_length) with its
// pointer field, table id, length and a dummy CRC.
func appendSection(tableID byte, body []byte) []byte {
	length := len(body) + 4
	out := []byte{0, tableID, 0xb0 | byte(length>>8), byte(length)}
	out = append(out, body...)
	return append(out, 0xde, 0xad, 0xbe, 0xef)
}

// patPacket announces program 1 on pmtPID.
func patPacket(pmtPID int) []byte {
	body := []byte{0, 1, 0xc1, 0, 0, 0, 1, 0xe0 | byte(pmtPID>>8), byte(pmtPID)}
	return appendTSPacket(nil, pidPAT, true, false, appendSection(0x00, body))
}

// pmtPacket lists an AAC stream then one stream of streamType on pid.
func pmtPacket(pmtPID, pid int, streamType byte) []byte {
	body := []byte{0, 1, 0xc1, 0, 0, 0xe1, 0x00, 0xf0, 0x00,
		0x0f, 0xe1, 0x01, 0xf0, 0x00, // AAC on 0x101
		streamType, 0xe0 | byte(pid>>8), byte(pid), 0xf0, 0x00}
	return appendTSPacket(nil, pmtPID, true, false, appendSection(0x02, body))
}

// appendPESTime appends a 5-byte PTS/DTS field with the given prefix bits.
func appendPESTime(dst []byte, prefix byte, t int64) []byte {
	return append(dst,
		prefix<<4|byte(t>>29)&0x0e|1,
		byte(t>>22), byte(t>>14)|1,
		byte(t>>7), byte(t<<1)|1)
}

// pesPacket starts a video PES with PTS = dts + 3000 and DTS = dts (or
// only a PTS = dts when ptsOnly).
func pesPacket(pid int, dts int64, rai, ptsOnly bool) []byte {
	p := []byte{0, 0, 1, 0xe0, 0, 0, 0x80}
	if ptsOnly {
		p = append(p, 0x80, 5)
		p = appendPESTime(p, 2, dts)
	} else {
		p = append(p, 0xc0, 10)
		p = appendPESTime(p, 3, (dts+3000)&(1<<33-1))
		p = appendPESTime(p, 1, dts)
	}
	p = append(p, 0, 0, 0, 1, 0x09, 0xf0) // start of an access unit
	return appendTSPacket(nil, pid, true, rai, p)
}

func TestTSScanner(t *testing.T) {
	type want struct {
		ok  bool
		pes tsPES
	}
	cases := []struct {
		name    string
		packets [][]byte
		want    []want
	}{
		{"h264 with dts", [][]byte{patPacket(0x1000), pmtPacket(0x1000, 0x100, 0x1b), pesPacket(0x100, 900000, true, false),
			pesPacket(0x100, 903000, false, false)},
			[]want{{}, {}, {true, tsPES{DTS: 900000, RandomAccess: true}}, {true, tsPES{DTS: 903000}}}},
		{"hevc pts only", [][]byte{patPacket(0x20), pmtPacket(0x20, 0x30, 0x24), pesPacket(0x30, 1<<33-1, false, true)},
			[]want{{}, {}, {true, tsPES{DTS: 1<<33 - 1}}}},
		{"pes before the tables is not reported", [][]byte{pesPacket(0x100, 5, true, false), patPacket(0x1000),
			pmtPacket(0x1000, 0x100, 0x1b), pesPacket(0x100, 6, true, false)},
			[]want{{}, {}, {}, {true, tsPES{DTS: 6, RandomAccess: true}}}},
		{"audio-only program", [][]byte{patPacket(0x1000), pmtPacket(0x1000, 0x102, 0x0f), pesPacket(0x102, 7, true, false)},
			[]want{{}, {}, {}}},
		{"continuation packet carries no pes start", [][]byte{patPacket(0x1000), pmtPacket(0x1000, 0x100, 0x1b),
			appendTSPacket(nil, 0x100, false, false, make([]byte, 184))},
			[]want{{}, {}, {}}},
	}
	for _, tc := range cases {
		s := newTSScanner()
		for i, p := range tc.packets {
			pes, ok, err := s.packet(p)
			if err != nil {
				t.Fatalf("%s: packet %d: %v", tc.name, i, err)
			}
			if ok != tc.want[i].ok || pes != tc.want[i].pes {
				t.Errorf("%s: packet %d: got %v %+v, want %v %+v", tc.name, i, ok, pes, tc.want[i].ok, tc.want[i].pes)
			}
		}
	}
}

func TestTSScannerErrors(t *testing.T) {
	badSync := patPacket(0x1000)
	badSync[0] = 0x46
	badAF := appendTSPacket(nil, 0x100, true, true, []byte{1})
	badAF[4] = 200
	badTable := appendTSPacket(nil, pidPAT, true, false, appendSection(0x02, make([]byte, 9)))
	badPointer := appendTSPacket(nil, pidPAT, true, false, []byte{250, 0, 0, 0})
	cases := []struct {
		name   string
		packet []byte
		target error
	}{
		{"short packet", make([]byte, 100), nil},
		{"lost sync", badSync, errTSSync},
		{"adaptation field too long", badAF, nil},
		{"wrong table id", badTable, nil},
		{"pointer field past the packet", badPointer, nil},
	}
	for _, tc := range cases {
		s := newTSScanner()
		_, _, err := s.packet(tc.packet)
		if err == nil || (tc.target != nil && !errors.Is(err, tc.target)) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.target)
		}
	}
}

// FuzzTSPacket feeds arbitrary bytes to the scanner 188 at a time. It must
// never panic; a PES it reports, encoded again, scans to the same values.
func FuzzTSPacket(f *testing.F) {
	var seg []byte
	seg = append(seg, patPacket(0x1000)...)
	seg = append(seg, pmtPacket(0x1000, 0x100, 0x1b)...)
	seg = append(seg, pesPacket(0x100, 900000, true, false)...)
	f.Add(seg)
	f.Add(pesPacket(0x100, 1, false, true))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newTSScanner()
		for len(data) >= tsPacketSize {
			p := data[:tsPacketSize]
			data = data[tsPacketSize:]
			pes, ok, err := s.packet(p)
			if err != nil || !ok {
				continue
			}
			again, ok, err := s.packet(pesPacket(s.videoPID, pes.DTS, pes.RandomAccess, false))
			if err != nil || !ok || again != pes {
				t.Fatalf("re-encoded %+v scanned as %+v ok=%v err=%v", pes, again, ok, err)
			}
		}
	})
}

package main

import (
	"errors"
	"fmt"
)

// MPEG-TS constants used by the scanner.
const (
	tsPacketSize = 188
	tsSyncByte   = 0x47
	pidPAT       = 0
	// tsClock is the PES timestamp clock, 90 kHz.
	tsClock = 90000
)

// tsScanner finds the video elementary stream of an MPEG-TS (through the
// PAT and PMT) and the timestamps of its PES packets. It looks at one
// packet at a time, keeps no payload and allocates nothing. Sections are
// expected to fit in one packet, as every HLS segmenter writes them.
type tsScanner struct {
	pmtPID   int // -1 until the PAT was seen
	videoPID int // -1 until the PMT was seen
}

// newTSScanner returns a scanner that has seen no tables yet.
func newTSScanner() tsScanner { return tsScanner{pmtPID: -1, videoPID: -1} }

// tsVideoStreamTypes are the PMT stream types treated as video: MPEG-1/2,
// MPEG-4 part 2, H.264, HEVC, VVC.
func isTSVideo(streamType byte) bool {
	switch streamType {
	case 0x01, 0x02, 0x10, 0x1b, 0x24, 0x33:
		return true
	}
	return false
}

// tsPES is what the scanner reports for the start of a video PES packet.
type tsPES struct {
	// DTS (or the PTS when no DTS is coded) on the 90 kHz clock, 33 bits.
	DTS int64
	// RandomAccess is the adaptation field's random access indicator: a
	// keyframe starts here.
	RandomAccess bool
}

// packet scans one 188-byte packet. It returns ok with the PES timestamps
// when the packet starts a video PES that carries them.
func (s *tsScanner) packet(p []byte) (pes tsPES, ok bool, err error) {
	if len(p) != tsPacketSize {
		return tsPES{}, false, fmt.Errorf("ts: packet of %d bytes", len(p))
	}
	if p[0] != tsSyncByte {
		return tsPES{}, false, errTSSync
	}
	start := p[1]&0x40 != 0
	pid := int(p[1]&0x1f)<<8 | int(p[2])
	afc := p[3] >> 4 & 3
	off := 4
	rai := false
	if afc&2 != 0 {
		afLen := int(p[4])
		if 5+afLen > tsPacketSize {
			return tsPES{}, false, fmt.Errorf("ts: adaptation field of %d bytes", afLen)
		}
		if afLen > 0 {
			rai = p[5]&0x40 != 0
		}
		off = 5 + afLen
	}
	if afc&1 == 0 || !start {
		return tsPES{}, false, nil
	}
	payload := p[off:]
	switch {
	case pid == pidPAT:
		return tsPES{}, false, s.pat(payload)
	case pid == s.pmtPID:
		return tsPES{}, false, s.pmt(payload)
	case pid == s.videoPID:
		dts, ok := pesTimestamp(payload)
		return tsPES{DTS: dts, RandomAccess: rai}, ok, nil
	}
	return tsPES{}, false, nil
}

// section returns the body of the PSI section starting a payload (after
// its pointer field): from table_id to the end of section_length, CRC
// excluded.
func section(payload []byte, tableID byte) ([]byte, error) {
	if len(payload) < 1 {
		return nil, errors.New("ts: empty section payload")
	}
	ptr := int(payload[0])
	if 1+ptr+3 > len(payload) {
		return nil, fmt.Errorf("ts: pointer field %d", ptr)
	}
	sec := payload[1+ptr:]
	if sec[0] != tableID {
		return nil, fmt.Errorf("ts: table id %#x, want %#x", sec[0], tableID)
	}
	length := int(sec[1]&0x0f)<<8 | int(sec[2])
	if length < 9 || 3+length > len(sec) {
		return nil, fmt.Errorf("ts: section length %d", length)
	}
	return sec[:3+length-4], nil
}

// pat reads the first program's PMT PID.
func (s *tsScanner) pat(payload []byte) error {
	sec, err := section(payload, 0x00)
	if err != nil {
		return fmt.Errorf("pat: %w", err)
	}
	for i := 8; i+4 <= len(sec); i += 4 {
		program := int(sec[i])<<8 | int(sec[i+1])
		if program != 0 {
			s.pmtPID = int(sec[i+2]&0x1f)<<8 | int(sec[i+3])
			return nil
		}
	}
	return errors.New("pat: no program")
}

// pmt reads the first video stream's PID.
func (s *tsScanner) pmt(payload []byte) error {
	sec, err := section(payload, 0x02)
	if err != nil {
		return fmt.Errorf("pmt: %w", err)
	}
	if len(sec) < 12 {
		return errors.New("pmt: short section")
	}
	i := 12 + (int(sec[10]&0x0f)<<8 | int(sec[11]))
	for i+5 <= len(sec) {
		streamType := sec[i]
		pid := int(sec[i+1]&0x1f)<<8 | int(sec[i+2])
		esInfo := int(sec[i+3]&0x0f)<<8 | int(sec[i+4])
		if isTSVideo(streamType) {
			s.videoPID = pid
			return nil
		}
		i += 5 + esInfo
	}
	return nil // audio only: no video timestamps
}

// pesTimestamp returns the DTS (or PTS) of a PES packet header.
func pesTimestamp(p []byte) (int64, bool) {
	if len(p) < 9 || p[0] != 0 || p[1] != 0 || p[2] != 1 {
		return 0, false
	}
	flags := p[7] >> 6
	hdrLen := int(p[8])
	switch {
	case flags == 3 && hdrLen >= 10 && len(p) >= 19:
		return readPESTime(p[14:19]), true
	case flags&2 != 0 && hdrLen >= 5 && len(p) >= 14:
		return readPESTime(p[9:14]), true
	}
	return 0, false
}

// readPESTime decodes a 5-byte PTS/DTS field.
func readPESTime(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// fMP4 scanning limits.
const (
	// maxInitBytes caps an init section read off the wire.
	maxInitBytes = 1 << 20
	// maxMoofBytes caps one moof box: it is read whole (the mdat that
	// follows is skipped), into a buffer reused from fragment to fragment.
	maxMoofBytes = 1 << 20
	// boxHeaderSize is a box's size and type; a 64-bit size adds 8 bytes.
	boxHeaderSize = 8
	// fullBoxSize is a full box's version and flags.
	fullBoxSize = 4
)

// trackFragment header (tfhd) and track run (trun) flags the scanner reads.
const (
	tfhdBaseDataOffset       = 0x000001
	tfhdSampleDescription    = 0x000002
	tfhdDefaultDuration      = 0x000008
	tfhdDefaultSize          = 0x000010
	tfhdDefaultFlags         = 0x000020
	trunHasDataOffset        = 0x000001
	trunHasFirstSampleFlags  = 0x000004
	trunHasDuration          = 0x000100
	trunHasSize              = 0x000200
	trunHasFlags             = 0x000400
	trunHasCompositionOffset = 0x000800
	// sampleNonSync is sample_is_non_sync_sample in the sample flags.
	sampleNonSync = 0x00010000
)

// fmp4Video is what the scanner needs of an init section: the video
// track's ID, its timescale and the trex defaults of its samples.
type fmp4Video struct {
	trackID         uint32
	timescale       uint32
	defaultDuration uint32
	defaultFlags    uint32
}

// fmp4Run is what one scan found of the video track: the decode times of
// its first and last samples (in the track's timescale), their number and
// whether the first one is a sync sample.
type fmp4Run struct {
	samples   int
	firstDTS  uint64
	lastDTS   uint64
	firstSync bool
}

// boxAt returns the type, body and total size of the box starting b.
func boxAt(b []byte) (typ string, body []byte, size int, err error) {
	if len(b) < boxHeaderSize {
		return "", nil, 0, fmt.Errorf("mp4: box header of %d bytes", len(b))
	}
	size64 := uint64(binary.BigEndian.Uint32(b))
	hdr := boxHeaderSize
	switch size64 {
	case 0:
		size64 = uint64(len(b))
	case 1:
		if len(b) < 16 {
			return "", nil, 0, errors.New("mp4: truncated 64-bit box size")
		}
		size64, hdr = binary.BigEndian.Uint64(b[8:16]), 16
	}
	if size64 < uint64(hdr) || size64 > uint64(len(b)) {
		return "", nil, 0, fmt.Errorf("mp4: box %q of %d bytes in %d", b[4:8], size64, len(b))
	}
	return boxType(b[4:8]), b[hdr:size64], int(size64), nil
}

// boxType returns the type of a box without allocating for the types the
// scanner looks for.
func boxType(t []byte) string {
	for _, known := range [...]string{"moov", "trak", "tkhd", "mdia", "mdhd", "hdlr", "mvex", "trex", "moof", "traf", "tfhd", "tfdt", "trun"} {
		if string(t) == known {
			return known
		}
	}
	return ""
}

// eachBox calls fn for every box of b in order; it stops at fn's first
// error.
func eachBox(b []byte, fn func(typ string, body []byte) error) error {
	for len(b) > 0 {
		typ, body, size, err := boxAt(b)
		if err != nil {
			return err
		}
		if err := fn(typ, body); err != nil {
			return err
		}
		b = b[size:]
	}
	return nil
}

// parseInitVideo finds the first video track of an init section.
func parseInitVideo(b []byte) (fmp4Video, error) {
	var v fmp4Video
	var trexs [][]byte
	err := eachBox(b, func(typ string, body []byte) error {
		if typ != "moov" {
			return nil
		}
		return eachBox(body, func(typ string, body []byte) error {
			switch typ {
			case "trak":
				if v.trackID != 0 {
					return nil
				}
				id, scale, video, err := parseTrak(body)
				if err != nil {
					return err
				}
				if video {
					v.trackID, v.timescale = id, scale
				}
			case "mvex":
				return eachBox(body, func(typ string, body []byte) error {
					if typ == "trex" {
						trexs = append(trexs, body)
					}
					return nil
				})
			}
			return nil
		})
	})
	if err != nil {
		return fmp4Video{}, fmt.Errorf("init section: %w", err)
	}
	if v.trackID == 0 || v.timescale == 0 {
		return fmp4Video{}, errNoVideoTrack
	}
	for _, t := range trexs {
		// version/flags, track_ID, sample description index, duration, size, flags.
		if len(t) >= fullBoxSize+20 && binary.BigEndian.Uint32(t[4:]) == v.trackID {
			v.defaultDuration = binary.BigEndian.Uint32(t[12:])
			v.defaultFlags = binary.BigEndian.Uint32(t[20:])
		}
	}
	return v, nil
}

// parseTrak returns a track's ID and media timescale and whether it is a
// video track.
func parseTrak(b []byte) (id, timescale uint32, video bool, err error) {
	err = eachBox(b, func(typ string, body []byte) error {
		switch typ {
		case "tkhd":
			off := fullBoxSize + 8 // creation and modification times
			if len(body) > 0 && body[0] == 1 {
				off = fullBoxSize + 16
			}
			if len(body) < off+4 {
				return errors.New("mp4: short tkhd")
			}
			id = binary.BigEndian.Uint32(body[off:])
		case "mdia":
			return eachBox(body, func(typ string, body []byte) error {
				switch typ {
				case "mdhd":
					off := fullBoxSize + 8
					if len(body) > 0 && body[0] == 1 {
						off = fullBoxSize + 16
					}
					if len(body) < off+4 {
						return errors.New("mp4: short mdhd")
					}
					timescale = binary.BigEndian.Uint32(body[off:])
				case "hdlr":
					if len(body) < fullBoxSize+8 {
						return errors.New("mp4: short hdlr")
					}
					video = string(body[fullBoxSize+4:fullBoxSize+8]) == "vide"
				}
				return nil
			})
		}
		return nil
	})
	return id, timescale, video, err
}

// fmp4Scanner reads fMP4 media (segments or LL-HLS parts: moof and mdat
// boxes, perhaps after styp or prft) as it arrives and reports the video
// track's samples. Only moof boxes are kept, in a buffer reused from one
// fragment to the next; mdat payloads are skipped.
type fmp4Scanner struct {
	video fmp4Video
	moof  []byte
	// onSample, when set, is called for every video sample in decode
	// order with its decode time (track timescale) and sync flag.
	onSample func(dts uint64, sync bool)
	run      fmp4Run
}

// scan reads r to its end and returns the video samples it carried and
// the number of bytes read.
func (s *fmp4Scanner) scan(br *bufio.Reader) (fmp4Run, int64, error) {
	s.run = fmp4Run{}
	var n int64
	for {
		hdr, err := br.Peek(boxHeaderSize)
		if len(hdr) == 0 && errors.Is(err, io.EOF) {
			return s.run, n, nil
		}
		if err != nil {
			return s.run, n, fmt.Errorf("mp4: %d trailing bytes: %w", len(hdr), err)
		}
		size := uint64(binary.BigEndian.Uint32(hdr))
		typ := string(hdr[4:8]) == "moof"
		switch size {
		case 0: // to the end of the resource
			m, err := br.Discard(1 << 62)
			n += int64(m)
			if errors.Is(err, io.EOF) {
				return s.run, n, nil
			}
			return s.run, n, fmt.Errorf("mp4: %w", err)
		case 1:
			big, err := br.Peek(16)
			if err != nil {
				return s.run, n, fmt.Errorf("mp4: 64-bit box size: %w", err)
			}
			size = binary.BigEndian.Uint64(big[8:])
		}
		if size < boxHeaderSize || size > 1<<40 {
			return s.run, n, fmt.Errorf("mp4: box of %d bytes", size)
		}
		if !typ {
			m, err := br.Discard(int(size))
			n += int64(m)
			if err != nil {
				return s.run, n, fmt.Errorf("mp4: box of %d bytes: %w", size, err)
			}
			continue
		}
		if size > maxMoofBytes {
			return s.run, n, fmt.Errorf("mp4: moof of %d bytes, above %d", size, maxMoofBytes)
		}
		if cap(s.moof) < int(size) {
			s.moof = make([]byte, size, 2*size)
		}
		s.moof = s.moof[:size]
		m, err := io.ReadFull(br, s.moof)
		n += int64(m)
		if err != nil {
			return s.run, n, fmt.Errorf("mp4: moof: %w", err)
		}
		if err := s.parseMoof(s.moof); err != nil {
			return s.run, n, err
		}
	}
}

// parseMoof reads the video track's runs of one moof box (whole, header
// included).
func (s *fmp4Scanner) parseMoof(b []byte) error {
	_, body, _, err := boxAt(b)
	if err != nil {
		return err
	}
	for len(body) > 0 {
		typ, traf, size, err := boxAt(body)
		if err != nil {
			return err
		}
		body = body[size:]
		if typ == "traf" {
			if err := s.parseTraf(traf); err != nil {
				return err
			}
		}
	}
	return nil
}

// trafDefaults are a track fragment's sample defaults and decode time.
type trafDefaults struct {
	video    bool
	duration uint32
	flags    uint32
	dts      uint64
}

// parseTraf reads one track fragment; runs of tracks other than the video
// track are skipped.
func (s *fmp4Scanner) parseTraf(b []byte) error {
	d := trafDefaults{duration: s.video.defaultDuration, flags: s.video.defaultFlags}
	for len(b) > 0 {
		typ, body, size, err := boxAt(b)
		if err != nil {
			return err
		}
		b = b[size:]
		switch typ {
		case "tfhd":
			if err := d.tfhd(body, s.video.trackID); err != nil {
				return err
			}
			if !d.video {
				return nil
			}
		case "tfdt":
			if len(body) < fullBoxSize+4 {
				return errors.New("mp4: short tfdt")
			}
			d.dts = uint64(binary.BigEndian.Uint32(body[fullBoxSize:]))
			if body[0] == 1 {
				if len(body) < fullBoxSize+8 {
					return errors.New("mp4: short tfdt")
				}
				d.dts = binary.BigEndian.Uint64(body[fullBoxSize:])
			}
		case "trun":
			if !d.video {
				return nil // no tfhd first: not a track the scanner knows
			}
			if err := s.trun(body, &d); err != nil {
				return err
			}
		}
	}
	return nil
}

// tfhd reads a track fragment header into d.
func (d *trafDefaults) tfhd(b []byte, videoID uint32) error {
	if len(b) < fullBoxSize+4 {
		return errors.New("mp4: short tfhd")
	}
	flags := binary.BigEndian.Uint32(b) & 0xffffff
	d.video = binary.BigEndian.Uint32(b[fullBoxSize:]) == videoID
	p := b[fullBoxSize+4:]
	skip := func(n int) bool {
		if len(p) < n {
			return false
		}
		p = p[n:]
		return true
	}
	if flags&tfhdBaseDataOffset != 0 && !skip(8) || flags&tfhdSampleDescription != 0 && !skip(4) {
		return errors.New("mp4: short tfhd")
	}
	if flags&tfhdDefaultDuration != 0 {
		if len(p) < 4 {
			return errors.New("mp4: short tfhd")
		}
		d.duration = binary.BigEndian.Uint32(p)
		p = p[4:]
	}
	if flags&tfhdDefaultSize != 0 && !skip(4) {
		return errors.New("mp4: short tfhd")
	}
	if flags&tfhdDefaultFlags != 0 {
		if len(p) < 4 {
			return errors.New("mp4: short tfhd")
		}
		d.flags = binary.BigEndian.Uint32(p)
	}
	return nil
}

// trun reads one track run of the video track, advancing d.dts.
func (s *fmp4Scanner) trun(b []byte, d *trafDefaults) error {
	if len(b) < fullBoxSize+4 {
		return errors.New("mp4: short trun")
	}
	flags := binary.BigEndian.Uint32(b) & 0xffffff
	count := binary.BigEndian.Uint32(b[fullBoxSize:])
	p := b[fullBoxSize+4:]
	firstFlags, haveFirst := uint32(0), false
	if flags&trunHasDataOffset != 0 {
		if len(p) < 4 {
			return errors.New("mp4: short trun")
		}
		p = p[4:]
	}
	if flags&trunHasFirstSampleFlags != 0 {
		if len(p) < 4 {
			return errors.New("mp4: short trun")
		}
		firstFlags, haveFirst = binary.BigEndian.Uint32(p), true
		p = p[4:]
	}
	per := 0
	for _, f := range [...]uint32{trunHasDuration, trunHasSize, trunHasFlags, trunHasCompositionOffset} {
		if flags&f != 0 {
			per += 4
		}
	}
	if uint64(count)*uint64(per) > uint64(len(p)) {
		return fmt.Errorf("mp4: trun of %d samples in %d bytes", count, len(p))
	}
	for i := range count {
		duration, sampleFlags := d.duration, d.flags
		if flags&trunHasDuration != 0 {
			duration = binary.BigEndian.Uint32(p)
			p = p[4:]
		}
		if flags&trunHasSize != 0 {
			p = p[4:]
		}
		if flags&trunHasFlags != 0 {
			sampleFlags = binary.BigEndian.Uint32(p)
			p = p[4:]
		}
		if flags&trunHasCompositionOffset != 0 {
			p = p[4:]
		}
		if i == 0 && haveFirst {
			sampleFlags = firstFlags
		}
		sync := sampleFlags&sampleNonSync == 0
		if s.run.samples == 0 {
			s.run.firstDTS, s.run.firstSync = d.dts, sync
		}
		s.run.lastDTS = d.dts
		s.run.samples++
		if s.onSample != nil {
			s.onSample(d.dts, sync)
		}
		d.dts += uint64(duration)
	}
	return nil
}

// toMs converts a decode time in timescale units to milliseconds, as a
// 32-bit RTMP timestamp (wrapping as those do).
func (v fmp4Video) toMs(dts uint64) uint32 {
	if v.timescale == 0 {
		return 0
	}
	return uint32(dts/uint64(v.timescale)*1000 + dts%uint64(v.timescale)*1000/uint64(v.timescale))
}

package fmp4

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// testBox is a box read back by readBoxes: its type, its body (after the
// size and type) and, for containers, its children.
type testBox struct {
	typ      string
	body     []byte
	children []testBox
}

// containerOffset reports whether readBoxes descends into a box of type
// typ, and how many bytes of fields come before its children.
func containerOffset(typ string) (int, bool) {
	switch typ {
	case "moov", "trak", "mdia", "minf", "dinf", "stbl", "mvex", "moof", "traf":
		return 0, true
	case "stsd", "dref":
		return 8, true // version, flags, entry_count
	case "avc1", "hvc1", "av01", "vp09":
		return 78, true // VisualSampleEntry fields
	case "mp4a", "Opus", "fLaC", "ac-3", "ec-3":
		return 28, true // AudioSampleEntry fields
	}
	return 0, false
}

// readBoxes reads a sequence of boxes that fills b exactly, descending into
// the containers an init section and a fragment have. It is the minimal
// reader the tests use to read back what the package writes.
func readBoxes(b []byte) ([]testBox, error) {
	var boxes []testBox
	for len(b) > 0 {
		if len(b) < boxHeaderSize {
			return nil, fmt.Errorf("box header of %d bytes: %w", len(b), ErrTruncated)
		}
		size, header := uint64(binary.BigEndian.Uint32(b)), boxHeaderSize
		typ := string(b[4:8])
		if size == 1 {
			if len(b) < largeBoxHeaderSize {
				return nil, fmt.Errorf("%s largesize: %w", typ, ErrTruncated)
			}
			size, header = binary.BigEndian.Uint64(b[8:]), largeBoxHeaderSize
		}
		if size < uint64(header) || size > uint64(len(b)) {
			return nil, fmt.Errorf("%s of size %d in %d bytes: %w", typ, size, len(b), ErrTruncated)
		}
		bx := testBox{typ: typ, body: b[header:size]}
		if off, ok := containerOffset(typ); ok {
			if len(bx.body) < off {
				return nil, fmt.Errorf("%s fields: %w", typ, ErrTruncated)
			}
			children, err := readBoxes(bx.body[off:])
			if err != nil {
				return nil, fmt.Errorf("in %s: %w", typ, err)
			}
			bx.children = children
		}
		boxes = append(boxes, bx)
		b = b[size:]
	}
	return boxes, nil
}

// tree returns the box types as an indented outline, for comparing
// structures.
func tree(boxes []testBox) []string {
	var out []string
	var walk func(bs []testBox, depth int)
	walk = func(bs []testBox, depth int) {
		for _, bx := range bs {
			out = append(out, fmt.Sprintf("%*s%s", 2*depth, "", bx.typ))
			walk(bx.children, depth+1)
		}
	}
	walk(boxes, 0)
	return out
}

// find returns the boxes at a path of types ("moof/traf/trun").
func find(boxes []testBox, path ...string) []testBox {
	var found []testBox
	for _, bx := range boxes {
		if bx.typ != path[0] {
			continue
		}
		if len(path) == 1 {
			found = append(found, bx)
		} else {
			found = append(found, find(bx.children, path[1:]...)...)
		}
	}
	return found
}

// readSample is a sample as readFragment decodes it from moof and mdat.
type readSample struct {
	Duration          uint32
	CompositionOffset int32
	Flags             SampleFlags
	Data              []byte
}

// readTrack is one traf decoded.
type readTrack struct {
	TrackID        uint32
	BaseDecodeTime uint64
	Samples        []readSample
}

// readFragment decodes a moof and mdat pair written by Fragment: the
// sequence number and, per traf, the samples with their data located
// through the data offset (relative to moof, default-base-is-moof).
func readFragment(b []byte) (uint32, []readTrack, error) {
	boxes, err := readBoxes(b)
	if err != nil {
		return 0, nil, err
	}
	if got := tree(boxes); len(got) < 2 || got[0] != "moof" || !slices.Contains(got, "mdat") {
		return 0, nil, fmt.Errorf("fragment outline %q", got)
	}
	mfhd := find(boxes, "moof", "mfhd")
	if len(mfhd) != 1 || len(mfhd[0].body) != 8 {
		return 0, nil, fmt.Errorf("mfhd: %w", ErrTruncated)
	}
	seq := binary.BigEndian.Uint32(mfhd[0].body[4:])
	var tracks []readTrack
	for _, traf := range find(boxes, "moof", "traf") {
		tr, err := readTraf(b, traf)
		if err != nil {
			return 0, nil, err
		}
		tracks = append(tracks, tr)
	}
	return seq, tracks, nil
}

// u32 reads a big-endian word at *p and advances it.
func u32(b []byte, p *int) uint32 {
	v := binary.BigEndian.Uint32(b[*p:])
	*p += 4
	return v
}

// readTraf decodes one traf; fragment is the whole moof+mdat.
func readTraf(fragment []byte, traf testBox) (tr readTrack, err error) {
	defer func() {
		if recover() != nil {
			err = fmt.Errorf("traf fields: %w", ErrTruncated)
		}
	}()
	tfhd, tfdt, trun := find(traf.children, "tfhd"), find(traf.children, "tfdt"), find(traf.children, "trun")
	if len(tfhd) != 1 || len(tfdt) != 1 || len(trun) != 1 {
		return readTrack{}, fmt.Errorf("traf outline %q", tree(traf.children))
	}
	p := 0
	tfhdFlags := u32(tfhd[0].body, &p) & 0xffffff
	tr.TrackID = u32(tfhd[0].body, &p)
	if tfhdFlags&^(tfhdDefaultBaseIsMoof|tfhdDefaultSampleFlags) != 0 || tfhdFlags&tfhdDefaultBaseIsMoof == 0 {
		return readTrack{}, fmt.Errorf("tfhd flags %#x", tfhdFlags)
	}
	var defaults SampleFlags
	if tfhdFlags&tfhdDefaultSampleFlags != 0 {
		defaults = SampleFlags(u32(tfhd[0].body, &p))
	}
	if tfdt[0].body[0] != 1 {
		return readTrack{}, fmt.Errorf("tfdt version %d", tfdt[0].body[0])
	}
	tr.BaseDecodeTime = binary.BigEndian.Uint64(tfdt[0].body[4:])
	body := trun[0].body
	p = 0
	vf := u32(body, &p)
	version, flags := vf>>24, vf&0xffffff
	count := u32(body, &p)
	offset := int(int32(u32(body, &p)))
	first, hasFirst := SampleFlags(0), flags&trunFirstSampleFlags != 0
	if hasFirst {
		first = SampleFlags(u32(body, &p))
	}
	for i := range int(count) {
		s := readSample{Flags: defaults}
		s.Duration = u32(body, &p)
		size := int(u32(body, &p))
		if flags&trunSampleFlags != 0 {
			s.Flags = SampleFlags(u32(body, &p))
		} else if i == 0 && hasFirst {
			s.Flags = first
		}
		if flags&trunSampleCompositionOff != 0 {
			s.CompositionOffset = int32(u32(body, &p))
			if version == 0 && s.CompositionOffset < 0 {
				return readTrack{}, fmt.Errorf("negative composition offset in trun version 0")
			}
		}
		if offset < 0 || offset+size > len(fragment) {
			return readTrack{}, fmt.Errorf("sample %d at %d+%d past the fragment's %d bytes", i, offset, size, len(fragment))
		}
		s.Data = fragment[offset : offset+size]
		offset += size
		tr.Samples = append(tr.Samples, s)
	}
	if p != len(body) {
		return readTrack{}, fmt.Errorf("trun of %d bytes, %d read", len(body), p)
	}
	return tr, nil
}

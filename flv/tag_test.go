package flv

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestHeaderBothDirections(t *testing.T) {
	cases := []struct {
		name string
		h    Header
		wire string
	}{
		{"none", Header{}, "464c5601 00 00000009 00000000"},
		{"audio", Header{HasAudio: true}, "464c5601 04 00000009 00000000"},
		{"video", Header{HasVideo: true}, "464c5601 01 00000009 00000000"},
		{"both", Header{HasAudio: true, HasVideo: true}, "464c5601 05 00000009 00000000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wire := unhex(t, c.wire)
			if got := AppendHeader(nil, c.h); !bytes.Equal(got, wire) {
				t.Fatalf("AppendHeader = %x, want %x", got, wire)
			}
			got, err := NewReader(bytes.NewReader(wire)).ReadHeader()
			if err != nil || got != c.h {
				t.Fatalf("ReadHeader = %+v, %v; want %+v", got, err, c.h)
			}
		})
	}
}

func TestTagBothDirections(t *testing.T) {
	cases := []struct {
		name string
		tag  Tag
		wire string
	}{
		{"audio", Tag{Type: TagAudio, Timestamp: 0x000102, Data: []byte{0xaf, 0x01, 0x21}},
			"08 000003 000102 00 000000 af0121 0000000e"},
		{"video", Tag{Type: TagVideo, Timestamp: 40, Data: []byte{0x17, 0x02, 0, 0, 0}},
			"09 000005 000028 00 000000 1702000000 00000010"},
		{"script empty", Tag{Type: TagScript, Timestamp: 0, Data: []byte{}},
			"12 000000 000000 00 000000 0000000b"},
		{"extended timestamp", Tag{Type: TagVideo, Timestamp: 0x12345678, Data: []byte{0x27}},
			"09 000001 345678 12 000000 27 0000000c"},
		{"max timestamp", Tag{Type: TagAudio, Timestamp: 0xffffffff, Data: []byte{0x2f}},
			"08 000001 ffffff ff 000000 2f 0000000c"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wire := unhex(t, c.wire)
			if got := AppendTag(nil, c.tag.Type, c.tag.Timestamp, c.tag.Data); !bytes.Equal(got, wire) {
				t.Fatalf("AppendTag = %x, want %x", got, wire)
			}
			typ, size, ts, err := ParseTagHeader(wire)
			if err != nil || typ != c.tag.Type || size != len(c.tag.Data) || ts != c.tag.Timestamp {
				t.Fatalf("ParseTagHeader = %v %d %d %v", typ, size, ts, err)
			}
			got, err := NewReader(bytes.NewReader(wire)).ReadTag()
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != c.tag.Type || got.Timestamp != c.tag.Timestamp || !bytes.Equal(got.Data, c.tag.Data) {
				t.Fatalf("ReadTag = %+v, want %+v", got, c.tag)
			}
		})
	}
}

func TestWriterReaderRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xab, 0xcd, 0xef}, 100_000) // crosses the read chunk
	tags := []Tag{
		{Type: TagScript, Timestamp: 0, Data: []byte{2, 0, 2, 'h', 'i'}},
		{Type: TagVideo, Timestamp: 0, Data: []byte{0x17, 0, 0, 0, 0, 1, 2, 3}},
		{Type: TagAudio, Timestamp: 23, Data: []byte{0xaf, 1, 9}},
		{Type: TagVideo, Timestamp: 1 << 25, Data: big},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, Header{HasAudio: true, HasVideo: true})
	for _, tag := range tags {
		if err := w.WriteTag(tag); err != nil {
			t.Fatal(err)
		}
	}
	// One byte at a time exercises every short read.
	r := NewReader(iotest.OneByteReader(bytes.NewReader(buf.Bytes())))
	h, err := r.ReadHeader()
	if err != nil || !h.HasAudio || !h.HasVideo {
		t.Fatalf("ReadHeader = %+v, %v", h, err)
	}
	for i, want := range tags {
		got, err := r.ReadTag()
		if err != nil {
			t.Fatalf("tag %d: %v", i, err)
		}
		if got.Type != want.Type || got.Timestamp != want.Timestamp || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("tag %d = %v %d %d bytes", i, got.Type, got.Timestamp, len(got.Data))
		}
	}
	if _, err := r.ReadTag(); err != io.EOF {
		t.Fatalf("after last tag: %v, want io.EOF", err)
	}
}

func TestWriterHeaderOnce(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Header{HasVideo: true})
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTag(Tag{Type: TagVideo, Data: []byte{0x27}}); err != nil {
		t.Fatal(err)
	}
	want := append(AppendHeader(nil, Header{HasVideo: true}), AppendTag(nil, TagVideo, 0, []byte{0x27})...)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("wrote %x, want %x", buf.Bytes(), want)
	}
}

func TestWriterRejectsOversizedTag(t *testing.T) {
	w := NewWriter(io.Discard, Header{})
	err := w.WriteTag(Tag{Type: TagVideo, Data: make([]byte, MaxTagDataSize+1)})
	if !errors.Is(err, ErrTagTooLarge) {
		t.Fatalf("err = %v, want ErrTagTooLarge", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("boom") }

func TestWriterReportsWriteError(t *testing.T) {
	w := NewWriter(failingWriter{}, Header{})
	if err := w.WriteTag(Tag{Type: TagAudio, Data: []byte{1}}); err == nil {
		t.Fatal("no error from failing writer")
	}
}

func TestReaderErrors(t *testing.T) {
	tag := AppendTag(nil, TagVideo, 5, []byte{1, 2, 3, 4})
	cases := []struct {
		name   string
		input  []byte
		header bool
		cfg    ReaderConfig
		want   error
	}{
		{"not flv", unhex(t, "464c4101 05 00000009 00000000"), true, ReaderConfig{}, ErrNotFLV},
		{"bad data offset", unhex(t, "464c5601 05 00000008 00000000"), true, ReaderConfig{}, ErrNotFLV},
		{"header truncated", unhex(t, "464c56"), true, ReaderConfig{}, io.ErrUnexpectedEOF},
		{"header no tag size 0", unhex(t, "464c5601 05 00000009 0000"), true, ReaderConfig{}, io.ErrUnexpectedEOF},
		{"header padding too large", unhex(t, "464c5601 05 7fffffff 00000000"), true, ReaderConfig{}, ErrTagTooLarge},
		{"tag header truncated", tag[:7], false, ReaderConfig{}, io.ErrUnexpectedEOF},
		{"tag data truncated", tag[:13], false, ReaderConfig{}, io.ErrUnexpectedEOF},
		{"tag size trailer truncated", tag[:len(tag)-2], false, ReaderConfig{}, io.ErrUnexpectedEOF},
		{"encrypted", append([]byte{0x29}, tag[1:]...), false, ReaderConfig{}, ErrEncryptedTag},
		{"over cap", tag, false, ReaderConfig{MaxTagDataSize: 3}, ErrTagTooLarge},
		{"huge claimed size, tiny input", unhex(t, "09 ffffff 000000 00 000000 0102"), false, ReaderConfig{}, io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewReaderConfig(bytes.NewReader(c.input), c.cfg)
			var err error
			if c.header {
				_, err = r.ReadHeader()
			} else {
				_, err = r.ReadTag()
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestReaderHeaderPaddingSkipped(t *testing.T) {
	in := cat(unhex(t, "464c5601 01 0000000c aabbcc 00000000"), AppendTag(nil, TagVideo, 1, []byte{0x27}))
	r := NewReader(bytes.NewReader(in))
	if _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	tag, err := r.ReadTag()
	if err != nil || tag.Type != TagVideo || tag.Timestamp != 1 {
		t.Fatalf("ReadTag = %+v, %v", tag, err)
	}
}

func TestReaderLastTagWithoutPreviousTagSize(t *testing.T) {
	in := AppendTag(nil, TagAudio, 7, []byte{0x2f, 9})
	r := NewReader(bytes.NewReader(in[:len(in)-PreviousTagSizeLen]))
	tag, err := r.ReadTag()
	if err != nil || tag.Timestamp != 7 || !bytes.Equal(tag.Data, []byte{0x2f, 9}) {
		t.Fatalf("ReadTag = %+v, %v", tag, err)
	}
	if _, err := r.ReadTag(); err != io.EOF {
		t.Fatalf("second ReadTag = %v, want io.EOF", err)
	}
}

func TestTagTypeString(t *testing.T) {
	for typ, want := range map[TagType]string{TagAudio: "audio", TagVideo: "video", TagScript: "script", 7: "tagtype(7)"} {
		if got := typ.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", typ, got, want)
		}
	}
}

func TestFourCCString(t *testing.T) {
	cases := []struct {
		f    FourCC
		want string
	}{
		{FourCCAVC, "avc1"}, {FourCCHEVC, "hvc1"}, {FourCCAV1, "av01"}, {FourCCVP9, "vp09"}, {FourCCVP8, "vp08"},
		{FourCCAAC, "mp4a"}, {FourCCOpus, "Opus"}, {FourCCFLAC, "fLaC"}, {FourCCAC3, "ac-3"}, {FourCCEAC3, "ec-3"},
		{FourCCMP3, ".mp3"}, {0, ""}, {0x00010203, "0x10203"},
	}
	for _, c := range cases {
		if got := c.f.String(); got != c.want {
			t.Errorf("%#x.String() = %q, want %q", uint32(c.f), got, c.want)
		}
		if c.f != 0 && c.want[0] != '0' && MakeFourCC(c.want) != c.f {
			t.Errorf("MakeFourCC(%q) = %#x", c.want, uint32(MakeFourCC(c.want)))
		}
	}
	if MakeFourCC("abc") != 0 {
		t.Error("MakeFourCC of three bytes is not 0")
	}
}

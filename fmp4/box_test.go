package fmp4

import (
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// unhex decodes hex written with spaces and line breaks for reading.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// marshal encodes a box through Size and MarshalTo.
func marshal(t *testing.T, b box) []byte {
	t.Helper()
	out := make([]byte, b.Size())
	if n := b.MarshalTo(out); n != len(out) {
		t.Fatalf("%s: MarshalTo wrote %d bytes, Size %d", b.typ, n, len(out))
	}
	return out
}

// Test values: an OpusHead (stereo, pre-skip 312, 48 kHz), an AC-3
// syncframe header (48 kHz, 192 kbit/s, bsid 8, stereo) and an E-AC-3 one
// (768-byte frames of 6 blocks at 48 kHz, bsid 16, stereo), a FLAC
// STREAMINFO (4096-sample blocks, 48 kHz, stereo, 16 bits).
const (
	opusHeadStereo = "4f707573486561640102380180bb0000000000"
	ac3Frame192k   = "0b770000144040000000"
	eac3Frame192k  = "0b77017f348000000000"
	flacStreamInfo = "10001000 000000 000000 0bb802f0 00000000 00000000000000000000000000000000"
)

func TestFixedBoxes(t *testing.T) {
	must := func(b box, _ audioParams, err error) box {
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ac3, err := parseAC3Header(unhex(t, ac3Frame192k))
	if err != nil {
		t.Fatal(err)
	}
	eac3, err := parseEAC3Header(unhex(t, eac3Frame192k))
	if err != nil {
		t.Fatal(err)
	}
	dfLa, _, _, err := flacDfLa(unhex(t, flacStreamInfo))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		box  box
		want string
	}{
		{"ftyp", ftypBox(), "0000001c 66747970 69736f36 00000000 69736f36 636d6663 6d703431"},
		{"mvhd", mvhdBox(3), `0000006c 6d766864 00000000 00000000 00000000 000003e8 00000000 00010000 0100 0000 00000000 00000000
			00010000 00000000 00000000 00000000 00010000 00000000 00000000 00000000 40000000
			000000000000000000000000000000000000000000000000 00000003`},
		{"tkhd video", tkhdBox(Track{ID: 1, Codec: CodecAVC, Width: 320, Height: 240}), `0000005c 746b6864 00000003
			00000000 00000000 00000001 00000000 00000000 0000000000000000 0000 0000 0000 0000
			00010000 00000000 00000000 00000000 00010000 00000000 00000000 00000000 40000000 01400000 00f00000`},
		{"tkhd audio", tkhdBox(Track{ID: 2, Codec: CodecAAC}), `0000005c 746b6864 00000003
			00000000 00000000 00000002 00000000 00000000 0000000000000000 0000 0000 0100 0000
			00010000 00000000 00000000 00000000 00010000 00000000 00000000 00000000 40000000 00000000 00000000`},
		{"mdhd", mdhdBox(90000), "00000020 6d646864 00000000 00000000 00000000 00015f90 00000000 55c4 0000"},
		{"hdlr video", hdlrBox(true), "0000002d 68646c72 00000000 00000000 76696465 000000000000000000000000 566964656f48616e646c657200"},
		{"hdlr audio", hdlrBox(false), "0000002d 68646c72 00000000 00000000 736f756e 000000000000000000000000 536f756e6448616e646c657200"},
		{"vmhd", mediaHeaderBox(true), "00000014 766d6864 00000001 0000 000000000000"},
		{"smhd", mediaHeaderBox(false), "00000010 736d6864 00000000 0000 0000"},
		{"dinf", dinfBox(), "00000024 64696e66 0000001c 64726566 00000000 00000001 0000000c 75726c20 00000001"},
		{"trex", trexBox(2), "00000020 74726578 00000000 00000002 00000001 00000000 00000000 00000000"},
		{"esds AAC", esdsBox(objectTypeAAC, []byte{0x11, 0x90}),
			"00000027 65736473 00000000 03 19 0000 00 04 11 40 15 000000 00000000 00000000 05 02 1190 06 01 02"},
		{"esds MP3", esdsBox(objectTypeMPEG1Audio, nil),
			"00000023 65736473 00000000 03 15 0000 00 04 0d 6b 15 000000 00000000 00000000 06 01 02"},
		{"dOps", must(opusDOps(unhex(t, opusHeadStereo))), "00000013 644f7073 00 02 0138 0000bb80 0000 00"},
		{"dac3", ac3.dac3(), "0000000b 64616333 101140"},
		{"dec3", eac3.dec3(), "0000000d 64656333 0600200400"},
		{"dfLa", dfLa, "00000032 64664c61 00000000 80000022" + flacStreamInfo},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, want := marshal(t, c.box), unhex(t, c.want); !slices.Equal(got, want) {
				t.Errorf("encoded\n%x\nwant\n%x", got, want)
			}
		})
	}
}

func TestSampleEntries(t *testing.T) {
	visual := `000000000000 0001 0000 0000 000000000000000000000000 0140 00f0 00480000 00480000 00000000 0001
		0000000000000000000000000000000000000000000000000000000000000000 0018 ffff`
	cases := []struct {
		name  string
		track Track
		want  string
	}{
		{"avc1", Track{ID: 1, Codec: CodecAVC, Width: 320, Height: 240, Config: unhex(t, "0164001fffe000")},
			"00000065 61766331" + visual + "0000000f 61766343 0164001fffe000"},
		{"vp09 bare record", Track{ID: 1, Codec: CodecVP9, Width: 320, Height: 240, Config: unhex(t, "000a820202020000")},
			"0000006a 76703039" + visual + "00000014 76706343 01000000 000a820202020000"},
		{"vp09 record with its FullBox header", Track{ID: 1, Codec: CodecVP9, Width: 320, Height: 240, Config: unhex(t, "01000000000a820202020000")},
			"0000006a 76703039" + visual + "00000014 76706343 01000000 000a820202020000"},
		{"Opus", Track{ID: 2, Codec: CodecOpus, Config: unhex(t, opusHeadStereo)},
			"00000037 4f707573 000000000000 0001 0000000000000000 0002 0010 0000 0000 bb800000 00000013 644f7073 00 02 0138 0000bb80 0000 00"},
		{"mp4a MP3 at 22.05 kHz", Track{ID: 2, Codec: CodecMP3, SampleRate: 22050, Channels: 1},
			"00000047 6d703461 000000000000 0001 0000000000000000 0001 0010 0000 0000 56220000 00000023 65736473 00000000 03 15 0000 00 04 0d 69 15 000000 00000000 00000000 06 01 02"},
		{"fLaC at 96 kHz", Track{ID: 2, Codec: CodecFLAC, SampleRate: 96000, Config: unhex(t, flacStreamInfo)},
			"00000056 664c6143 000000000000 0001 0000000000000000 0002 0010 0000 0000 00000000 00000032 64664c61 00000000 80000022" + flacStreamInfo},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			entry, err := newSampleEntry(&c.track)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := marshal(t, entry), unhex(t, c.want); !slices.Equal(got, want) {
				t.Errorf("encoded\n%x\nwant\n%x", got, want)
			}
		})
	}
}

func TestHeaderParameters(t *testing.T) {
	cases := []struct {
		name  string
		track Track
		rate  int
		ch    int
		scale uint32
	}{
		{"AAC from the AudioSpecificConfig", Track{Codec: CodecAAC, Config: []byte{0x11, 0x90}}, 48000, 2, 48000},
		{"AAC caller's rate (HE-AAC output)", Track{Codec: CodecAAC, SampleRate: 44100, Config: []byte{0x13, 0x90}}, 44100, 2, 44100},
		{"Opus", Track{Codec: CodecOpus, Config: unhex(t, opusHeadStereo)}, 48000, 2, 48000},
		{"FLAC", Track{Codec: CodecFLAC, Config: append([]byte("fLaC\x80\x00\x00\x22"), unhex(t, flacStreamInfo)...)}, 48000, 2, 48000},
		{"AC-3", Track{Codec: CodecAC3, Config: unhex(t, ac3Frame192k)}, 48000, 2, 48000},
		{"E-AC-3", Track{Codec: CodecEAC3, Config: unhex(t, eac3Frame192k)}, 48000, 2, 48000},
		{"MP3 frame, MPEG-1 mono", Track{Codec: CodecMP3, Config: []byte{0xff, 0xfb, 0x94, 0xc4}}, 48000, 1, 48000},
		{"MP3 frame, MPEG-2 stereo", Track{Codec: CodecMP3, Config: []byte{0xff, 0xf3, 0x94, 0x44}}, 24000, 2, 24000},
		{"video", Track{Codec: CodecAVC, Width: 2, Height: 2, Config: unhex(t, "0164001fffe000")}, 0, 0, DefaultVideoTimescale},
		{"video timescale set", Track{Codec: CodecAVC, Width: 2, Height: 2, Timescale: 1000, Config: unhex(t, "0164001fffe000")}, 0, 0, 1000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := c.track
			if _, err := newSampleEntry(&tr); err != nil {
				t.Fatal(err)
			}
			if tr.SampleRate != c.rate || tr.Channels != c.ch || tr.Timescale != c.scale {
				t.Errorf("%d Hz, %d channels, timescale %d; want %d, %d, %d", tr.SampleRate, tr.Channels, tr.Timescale, c.rate, c.ch, c.scale)
			}
		})
	}
}

func TestNewInitRefuses(t *testing.T) {
	avc := Track{ID: 1, Codec: CodecAVC, Width: 2, Height: 2, Config: unhex(t, "0164001fffe000")}
	otherVersion := unhex(t, "0264001fffe000")
	with := func(f func(*Track)) Track {
		tr := avc
		f(&tr)
		return tr
	}
	cases := []struct {
		name   string
		tracks []Track
		want   error
	}{
		{"no tracks", nil, ErrInvalidTrack},
		{"track ID 0", []Track{with(func(t *Track) { t.ID = 0 })}, ErrInvalidTrack},
		{"track ID twice", []Track{avc, avc}, ErrInvalidTrack},
		{"video without a size", []Track{with(func(t *Track) { t.Width = 0 })}, ErrInvalidTrack},
		{"video too wide", []Track{with(func(t *Track) { t.Width = 70000 })}, ErrInvalidTrack},
		{"unknown codec", []Track{with(func(t *Track) { t.Codec = 99 })}, ErrUnsupportedCodec},
		{"avcC of another version", []Track{with(func(t *Track) { t.Config = otherVersion })}, ErrInvalidHeader},
		{"hvcC cut", []Track{with(func(t *Track) { t.Codec, t.Config = CodecHEVC, []byte{1, 2, 3} })}, ErrInvalidHeader},
		{"av1C without its marker", []Track{with(func(t *Track) { t.Codec, t.Config = CodecAV1, []byte{1, 0, 0, 0} })}, ErrInvalidHeader},
		{"vpcC of the wrong length", []Track{with(func(t *Track) { t.Codec, t.Config = CodecVP9, []byte{0, 10, 0x82, 2, 2, 2, 0, 1} })}, ErrInvalidHeader},
		{"AAC without a config", []Track{{ID: 2, Codec: CodecAAC}}, ErrTruncated},
		{"AAC with channels in a PCE", []Track{{ID: 2, Codec: CodecAAC, Config: []byte{0x11, 0x80}}}, ErrInvalidTrack},
		{"MP3 without a rate", []Track{{ID: 2, Codec: CodecMP3}}, ErrInvalidTrack},
		{"MP3 layer 2 frame", []Track{{ID: 2, Codec: CodecMP3, Config: []byte{0xff, 0xfd, 0x94, 0xc4}}}, ErrInvalidHeader},
		{"Opus tags instead of head", []Track{{ID: 2, Codec: CodecOpus, Config: []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")}}, ErrInvalidHeader},
		{"Opus surround cut", []Track{{ID: 2, Codec: CodecOpus, Config: unhex(t, "4f707573486561640106380180bb0000000001")}}, ErrTruncated},
		{"FLAC cut", []Track{{ID: 2, Codec: CodecFLAC, Config: make([]byte, 20)}}, ErrTruncated},
		{"AC-3 without sync", []Track{{ID: 2, Codec: CodecAC3, Config: make([]byte, 10)}}, ErrInvalidHeader},
		{"AC-3 frame is E-AC-3", []Track{{ID: 2, Codec: CodecAC3, Config: unhex(t, eac3Frame192k)}}, ErrInvalidHeader},
		{"E-AC-3 frame is AC-3", []Track{{ID: 2, Codec: CodecEAC3, Config: unhex(t, ac3Frame192k)}}, ErrInvalidHeader},
		{"E-AC-3 cut", []Track{{ID: 2, Codec: CodecEAC3, Config: unhex(t, "0b77017f")}}, ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := NewInit(c.tracks)
			if !errors.Is(err, c.want) {
				t.Fatalf("NewInit: %v, %v; want %v", in, err, c.want)
			}
		})
	}
}

func TestInitOutline(t *testing.T) {
	in, err := NewInit([]Track{
		{ID: 1, Codec: CodecAVC, Width: 320, Height: 240, Config: unhex(t, "0164001fffe000")},
		{ID: 2, Codec: CodecAC3, Config: unhex(t, ac3Frame192k)},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := in.Append([]byte("prefix"))
	if string(b[:6]) != "prefix" || len(b) != 6+in.Size() {
		t.Fatalf("Append: %d bytes for a Size of %d", len(b), in.Size())
	}
	boxes, err := readBoxes(b[6:])
	if err != nil {
		t.Fatal(err)
	}
	trak := func(entry, config, header string) []string {
		return []string{"  trak", "    tkhd", "    mdia", "      mdhd", "      hdlr", "      minf", "        " + header,
			"        dinf", "          dref", "            url ", "        stbl", "          stsd", "            " + entry,
			"              " + config, "          stts", "          stsc", "          stsz", "          stco"}
	}
	want := []string{"ftyp", "moov", "  mvhd"}
	want = append(want, trak("avc1", "avcC", "vmhd")...)
	want = append(want, trak("ac-3", "dac3", "smhd")...)
	want = append(want, "  mvex", "    trex", "    trex")
	if got := tree(boxes); !slices.Equal(got, want) {
		t.Errorf("outline\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if mvhd := find(boxes, "moov", "mvhd"); mvhd[0].body[len(mvhd[0].body)-1] != 3 {
		t.Errorf("next_track_ID %x, want 3", mvhd[0].body[len(mvhd[0].body)-4:])
	}
}

func TestNextTrackIDAfterTheLastID(t *testing.T) {
	in, err := NewInit([]Track{{ID: math.MaxUint32, Codec: CodecAC3, Config: unhex(t, ac3Frame192k)}})
	if err != nil {
		t.Fatal(err)
	}
	boxes, err := readBoxes(in.Append(nil))
	if err != nil {
		t.Fatal(err)
	}
	mvhd := find(boxes, "moov", "mvhd")[0].body
	if next := mvhd[len(mvhd)-4:]; !slices.Equal(next, []byte{0xff, 0xff, 0xff, 0xff}) {
		t.Errorf("next_track_ID %x after track ID 2^32-1, want all ones (search), not 0", next)
	}
}

func TestFragmentBytes(t *testing.T) {
	f := Fragment{SequenceNumber: 7, Tracks: []TrackFragment{
		{TrackID: 1, BaseMediaDecodeTime: 90000, Samples: []Sample{
			{Duration: 3000, CompositionOffset: 6000, Flags: SyncSample, Data: []byte{0xaa}},
			{Duration: 3000, CompositionOffset: -3000, Flags: NonSyncSample, Data: []byte{0xbb, 0xbb}},
		}},
		{TrackID: 2, BaseMediaDecodeTime: 48000, Samples: []Sample{
			{Duration: 1024, Flags: SyncSample, Data: []byte{0xcc}},
		}},
	}}
	want := unhex(t, `000000c4 6d6f6f66
		00000010 6d666864 00000000 00000007
		00000060 74726166
			00000014 74666864 00020020 00000001 01010000
			00000014 74666474 01000000 00000000 00015f90
			00000030 7472756e 01000b05 00000002 000000cc 02000000
				00000bb8 00000001 00001770
				00000bb8 00000002 fffff448
		0000004c 74726166
			00000014 74666864 00020020 00000002 02000000
			00000014 74666474 01000000 00000000 0000bb80
			0000001c 7472756e 00000301 00000001 000000cf
				00000400 00000001
		0000000c 6d646174 aa bbbb cc`)
	if got := f.Append(nil); !slices.Equal(got, want) {
		t.Errorf("encoded\n%x\nwant\n%x", got, want)
	}
	if f.Size() != len(want) || f.HeaderSize() != len(want)-4 {
		t.Errorf("Size %d, HeaderSize %d; want %d, %d", f.Size(), f.HeaderSize(), len(want), len(want)-4)
	}
	if got := f.AppendHeader(nil); !slices.Equal(got, want[:len(want)-4]) {
		t.Errorf("AppendHeader\n%x\nwant\n%x", got, want[:len(want)-4])
	}
}

func TestMdatLargeSize(t *testing.T) {
	if mdatHeaderSize(math.MaxUint32-boxHeaderSize) != boxHeaderSize || mdatHeaderSize(math.MaxUint32-boxHeaderSize+1) != largeBoxHeaderSize {
		t.Error("mdat switches to largesize at the wrong payload")
	}
}

func TestSampleFlags(t *testing.T) {
	for _, c := range []struct {
		flags SampleFlags
		sync  bool
	}{{0, true}, {SyncSample, true}, {NonSyncSample, false}, {NonSyncSample | Disposable, false}} {
		if c.flags.IsSync() != c.sync {
			t.Errorf("%#x.IsSync() = %v", uint32(c.flags), !c.sync)
		}
	}
	if uint32(NonSyncSample|Disposable) != 0x01810000 {
		t.Errorf("NonSyncSample|Disposable = %#x", uint32(NonSyncSample|Disposable))
	}
}

func TestInitOwnsItsConfig(t *testing.T) {
	config := unhex(t, "0164001fffe000")
	in, err := NewInit([]Track{{ID: 1, Codec: CodecAVC, Width: 2, Height: 2, Config: config}})
	if err != nil {
		t.Fatal(err)
	}
	before := in.Append(nil)
	config[1] = 0x42 // the caller reuses its buffer
	if after := in.Append(nil); !slices.Equal(before, after) {
		t.Error("the init section changed with the caller's configuration buffer")
	}
}

func TestStartsWithSync(t *testing.T) {
	cases := []struct {
		name    string
		samples []Sample
		want    bool
	}{
		{"segment start", []Sample{{Flags: SyncSample}, {Flags: NonSyncSample}}, true},
		{"part inside a GOP", []Sample{{Flags: NonSyncSample}, {Flags: SyncSample}}, false},
		{"audio", []Sample{{Flags: SyncSample}}, true},
		{"empty run", nil, false},
	}
	for _, c := range cases {
		tf := TrackFragment{TrackID: 1, Samples: c.samples}
		if got := tf.StartsWithSync(); got != c.want {
			t.Errorf("%s: StartsWithSync %v, want %v", c.name, got, c.want)
		}
	}
}

package flv

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

type audioCase struct {
	name string
	wire []byte
	h    AudioTagHeader
	body []byte
}

func audioCases(t testing.TB) []audioCase {
	opusHead := []byte("OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
	return []audioCase{
		{"legacy aac sequence header", unhex(t, "af00 1210"),
			AudioTagHeader{SoundFormat: 10, Codec: FourCCAAC, PacketType: PacketSequenceStart, SoundRate: 3, SoundSize: 1, SoundType: 1, HeaderLen: 2},
			unhex(t, "1210")},
		{"legacy aac raw", unhex(t, "af01 2100"),
			AudioTagHeader{SoundFormat: 10, Codec: FourCCAAC, PacketType: PacketCodedFrames, SoundRate: 3, SoundSize: 1, SoundType: 1, HeaderLen: 2},
			unhex(t, "2100")},
		{"legacy mp3 stereo 44k", unhex(t, "2f fffb"),
			AudioTagHeader{SoundFormat: 2, Codec: FourCCMP3, PacketType: PacketCodedFrames, SoundRate: 3, SoundSize: 1, SoundType: 1, HeaderLen: 1},
			unhex(t, "fffb")},
		{"legacy speex mono 16k", unhex(t, "b2 0102"),
			AudioTagHeader{SoundFormat: 11, PacketType: PacketCodedFrames, SoundRate: 0, SoundSize: 1, SoundType: 0, HeaderLen: 1},
			unhex(t, "0102")},
		{"legacy pcm alaw 8-bit", unhex(t, "70 55"),
			AudioTagHeader{SoundFormat: 7, PacketType: PacketCodedFrames, HeaderLen: 1}, unhex(t, "55")},
		{"ex opus sequence start", cat(0x90, "Opus", opusHead),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCOpus, PacketType: PacketSequenceStart, HeaderLen: 5}, opusHead},
		{"ex flac coded frames", cat(0x91, "fLaC", "frame"),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCFLAC, PacketType: PacketCodedFrames, HeaderLen: 5}, []byte("frame")},
		{"ex aac sequence end", cat(0x92, "mp4a"),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCAAC, PacketType: PacketSequenceEnd, HeaderLen: 5}, nil},
		{"ex multichannel config", cat(0x94, "Opus", 1, 6, 0, 0, 0, 0x3f),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCOpus, PacketType: PacketMultichannelConfig, HeaderLen: 5},
			[]byte{1, 6, 0, 0, 0, 0x3f}},
		{"ex mp4a sequence start", cat(0x90, "mp4a", 0x11, 0x90),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCAAC, PacketType: PacketSequenceStart, HeaderLen: 5}, []byte{0x11, 0x90}},
		{"ex mp4a coded frames", cat(0x91, "mp4a", 0x21, 0x1c),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCAAC, PacketType: PacketCodedFrames, HeaderLen: 5}, []byte{0x21, 0x1c}},
		{"ex opus coded frames", cat(0x91, "Opus", 0xfc, 0xff),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCOpus, PacketType: PacketCodedFrames, HeaderLen: 5}, []byte{0xfc, 0xff}},
		{"ex flac sequence start", cat(0x90, "fLaC", "streaminfo"),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCFLAC, PacketType: PacketSequenceStart, HeaderLen: 5}, []byte("streaminfo")},
		{"ex ac-3 sequence start", cat(0x90, "ac-3"),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCAC3, PacketType: PacketSequenceStart, HeaderLen: 5}, nil},
		{"ex ec-3 coded frames", cat(0x91, "ec-3", 0x0b, 0x77),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCEAC3, PacketType: PacketCodedFrames, HeaderLen: 5}, []byte{0x0b, 0x77}},
		{"ex mp3 coded frames", cat(0x91, ".mp3", 0xff, 0xfb),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCMP3, PacketType: PacketCodedFrames, HeaderLen: 5}, []byte{0xff, 0xfb}},
		{"ex modex nano ac-3", cat(0x97, 2, 0, 1, 0, 0x01, "ac-3", "sync"),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCAC3, PacketType: PacketCodedFrames,
				ModEx: []ModEx{{Type: 0, Data: []byte{0, 1, 0}}}, HeaderLen: 10}, []byte("sync")},
		{"ex modex to multitrack one track", cat(0x97, 3, 0, 0, 1, 0xee, 0x05, 0x01, "ec-3", 3, "e"),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCEAC3, PacketType: PacketCodedFrames,
				ModEx:      []ModEx{{Type: 0, Data: []byte{0, 0, 1, 0xee}}},
				Multitrack: true, MultitrackType: MultitrackOneTrack, HeaderLen: 13,
				Tracks: []Track{{ID: 3, Codec: FourCCEAC3, Data: []byte("e")}}}, nil},
		{"ex multitrack many tracks", cat(0x95, 0x11, ".mp3", 0, 0, 0, 2, "ab", 1, 0, 0, 1, "c"),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCMP3, PacketType: PacketCodedFrames,
				Multitrack: true, MultitrackType: MultitrackManyTracks, HeaderLen: 10,
				Tracks: []Track{{ID: 0, Codec: FourCCMP3, Data: []byte("ab")}, {ID: 1, Codec: FourCCMP3, Data: []byte("c")}}}, nil},
		{"ex multitrack many codecs", cat(0x95, 0x20, "mp4a", 0, 0, 0, 2, 0x12, 0x10, "Opus", 1, 0, 0, 3, "hdr"),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCAAC, PacketType: PacketSequenceStart,
				Multitrack: true, MultitrackType: MultitrackManyTracksManyCodecs, HeaderLen: 10,
				Tracks: []Track{{ID: 0, Codec: FourCCAAC, Data: []byte{0x12, 0x10}}, {ID: 1, Codec: FourCCOpus, Data: []byte("hdr")}}}, nil},
		{"ex multitrack multichannel config", cat(0x95, 0x14, "Opus", 0, 0, 0, 2, 0, 2),
			AudioTagHeader{SoundFormat: 9, Enhanced: true, Codec: FourCCOpus, PacketType: PacketMultichannelConfig,
				Multitrack: true, MultitrackType: MultitrackManyTracks, HeaderLen: 10,
				Tracks: []Track{{ID: 0, Codec: FourCCOpus, Data: []byte{0, 2}}}}, nil},
	}
}

func TestAudioTagHeaderBothDirections(t *testing.T) {
	for _, c := range audioCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseAudioTagHeader(c.wire)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, c.h) {
				t.Fatalf("parse:\n got %+v\nwant %+v", got, c.h)
			}
			if !c.h.Multitrack && !bytes.Equal(c.wire[got.HeaderLen:], c.body) {
				t.Fatalf("body = %x, want %x", c.wire[got.HeaderLen:], c.body)
			}
			enc, err := AppendAudioTag([]byte{0xee}, c.h, c.body)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(enc[1:], c.wire) {
				t.Fatalf("encode:\n got %x\nwant %x", enc[1:], c.wire)
			}
			if !c.h.Multitrack {
				hdr, err := AppendAudioTagHeader(nil, c.h)
				if err != nil || !bytes.Equal(hdr, c.wire[:c.h.HeaderLen]) {
					t.Fatalf("AppendAudioTagHeader = %x, %v", hdr, err)
				}
			}
		})
	}
}

func TestAudioTagHeaderPredicates(t *testing.T) {
	cases := []struct {
		name      string
		wire      []byte
		seqHeader bool
		tracks    int
		nano      uint32
	}{
		{"aac seq", unhex(t, "af00 1210"), true, 1, 0},
		{"aac raw", unhex(t, "af01 21"), false, 1, 0},
		{"ex opus seq", cat(0x90, "Opus", "h"), true, 1, 0},
		{"ex modex", cat(0x97, 2, 0, 1, 0, 0x01, "ac-3", "s"), false, 1, 256},
		{"ex tracks", cat(0x95, 0x10, "mp4a", 0, 0, 0, 1, "a", 1, 0, 0, 0), true, 2, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := ParseAudioTagHeader(c.wire)
			if err != nil {
				t.Fatal(err)
			}
			if h.IsSequenceHeader() != c.seqHeader {
				t.Fatalf("IsSequenceHeader = %v", h.IsSequenceHeader())
			}
			if n, _ := h.TimestampNanoOffset(); n != c.nano {
				t.Fatalf("nano = %d", n)
			}
			if got := len(h.TrackList(c.wire)); got != c.tracks {
				t.Fatalf("%d tracks", got)
			}
		})
	}
}

func TestAudioTagHeaderErrors(t *testing.T) {
	cases := []struct {
		name string
		wire []byte
		want error
	}{
		{"silence", nil, ErrEmpty},
		{"aac short", []byte{0xaf}, ErrTruncated},
		{"aac packet type 2", []byte{0xaf, 2}, ErrUnknownPacketType},
		{"ex reserved 3", cat(0x93, "mp4a"), ErrUnknownPacketType},
		{"ex reserved 6", cat(0x96, "mp4a"), ErrUnknownPacketType},
		{"ex reserved 15", cat(0x9f, "mp4a"), ErrUnknownPacketType},
		{"ex fourcc short", cat(0x91, "Op"), ErrTruncated},
		{"ex modex short", []byte{0x97, 5, 1}, ErrTruncated},
		{"ex modex nano short", cat(0x97, 0, 1, 0x01, "Opus"), ErrInvalidModEx},
		{"multitrack short", []byte{0x95}, ErrTruncated},
		{"multitrack nested", cat(0x95, 0x05, "Opus", 0), ErrInvalidMultitrack},
		{"multitrack modex", cat(0x95, 0x07, "Opus", 0), ErrInvalidMultitrack},
		{"multitrack type 4", cat(0x95, 0x41, "Opus", 0), ErrInvalidMultitrack},
		{"multitrack reserved", cat(0x95, 0x03, "Opus", 0), ErrUnknownPacketType},
		{"multitrack fourcc short", cat(0x95, 0x01, "Op"), ErrTruncated},
		{"multitrack no track", cat(0x95, 0x01, "Opus"), ErrTruncated},
		{"multitrack size overflow", cat(0x95, 0x11, "Opus", 0, 0, 0, 4, "abc"), ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseAudioTagHeader(c.wire); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestAppendAudioTagErrors(t *testing.T) {
	cases := []struct {
		name string
		h    AudioTagHeader
		body []byte
		want error
	}{
		{"legacy ex format", AudioTagHeader{SoundFormat: 9}, nil, ErrInvalidHeader},
		{"legacy rate 4", AudioTagHeader{SoundFormat: 10, SoundRate: 4}, nil, ErrInvalidHeader},
		{"legacy aac end", AudioTagHeader{SoundFormat: 10, PacketType: PacketSequenceEnd}, nil, ErrInvalidHeader},
		{"legacy mp3 seq start", AudioTagHeader{SoundFormat: 2, PacketType: PacketSequenceStart}, nil, ErrInvalidHeader},
		{"ex coded frames x", AudioTagHeader{Enhanced: true, PacketType: PacketCodedFramesX}, nil, ErrUnknownPacketType},
		{"ex bad modex", AudioTagHeader{Enhanced: true, ModEx: []ModEx{{Type: 2}}}, nil, ErrInvalidModEx},
		{"multitrack body", AudioTagHeader{Enhanced: true, Multitrack: true, Tracks: []Track{{}}}, []byte{1}, ErrInvalidMultitrack},
		{"multitrack legacy", AudioTagHeader{Multitrack: true, Tracks: []Track{{}}}, nil, ErrInvalidMultitrack},
		{"multitrack empty", AudioTagHeader{Enhanced: true, Multitrack: true}, nil, ErrInvalidMultitrack},
		{"multitrack track too big", AudioTagHeader{Enhanced: true, Multitrack: true, MultitrackType: MultitrackManyTracks,
			Tracks: []Track{{Data: make([]byte, 1<<24)}}}, nil, ErrInvalidMultitrack},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := AppendAudioTag(nil, c.h, c.body); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestMultichannelConfigBothDirections(t *testing.T) {
	cases := []struct {
		name string
		wire []byte
		c    MultichannelConfig
	}{
		{"unspecified", []byte{0, 2}, MultichannelConfig{ChannelOrder: ChannelOrderUnspecified, ChannelCount: 2}},
		{"native 5.1", []byte{1, 6, 0, 0, 0, 0x3f}, MultichannelConfig{ChannelOrder: ChannelOrderNative, ChannelCount: 6, Flags: 0x3f}},
		{"custom", []byte{2, 3, 1, 0, 2}, MultichannelConfig{ChannelOrder: ChannelOrderCustom, ChannelCount: 3, Mapping: []byte{1, 0, 2}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseMultichannelConfig(c.wire)
			if err != nil || !reflect.DeepEqual(got, c.c) {
				t.Fatalf("parse = %+v, %v", got, err)
			}
			enc, err := c.c.Append(nil)
			if err != nil || !bytes.Equal(enc, c.wire) {
				t.Fatalf("append = %x, %v", enc, err)
			}
		})
	}
	for _, bad := range [][]byte{{0}, {1, 2, 0}, {2, 3, 1}, {3, 1}} {
		if _, err := ParseMultichannelConfig(bad); err == nil {
			t.Errorf("ParseMultichannelConfig(%x) succeeded", bad)
		}
	}
	if _, err := (MultichannelConfig{ChannelOrder: ChannelOrderCustom, ChannelCount: 2}).Append(nil); err == nil {
		t.Error("custom mapping with wrong length encoded")
	}
	if _, err := (MultichannelConfig{ChannelOrder: 9}).Append(nil); err == nil {
		t.Error("unknown channel order encoded")
	}
}

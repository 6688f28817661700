package flv

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// videoCase is one video tag payload and the header it decodes to. body is
// the codec data after the header for single-track payloads.
type videoCase struct {
	name string
	wire []byte
	h    VideoTagHeader
	body []byte
}

func videoCases(t testing.TB) []videoCase {
	avcC := unhex(t, "0164001fffe1001a6764001facd9405005bb0110000003001000000303c0f183196001000668ebe3cb22c0fdf8f800")
	nalus := unhex(t, "00000005 6588840021")
	big := bytes.Repeat([]byte{0x5a}, 300)
	return []videoCase{
		{"legacy avc sequence header", cat(0x17, 0, 0, 0, 0, avcC),
			VideoTagHeader{FrameType: FrameKey, Codec: FourCCAVC, LegacyCodecID: 7, PacketType: PacketSequenceStart, HeaderLen: 5}, avcC},
		{"legacy avc keyframe cts", cat(0x17, 1, 0, 0, 0x42, nalus),
			VideoTagHeader{FrameType: FrameKey, Codec: FourCCAVC, LegacyCodecID: 7, PacketType: PacketCodedFrames, CompositionTime: 0x42, HeaderLen: 5}, nalus},
		{"legacy avc inter negative cts", cat(0x27, 1, 0xff, 0xff, 0xe0, nalus),
			VideoTagHeader{FrameType: FrameInter, Codec: FourCCAVC, LegacyCodecID: 7, PacketType: PacketCodedFrames, CompositionTime: -32, HeaderLen: 5}, nalus},
		{"legacy avc end of sequence", cat(0x17, 2, 0, 0, 0),
			VideoTagHeader{FrameType: FrameKey, Codec: FourCCAVC, LegacyCodecID: 7, PacketType: PacketSequenceEnd, HeaderLen: 5}, nil},
		{"legacy hevc", cat(0x1c, 1, 0, 0, 0x21, "hevc"),
			VideoTagHeader{FrameType: FrameKey, Codec: FourCCHEVC, LegacyCodecID: 12, PacketType: PacketCodedFrames, CompositionTime: 0x21, HeaderLen: 5}, []byte("hevc")},
		{"legacy vp6 key", cat(0x14, 0x00, "vp6"),
			VideoTagHeader{FrameType: FrameKey, LegacyCodecID: 4, PacketType: PacketCodedFrames, HeaderLen: 1}, cat(0x00, "vp6")},
		{"legacy h263 disposable", cat(0x32, "263"),
			VideoTagHeader{FrameType: FrameDisposable, LegacyCodecID: 2, PacketType: PacketCodedFrames, HeaderLen: 1}, []byte("263")},
		{"legacy generated key screen2", cat(0x46, "s2"),
			VideoTagHeader{FrameType: FrameGeneratedKey, LegacyCodecID: 6, PacketType: PacketCodedFrames, HeaderLen: 1}, []byte("s2")},
		{"legacy command avc", cat(0x57, 0x01),
			VideoTagHeader{FrameType: FrameCommand, Codec: FourCCAVC, LegacyCodecID: 7, PacketType: PacketCodedFrames, Command: VideoCommandEndSeek, HeaderLen: 2}, nil},
		{"ex hvc1 sequence start", cat(0x90, "hvc1", "config"),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCHEVC, PacketType: PacketSequenceStart, HeaderLen: 5}, []byte("config")},
		{"ex hvc1 coded frames cts", cat(0x91, "hvc1", 0, 0, 0x21, nalus),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCHEVC, PacketType: PacketCodedFrames, CompositionTime: 0x21, HeaderLen: 8}, nalus},
		{"ex avc1 coded frames negative cts", cat(0xa1, "avc1", 0xff, 0xff, 0xff, nalus),
			VideoTagHeader{FrameType: FrameInter, Enhanced: true, Codec: FourCCAVC, PacketType: PacketCodedFrames, CompositionTime: -1, HeaderLen: 8}, nalus},
		{"ex avc1 coded frames x", cat(0xa3, "avc1", nalus),
			VideoTagHeader{FrameType: FrameInter, Enhanced: true, Codec: FourCCAVC, PacketType: PacketCodedFramesX, HeaderLen: 5}, nalus},
		{"ex av01 coded frames no cts", cat(0x91, "av01", "obus"),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCAV1, PacketType: PacketCodedFrames, HeaderLen: 5}, []byte("obus")},
		{"ex av01 sequence start", cat(0x90, "av01", "av1C"),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCAV1, PacketType: PacketSequenceStart, HeaderLen: 5}, []byte("av1C")},
		{"ex vp09 coded frames x key", cat(0x93, "vp09", "frame"),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCVP9, PacketType: PacketCodedFramesX, HeaderLen: 5}, []byte("frame")},
		{"ex hvc1 metadata colorInfo", cat(0x94, "hvc1", 0x02, 0, 9, "colorInfo", 0x06),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCHEVC, PacketType: PacketMetadata, HeaderLen: 5}, cat(0x02, 0, 9, "colorInfo", 0x06)},
		{"ex vp09 sequence start", cat(0x90, "vp09", "vpcC"),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCVP9, PacketType: PacketSequenceStart, HeaderLen: 5}, []byte("vpcC")},
		{"ex vp08 inter", cat(0xa1, "vp08", "frame"),
			VideoTagHeader{FrameType: FrameInter, Enhanced: true, Codec: FourCCVP8, PacketType: PacketCodedFrames, HeaderLen: 5}, []byte("frame")},
		{"ex sequence end", cat(0x92, "hvc1"),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCHEVC, PacketType: PacketSequenceEnd, HeaderLen: 5}, nil},
		{"ex metadata ignores frame type", cat(0xd4, "av01", "amf"),
			VideoTagHeader{FrameType: FrameCommand, Enhanced: true, Codec: FourCCAV1, PacketType: PacketMetadata, HeaderLen: 5}, []byte("amf")},
		{"ex mpeg2ts sequence start", cat(0x95, "av01", "desc"),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCAV1, PacketType: PacketMPEG2TSSequenceStart, HeaderLen: 5}, []byte("desc")},
		{"ex command", cat(0xd1, 0x00),
			VideoTagHeader{FrameType: FrameCommand, Enhanced: true, PacketType: PacketCodedFrames, Command: VideoCommandStartSeek, HeaderLen: 2}, nil},
		{"ex modex nano offset", cat(0x97, 2, 0x0a, 0x1b, 0x2c, 0x01, "avc1", 0, 0, 5, nalus),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCAVC, PacketType: PacketCodedFrames, CompositionTime: 5,
				ModEx: []ModEx{{Type: ModExTimestampOffsetNano, Data: []byte{0x0a, 0x1b, 0x2c}}}, HeaderLen: 13}, nalus},
		{"ex modex 16-bit size", cat(0xa7, 0xff, 0x01, 0x2b, big, 0x53, "hvc1", "x"),
			VideoTagHeader{FrameType: FrameInter, Enhanced: true, Codec: FourCCHEVC, PacketType: PacketCodedFramesX,
				ModEx: []ModEx{{Type: 5, Data: big}}, HeaderLen: 1 + 3 + 300 + 1 + 4}, []byte("x")},
		{"ex two modex then command", cat(0xd7, 0, 0x7f, 0x97, 2, 1, 2, 3, 0x01, 0x01),
			VideoTagHeader{FrameType: FrameCommand, Enhanced: true, PacketType: PacketCodedFrames, Command: VideoCommandEndSeek,
				ModEx: []ModEx{{Type: 9, Data: []byte{0x7f}}, {Type: 0, Data: []byte{1, 2, 3}}}, HeaderLen: 10}, nil},
		{"ex multitrack one track", cat(0x96, 0x01, "avc1", 0x00, 0, 0, 0x10, nalus),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCAVC, PacketType: PacketCodedFrames, CompositionTime: 0x10,
				Multitrack: true, MultitrackType: MultitrackOneTrack, HeaderLen: 10,
				Tracks: []Track{{ID: 0, Codec: FourCCAVC, CompositionTime: 0x10, Data: nalus}}}, nil},
		{"ex multitrack many tracks", cat(0x96, 0x10, "hvc1", 0, 0, 0, 3, "abc", 1, 0, 0, 2, "de", 7, 0, 0, 0),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCHEVC, PacketType: PacketSequenceStart,
				Multitrack: true, MultitrackType: MultitrackManyTracks, HeaderLen: 10,
				Tracks: []Track{{ID: 0, Codec: FourCCHEVC, Data: []byte("abc")}, {ID: 1, Codec: FourCCHEVC, Data: []byte("de")},
					{ID: 7, Codec: FourCCHEVC, Data: []byte{}}}}, nil},
		{"ex multitrack many codecs", cat(0xa6, 0x21, "avc1", 0, 0, 0, 5, 0, 0, 2, "xy", "av01", 2, 0, 0, 2, "zw"),
			VideoTagHeader{FrameType: FrameInter, Enhanced: true, Codec: FourCCAVC, PacketType: PacketCodedFrames, CompositionTime: 2,
				Multitrack: true, MultitrackType: MultitrackManyTracksManyCodecs, HeaderLen: 13,
				Tracks: []Track{{ID: 0, Codec: FourCCAVC, CompositionTime: 2, Data: []byte("xy")}, {ID: 2, Codec: FourCCAV1, Data: []byte("zw")}}}, nil},
		{"ex modex then multitrack", cat(0x97, 2, 0, 0, 9, 0x06, 0x13, "vp09", 4, 0, 0, 1, "q"),
			VideoTagHeader{FrameType: FrameKey, Enhanced: true, Codec: FourCCVP9, PacketType: PacketCodedFramesX,
				ModEx:      []ModEx{{Type: 0, Data: []byte{0, 0, 9}}},
				Multitrack: true, MultitrackType: MultitrackManyTracks, HeaderLen: 15,
				Tracks: []Track{{ID: 4, Codec: FourCCVP9, Data: []byte("q")}}}, nil},
	}
}

func TestVideoTagHeaderBothDirections(t *testing.T) {
	for _, c := range videoCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseVideoTagHeader(c.wire)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, c.h) {
				t.Fatalf("parse:\n got %+v\nwant %+v", got, c.h)
			}
			if !c.h.Multitrack && !bytes.Equal(c.wire[got.HeaderLen:], c.body) {
				t.Fatalf("body = %q, want %q", c.wire[got.HeaderLen:], c.body)
			}
			enc, err := AppendVideoTag([]byte{0xee}, c.h, c.body)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(enc[1:], c.wire) {
				t.Fatalf("encode:\n got %x\nwant %x", enc[1:], c.wire)
			}
			if !c.h.Multitrack {
				hdr, err := AppendVideoTagHeader(nil, c.h)
				if err != nil || !bytes.Equal(hdr, c.wire[:c.h.HeaderLen]) {
					t.Fatalf("AppendVideoTagHeader = %x, %v", hdr, err)
				}
			}
		})
	}
}

func TestVideoTagHeaderPredicates(t *testing.T) {
	cases := []struct {
		name                string
		wire                []byte
		key, seqHeader, cmd bool
		tracks              int
		nano                uint32
		hasNano             bool
		firstTrackData      string
	}{
		{"avc seq", cat(0x17, 0, 0, 0, 0, "c"), true, true, false, 1, 0, false, "c"},
		{"avc inter", cat(0x27, 1, 0, 0, 0, "n"), false, false, false, 1, 0, false, "n"},
		{"generated key", cat(0x47, 1, 0, 0, 0, "n"), true, false, false, 1, 0, false, "n"},
		{"command", cat(0x57, 0), false, false, true, 0, 0, false, ""},
		{"ex metadata", cat(0x94, "hvc1", "m"), false, false, false, 1, 0, false, "m"},
		{"ex mpeg2ts", cat(0x95, "av01", "d"), true, true, false, 1, 0, false, "d"},
		{"ex modex nano", cat(0x97, 2, 0x0f, 0x42, 0x3f, 0x03, "avc1", "f"), true, false, false, 1, 999999, true, "f"},
		{"ex many tracks", cat(0x96, 0x10, "hvc1", 0, 0, 0, 1, "a", 1, 0, 0, 1, "b"), true, true, false, 2, 0, false, "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := ParseVideoTagHeader(c.wire)
			if err != nil {
				t.Fatal(err)
			}
			if h.Keyframe() != c.key || h.IsSequenceHeader() != c.seqHeader || h.IsCommand() != c.cmd {
				t.Fatalf("key %v seq %v cmd %v", h.Keyframe(), h.IsSequenceHeader(), h.IsCommand())
			}
			nano, ok := h.TimestampNanoOffset()
			if nano != c.nano || ok != c.hasNano {
				t.Fatalf("nano = %d, %v", nano, ok)
			}
			tracks := h.TrackList(c.wire)
			if len(tracks) != c.tracks {
				t.Fatalf("%d tracks, want %d", len(tracks), c.tracks)
			}
			if len(tracks) > 0 && string(tracks[0].Data) != c.firstTrackData {
				t.Fatalf("first track data %q", tracks[0].Data)
			}
		})
	}
}

func TestVideoTagHeaderErrors(t *testing.T) {
	manyTracks := []byte{0x96, 0x10, 'h', 'v', 'c', '1'}
	for i := range MaxTracks + 1 {
		manyTracks = append(manyTracks, byte(i), 0, 0, 0)
	}
	manyModEx := []byte{0x97}
	for range MaxModEx + 1 {
		manyModEx = append(manyModEx, 0, 0xf, 0x17)
	}
	cases := []struct {
		name string
		wire []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"legacy avc short", []byte{0x17, 1, 0, 0}, ErrTruncated},
		{"legacy avc packet type 3", []byte{0x17, 3, 0, 0, 0}, ErrUnknownPacketType},
		{"legacy command short", []byte{0x57}, ErrTruncated},
		{"ex packet type 8", cat(0x98, "avc1"), ErrUnknownPacketType},
		{"ex fourcc short", cat(0x91, "av0"), ErrTruncated},
		{"ex cts short", cat(0x91, "avc1", 0, 0), ErrTruncated},
		{"ex command short", []byte{0xd1}, ErrTruncated},
		{"modex size short", []byte{0x97}, ErrTruncated},
		{"modex 16-bit size short", []byte{0x97, 0xff, 0x01}, ErrTruncated},
		{"modex data short", []byte{0x97, 4, 1, 2}, ErrTruncated},
		{"modex no type byte", []byte{0x97, 0, 1}, ErrTruncated},
		{"modex nano too small", cat(0x97, 1, 0, 0, 0x01, "avc1", 0, 0, 0), ErrInvalidModEx},
		{"modex too many", manyModEx, ErrInvalidModEx},
		{"modex to reserved type", []byte{0x97, 0, 1, 0x1c}, ErrUnknownPacketType},
		{"multitrack short", []byte{0x96}, ErrTruncated},
		{"multitrack type 3", cat(0x96, 0x31, "avc1", 0), ErrInvalidMultitrack},
		{"multitrack nested", cat(0x96, 0x06, "avc1", 0), ErrInvalidMultitrack},
		{"multitrack modex inside", cat(0x96, 0x07, "avc1", 0), ErrInvalidMultitrack},
		{"multitrack reserved packet", cat(0x96, 0x09, "avc1", 0), ErrUnknownPacketType},
		{"multitrack no track", cat(0x96, 0x10, "avc1"), ErrTruncated},
		{"multitrack fourcc short", cat(0x96, 0x10, "av"), ErrTruncated},
		{"multitrack track fourcc short", cat(0x96, 0x20, "av"), ErrTruncated},
		{"multitrack size short", cat(0x96, 0x10, "hvc1", 0, 0, 0), ErrTruncated},
		{"multitrack size overflow", cat(0x96, 0x10, "hvc1", 0, 0, 0, 9, "abc"), ErrTruncated},
		{"multitrack cts outside track", cat(0x96, 0x11, "avc1", 0, 0, 0, 2, 0, 0, 5), ErrTruncated},
		{"multitrack too many tracks", manyTracks, ErrInvalidMultitrack},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseVideoTagHeader(c.wire); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestAppendVideoTagErrors(t *testing.T) {
	cases := []struct {
		name string
		h    VideoTagHeader
		body []byte
		want error
	}{
		{"legacy frame type 8", VideoTagHeader{FrameType: 8, LegacyCodecID: 7}, nil, ErrInvalidHeader},
		{"legacy avc packet x", VideoTagHeader{FrameType: 1, LegacyCodecID: 7, PacketType: PacketCodedFramesX}, nil, ErrInvalidHeader},
		{"legacy vp6 sequence start", VideoTagHeader{FrameType: 1, LegacyCodecID: 4, PacketType: PacketSequenceStart}, nil, ErrInvalidHeader},
		{"legacy cts range", VideoTagHeader{FrameType: 1, LegacyCodecID: 7, PacketType: PacketCodedFrames, CompositionTime: 1 << 23}, nil, ErrInvalidHeader},
		{"legacy with modex", VideoTagHeader{FrameType: 1, LegacyCodecID: 7, ModEx: []ModEx{NewTimestampOffsetNano(1)}}, nil, ErrInvalidHeader},
		{"ex signal packet type", VideoTagHeader{Enhanced: true, FrameType: 1, PacketType: PacketModEx}, nil, ErrInvalidHeader},
		{"ex cts range", VideoTagHeader{Enhanced: true, FrameType: 1, Codec: FourCCHEVC, PacketType: PacketCodedFrames, CompositionTime: -(1 << 23) - 1}, nil, ErrInvalidHeader},
		{"ex empty modex", VideoTagHeader{Enhanced: true, FrameType: 1, ModEx: []ModEx{{Type: 3}}}, nil, ErrInvalidModEx},
		{"ex short nano", VideoTagHeader{Enhanced: true, FrameType: 1, ModEx: []ModEx{{Type: 0, Data: []byte{1}}}}, nil, ErrInvalidModEx},
		{"ex modex type 16", VideoTagHeader{Enhanced: true, FrameType: 1, ModEx: []ModEx{{Type: 16, Data: []byte{1}}}}, nil, ErrInvalidModEx},
		{"ex modex too large", VideoTagHeader{Enhanced: true, FrameType: 1, ModEx: []ModEx{{Type: 1, Data: make([]byte, 1<<16+1)}}}, nil, ErrInvalidModEx},
		{"multitrack with body", VideoTagHeader{Enhanced: true, FrameType: 1, Multitrack: true,
			Tracks: []Track{{Codec: FourCCAV1}}}, []byte{1}, ErrInvalidMultitrack},
		{"multitrack no tracks", VideoTagHeader{Enhanced: true, FrameType: 1, Multitrack: true}, nil, ErrInvalidMultitrack},
		{"multitrack one track two", VideoTagHeader{Enhanced: true, FrameType: 1, Multitrack: true, Codec: FourCCAV1,
			Tracks: []Track{{Codec: FourCCAV1}, {Codec: FourCCAV1}}}, nil, ErrInvalidMultitrack},
		{"multitrack codec mismatch", VideoTagHeader{Enhanced: true, FrameType: 1, Multitrack: true, MultitrackType: MultitrackManyTracks,
			Codec: FourCCAV1, Tracks: []Track{{Codec: FourCCVP9}}}, nil, ErrInvalidMultitrack},
		{"multitrack type 3", VideoTagHeader{Enhanced: true, FrameType: 1, Multitrack: true, MultitrackType: 3,
			Tracks: []Track{{}}}, nil, ErrInvalidMultitrack},
		{"multitrack legacy", VideoTagHeader{FrameType: 1, Multitrack: true, Tracks: []Track{{}}}, nil, ErrInvalidMultitrack},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := AppendVideoTag(nil, c.h, c.body); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	if _, err := AppendVideoTagHeader(nil, VideoTagHeader{Enhanced: true, Multitrack: true}); !errors.Is(err, ErrInvalidMultitrack) {
		t.Fatalf("AppendVideoTagHeader multitrack: %v", err)
	}
}

func TestPacketTypeString(t *testing.T) {
	if PacketMultichannelConfig.String() != "MultichannelConfig" || PacketType(42).String() != "PacketType(42)" {
		t.Fatal(PacketMultichannelConfig.String(), PacketType(42).String())
	}
}

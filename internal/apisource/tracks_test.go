package apisource

import (
	"reflect"
	"testing"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/stream"
)

// av1C1918x1078 is the av1C libaom writes for 10-bit 1918x1078 (Main, level
// 4.0), sequence header included.
const av1C1918x1078 = "81084c000a0b00000042abbec3576be501"

// hvcCNoArrays is an hvcC of Main, High tier, level 3.1 without
// parameter sets.
const hvcCNoArrays = "0121400000009000000000005df000fcfdf8f81e000f00"

func exVideo(t *testing.T, h flv.VideoTagHeader, body []byte) *stream.Frame {
	t.Helper()
	h.Enhanced = true
	p, err := flv.AppendVideoTag(nil, h, body)
	if err != nil {
		t.Fatal(err)
	}
	return newFrame(t, flv.TagVideo, 0, p)
}

func exAudio(t *testing.T, h flv.AudioTagHeader, body []byte) *stream.Frame {
	t.Helper()
	h.Enhanced, h.SoundFormat = true, flv.SoundFormatExHeader
	p, err := flv.AppendAudioTag(nil, h, body)
	if err != nil {
		t.Fatal(err)
	}
	return newFrame(t, flv.TagAudio, 0, p)
}

// TestDescribeEnhancedTracks: every track of a multitrack stream is listed
// with what its configuration says, HDR from colorInfo included.
func TestDescribeEnhancedTracks(t *testing.T) {
	seq := flv.VideoTagHeader{FrameType: flv.FrameKey, PacketType: flv.PacketSequenceStart}
	hevc0 := seq
	hevc0.Codec = flv.FourCCHEVC
	av1Track1 := seq
	av1Track1.Multitrack, av1Track1.Codec = true, flv.FourCCAV1
	av1Track1.Tracks = []flv.Track{{ID: 1, Codec: flv.FourCCAV1, Data: unhex(t, av1C1918x1078)}}
	color, err := flv.AppendVideoMetadata(nil, flv.ColorInfo{HasConfig: true, Config: flv.ColorConfig{BitDepth: 10, TransferCharacteristics: flv.TransferHLG}})
	if err != nil {
		t.Fatal(err)
	}
	colorTrack1 := flv.VideoTagHeader{FrameType: flv.FrameKey, PacketType: flv.PacketMetadata, Multitrack: true, Codec: flv.FourCCAV1,
		Tracks: []flv.Track{{ID: 1, Codec: flv.FourCCAV1, Data: color}}}
	opus := flv.AudioTagHeader{Codec: flv.FourCCOpus, PacketType: flv.PacketSequenceStart, Multitrack: true,
		Tracks: []flv.Track{{ID: 2, Codec: flv.FourCCOpus, Data: []byte("OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00")}}}
	h := stream.Headers{
		Video:  exVideo(t, hevc0, unhex(t, hvcCNoArrays)),
		Audio:  newFrame(t, flv.TagAudio, 0, []byte{0xaf, 0x00, 0x11, 0x90}),
		Tracks: []*stream.Frame{exVideo(t, av1Track1, nil), exVideo(t, colorTrack1, nil), exAudio(t, opus, nil)},
	}
	got := describeTracks(h, stream.Stats{VideoFPS: 60, VideoFrames: 10, AudioFrames: 5})
	want := []api.Track{
		{ID: 0, Kind: "video", Codec: "H.265", FourCC: "hvc1", CodecString: "hvc1.1.2.H93.90", Profile: "Main", Level: "3.1", BitDepth: 8, FPS: 30},
		{ID: 1, Kind: "video", Codec: "AV1", FourCC: "av01", CodecString: "av01.0.08M.10", Profile: "Main", Level: "4.0",
			Width: 1918, Height: 1078, BitDepth: 10, HDR: "HLG"},
		{ID: 0, Kind: "audio", Codec: "AAC", FourCC: "mp4a", CodecString: "mp4a.40.2", SampleRate: 48000, Channels: 2},
		{ID: 2, Kind: "audio", Codec: "Opus", FourCC: "Opus", CodecString: "Opus", SampleRate: 48000, Channels: 2},
	}
	if !reflect.DeepEqual(got.list, want) {
		t.Fatalf("tracks\n got %+v\nwant %+v", got.list, want)
	}
	if v := got.video; v == nil || v.Codec != "H.265" || v.Profile != "Main" || v.FPS != 30 {
		t.Fatalf("default video %+v (with two video tracks the signalled rate wins over the measured sum)", v)
	}
}

// fakeHLSTracks reports HLS statuses.
type fakeHLSTracks struct{ stats hls.StreamStats }

func (f fakeHLSTracks) Viewers(stream.Key) int { return 0 }
func (f fakeHLSTracks) Stats(stream.Key) (hls.StreamStats, bool) {
	return f.stats, true
}

func TestHLSStatus(t *testing.T) {
	src := New(Deps{HLS: fakeHLSTracks{stats: hls.StreamStats{Segmenter: hls.SegmenterStats{
		Video: hls.TrackStatus{Codec: flv.FourCCAV1, Reason: "AV1 needs fMP4"},
		Audio: hls.TrackStatus{Codec: flv.FourCCAAC, Included: true},
	}}}})
	list := []api.Track{{ID: 0, Kind: "video"}, {ID: 1, Kind: "video"}, {ID: 0, Kind: "audio"}}
	src.hlsStatus(stream.Key{App: "live", Name: "x"}, list)
	want := []api.Track{
		{ID: 0, Kind: "video", HLS: api.HLSLeftOut, HLSReason: "AV1 needs fMP4"},
		{ID: 1, Kind: "video", HLS: api.HLSLeftOut, HLSReason: notDefaultTrack},
		{ID: 0, Kind: "audio", HLS: api.HLSIncluded},
	}
	if !reflect.DeepEqual(list, want) {
		t.Fatalf("got %+v", list)
	}
}

// TestApplyRenditions: each listed track gets the rates measured on its
// own frames, matched by kind and id; a video track's measured frame rate
// replaces the signalled one; the alignment keeps its name.
func TestApplyRenditions(t *testing.T) {
	list := []api.Track{
		{ID: 0, Kind: api.KindVideo, FPS: 30},
		{ID: 1, Kind: api.KindVideo, FPS: 30},
		{ID: 2, Kind: api.KindVideo, FPS: 30},
		{ID: 1, Kind: api.KindAudio},
	}
	rs := stream.Renditions{
		Video: []stream.Rendition{{Track: 0, FPS: 25, Bitrate: 3e6, PeakBitrate: 4e6}, {Track: 1, FPS: 25, Bitrate: 1e6, PeakBitrate: 2e6}},
		Audio: []stream.Rendition{{Track: 0, Bitrate: 1}, {Track: 1, Bitrate: 128e3, PeakBitrate: 130e3}},
	}
	applyRenditions(list, rs)
	want := []api.Track{
		{ID: 0, Kind: api.KindVideo, FPS: 25, Bitrate: 3e6, PeakBitrate: 4e6},
		{ID: 1, Kind: api.KindVideo, FPS: 25, Bitrate: 1e6, PeakBitrate: 2e6},
		{ID: 2, Kind: api.KindVideo, FPS: 30},
		{ID: 1, Kind: api.KindAudio, Bitrate: 128e3, PeakBitrate: 130e3},
	}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("tracks\n got %+v\nwant %+v", list, want)
	}
	for a, name := range map[stream.KeyframeAlignment]string{
		stream.AlignmentAligned: "aligned", stream.AlignmentUnaligned: "unaligned", stream.AlignmentUnknown: "unknown",
	} {
		if got := alignmentName(a); got != name {
			t.Errorf("alignment %v named %q, want %q", a, got, name)
		}
	}
}

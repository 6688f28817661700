package hls

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astits"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// hevcRecord is an hvcC written by x265 (1280x720 Main).
func hevcRecord(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/x265-1280x720-main.hvcC")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// HEVC NAL units for tests: two-byte NAL header, then filler.
func hevcNALU(typ uint8, n int, fill byte) []byte {
	b := make([]byte, max(n, 3))
	b[0], b[1] = typ<<1, 0x01
	for i := 2; i < len(b); i++ {
		b[i] = fill
	}
	return b
}

// exVideoPayload builds an Enhanced RTMP video tag body.
func exVideoPayload(t testing.TB, h flv.VideoTagHeader, body []byte) []byte {
	t.Helper()
	h.Enhanced = true
	p, err := flv.AppendVideoTag(nil, h, body)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// hevcNalTypes lists the H.265 NAL unit types of an Annex-B access unit.
func hevcNalTypes(au []byte) []int {
	var types []int
	_ = flv.ForEachAnnexBNALU(au, func(n []byte) error {
		types = append(types, int(flv.HEVCNALUType(n)))
		return nil
	})
	return types
}

// TestSegmenterHEVC: HEVC (Enhanced RTMP hvc1 and legacy codec id 12)
// goes into MPEG-TS as stream type 0x24, each access unit behind an HEVC
// AUD, the hvcC's VPS, SPS and PPS before every IRAP that lacks them.
func TestSegmenterHEVC(t *testing.T) {
	record := hevcRecord(t)
	cfg, err := flv.ParseHEVCDecoderConfig(record)
	if err != nil {
		t.Fatal(err)
	}
	vps, sps, pps := cfg.NALUs(flv.HEVCNALVPS)[0], cfg.NALUs(flv.HEVCNALSPS)[0], cfg.NALUs(flv.HEVCNALPPS)[0]
	idr, cra, trail := hevcNALU(flv.HEVCNALIDRWRADL, 300, 1), hevcNALU(flv.HEVCNALCRA, 300, 2), hevcNALU(1, 80, 3)
	forms := []struct {
		name  string
		seq   []byte
		coded func(key bool, cts int32, nalus ...[]byte) []byte
	}{
		{"enhanced hvc1", exVideoPayload(t, flv.VideoTagHeader{FrameType: flv.FrameKey, Codec: flv.FourCCHEVC, PacketType: flv.PacketSequenceStart}, record),
			func(key bool, cts int32, nalus ...[]byte) []byte {
				h := flv.VideoTagHeader{FrameType: flv.FrameInter, Codec: flv.FourCCHEVC, PacketType: flv.PacketCodedFrames, CompositionTime: cts}
				if key {
					h.FrameType = flv.FrameKey
				}
				return exVideoPayload(t, h, avcc(nil, nalus...))
			}},
		{"legacy codec id 12", append([]byte{0x1c, 0, 0, 0, 0}, record...),
			func(key bool, cts int32, nalus ...[]byte) []byte {
				b := byte(0x2c)
				if key {
					b = 0x1c
				}
				return avcc([]byte{b, 1, byte(cts >> 16), byte(cts >> 8), byte(cts)}, nalus...)
			}},
	}
	for _, form := range forms {
		t.Run(form.name, func(t *testing.T) {
			s := newTestSegmenter(time.Second)
			frames := []*stream.Frame{
				frame(t, flv.TagVideo, 0, form.seq),
				frame(t, flv.TagVideo, 0, form.coded(true, 40, idr)),
				frame(t, flv.TagVideo, 40, form.coded(false, 40, trail)),
				frame(t, flv.TagVideo, 1000, form.coded(true, 0, hevcNALU(flv.HEVCNALAUD, 3, 0x50), cra)),
				frame(t, flv.TagVideo, 2000, form.coded(true, 0, vps, sps, pps, idr)),
				frame(t, flv.TagVideo, 2040, form.coded(false, 0, trail)),
			}
			segs := feed(t, s, frames)
			last, _ := s.Flush()
			segs = append(segs, last)
			var aus [][]int
			for _, seg := range segs {
				_, pmt, _, p := demux(t, seg.Data)
				if len(pmt.ElementaryStreams) != 1 || pmt.ElementaryStreams[0].StreamType != astits.StreamTypeH265Video {
					t.Fatalf("PMT %+v, want one H.265 stream (0x24)", pmt.ElementaryStreams)
				}
				for _, pe := range p {
					if !slices.Equal(pe.data[:7], []byte{0, 0, 0, 1, 0x46, 0x01, 0x50}) {
						t.Errorf("access unit does not start with an HEVC AUD: % x", pe.data[:7])
					}
					aus = append(aus, hevcNalTypes(pe.data))
				}
			}
			want := [][]int{
				{35, 32, 33, 34, 19}, // VPS/SPS/PPS from hvcC before the IDR
				{35, 1},
				{35, 32, 33, 34, 21}, // before a CRA too; the frame's own AUD dropped
				{35, 32, 33, 34, 19}, // in-band parameter sets not duplicated
				{35, 1},
			}
			if !slices.EqualFunc(aus, want, slices.Equal) {
				t.Errorf("NAL unit types per access unit = %v, want %v", aus, want)
			}
			if st := s.Stats().Video; !st.Included || st.Codec != flv.FourCCHEVC || st.Reason != "" {
				t.Errorf("video status %+v", st)
			}
		})
	}
}

// TestSegmenterLeavesOutCodecsTSCannotCarry: AV1 video is left out with a
// reason reported once; the AAC audio is segmented at once, not after
// waiting for the video the metadata announced.
func TestSegmenterLeavesOutCodecsTSCannotCarry(t *testing.T) {
	s := newTestSegmenter(time.Second)
	av1Seq := exVideoPayload(t, flv.VideoTagHeader{FrameType: flv.FrameKey, Codec: flv.FourCCAV1, PacketType: flv.PacketSequenceStart},
		[]byte{0x81, 0x04, 0x0c, 0x00})
	meta := metadataPayload(map[string]float64{"width": 320, "height": 240, "videocodecid": float64(flv.FourCCAV1)})
	var errs []error
	frames := []*stream.Frame{frame(t, flv.TagScript, 0, meta), frame(t, flv.TagVideo, 0, av1Seq), frame(t, flv.TagVideo, 0, av1Seq)}
	frames = append(frames, source{audio: true}.frames(t, 3000)...)
	for i := 0; i < 75; i++ {
		frames = append(frames, frame(t, flv.TagVideo, uint32(i*40), exVideoPayload(t,
			flv.VideoTagHeader{FrameType: flv.FrameKey, Codec: flv.FourCCAV1, PacketType: flv.PacketCodedFrames}, []byte{0x12, 0})))
	}
	var segs []*Segment
	for _, f := range frames {
		seg, err := s.WriteFrame(f)
		if err != nil {
			errs = append(errs, err)
		}
		if seg != nil {
			segs = append(segs, seg)
		}
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrUnsupportedCodec) {
		t.Fatalf("errors %v, want one ErrUnsupportedCodec", errs)
	}
	if len(segs) == 0 || segs[0].Start != startTicks || segs[0].VideoFrames != 0 {
		t.Fatalf("audio not segmented from the start: %d segments", len(segs))
	}
	st := s.Stats()
	if st.Video.Included || st.Video.Codec != flv.FourCCAV1 || !strings.Contains(st.Video.Reason, "fMP4") {
		t.Errorf("video status %+v", st.Video)
	}
	if !st.Audio.Included || st.Audio.Codec != flv.FourCCAAC {
		t.Errorf("audio status %+v", st.Audio)
	}
	if st.Invalid != 0 || st.Dropped < 75 {
		t.Errorf("invalid %d dropped %d", st.Invalid, st.Dropped)
	}
}

// TestSegmenterLeavesOutOpus: Opus audio beside H.264 video is left out
// with its reason; the video is segmented.
func TestSegmenterLeavesOutOpus(t *testing.T) {
	s := newTestSegmenter(time.Second)
	opus, err := flv.AppendAudioTag(nil, flv.AudioTagHeader{SoundFormat: flv.SoundFormatExHeader, Enhanced: true, Codec: flv.FourCCOpus,
		PacketType: flv.PacketSequenceStart}, []byte("OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteFrame(frame(t, flv.TagAudio, 0, opus)); !errors.Is(err, ErrUnsupportedCodec) {
		t.Fatalf("Opus configuration: %v", err)
	}
	segs := feed(t, s, source{fps: 25, gop: 25}.frames(t, 3000))
	if len(segs) == 0 {
		t.Fatal("video not segmented")
	}
	if st := s.Stats().Audio; st.Included || st.Codec != flv.FourCCOpus || st.Reason == "" {
		t.Errorf("audio status %+v", st)
	}
}

// TestSegmenterMultitrackUsesTrackZero: the TS rendition carries track 0;
// the configuration and frames of other tracks change nothing and are not
// errors.
func TestSegmenterMultitrackUsesTrackZero(t *testing.T) {
	s := newTestSegmenter(time.Second)
	record := hevcRecord(t)
	mt := func(pt flv.PacketType, key bool, id uint8, data []byte) *stream.Frame {
		h := flv.VideoTagHeader{FrameType: flv.FrameInter, Codec: flv.FourCCHEVC, PacketType: pt, Multitrack: true,
			MultitrackType: flv.MultitrackOneTrack, Tracks: []flv.Track{{ID: id, Codec: flv.FourCCHEVC, Data: data}}}
		if key {
			h.FrameType = flv.FrameKey
		}
		return frame(t, flv.TagVideo, 0, exVideoPayload(t, h, nil))
	}
	var frames []*stream.Frame
	frames = append(frames, mt(flv.PacketSequenceStart, true, 1, record))
	for i, f := range (source{fps: 25, gop: 25}).frames(t, 3000) {
		frames = append(frames, f)
		if i%2 == 0 {
			frames = append(frames, mt(flv.PacketCodedFramesX, i == 0, 1, avcc(nil, hevcNALU(flv.HEVCNALIDRWRADL, 50, 1))))
		}
	}
	frames = append(frames, mt(flv.PacketSequenceStart, true, 1, []byte{1, 2, 3})) // even a broken one
	segs := feed(t, s, frames)
	if len(segs) < 2 {
		t.Fatalf("%d segments", len(segs))
	}
	for _, seg := range segs {
		_, pmt, _, p := demux(t, seg.Data)
		if pmt.ElementaryStreams[0].StreamType != astits.StreamTypeH264Video {
			t.Fatalf("PMT %+v", pmt.ElementaryStreams)
		}
		for _, pe := range p {
			if types := nalTypes(pe.data); types[len(types)-1] != 5 && types[len(types)-1] != 1 {
				t.Fatalf("access unit with NAL types %v", types)
			}
		}
	}
	if st := s.Stats(); st.Video.Codec != flv.FourCCAVC || st.Invalid != 0 {
		t.Errorf("stats %+v", st)
	}
}

// hevcFuzzFrames is a short Enhanced RTMP HEVC stream with a second track,
// a seed for FuzzSegmenter.
func hevcFuzzFrames(t testing.TB) []*stream.Frame {
	record := hevcRecord(t)
	out := []*stream.Frame{frame(t, flv.TagVideo, 0, exVideoPayload(t,
		flv.VideoTagHeader{FrameType: flv.FrameKey, Codec: flv.FourCCHEVC, PacketType: flv.PacketSequenceStart}, record))}
	for i := range 12 {
		h := flv.VideoTagHeader{FrameType: flv.FrameInter, Codec: flv.FourCCHEVC, PacketType: flv.PacketCodedFramesX}
		nalu := hevcNALU(1, 40, byte(i))
		if i%5 == 0 {
			h.FrameType, nalu = flv.FrameKey, hevcNALU(flv.HEVCNALIDRWRADL, 60, byte(i))
		}
		out = append(out, frame(t, flv.TagVideo, uint32(i*40), exVideoPayload(t, h, avcc(nil, nalu))))
		if i == 6 {
			out = append(out, frame(t, flv.TagVideo, uint32(i*40), exVideoPayload(t, flv.VideoTagHeader{FrameType: flv.FrameKey,
				Multitrack: true, Codec: flv.FourCCAV1, PacketType: flv.PacketCodedFrames,
				Tracks: []flv.Track{{ID: 1, Codec: flv.FourCCAV1, Data: []byte{0x12, 0}}}}, nil)))
		}
	}
	return out
}

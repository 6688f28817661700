package stream

import (
	"encoding/hex"
	"testing"

	"github.com/mediaserver/mediaserver/flv"
)

// avcC720p is x264's avcC of a 1280x720 High@3.1 stream.
const avcC720p = "0164001fffe1001a6764001facd9405005bb0110000003001000000303c0f183196001000668ebe3cb22c0fdf8f800"

// publishRenditions writes 7 s of a stream with three H.264 video tracks
// (coded frames of 100, 50 and 25 bytes of data at 25 fps, a keyframe every
// second, those of track 2 shifted by keyShift frames) and AAC audio, and
// returns the payload size of one coded frame of each video track.
func publishRenditions(t *testing.T, p *Publisher, keyShift int) (sizes [3]int) {
	t.Helper()
	src := multitrackSource{t}
	cfg, err := hex.DecodeString(avcC720p)
	if err != nil {
		t.Fatal(err)
	}
	for id := range uint8(3) {
		p.WriteFrame(src.video(id, 0, flv.PacketSequenceStart, true, string(cfg)))
	}
	p.WriteFrame(src.audio(0, 0, flv.PacketSequenceStart, "\x11\x90"))
	data := [3]int{100, 50, 25}
	for i := range 7 * 25 {
		ts := uint32(i * 40)
		for id := range uint8(3) {
			key := i%25 == 0
			if id == 2 {
				key = (i+25-keyShift)%25 == 0
			}
			f := src.video(id, ts, flv.PacketCodedFrames, key, string(make([]byte, data[id])))
			sizes[id] = len(f.Payload)
			p.WriteFrame(f)
		}
		p.WriteFrame(src.audio(0, ts, flv.PacketCodedFrames, "aac"))
	}
	return sizes
}

// TestRenditionsMeasureEachVideoTrack: every video track is a rendition
// with its codec string and picture size from its avcC, and its own
// measured frame rate and bit rate; aligned keyframes read as aligned.
func TestRenditionsMeasureEachVideoTrack(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	sizes := publishRenditions(t, p, 0)
	rs := p.Stream().Renditions()
	if len(rs.Video) != 3 || len(rs.Audio) != 1 {
		t.Fatalf("renditions %+v", rs)
	}
	for i, r := range rs.Video {
		want := float64(sizes[i] * 8 * 25) // bits per second
		if r.Track != uint8(i) || r.CodecString != "avc1.64001f" || r.Width != 1280 || r.Height != 720 {
			t.Errorf("track %d: %+v", i, r)
		}
		if r.FPS != 25 || r.Bitrate != want || r.PeakBitrate != want {
			t.Errorf("track %d: %.2f fps, %.0f bit/s, peak %.0f; want 25 fps, %.0f bit/s", i, r.FPS, r.Bitrate, r.PeakBitrate, want)
		}
	}
	if a := rs.Audio[0]; a.CodecString != "mp4a.40.2" || a.SampleRate != 48000 || a.Channels != 2 || a.Bitrate == 0 {
		t.Errorf("audio %+v", a)
	}
	if rs.KeyframeAlignment != AlignmentAligned {
		t.Errorf("keyframes %v, want aligned", rs.KeyframeAlignment)
	}
	h := p.Stream().Headers()
	if got := h.CodecString(flv.TagVideo, 2); got != "avc1.64001f" {
		t.Errorf("CodecString(video, 2) = %q", got)
	}
	if got := h.CodecString(flv.TagAudio, 0); got != "mp4a.40.2" {
		t.Errorf("CodecString(audio, 0) = %q", got)
	}
	if got := h.CodecString(flv.TagVideo, 3); got != "" {
		t.Errorf("CodecString(video, 3) = %q, want none", got)
	}
}

// TestRenditionsTellUnalignedKeyframes: a track whose keyframes fall two
// frames after the others' makes the stream's keyframes unaligned.
func TestRenditionsTellUnalignedKeyframes(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	publishRenditions(t, p, 2)
	if a := p.Stream().Renditions().KeyframeAlignment; a != AlignmentUnaligned {
		t.Errorf("keyframes %v, want unaligned", a)
	}
}

// TestKeyframeAlignment is the table of the comparison itself.
func TestKeyframeAlignment(t *testing.T) {
	cases := []struct {
		name   string
		tracks [][]uint32
		want   KeyframeAlignment
	}{
		{"one track", [][]uint32{{0, 1000, 2000}}, AlignmentUnknown},
		{"too few keyframes", [][]uint32{{0, 1000}, {0}}, AlignmentUnknown},
		{"same", [][]uint32{{0, 1000, 2000}, {0, 1000, 2000}}, AlignmentAligned},
		{"different history kept", [][]uint32{{0, 1000, 2000, 3000}, {2000, 3000}}, AlignmentAligned},
		{"shifted", [][]uint32{{0, 1000, 2000}, {80, 1080, 2080}}, AlignmentUnaligned},
		{"longer GOP", [][]uint32{{0, 1000, 2000, 3000, 4000}, {0, 2000, 4000}}, AlignmentUnaligned},
		{"no overlap", [][]uint32{{0, 1000}, {5000, 6000}}, AlignmentUnknown},
	}
	for _, c := range cases {
		if got := keyframeAlignment(c.tracks); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

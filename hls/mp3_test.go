package hls

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astits"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// mp3Frame is one MPEG-1 layer III frame, 128 kbit/s at 44.1 kHz (417
// bytes, 1152 samples), as a legacy FLV audio tag body.
func mp3TagPayload(fill byte) []byte {
	frame := append([]byte{0xff, 0xfb, 0x90, 0x64}, bytes.Repeat([]byte{fill}, 417-4)...)
	return append([]byte{flv.SoundFormatMP3<<4 | 0x0f}, frame...)
}

// mp3Frames returns ms milliseconds of MP3 tags.
func mp3Frames(t *testing.T, ms int) []*stream.Frame {
	var out []*stream.Frame
	for k := 0; k*1152*1000/44100 < ms; k++ {
		out = append(out, frame(t, flv.TagAudio, uint32(k*1152*1000/44100), mp3TagPayload(byte(k))))
	}
	return out
}

func TestMPEGAudioHeader(t *testing.T) {
	for _, tc := range []struct {
		header           []byte
		rate, samples, n int
		mpeg1            bool
	}{
		{[]byte{0xff, 0xfb, 0x90, 0x64}, 44100, 1152, 417, true}, // MPEG-1 layer III 128k
		{[]byte{0xff, 0xfb, 0x92, 0x64}, 44100, 1152, 418, true}, // padded
		{[]byte{0xff, 0xf3, 0x84, 0x64}, 24000, 576, 192, false}, // MPEG-2 layer III 64k
		{[]byte{0xff, 0xe3, 0x48, 0x64}, 8000, 576, 288, false},  // MPEG-2.5 layer III 32k
		{[]byte{0xff, 0xfd, 0xa4, 0x64}, 48000, 1152, 576, true}, // MPEG-1 layer II 192k
	} {
		h, err := parseMPEGAudioHeader(tc.header)
		if err != nil || h.sampleRate != tc.rate || h.samples != tc.samples || h.length != tc.n || h.mpeg1 != tc.mpeg1 {
			t.Errorf("%x: %+v, %v; want %d Hz, %d samples, %d bytes", tc.header, h, err, tc.rate, tc.samples, tc.n)
		}
	}
	for _, bad := range [][]byte{{0xff}, {0xfe, 0xfb, 0x90, 0x64}, {0xff, 0xeb, 0x90, 0x64}, {0xff, 0xf9, 0x90, 0x64},
		{0xff, 0xfb, 0xf0, 0x64}, {0xff, 0xfb, 0x9c, 0x64}} {
		if _, err := parseMPEGAudioHeader(bad); err == nil {
			t.Errorf("%x parsed", bad)
		}
	}
}

// TestRegressionMP3OnlyStreamNeverStarts: an MP3-only stream is segmented
// (MPEG-1 audio, stream type 0x03, in TS) and its track reported as
// included, where the playlist answered 503 "stream starting" forever.
func TestRegressionMP3OnlyStreamNeverStarts(t *testing.T) {
	tm := startManager(t, Config{})
	pub := tm.publish(t, camKey)
	defer pub.Close()
	writeFrames(pub, mp3Frames(t, 6500))
	p := tm.waitPlaylist(t, "/live/cam.m3u8", "segments of the MP3 stream", func(p parsedPlaylist) bool {
		return len(p.segments) >= 3
	})
	for _, seg := range p.segments {
		if seg.duration < 1.9 || seg.duration > 2.1 {
			t.Errorf("segment %d: %.3f s", seg.seq, seg.duration)
		}
	}
	resp, body := tm.get(t, http.MethodGet, "/live/"+p.segments[1].uri)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("segment: %d", resp.StatusCode)
	}
	_, pmt, _, packets := demux(t, body)
	if pmt == nil || len(pmt.ElementaryStreams) != 1 || pmt.ElementaryStreams[0].StreamType != astits.StreamTypeMPEG1Audio ||
		pmt.PCRPID != audioPID {
		t.Fatalf("PMT %+v, want MPEG-1 audio alone", pmt)
	}
	if len(packets) == 0 || !bytes.HasPrefix(packets[0].data, []byte{0xff, 0xfb, 0x90, 0x64}) || packets[0].pts < 0 {
		t.Errorf("first PES does not start with an MP3 frame")
	}
	st, ok := tm.m.Stats(camKey)
	if !ok || !st.Segmenter.Audio.Included || st.Segmenter.Audio.Codec != flv.FourCCMP3 || st.Segmenter.Dropped != 0 {
		t.Errorf("stats: %+v", st.Segmenter)
	}
}

// TestMP3FromFFmpeg publishes MP3 audio with ffmpeg and has ffprobe and
// ffmpeg read the HLS rendition back.
func TestMP3FromFFmpeg(t *testing.T) {
	s := startStack(t, Config{EndListDelay: time.Second})
	src := testenv.Source{NoVideo: true, SampleRate: 44100, Duration: 6 * time.Second, Extra: []string{"-c:a", "libmp3lame"}}
	w := watch(t, s.playlistURL("mp3"), 500*time.Millisecond)
	pub := testenv.Publish(t, s.rtmpURL("mp3"), src)
	if exited, err := pub.Wait(40 * time.Second); !exited || err != nil {
		t.Fatalf("publisher: exited %v, %v\n%s", exited, err, pub.Output())
	}
	w.waitUntil(t, "EXT-X-ENDLIST", 30*time.Second, func(p parsedPlaylist, _ []playlistSegment) bool { return p.ended })
	_, segs := w.snapshot()
	if len(segs) < 2 {
		t.Fatalf("%d segments", len(segs))
	}
	probe, err := probeSegment(t, s.httpURL+"/live/"+segs[1].uri)
	if err != nil || len(probe.Streams) != 1 || probe.Streams[0].CodecName != "mp3" {
		t.Errorf("ffprobe of a segment: %+v, %v", probe.Streams, err)
	}
	if out, err := testenv.Decode(t, s.playlistURL("mp3"), src.Duration); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("ffmpeg -xerror -i playlist -c copy: %v, output:\n%s", err, out)
	}
}

// TestRegressionLeftOutTrackReportedUnknown: a stream whose only track is
// left out for its codec (here legacy PCM audio) is reported so while it
// is live, before any segment (the API said "unknown"), and its playlist
// says why there is no segment instead of "stream starting".
func TestRegressionLeftOutTrackReportedUnknown(t *testing.T) {
	tm := startManager(t, Config{SegmentDuration: time.Second})
	pub := tm.publish(t, camKey)
	defer pub.Close()
	for k := range 100 {
		pcm := append([]byte{3<<4 | 0x0f}, bytes.Repeat([]byte{byte(k)}, 400)...)
		pub.WriteFrame(frame(t, flv.TagAudio, uint32(k*20), pcm))
	}
	waitFor(t, "the audio track reported left out", func() bool {
		st, ok := tm.m.Stats(camKey)
		return ok && !st.Segmenter.Audio.Included && st.Segmenter.Audio.Reason != ""
	})
	resp, body := tm.get(t, http.MethodGet, "/live/cam.m3u8")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "no track of the stream can be carried") {
		t.Errorf("playlist of a stream without a track HLS carries: %d %q", resp.StatusCode, body)
	}
}

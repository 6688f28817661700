package enhancedtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
)

// apiTrack is the part of the API's track document the tests read.
type apiTrack struct {
	ID       int     `json:"id"`
	Kind     string  `json:"kind"`
	Codec    string  `json:"codec"`
	FourCC   string  `json:"fourcc"`
	Profile  string  `json:"profile"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	BitDepth int     `json:"bit_depth"`
	FPS      float64 `json:"fps"`
	Bitrate  int64   `json:"bitrate_bps"`
	Peak     int64   `json:"peak_bitrate_bps"`
	HLS      string  `json:"hls"`
	// HLSPlaylist is the media playlist of a video track served as an HLS
	// rendition.
	HLSPlaylist string `json:"hls_playlist"`
	HLSReason   string `json:"hls_reason"`
}

// apiStream is the part of the API's stream document the tests read.
type apiStream struct {
	Publisher struct {
		Capabilities []string `json:"capabilities"`
	} `json:"publisher"`
	Tracks struct {
		Video *struct {
			Codec  string `json:"codec"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		} `json:"video"`
		List              []apiTrack `json:"list"`
		KeyframeAlignment string     `json:"keyframe_alignment"`
	} `json:"tracks"`
}

// getStream reads GET /api/v1/streams/live/{name}; ok is false while the
// stream is not live.
func getStream(t *testing.T, srv *server.Server, name string) (apiStream, bool) {
	t.Helper()
	resp, err := http.Get("http://" + srv.HTTPAddr() + "/api/v1/streams/live/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return apiStream{}, false
	}
	var s apiStream
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET stream %s: %d %v", name, resp.StatusCode, err)
	}
	return s, true
}

// track finds a track of the API document.
func (s apiStream) track(kind string, id int) *apiTrack {
	for i := range s.Tracks.List {
		if t := &s.Tracks.List[i]; t.Kind == kind && t.ID == id {
			return t
		}
	}
	return nil
}

// playlistReady reports whether the stream's HLS playlist lists a segment.
func playlistReady(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && strings.Contains(string(b), "#EXTINF")
}

// readBack is one way of reading a stream back and what it must find.
type readBack struct {
	name  string
	url   string
	codec string // the video codec FFmpeg must see; "" for none
}

// checkPeerProbe reads url with the Enhanced RTMP peer and checks it sees
// the video codec at 320x240 and AAC audio, with packets flowing.
func checkPeerProbe(t *testing.T, rb readBack) error {
	p, err := testenv.ProbeEnhanced(t, rb.url, 15*time.Second)
	if err != nil {
		return err
	}
	v, a := p.Video(), p.Audio()
	switch {
	case rb.codec == "" && v != nil:
		return fmt.Errorf("%s: video %+v, want none", rb.name, *v)
	case rb.codec != "" && (v == nil || v.Codec != rb.codec || v.Width != 320 || v.Height != 240 || v.Packets == 0):
		return fmt.Errorf("%s: video %+v, want %s 320x240 flowing (all: %+v)", rb.name, v, rb.codec, p.Streams)
	case a == nil || a.Codec != "aac" || a.SampleRate != 48000 || a.Packets == 0:
		return fmt.Errorf("%s: audio %+v, want AAC 48 kHz flowing (all: %+v)", rb.name, a, p.Streams)
	}
	return nil
}

// TestEnhancedRTMPPeer publishes HEVC + AAC and AV1 + AAC with FFmpeg 8's
// Enhanced RTMP and reads them back: HEVC over HTTP-FLV, RTMP play and HLS
// (MPEG-TS, read by FFmpeg 8 and by Debian's ffprobe 5.1), AV1 over
// HTTP-FLV and RTMP play (HLS carries its audio only, and says why). The
// API reports codec and picture size.
func TestEnhancedRTMPPeer(t *testing.T) {
	// The MPEG-TS variant, which carries HEVC but not AV1.
	srv := servertest.Start(t, func(c *server.Config) { c.HLS.Variant = hls.VariantMPEGTS })
	dir := t.TempDir()
	cases := []struct {
		video, codec, display string
		hls                   bool
	}{
		{video: "hevc", codec: "hevc", display: "H.265", hls: true},
		{video: "av1", codec: "av1", display: "AV1"},
	}
	for _, c := range cases {
		t.Run(c.video, func(t *testing.T) {
			t.Parallel()
			clip := testenv.EncodeClip(t, dir, testenv.Clip{Video: c.video, Duration: 8 * time.Second})
			name := c.video
			pub := testenv.PublishEnhanced(t, clip, "rtmp://"+srv.RTMPAddr()+"/live/"+name)
			var st apiStream
			testenv.WaitFor(t, 20*time.Second, name+" live with its video configuration", func() bool {
				var ok bool
				st, ok = getStream(t, srv, name)
				return ok && st.Tracks.Video != nil && st.Tracks.Video.Width > 0
			})
			if v := st.Tracks.Video; v.Codec != c.display || v.Width != 320 || v.Height != 240 {
				t.Errorf("API video %+v, want %s 320x240", *v, c.display)
			}
			if tr := st.track("video", 0); tr == nil || tr.FourCC != map[string]string{"hevc": "hvc1", "av1": "av01"}[c.video] ||
				tr.BitDepth != 8 || tr.Profile != "Main" {
				t.Errorf("API track list %+v", st.Tracks.List)
			}
			base := "http://" + srv.HTTPAddr() + "/live/" + name
			reads := []readBack{
				{name: "HTTP-FLV", url: base + ".flv", codec: c.codec},
				{name: "RTMP play", url: "rtmp://" + srv.RTMPAddr() + "/live/" + name, codec: c.codec},
			}
			testenv.WaitFor(t, 10*time.Second, "an HLS segment", func() bool { return playlistReady(base + ".m3u8") })
			hlsRead := readBack{name: "HLS", url: base + ".m3u8"}
			if c.hls {
				hlsRead.codec = c.codec
			}
			reads = append(reads, hlsRead)
			errs := make([]error, len(reads)+1)
			var wg sync.WaitGroup
			for i, rb := range reads {
				wg.Go(func() { errs[i] = checkPeerProbe(t, rb) })
			}
			wg.Go(func() {
				// Debian's ffprobe 5.1 reads the TS rendition too.
				p, err := testenv.FFprobe(t, hlsRead.url, 15*time.Second)
				switch {
				case err != nil:
					errs[len(reads)] = err
				case c.hls && (p.Video() == nil || p.Video().CodecName != "hevc" || p.Video().Width != 320):
					errs[len(reads)] = fmt.Errorf("ffprobe 5.1 HLS video %+v", p.Streams)
				case !c.hls && p.Video() != nil:
					errs[len(reads)] = fmt.Errorf("ffprobe 5.1 HLS has video %+v", p.Streams)
				case p.Audio() == nil || p.Audio().CodecName != "aac":
					errs[len(reads)] = fmt.Errorf("ffprobe 5.1 HLS audio %+v", p.Streams)
				}
			})
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			st, _ = getStream(t, srv, name)
			if tr := st.track("video", 0); tr != nil {
				wantHLS := "left_out"
				if c.hls {
					wantHLS = "included"
				}
				if tr.HLS != wantHLS || (!c.hls && !strings.Contains(tr.HLSReason, "fMP4")) {
					t.Errorf("API HLS status of the video: %q %q, want %s", tr.HLS, tr.HLSReason, wantHLS)
				}
			}
			if exited, err := pub.Wait(30 * time.Second); !exited || err != nil {
				t.Errorf("publisher: exited %v, %v", exited, err)
			}
		})
	}
}

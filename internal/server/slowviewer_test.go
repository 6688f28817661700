package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// pacedReader reads at most rate bytes a second on average, in reads of
// at most pacedChunk bytes: a viewer on a link slower than the stream.
type pacedReader struct {
	r     io.Reader
	rate  int
	start time.Time
	n     int
}

// pacedChunk is the most a pacedReader reads at once.
const pacedChunk = 4 << 10

func (p *pacedReader) Read(b []byte) (int, error) {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	due := p.start.Add(time.Duration(p.n) * time.Second / time.Duration(p.rate))
	if d := time.Until(due); d > 0 {
		time.Sleep(d)
	}
	n, err := p.r.Read(b[:min(len(b), pacedChunk)])
	p.n += n
	return n, err
}

// TestSlowHTTPFLVViewerIsSkippedToKeyframe: an HTTP-FLV viewer that reads
// at a third of the stream's rate, with the server's default settings, is
// skipped ahead to keyframes with the skipped frames counted as dropped,
// stays within stream.max_reader_lag of the live edge (plus what the
// sockets hold), and is not dropped by the write timeout. Its backlog
// used to sit in the kernel's send buffer, which grows to megabytes,
// unseen: the viewer fell further and further behind with nothing
// dropped until a write blocked for the whole write timeout.
func TestSlowHTTPFLVViewerIsSkippedToKeyframe(t *testing.T) {
	srv := servertest.Start(t, nil)
	key := stream.Key{App: "live", Name: "cam"}
	// 2 Mbit/s of video in 1 s GOPs: about 260 KB/s with the audio.
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 60 * time.Second,
		Extra: []string{"-b:v", "2M"}})
	var st *stream.Stream
	testenv.WaitFor(t, 20*time.Second, "the stream to go live", func() bool {
		var ok bool
		st, ok = srv.Hub().Lookup(key)
		return ok && st.Stats().Keyframes > 0
	})

	// The viewer's receive buffer is fixed (no autotuning), as a viewer
	// on a slow link has little in flight.
	const rate = 80 << 10
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(64 << 10)
		}
		return c, err
	}
	viewer := watchFLVThrough(t, "http://"+srv.HTTPAddr()+"/live/cam.flv", dial,
		func(r io.Reader) io.Reader { return &pacedReader{r: r, rate: rate} })
	var reader *stream.Reader
	testenv.WaitFor(t, 10*time.Second, "the viewer's reader", func() bool {
		for _, r := range st.Readers() {
			if r.Info().Protocol == stream.ProtocolFLV {
				reader = r
				return true
			}
		}
		return false
	})

	// Longer than the write timeout (10 s) twice over, and than the
	// viewer takes to fall the bound behind.
	time.Sleep(25 * time.Second)
	if ended, err := viewer.ended(); ended {
		t.Fatalf("the slow viewer was cut off: %v", err)
	}
	attached := false
	for _, r := range st.Readers() {
		attached = attached || r == reader
	}
	if !attached {
		t.Fatal("the slow viewer's reader is no longer attached")
	}
	rs := reader.Stats()
	live := st.Stats().LastTimestamp
	tags := viewer.snapshot()
	if rs.Dropped == 0 || rs.Resyncs == 0 {
		t.Fatalf("slow viewer stats %+v: it was never skipped ahead", rs)
	}
	// The drops show in the API as the viewer's.
	resp, err := http.Get("http://" + srv.HTTPAddr() + "/api/v1/sessions")
	if err != nil {
		t.Fatal(err)
	}
	var sessions struct {
		Items []struct {
			Protocol      string `json:"protocol"`
			DroppedFrames uint64 `json:"dropped_frames"`
		} `json:"items"`
	}
	err = json.NewDecoder(resp.Body).Decode(&sessions)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	apiDropped := uint64(0)
	for _, s := range sessions.Items {
		if s.Protocol == "flv" {
			apiDropped = s.DroppedFrames
		}
	}
	if apiDropped < rs.Dropped {
		t.Fatalf("the API says the viewer dropped %d frames, its reader %d", apiDropped, rs.Dropped)
	}

	// Every jump in the video lands on a keyframe, and no track goes back.
	var lastVideo, lastAudio uint32
	var seenVideo, seenAudio bool
	jumps := 0
	for i, tag := range tags {
		if tag.header {
			continue
		}
		switch tag.typ {
		case flv.TagVideo:
			if seenVideo && tag.ts < lastVideo {
				t.Fatalf("tag %d: video %d after %d", i, tag.ts, lastVideo)
			}
			if seenVideo && tag.ts-lastVideo > 200 {
				if !tag.key {
					t.Fatalf("tag %d: video jumps %d→%d onto a frame that is not a keyframe", i, lastVideo, tag.ts)
				}
				jumps++
			}
			lastVideo, seenVideo = tag.ts, true
		case flv.TagAudio:
			if seenAudio && tag.ts < lastAudio {
				t.Fatalf("tag %d: audio %d after %d", i, tag.ts, lastAudio)
			}
			lastAudio, seenAudio = tag.ts, true
		}
	}
	if jumps == 0 {
		t.Fatalf("%d frames dropped, but the video received has no jump", rs.Dropped)
	}

	// Behind the live edge by at most the bound, a GOP, and what the
	// sockets hold: up to 128 KiB unsent, a segment more, and the
	// viewer's receive window, about 5 s at this rate. Before, the lag
	// only grew (0.7 s a second).
	lag := time.Duration(live-lastVideo) * time.Millisecond
	if limit := stream.DefaultMaxReaderLag + 8*time.Second; lag > limit {
		t.Fatalf("the slow viewer is %v behind the live edge, more than %v", lag, limit)
	}
	t.Logf("slow viewer: %d tags, %d jumps, %d frames dropped, %v behind the live edge", len(tags), jumps, rs.Dropped, lag)
}

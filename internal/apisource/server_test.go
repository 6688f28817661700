package apisource_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/api"
	mediaserver "github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// getJSON GETs an API path of the server and decodes the answer into out.
// It returns the status.
func getJSON(t *testing.T, srv *mediaserver.Server, path string, out any) int {
	t.Helper()
	resp, err := http.Get("http://" + srv.HTTPAddr() + api.BasePath + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return resp.StatusCode
}

// waitLive waits for live/cam to be published.
func waitLive(t *testing.T, srv *mediaserver.Server) {
	t.Helper()
	testenv.WaitFor(t, 20*time.Second, "live/cam to be published", func() bool {
		return getJSON(t, srv, "/streams/live/cam", nil) == http.StatusOK
	})
}

// apiTotals is the part of GET /server the tests read.
type apiTotals struct {
	Totals struct {
		Streams  int    `json:"streams"`
		BytesIn  uint64 `json:"bytes_in"`
		BytesOut uint64 `json:"bytes_out"`
	} `json:"totals"`
}

// TestServerTotalsDropToZeroWhenStreamsEnd pins that GET /server's traffic
// totals (the dashboard's Traffic) count since the server started, like the
// metrics: they used to sum the live streams and current sessions, and fell
// to 0 when the streams ended.
func TestServerTotalsDropToZeroWhenStreamsEnd(t *testing.T) {
	srv := servertest.Start(t, func(c *mediaserver.Config) { c.Stream.RepublishWindow = 0 })
	ffmpeg := testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{})
	waitLive(t, srv)
	viewer := watch(t, "http://"+srv.HTTPAddr()+"/live/cam.flv")
	testenv.WaitFor(t, 20*time.Second, "100 kB at the viewer", func() bool { return viewer.bytes.Load() > 100<<10 })

	var live apiTotals
	getJSON(t, srv, "/server", &live)
	if live.Totals.Streams != 1 || live.Totals.BytesIn == 0 || live.Totals.BytesOut == 0 {
		t.Fatalf("totals while live %+v", live.Totals)
	}

	req, err := http.NewRequest(http.MethodDelete, "http://"+srv.HTTPAddr()+api.BasePath+"/streams/live/cam", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if exited, _ := ffmpeg.Wait(20 * time.Second); !exited {
		t.Fatal("ffmpeg still publishing after DELETE of its stream")
	}
	if err := viewer.ended(t, 10*time.Second); err != nil {
		t.Errorf("viewer did not get a clean end: %v", err)
	}
	testenv.WaitFor(t, 10*time.Second, "the stream to end", func() bool {
		return getJSON(t, srv, "/streams/live/cam", nil) == http.StatusNotFound
	})

	var ended apiTotals
	getJSON(t, srv, "/server", &ended)
	if ended.Totals.Streams != 0 {
		t.Errorf("%d streams after the only one ended", ended.Totals.Streams)
	}
	if ended.Totals.BytesIn < live.Totals.BytesIn || ended.Totals.BytesOut < live.Totals.BytesOut {
		t.Errorf("totals fell when the stream ended: bytes in %d then %d, out %d then %d",
			live.Totals.BytesIn, ended.Totals.BytesIn, live.Totals.BytesOut, ended.Totals.BytesOut)
	}
	if got := uint64(viewer.bytes.Load()); ended.Totals.BytesOut < got {
		t.Errorf("bytes out %d, less than the viewer received (%d)", ended.Totals.BytesOut, got)
	}
}

// apiWaitingStream is the part of GET /streams/{app}/{name} the waiting
// test reads.
type apiWaitingStream struct {
	State     string          `json:"state"`
	Publisher json.RawMessage `json:"publisher"`
	Bitrate   int64           `json:"bitrate_bps"`
	Video     int64           `json:"video_bitrate_bps"`
	Audio     int64           `json:"audio_bitrate_bps"`
	BytesIn   uint64          `json:"bytes_in"`
	Viewers   struct {
		FLV int `json:"flv"`
	} `json:"viewers"`
}

// TestAPIShowsOldPublisherWhileWaiting pins that a stream whose publisher
// dropped, and which waits for it to come back (the republish window),
// reads as waiting: no publisher and a zero bit rate, where the API used to
// show the publisher that had left and its last bit rate.
func TestAPIShowsOldPublisherWhileWaiting(t *testing.T) {
	srv := servertest.Start(t, func(c *mediaserver.Config) { c.Stream.RepublishWindow = time.Minute })
	key := stream.Key{App: "live", Name: "cam"}
	ffmpeg := testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{})
	waitLive(t, srv)
	viewer := watch(t, "http://"+srv.HTTPAddr()+"/live/cam.flv")

	var live apiWaitingStream
	testenv.WaitFor(t, 20*time.Second, "a measured bit rate", func() bool {
		live = apiWaitingStream{}
		return getJSON(t, srv, "/streams/live/cam", &live) == http.StatusOK && live.Bitrate > 0
	})
	if live.State != api.StateLive || string(live.Publisher) == "null" || live.Viewers.FLV != 1 {
		t.Fatalf("live stream: %+v publisher %s", live, live.Publisher)
	}

	ffmpeg.Kill() // the connection drops: the stream waits for the publisher to return
	st, ok := srv.Hub().Lookup(key)
	if !ok {
		t.Fatal("stream gone")
	}
	testenv.WaitFor(t, 10*time.Second, "the stream to wait for its publisher", func() bool {
		return st.State() == stream.StateWaiting
	})

	var waiting apiWaitingStream
	if code := getJSON(t, srv, "/streams/live/cam", &waiting); code != http.StatusOK {
		t.Fatalf("GET waiting stream: %d", code)
	}
	if waiting.State != api.StateWaiting {
		t.Errorf("state %q, want %q", waiting.State, api.StateWaiting)
	}
	if string(waiting.Publisher) != "null" {
		t.Errorf("publisher %s while waiting, want null", waiting.Publisher)
	}
	if waiting.Bitrate != 0 || waiting.Video != 0 || waiting.Audio != 0 {
		t.Errorf("bit rates %d (video %d, audio %d) while nothing arrives, want 0",
			waiting.Bitrate, waiting.Video, waiting.Audio)
	}
	if waiting.BytesIn < live.BytesIn || waiting.Viewers.FLV != 1 {
		t.Errorf("waiting stream lost its counters or viewer: %+v", waiting)
	}
	var list struct {
		Items []apiWaitingStream `json:"items"`
	}
	getJSON(t, srv, "/streams", &list)
	if len(list.Items) != 1 || list.Items[0].State != api.StateWaiting || string(list.Items[0].Publisher) != "null" {
		states := make([]string, 0, len(list.Items))
		for _, it := range list.Items {
			states = append(states, it.State+" publisher "+string(it.Publisher))
		}
		t.Errorf("stream list %q, want one waiting stream without a publisher", states)
	}
	select {
	case err := <-viewer.done:
		t.Errorf("viewer left while the stream waits: %v", err)
	default:
	}
}

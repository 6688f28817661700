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

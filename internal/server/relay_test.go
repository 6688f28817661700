package server_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/internal/access"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/relay"
	"github.com/mediaserver/mediaserver/stream"
)

// relayStreamDoc is the part of GET /api/v1/streams/{app}/{name} the relay
// tests read.
type relayStreamDoc struct {
	Publisher struct {
		Protocol   string `json:"protocol"`
		RemoteAddr string `json:"remote_addr"`
	} `json:"publisher"`
	Viewers struct {
		FLV   int `json:"flv"`
		Total int `json:"total"`
	} `json:"viewers"`
	Relay *struct {
		URL   string `json:"url"`
		State string `json:"state"`
		Bytes uint64 `json:"bytes"`
	} `json:"relay"`
}

// streamDoc returns the API's description of app/name on srv, and whether
// the stream is live there.
func streamDoc(t *testing.T, srv *server.Server, app, name string) (relayStreamDoc, bool) {
	t.Helper()
	status, body := apiCall(t, srv, http.MethodGet, "/api/v1/streams/"+app+"/"+name, "")
	if status == http.StatusNotFound {
		return relayStreamDoc{}, false
	}
	if status != http.StatusOK {
		t.Fatalf("GET stream %s/%s: %d %s", app, name, status, body)
	}
	var doc relayStreamDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("stream document: %v\n%s", err, body)
	}
	return doc, true
}

// pullState returns the state of the pull of key as GET /api/v1/relays
// on srv lists it ("" when none runs) and its retries.
func pullState(t *testing.T, srv *server.Server, key stream.Key) (relay.PullState, uint64) {
	t.Helper()
	status, body := apiCall(t, srv, http.MethodGet, "/api/v1/relays", "")
	if status != http.StatusOK {
		t.Fatalf("GET relays: %d %s", status, body)
	}
	var doc struct {
		Items []struct {
			App, Name, State string
			Retries          uint64
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("relays document: %v\n%s", err, body)
	}
	for _, item := range doc.Items {
		if item.App == key.App && item.Name == key.Name {
			return relay.PullState(item.State), item.Retries
		}
	}
	return "", 0
}

// TestRelayOnDemandFromSecondServer: an edge relays live/x from an origin
// mediaserver over HTTP-FLV on demand. The first HTTP-FLV viewer starts the
// pull and ffprobe decodes the relayed stream; further viewers share the
// one pull (the origin sees one viewer); the pull stops idle_timeout after
// the last viewer left (the origin sees none); a WebSocket-FLV viewer, then
// an HLS request, start it again, and the playlist gets segments.
func TestRelayOnDemandFromSecondServer(t *testing.T) {
	origin := servertest.Start(t, nil)
	testenv.Publish(t, "rtmp://"+origin.RTMPAddr()+"/live/x", testenv.Source{})
	key := stream.Key{App: "live", Name: "x"}
	testenv.WaitFor(t, 20*time.Second, "the origin's stream", func() bool {
		_, ok := origin.Hub().Lookup(key)
		return ok
	})
	const idle = 2 * time.Second
	sourceURL := "http://" + origin.HTTPAddr() + "/live/x.flv"
	edge := servertest.Start(t, func(c *server.Config) {
		c.Relay.Sources = map[string]relay.PullSource{"live/x": {URL: sourceURL, OnDemand: true}}
		c.Relay.IdleTimeout = idle
	})
	if _, ok := edge.Hub().Lookup(key); ok {
		t.Fatal("the edge pulls live/x before anyone asked for it")
	}
	if doc, _ := streamDoc(t, origin, "live", "x"); doc.Viewers.FLV != 0 {
		t.Fatalf("origin has %d HTTP-FLV viewers before the edge had one", doc.Viewers.FLV)
	}
	edgeURL := "http://" + edge.HTTPAddr() + "/live/x.flv"

	first := watchFLV(t, edgeURL)
	probe, err := testenv.FFprobe(t, edgeURL, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v, a := probe.Video(), probe.Audio(); v == nil || v.CodecName != "h264" || a == nil || a.CodecName != "aac" {
		t.Fatalf("relayed stream probes as %+v, want h264 and aac", probe.Streams)
	}
	second := watchFLV(t, edgeURL)
	testenv.WaitFor(t, 20*time.Second, "both edge viewers to get media", func() bool {
		return len(first.snapshot()) > 10 && len(second.snapshot()) > 10
	})
	// ffprobe's connection is gone once the server's next write fails.
	testenv.WaitFor(t, 20*time.Second, "the edge to list the relay and two viewers", func() bool {
		doc, _ := streamDoc(t, edge, "live", "x")
		return doc.Publisher.Protocol == string(relay.ProtocolRelay) && doc.Viewers.FLV == 2
	})
	if doc, _ := streamDoc(t, edge, "live", "x"); doc.Relay == nil || doc.Relay.URL != sourceURL ||
		doc.Relay.State != string(relay.PullLive) || doc.Relay.Bytes == 0 {
		t.Fatalf("edge's stream relay %+v, want live from %s with bytes", doc.Relay, sourceURL)
	}
	if doc, _ := streamDoc(t, origin, "live", "x"); doc.Relay != nil {
		t.Fatalf("origin's stream shows a relay %+v", doc.Relay)
	}
	if doc, _ := streamDoc(t, origin, "live", "x"); doc.Viewers.FLV != 1 {
		t.Fatalf("origin has %d HTTP-FLV viewers with two on the edge, want the relay's one", doc.Viewers.FLV)
	}

	first.Stop()
	second.Stop()
	testenv.WaitFor(t, idle+20*time.Second, "the origin to lose the relay", func() bool {
		doc, _ := streamDoc(t, origin, "live", "x")
		return doc.Viewers.FLV == 0
	})
	if _, ok := edge.Hub().Lookup(key); ok {
		t.Fatal("the edge's stream is still live after its pull stopped")
	}
	if state, _ := pullState(t, edge, key); state != relay.PullIdle {
		t.Fatalf("stopped pull listed as %q, want idle", state)
	}

	// A WebSocket-FLV viewer starts the pull again; it stops again after it.
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+edge.HTTPAddr()+"/live/x.flv", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, msg, err := ws.ReadMessage(); err != nil || !bytes.HasPrefix(msg, []byte("FLV")) {
		t.Fatalf("first WebSocket-FLV message %.16q, %v; want the FLV header", msg, err)
	}
	if state, _ := pullState(t, edge, key); state != relay.PullLive {
		t.Fatalf("pull is %q with a WebSocket-FLV viewer, want live", state)
	}
	_ = ws.Close()
	testenv.WaitFor(t, idle+20*time.Second, "the origin to lose the relay again", func() bool {
		doc, _ := streamDoc(t, origin, "live", "x")
		return doc.Viewers.FLV == 0
	})

	playlist := "http://" + edge.HTTPAddr() + "/live/x.m3u8"
	testenv.WaitFor(t, 30*time.Second, "HLS segments of the relayed stream", func() bool {
		return playlistSegments(t, playlist) >= 2
	})
	if doc, _ := streamDoc(t, origin, "live", "x"); doc.Viewers.FLV != 1 {
		t.Fatalf("origin has %d HTTP-FLV viewers while the edge serves HLS, want the relay's one", doc.Viewers.FLV)
	}
}

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// listenFLV starts ffmpeg serving the test stream as HTTP-FLV to one
// client at url, as a camera gateway or another server would.
func listenFLV(t *testing.T, url string) *testenv.Process {
	t.Helper()
	args := testenv.Source{}.Args(t, url)
	// ffmpeg -re … -listen 1 -f flv http://…: an HTTP server for one client.
	out := args[len(args)-3:]
	args = append(append(args[:len(args)-3:len(args)-3], "-listen", "1"), out...)
	return testenv.Start(t, "ffmpeg", args...)
}

// TestRelayAlwaysOnSourceRetriedAndResumed: an always-on relay of an
// ffmpeg HTTP-FLV listener retries while the source is not there, goes
// live when it comes, and when the source dies retries and resumes it:
// a viewer that stayed connected through the outage gets media again.
func TestRelayAlwaysOnSourceRetriedAndResumed(t *testing.T) {
	sourceURL := "http://127.0.0.1:" + freePort(t) + "/x.flv"
	key := stream.Key{App: "live", Name: "cam"}
	edge := servertest.Start(t, func(c *server.Config) {
		c.Relay.Sources = map[string]relay.PullSource{"live/cam": {URL: sourceURL}}
		c.Relay.RetryDelay, c.Relay.RetryMaxDelay = 200*time.Millisecond, time.Second
	})
	testenv.WaitFor(t, 20*time.Second, "the relay to retry a source that is not there", func() bool {
		state, retries := pullState(t, edge, key)
		return state == relay.PullRetrying && retries >= 1
	})

	source := listenFLV(t, sourceURL)
	testenv.WaitFor(t, 30*time.Second, "the relayed stream", func() bool {
		state, _ := pullState(t, edge, key)
		return state == relay.PullLive
	})
	edgeURL := "http://" + edge.HTTPAddr() + "/live/cam.flv"
	probe, err := testenv.FFprobe(t, edgeURL, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if probe.Video() == nil || probe.Audio() == nil {
		t.Fatalf("relayed stream probes as %+v, want video and audio", probe.Streams)
	}
	viewer := watchFLV(t, edgeURL)
	testenv.WaitFor(t, 20*time.Second, "the viewer to get media", func() bool { return len(viewer.snapshot()) > 10 })

	source.Kill()
	_, retriesBefore := pullState(t, edge, key)
	testenv.WaitFor(t, 20*time.Second, "the relay to notice the source died", func() bool {
		state, _ := pullState(t, edge, key)
		return state == relay.PullRetrying
	})
	got := len(viewer.snapshot())
	listenFLV(t, sourceURL)
	testenv.WaitFor(t, 30*time.Second, "the relay to resume", func() bool {
		state, retries := pullState(t, edge, key)
		return state == relay.PullLive && retries > retriesBefore
	})
	testenv.WaitFor(t, 20*time.Second, "media after the resume on the same viewer", func() bool {
		return len(viewer.snapshot()) > got+10
	})
	if ended, err := viewer.ended(); ended {
		t.Fatalf("viewer disconnected by the source's outage: %v", err)
	}
}

// TestRelayAppPulledOverRTMPForAnRTMPPlayer: relay.apps pulls any name of
// app "edge" from the origin over RTMP; an RTMP player is the first viewer
// and ffprobe decodes what it plays. The origin sees the relay as one
// RTMP viewer.
func TestRelayAppPulledOverRTMPForAnRTMPPlayer(t *testing.T) {
	origin := servertest.Start(t, nil)
	testenv.Publish(t, "rtmp://"+origin.RTMPAddr()+"/live/y", testenv.Source{})
	testenv.WaitFor(t, 20*time.Second, "the origin's stream", func() bool {
		_, ok := origin.Hub().Lookup(stream.Key{App: "live", Name: "y"})
		return ok
	})
	edge := servertest.Start(t, func(c *server.Config) {
		c.Relay.Apps = map[string]string{"edge": "rtmp://" + origin.RTMPAddr() + "/live/" + relay.NamePlaceholder}
	})
	probe, err := testenv.FFprobe(t, "rtmp://"+edge.RTMPAddr()+"/edge/y", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v, a := probe.Video(), probe.Audio(); v == nil || v.CodecName != "h264" || a == nil || a.CodecName != "aac" {
		t.Fatalf("relayed stream probes as %+v, want h264 and aac", probe.Streams)
	}
	var originStream struct {
		Viewers struct {
			RTMP int `json:"rtmp"`
		} `json:"viewers"`
	}
	status, body := apiCall(t, origin, http.MethodGet, "/api/v1/streams/live/y", "")
	if err := json.Unmarshal([]byte(body), &originStream); status != http.StatusOK || err != nil {
		t.Fatalf("origin stream: %d %s", status, body)
	}
	if originStream.Viewers.RTMP != 1 {
		t.Fatalf("origin has %d RTMP viewers, want the relay's one", originStream.Viewers.RTMP)
	}
	if state, _ := pullState(t, edge, stream.Key{App: "edge", Name: "y"}); state != relay.PullLive {
		t.Fatalf("pull of edge/y is %q, want live", state)
	}
	if _, err := testenv.FFprobe(t, "rtmp://"+edge.RTMPAddr()+"/other/y", 10*time.Second); err == nil {
		t.Fatal("a stream of an app without a source plays")
	}
}

// TestRelayRefusedViewerStartsNoPull: a viewer the access rules refuse
// (a signed-play app, no token) does not start an on-demand pull, over
// HTTP-FLV, HLS or RTMP.
func TestRelayRefusedViewerStartsNoPull(t *testing.T) {
	edge := servertest.Start(t, func(c *server.Config) {
		c.Relay.Apps = map[string]string{"edge": "rtmp://127.0.0.1:" + freePort(t) + "/live/" + relay.NamePlaceholder}
		c.Access.Apps = map[string]access.AppRule{"edge": {PlaySecret: "relay-test-play-secret"}}
	})
	for _, path := range []string{"/edge/x.flv", "/edge/x.m3u8"} {
		if status := statusOf(t, "http://"+edge.HTTPAddr()+path); status != http.StatusForbidden && status != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want refused", path, status)
		}
	}
	if _, err := testenv.FFprobe(t, "rtmp://"+edge.RTMPAddr()+"/edge/x", 10*time.Second); err == nil {
		t.Error("RTMP play without a token was not refused")
	}
	if state, _ := pullState(t, edge, stream.Key{App: "edge", Name: "x"}); state != "" {
		t.Fatalf("a refused viewer started a pull (%s)", state)
	}
}

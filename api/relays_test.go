package api

import (
	"net/http"
	"testing"
	"time"
)

// fakeRelays is a RelaySource over a fixed list.
type fakeRelays []RelayInfo

func (f fakeRelays) Relays() []RelayInfo { return append([]RelayInfo(nil), f...) }

// TestRelaysListsPullsWithMaskedSources: GET /relays lists every pull by
// stream with its state and counters, the source's secrets masked; a
// stream published by a pull carries it under "relay", others have null.
func TestRelaysListsPullsWithMaskedSources(t *testing.T) {
	since := testNow.Add(-time.Minute)
	pulls := fakeRelays{
		{App: "live", Name: "lobby", URL: "http://gw/lobby.flv", State: "retrying", Since: since, Retries: 3, LastError: "source: EOF"},
		{App: "edge", Name: "cam", URL: "rtmp://origin/live/cam?token=s3cret", OnDemand: true, State: "live", Since: since, Bytes: 4096},
	}
	f := newFixture(t, "")
	cam := camStream()
	cam.App, cam.Name, cam.Relay = "edge", "cam", &pulls[1]
	f.streams.list = append(f.streams.list, cam)
	f.handler = newHandler(t, Config{}, Deps{Streams: f.streams, Relays: pulls, Now: func() time.Time { return testNow }})

	rec := f.do(t, http.MethodGet, "/api/v1/relays", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var doc listDoc[relayDoc]
	decode(t, rec, &doc)
	if doc.Total != 2 || len(doc.Items) != 2 {
		t.Fatalf("relays %+v, want 2", doc)
	}
	first, second := doc.Items[0], doc.Items[1]
	want := relayDoc{App: "edge", Name: "cam", URL: "rtmp://origin/live/cam?token=" + Masked, OnDemand: true,
		State: "live", Since: since, Bytes: 4096}
	if first != want {
		t.Errorf("first relay %+v, want %+v", first, want)
	}
	if second.Name != "lobby" || second.State != "retrying" || second.Retries != 3 || second.LastError != "source: EOF" || second.OnDemand {
		t.Errorf("second relay %+v", second)
	}

	rec = f.do(t, http.MethodGet, "/api/v1/streams/edge/cam", "", "")
	var sd streamDoc
	decode(t, rec, &sd)
	if sd.Relay == nil || *sd.Relay != want {
		t.Errorf("pulled stream's relay %+v, want %+v", sd.Relay, want)
	}
	rec = f.do(t, http.MethodGet, "/api/v1/streams/live/cam", "", "")
	var plain map[string]any
	decode(t, rec, &plain)
	if v, ok := plain["relay"]; !ok || v != nil {
		t.Errorf("published stream's relay = %v (present %v), want null", v, ok)
	}
}

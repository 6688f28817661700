package api

import (
	"context"
	"net/http"
	"testing"
)

type fakeCluster struct{ info ClusterInfo }

func (f fakeCluster) Cluster(context.Context) ClusterInfo { return f.info }

func TestClusterRoute(t *testing.T) {
	f := newFixture(t, "")
	if rec := f.do(t, http.MethodGet, BasePath+"/cluster", "", ""); rec.Code != http.StatusNotFound {
		t.Errorf("outside a cluster: status %d, want 404", rec.Code)
	}
	info := ClusterInfo{Role: "edge", Redis: "ok", Streams: []ClusterStream{{Stream: "live/show", Origin: "http://origin-a:8080"}}}
	f.handler = newHandler(t, Config{}, Deps{Cluster: fakeCluster{info: info}})
	rec := f.do(t, http.MethodGet, BasePath+"/cluster", "", "")
	var got ClusterInfo
	decode(t, rec, &got)
	if rec.Code != http.StatusOK || got.Role != "edge" || len(got.Streams) != 1 || got.Streams[0] != info.Streams[0] {
		t.Errorf("status %d, %+v", rec.Code, got)
	}
}

package stream

import (
	"sync"
	"testing"
)

// publishingDemander publishes the keys it has a source for when asked.
type publishingDemander struct {
	reg     *Registry
	sources map[Key]bool

	mu    sync.Mutex
	asked []Key
	pubs  []*Publisher
}

func (d *publishingDemander) Demand(key Key) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, key)
	if !d.sources[key] {
		return false
	}
	p, err := d.reg.Publish(key, PublisherInfo{ID: "relay-1", Protocol: "relay"})
	if err != nil {
		return false
	}
	d.pubs = append(d.pubs, p)
	return true
}

// TestLookupOrDemandAsksTheDemanderForStreamsNotLive: a viewer's lookup of
// a live stream does not ask the Demander; one of a stream that is not live
// does, and finds the stream it published; a key the Demander has no
// source for stays not found; Lookup never asks.
func TestLookupOrDemandAsksTheDemanderForStreamsNotLive(t *testing.T) {
	reg, _ := newTestStream(t, Config{})
	pulled := Key{App: "edge", Name: "cam"}
	d := &publishingDemander{reg: reg, sources: map[Key]bool{pulled: true}}
	viewers := reg.ForViewers()

	if _, ok := viewers.Lookup(pulled); ok {
		t.Fatal("found a stream before a Demander was set")
	}
	reg.SetDemander(d)
	if _, ok := reg.Lookup(pulled); ok {
		t.Fatal("Registry.Lookup found a stream nobody published")
	}
	if len(d.asked) != 0 {
		t.Fatalf("Registry.Lookup asked the Demander for %v", d.asked)
	}
	if _, ok := viewers.Lookup(Key{App: "live", Name: "test"}); !ok {
		t.Fatal("live stream not found")
	}
	s, ok := viewers.Lookup(pulled)
	if !ok || s.Info().ID != "relay-1" {
		t.Fatalf("demanded stream: found %v", ok)
	}
	if _, ok := viewers.Lookup(Key{App: "edge", Name: "other"}); ok {
		t.Fatal("found a stream the Demander has no source for")
	}
	want := []Key{pulled, {App: "edge", Name: "other"}}
	if len(d.asked) != len(want) || d.asked[0] != want[0] || d.asked[1] != want[1] {
		t.Fatalf("Demander asked for %v, want %v", d.asked, want)
	}
	reg.SetDemander(nil)
	if _, ok := viewers.Lookup(Key{App: "edge", Name: "third"}); ok || len(d.asked) != 2 {
		t.Fatal("a removed Demander was asked")
	}
}

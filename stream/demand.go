package stream

import "sync/atomic"

// Demander starts publishers on request: the hub asks it for a stream a
// viewer wants when that stream has no publisher, so that a relay can pull
// it from another server. Its consumer is the hub; package relay provides
// one.
type Demander interface {
	// Demand is called when a viewer asks for key and no stream of that
	// key is live. It starts a publisher for key when it has a source for
	// it and waits, for a bounded time, until that publisher has
	// published. It reports whether key is then live. It returns false at
	// once for a key it has no source for.
	Demand(key Key) bool
}

// demanderSlot holds a Registry's Demander (nil: none).
type demanderSlot struct {
	d atomic.Pointer[demanderHolder]
}

// demanderHolder boxes a Demander for atomic.Pointer.
type demanderHolder struct{ Demander }

// SetDemander makes d the hub's Demander: LookupOrDemand asks it for
// streams that are not live. A nil d removes it.
func (r *Registry) SetDemander(d Demander) {
	if d == nil {
		r.demander.d.Store(nil)
		return
	}
	r.demander.d.Store(&demanderHolder{d})
}

// LookupOrDemand returns the live stream for key, as Lookup does; when
// there is none and a Demander is set, it asks the Demander to start one,
// which may block for the Demander's bounded wait, and looks again.
func (r *Registry) LookupOrDemand(key Key) (*Stream, bool) {
	if s, ok := r.Lookup(key); ok {
		return s, true
	}
	h := r.demander.d.Load()
	if h == nil || !h.Demand(key) {
		return nil, false
	}
	return r.Lookup(key)
}

// ViewerHub is the hub as viewers' outputs see it: a Registry whose
// Lookup is LookupOrDemand, so that the first viewer of a stream pulled
// on demand starts it. Its other methods are the Registry's.
type ViewerHub struct {
	*Registry
}

// ForViewers returns the hub for the outputs that serve viewers (RTMP
// play, HTTP-FLV, WebSocket-FLV, HLS).
func (r *Registry) ForViewers() ViewerHub { return ViewerHub{Registry: r} }

// Lookup returns the live stream for key, asking the Registry's Demander
// for it when it is not live (see Registry.LookupOrDemand).
func (v ViewerHub) Lookup(key Key) (*Stream, bool) { return v.LookupOrDemand(key) }

package stream

// Protocol names how a session reaches the server: a publisher's ingest
// protocol, a reader's or viewer's output protocol. Each protocol has one
// spelling, its value; APIName and MetricsLabel say what the admin API,
// hooks and metrics call it.
type Protocol string

// Protocols.
const (
	// ProtocolRTMP is RTMP (and RTMPS), for publishing and playing.
	ProtocolRTMP Protocol = "rtmp"
	// ProtocolFLV is HTTP-FLV playback.
	ProtocolFLV Protocol = "flv"
	// ProtocolWS is WebSocket-FLV playback.
	ProtocolWS Protocol = "ws"
	// ProtocolHLS is HLS playback; its reader of a stream is the segmenter,
	// shared by every HLS viewer.
	ProtocolHLS Protocol = "hls"
)

// ViewerProtocols lists the protocols viewers play with, in the order the
// API and metrics list them.
func ViewerProtocols() []Protocol {
	return []Protocol{ProtocolRTMP, ProtocolFLV, ProtocolWS, ProtocolHLS}
}

// APIName returns the protocol's name in the admin API and in hook
// requests ("rtmp", "flv", "ws", "hls").
func (p Protocol) APIName() string { return string(p) }

// MetricsLabel returns the protocol's value of the "protocol" label of the
// session metrics ("rtmp", "flv", "ws", "hls").
func (p Protocol) MetricsLabel() string { return string(p) }

// Action is what an AccessRequest asks for.
type Action string

// Actions an AccessRequest asks for.
const (
	// ActionPublish asks to publish a stream.
	ActionPublish Action = "publish"
	// ActionPlay asks to play a stream.
	ActionPlay Action = "play"
)

// TakeoverMode decides what happens when a publisher asks for a key that is
// live (Config.Takeover).
type TakeoverMode string

// Takeover modes of Config.Takeover.
const (
	// TakeoverRefuse refuses a publisher on a live name (ErrStreamBusy).
	TakeoverRefuse TakeoverMode = "refuse"
	// TakeoverAllow lets a publisher whose PublisherInfo.Owner is set take
	// a live name over: the old publisher is cut off (Publisher.Done).
	TakeoverAllow TakeoverMode = "allow"
)

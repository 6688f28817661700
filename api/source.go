package api

import "time"

// Session roles.
const (
	// RolePublisher is the role of a session that publishes a stream.
	RolePublisher = "publisher"
	// RoleViewer is the role of a session that plays a stream.
	RoleViewer = "viewer"
	// RoleConnecting is the role of a connection that has neither published
	// nor played yet.
	RoleConnecting = "connecting"
)

// Stream states.
const (
	// StateLive is the state of a stream whose publisher is connected.
	StateLive = "live"
	// StateWaiting is the state of a stream whose publisher left and which
	// waits for one to come back (the republish window): its viewers stay
	// connected, it has no publisher and receives nothing.
	StateWaiting = "waiting"
)

// StreamSource lists the live streams and ends them.
type StreamSource interface {
	// Streams returns every live stream.
	Streams() []StreamInfo
	// Stream returns the live stream app/name.
	Stream(app, name string) (StreamInfo, bool)
	// KickPublisher disconnects the publisher of app/name, which ends the
	// stream (its viewers get a clean end of stream). It reports whether the
	// stream was live.
	KickPublisher(app, name string) bool
}

// SessionSource lists the publishing and viewing connections and ends one.
type SessionSource interface {
	// Sessions returns every current session.
	Sessions() []SessionInfo
	// Kick disconnects the session with the given id. It reports whether
	// one was found.
	Kick(id string) bool
}

// StreamInfo is a snapshot of one live stream.
type StreamInfo struct {
	// App and Name identify the stream.
	App, Name string
	// State is StateLive or StateWaiting ("" reads as StateLive).
	State string
	// Publisher describes the publishing session; it is not shown while
	// the stream is waiting.
	Publisher PublisherInfo
	// Video and Audio describe the default tracks; nil when the stream has
	// none (or its decoder configuration has not arrived yet).
	Video *VideoTrack
	Audio *AudioTrack
	// Tracks lists every track, video then audio, by track id (Enhanced
	// RTMP multitrack streams have several of a kind).
	Tracks []Track
	// KeyframeAlignment tells whether the keyframes of the video tracks
	// fall on the same timestamps: AlignmentAligned, AlignmentUnaligned or
	// AlignmentUnknown ("" reads as unknown).
	KeyframeAlignment string
	// Bitrate, VideoBitrate and AudioBitrate are measured over the last
	// seconds, in bits per second.
	Bitrate, VideoBitrate, AudioBitrate float64
	// BytesIn counts payload bytes received from the publisher; FramesIn
	// counts frames.
	BytesIn, FramesIn uint64
	// KeyframeInterval is the measured distance between the last two
	// keyframes (0 until two were seen).
	KeyframeInterval time.Duration
	// Viewers counts viewers by protocol.
	Viewers ViewerCounts
	// Dropped counts frames viewers skipped because they fell behind.
	Dropped uint64
	// StartTime is when the stream was published.
	StartTime time.Time
}

// PublisherInfo describes the session publishing a stream.
type PublisherInfo struct {
	// SessionID is the session's id, usable with SessionSource.Kick.
	SessionID string
	// Protocol is the ingest protocol ("rtmp").
	Protocol string
	// RemoteAddr is the publisher's address.
	RemoteAddr string
	// Encoder is the encoder's self-description (metadata "encoder" or the
	// RTMP flashVer).
	Encoder string
	// Capabilities names the Enhanced RTMP capabilities the publisher
	// declared ("reconnect", "multitrack", "modex",
	// "timestamp-nano-offset"); FourCCs the codecs it declared.
	Capabilities, FourCCs []string
	// StartTime is when the publisher started.
	StartTime time.Time
}

// VideoTrack describes a stream's video.
type VideoTrack struct {
	// Codec is a display name ("H.264", "H.265", "AV1" …).
	Codec string
	// CodecString is the RFC 6381 codec string ("avc1.64001f") when known.
	CodecString string
	// Profile and Level are display strings ("High", "3.1") when known.
	Profile, Level string
	// Width and Height are the picture size in pixels (0 when unknown).
	Width, Height int
	// FPS is the measured frame rate.
	FPS float64
}

// AudioTrack describes a stream's audio.
type AudioTrack struct {
	// Codec is a display name ("AAC", "MP3", "Opus" …).
	Codec string
	// CodecString is the RFC 6381 codec string ("mp4a.40.2") when known.
	CodecString string
	// SampleRate is in Hz; Channels the channel count (0 when unknown).
	SampleRate, Channels int
}

// ViewerCounts counts a stream's viewers by protocol.
type ViewerCounts struct {
	// RTMP, FLV and WS count RTMP, HTTP-FLV and WebSocket-FLV viewers.
	RTMP, FLV, WS int
	// HLS counts distinct HLS clients seen in the last few target
	// durations.
	HLS int
}

// Total returns the number of viewers of every protocol.
func (v ViewerCounts) Total() int { return v.RTMP + v.FLV + v.WS + v.HLS }

// add returns the element-wise sum of v and o.
func (v ViewerCounts) add(o ViewerCounts) ViewerCounts {
	return ViewerCounts{RTMP: v.RTMP + o.RTMP, FLV: v.FLV + o.FLV, WS: v.WS + o.WS, HLS: v.HLS + o.HLS}
}

// SessionInfo is a snapshot of one connection.
type SessionInfo struct {
	// ID identifies the session ("rtmp-3", "flv-7", "ws-2").
	ID string
	// Role is RolePublisher, RoleViewer or RoleConnecting.
	Role string
	// Protocol is "rtmp", "flv" or "ws".
	Protocol string
	// Stream is "app/name" of the stream published or played (empty while
	// connecting).
	Stream string
	// RemoteAddr is the client's address.
	RemoteAddr string
	// StartTime is when the session started.
	StartTime time.Time
	// BytesIn and BytesOut count bytes received and sent.
	BytesIn, BytesOut uint64
	// Dropped counts frames a viewer skipped because it fell behind.
	Dropped uint64
}

// ServerInfo describes the running server for GET /api/v1/server.
type ServerInfo struct {
	// Version is the server version.
	Version string
	// StartTime is when the server started.
	StartTime time.Time
	// Config is the effective configuration: a struct with yaml (or json)
	// tags, a map or any mix. The API masks secrets (see MaskSecrets) before
	// writing it, so the caller passes it as it is.
	Config any
	// Counters are optional cumulative counters since start (handshake
	// failures, auth failures …), written as they are.
	Counters map[string]uint64
}

// Totals are the server's cumulative counters since it started, ended
// streams and closed sessions included, for GET /server.
type Totals struct {
	// BytesIn counts media payload bytes received from publishers.
	BytesIn uint64
	// BytesOut counts bytes sent to clients.
	BytesOut uint64
	// Dropped counts frames viewers skipped because they fell behind.
	Dropped uint64
}

// Deps are what the API reads and acts on.
type Deps struct {
	// Streams lists and ends live streams. Nil serves an empty list.
	Streams StreamSource
	// Sessions lists and kicks sessions. Nil serves an empty list.
	Sessions SessionSource
	// Keys manages the secret stream keys. Nil lists none and cannot
	// create any.
	Keys KeySource
	// Server describes the server. Nil serves an empty description.
	Server func() ServerInfo
	// Totals reads the traffic totals since start for GET /server. Nil
	// sums the live streams (bytes in, drops) and the current sessions
	// (bytes out) instead, which fall back when streams end.
	Totals func() Totals
	// Now is the clock used for uptimes. Nil means time.Now.
	Now func() time.Time
	// Guard stands in front of every route; share it with the rest of the
	// admin surface (dashboard, metrics, profiler) so that its refusals are
	// counted in one place. Nil: New builds one from its Config that logs
	// each refusal at debug level.
	Guard *Guard
}

// noStreams is the StreamSource used when Deps.Streams is nil.
type noStreams struct{}

// Streams returns nothing.
func (noStreams) Streams() []StreamInfo { return nil }

// Stream finds nothing.
func (noStreams) Stream(string, string) (StreamInfo, bool) { return StreamInfo{}, false }

// KickPublisher finds nothing.
func (noStreams) KickPublisher(string, string) bool { return false }

// noSessions is the SessionSource used when Deps.Sessions is nil.
type noSessions struct{}

// Sessions returns nothing.
func (noSessions) Sessions() []SessionInfo { return nil }

// Kick finds nothing.
func (noSessions) Kick(string) bool { return false }

package stream

// AccessRequest asks whether a client may publish or play a stream. The
// outputs and the RTMP server build one per session and hand it to the
// authoriser they were configured with.
type AccessRequest struct {
	// Action is ActionPublish or ActionPlay.
	Action Action
	// Protocol is the client's protocol: ProtocolRTMP, ProtocolFLV,
	// ProtocolWS or ProtocolHLS.
	Protocol Protocol
	// Key is the stream.
	Key Key
	// Query is the query string the client sent with the stream name,
	// without the leading '?': where encoders and players put tokens.
	Query string
	// RemoteAddr is the client's address (host:port).
	RemoteAddr string
	// SessionID names the session in logs and the API.
	SessionID string
}

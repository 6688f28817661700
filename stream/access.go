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

// PublishGrant is what an authoriser that resolves stream keys allows a
// publisher to publish: the stream, which may differ from the name the
// encoder sent (a bare secret key stands for its stream's name), the
// query without the secret, and the id of the secret key it proved to
// hold (PublisherInfo.KeyID).
type PublishGrant struct {
	// Key is the stream to publish.
	Key Key
	// Query is the query to record for the publisher, secrets removed.
	Query string
	// KeyID identifies the secret stream key the publisher holds; empty
	// when it was authorised by name or not at all.
	KeyID string
}

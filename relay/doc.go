// Package relay moves live streams between this server and others over
// RTMP and RTMPS.
//
// The push side (Forwarder) sends a live stream of the hub on to other
// servers: targets come from the configuration (per app or per stream),
// from the on_forward hook, or are added through the API while the stream
// is live. Each target reads the stream through its own stream.Reader, so
// a target that cannot keep up loses frames up to the next keyframe, as a
// slow viewer does, and never slows the publisher or another target. It
// publishes with the rtmp package's Client, reconnects with exponential
// backoff and jitter, and sends Enhanced RTMP codecs (HEVC, AV1, VP9,
// Opus …) only to a target that announced them in its connect _result.
//
// The pull side brings a stream from another server into the hub.
package relay

// Package access decides who may publish and play streams, and tells
// outside systems when publishing and playing stop.
//
// A Checker combines per-app lists of allowed stream keys (the stream name
// is the key), per-app secrets that sign play URLs (SignPlayToken) and
// optional HTTP hooks: on_publish and on_play are asked
// before a session starts (a POST of a JSON HookRequest; a 2xx answer
// allows, anything else or no answer within the timeout refuses), each
// from its own bounded pool of calls so that viewers cannot starve
// publishers, with HLS play answers kept in a bounded cache; on_unpublish
// and on_play_stop are told afterwards, asynchronously, by a bounded pool
// of workers the Checker owns. A refusing hook's answer body is logged,
// not shown to clients, unless Config.ExposeHookReason says so. A Checker is the
// rtmp.Authorizer of the RTMP server and can authorise the HTTP outputs
// the same way; it is also a stream.Observer (StreamEnded fires
// on_unpublish).
package access

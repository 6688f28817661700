// Package httpflv serves live streams to players as HTTP-FLV and
// WebSocket-FLV on the same path, /{app}/{name}.flv.
//
// A viewer gets the FLV file header (its audio and video flags say which
// tracks the stream really carries), the stream's metadata and sequence
// headers, the cached GOP from its newest keyframe, then live tags. The tag
// bytes of a frame are built once (stream.Frame.FLVTagParts) and shared by
// every viewer; each viewer writes everything pending in one vectored write
// per batch, taken over from net/http (connWriter). A viewer that keeps up
// has no goroutine of its own: the stream's delivery goroutines write to its
// socket without waiting, and give it its goroutine back when the socket is
// full. A viewer that falls behind is resynchronised at a keyframe by its
// stream.Reader, and one that stops reading is disconnected after the write
// timeout, so no viewer ever slows the publisher or the other viewers.
package httpflv

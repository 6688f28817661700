// Package stream is the hub between publishers and outputs: a Registry maps
// app/name keys to live Streams, a Publisher appends immutable Frames to its
// Stream, and any number of Readers consume them.
//
// Each Stream keeps one shared ring of recent entries (the GOP cache), bounded
// by frame count and bytes and, with Config.MaxReaderLag, by time: the newest
// GOP and the frames of the last MaxReaderLag. A Reader is only a cursor into
// that ring plus counters: publishing never blocks and never copies per
// reader, and a single channel close wakes every waiting reader. A reader
// that falls out of the ring resumes at the newest keyframe, receiving the
// decoder configuration again only when it changed, so it never sees a
// partial GOP or reordered frames.
//
// A consumer that keeps up need not wait in Read on a goroutine of its own:
// it parks its Reader with a Sink, and the stream's delivery goroutines (one
// per core) write every parked reader's frames without blocking, handing a
// reader back to its consumer when its sink cannot take more. Config.AudioHold
// lets audio wait for the next video frame, so a viewer gets both in one
// write.
//
// An Enhanced RTMP multitrack stream carries several video and audio tracks
// (renditions). A Reader with a TrackSelection delivers one video and one
// audio track, rewritten as single-track tags for players that know nothing
// of multitrack; Stream.Renditions describes and measures every track.
package stream

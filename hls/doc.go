// Package hls serves live streams as HTTP Live Streaming (RFC 8216bis): a
// segmenter per stream applies the cut policy (keyframes, target duration,
// caps, discontinuities, LL-HLS parts) to the frames a hub reader delivers
// and hands them to a container writer, MPEG-TS (go-astits) or fragmented
// MP4 (package fmp4); a sliding-window media playlist describes the
// segments (grafov/m3u8 for MPEG-TS, a small writer for the fMP4 and
// Low-Latency tags it lacks), and a Manager keeps the per-stream state,
// stores the segments (in memory or in a directory) and answers HTTP
// requests, blocking playlist reloads and preload-hinted parts included.
//
// URL scheme, relative to the server root (Config.Variant picks the
// container; lowlatency is fMP4 with parts):
//
//	/{app}/{name}.m3u8                media playlist
//	/{app}/{name}/{token}-{seq}.ts    MPEG-TS segment
//	/{app}/{name}/{token}-{seq}.m4s   fMP4 segment
//	/{app}/{name}/{token}-part{n}.m4s LL-HLS part
//	/{app}/{name}/{token}-init{g}.mp4 init section of generation g
//
// token identifies one incarnation of the stream's HLS state (it changes
// when the state was freed and created again, and between server runs): 128
// random bits, so that segment paths cannot be guessed. seq is the
// segment's media sequence number. Together they make every segment URI
// unique, so segments can be cached as immutable. Segment requests are
// authorised like playlist requests; a playlist requested with a query
// (a signed URL's token=…) lists its segment URIs with the same query.
//
// A stream with several video tracks (Enhanced RTMP multitrack) is served
// as renditions, and so is a configured group of streams (Config.Groups):
//
//	/{app}/{name}.m3u8             multivariant playlist
//	/{app}/{name}~v{N}.m3u8        media playlist of video track N
//
// Each rendition is segmented by a feeder of its own (renditions.go,
// multivariant.go, groups.go).
//
// The Segmenter is a pure component (frames in, segments out) with no
// goroutines or I/O; the Manager runs one reader goroutine per live stream
// that feeds it.
package hls

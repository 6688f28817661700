// Package flvmp4 maps the frames of a live stream (FLV tag bodies, legacy or
// Enhanced RTMP) onto fragmented-MP4 tracks and samples, for the outputs that
// write fMP4: HLS and recording.
//
// It answers three questions the fmp4 package leaves to its caller:
//   - which sample entry a track gets: Track builds an fmp4.Track from the
//     decoder configuration a stream carries (its sequence start, or for
//     AC-3, E-AC-3 and MP3, which have none, the first frame);
//   - which bytes of a frame are the sample: SampleOf returns the default
//     track's coded data, sharing the frame's payload;
//   - how long each sample lasts: a SampleQueue holds a track's newest
//     sample until the next one's decode time gives its duration, and an
//     AudioClock keeps audio decode times exact in the track's sample rate
//     while RTMP timestamps are whole milliseconds.
//
// Nothing here allocates per frame in steady state.
package flvmp4

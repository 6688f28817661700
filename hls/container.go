package hls

import "github.com/mediaserver/mediaserver/stream"

// The segmenter is split in two. The cut policy (Segmenter: segmenter.go,
// cutpolicy.go and the per-kind frame handling) decides where segments and
// LL-HLS parts begin and end, maps timestamps onto one output clock and
// keeps the track configuration; a container writer turns the frames it is
// handed into the bytes of one container format. MPEG-TS (tsmux.go) and
// fMP4 (mp4mux.go) are the two implementations.

// videoSample is one coded video frame as the cut policy hands it to a
// container writer.
type videoSample struct {
	// frame is the frame itself, track its track configuration.
	frame *stream.Frame
	track *videoTrack
	// data is the frame's codec data as FLV carries it: length-prefixed NAL
	// units (H.264, H.265), OBUs (AV1) or the frame (VP9). It is the
	// frame's own immutable payload: a writer may keep referring to it.
	data []byte
	// keyframe is the FLV keyframe flag; rap is set when the frame is a
	// random access point (the flag, or an IDR/IRAP picture).
	keyframe, rap bool
	// params is set for the first frame of a segment that starts without
	// a random access point: MPEG-TS repeats the parameter sets before it.
	params bool
	// dts is the frame's output DTS (90 kHz ticks), strictly increasing;
	// cts its composition offset in ticks, negative for B-frames of
	// encoders that shift their composition times.
	dts, cts int64
	// tsPTS and tsDTS are the PTS and DTS MPEG-TS writes: the DTS lowered
	// by the most negative composition offset seen, so that it never
	// exceeds the PTS.
	tsPTS, tsDTS int64
}

// audioSample is one coded audio frame (a payload of one FLV tag) as the
// cut policy hands it to a container writer.
type audioSample struct {
	// frame is the frame itself, track its track configuration.
	frame *stream.Frame
	track *audioTrack
	// data is the raw frame (no ADTS header), the frame's own immutable
	// payload.
	data []byte
	// pts is its output time in 90 kHz ticks, strictly increasing.
	pts int64
	// ticks is its nominal duration on the 90 kHz clock.
	ticks int64
}

// cutTrigger tells a container writer which track's frame ends a fragment:
// that track's frames before it are complete (their duration is known from
// the trigger's DTS); the other track's last frame waits for its successor
// and goes into the next fragment.
type cutTrigger uint8

// Fragment ends.
const (
	// triggerDrain ends every track's run: the last frames take their
	// estimated durations (the publisher left, frames were lost, or the
	// tracks change).
	triggerDrain cutTrigger = iota
	// triggerVideo and triggerAudio: a frame of that kind ends the fragment.
	triggerVideo
	triggerAudio
	// triggerHold ends the fragment before the last frame of every track:
	// the segment ends soon after them.
	triggerHold
)

// fragmentInfo describes one fragment a container writer wrote into the
// segment buffer.
type fragmentInfo struct {
	// start and size are its byte range in the segment buffer.
	start, size int
	// independent is set when it starts with a random access point.
	independent bool
}

// containerWriter writes the frames of consecutive segments in one
// container format. One writer lives as long as the tracks stay the same
// (sameTracks); a new one starts a discontinuity.
type containerWriter interface {
	// sameTracks reports whether the writer can go on with these tracks.
	sameTracks(video *videoTrack, audio *audioTrack) bool
	// hasVideo and hasAudio tell which tracks the writer carries.
	hasVideo() bool
	hasAudio() bool
	// initSection returns the init section the writer's segments need and
	// its generation (0 and nil for MPEG-TS).
	initSection() (gen int, data []byte)
	// begin starts a segment written into buf (appended to).
	begin(buf []byte)
	// writeVideo and writeAudio add a frame to the segment.
	writeVideo(v *videoSample) error
	writeAudio(a *audioSample) error
	// fragment writes the frames complete at output time end as one fMP4
	// fragment (an LL-HLS part, or a whole segment) and describes it; ok is
	// false when it wrote nothing. MPEG-TS writes as it goes and never
	// writes fragments.
	fragment(end int64, by cutTrigger) (info fragmentInfo, ok bool, err error)
	// written returns what the segment holds so far (the buffer, until
	// take).
	written() []byte
	// size is the segment's size so far, frames held back included.
	size() int
	// take ends the segment and returns the buffer it was written into;
	// the writer keeps no reference to it. MPEG-TS writes the audio it
	// held back first.
	take() ([]byte, error)
}

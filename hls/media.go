package hls

import "time"

// Part is one finished LL-HLS partial segment: one fMP4 fragment (moof+mdat).
type Part struct {
	Data        []byte        // its own slice; the receiver may keep it
	Duration    time.Duration // exact, from its first sample's DTS to the next part's
	Independent bool          // starts with a keyframe (or: audio-only stream)
}

// PartInfo describes one part of a finished Segment.
type PartInfo struct {
	// Duration is the part's duration, as its Part had it.
	Duration time.Duration
	// Independent is set when the part starts with a random access point.
	Independent bool
	// Size is the part's length in bytes.
	Size int
}

// Segment is one finished media segment: MPEG-TS, or with the MP4
// variants one fMP4 fragment (or several: its parts).
type Segment struct {
	// Data is the segment's bytes: an MPEG-TS byte stream (a multiple of
	// 188 bytes), or fMP4 fragments (moof+mdat) that need the init section
	// of generation Init. It is a slice of its own, exactly as long as its
	// capacity: a stored segment holds no spare bytes.
	Data []byte
	// Duration is the segment's duration (its EXTINF), in whole
	// milliseconds: from its first frame's DTS to the next segment's.
	Duration time.Duration
	// Start is the DTS of the first frame on the 90 kHz output clock
	// (unwrapped; the TS carries it modulo 2^33).
	Start int64
	// ProgramDateTime is the wall-clock time of the first frame.
	ProgramDateTime time.Time
	// Discontinuity is set for the first segment after a publisher restart,
	// a timestamp jump, a track change or a codec configuration change.
	Discontinuity bool
	// Independent is set when the segment starts with a random access point
	// (a keyframe, or audio in an audio-only stream).
	Independent bool
	// Forced is set when the segment was cut by MaxSegmentDuration,
	// MaxSegmentBytes or the playlist's target duration rather than at a
	// keyframe.
	Forced bool
	// VideoFrames and AudioFrames count the frames in the segment.
	VideoFrames, AudioFrames int
	// Parts describes the segment's LL-HLS parts (VariantLowLatency only),
	// in order: those already delivered one by one as Part values. Their
	// Data concatenated is exactly Data, so part i is the byte range of
	// Data after the sizes of parts 0..i-1.
	Parts []PartInfo
	// Init is the generation of the init section the segment needs (MP4
	// variants; the first is 1), 0 for MPEG-TS.
	Init int
}

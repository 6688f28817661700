package hls

import (
	"bytes"
	"fmt"

	"github.com/mediaserver/mediaserver/fmp4"
	"github.com/mediaserver/mediaserver/internal/flvmp4"
)

// fMP4 (CMAF) segments: an init section per set of tracks, then each
// segment as fragments (moof+mdat) of the fmp4 package, one per LL-HLS part
// or one per segment. A sample's duration is the distance to the next
// sample of its track (flvmp4.SampleQueue), so the last sample of a track
// waits for its successor: a fragment holds a track's frames up to the
// frame that ends it (whose DTS completes the one before) and the other
// track's frames but the last, which goes into the next fragment.

// Track IDs in the init section.
const (
	mp4VideoTrackID = 1
	mp4AudioTrackID = 2
)

// mp4Writer is the fMP4 container writer.
type mp4Writer struct {
	videoTrack *videoTrack
	audioTrack *audioTrack
	video      *mp4Run // nil without video
	audio      *mp4Run // nil without audio
	gen        int
	initData   []byte
	// fragments is the segmenter's fragment counter (mfhd sequence
	// numbers run on across writers).
	fragments *uint32
	out       []byte
	frag      fmp4.Fragment
}

var _ containerWriter = (*mp4Writer)(nil)

// newMP4Writer returns a writer for the tracks whose init section is of
// generation gen.
func newMP4Writer(video *videoTrack, audio *audioTrack, gen int, fragments *uint32) (*mp4Writer, error) {
	w := &mp4Writer{videoTrack: video, audioTrack: audio, gen: gen, fragments: fragments}
	tracks := make([]fmp4.Track, 0, 2)
	if video != nil {
		t, err := video.mp4Track()
		if err != nil {
			return nil, err
		}
		tracks = append(tracks, t)
		w.video = &mp4Run{track: t, video: true}
	}
	if audio != nil {
		tracks = append(tracks, audio.mp4)
		w.audio = &mp4Run{track: audio.mp4, clock: flvmp4.NewAudioClock(audio.mp4.Timescale)}
	}
	if len(tracks) == 0 {
		return nil, fmt.Errorf("fMP4 without tracks: %w", ErrNoConfig)
	}
	init, err := fmp4.NewInit(tracks)
	if err != nil {
		return nil, fmt.Errorf("fMP4 init section: %w: %w", ErrInvalidFrame, err)
	}
	w.initData = init.Append(nil)
	w.frag.Tracks = make([]fmp4.TrackFragment, 0, 2)
	return w, nil
}

// sameTracks reports whether the tracks have the configuration the init
// section describes.
func (w *mp4Writer) sameTracks(video *videoTrack, audio *audioTrack) bool {
	if (video == nil) != (w.videoTrack == nil) || (audio == nil) != (w.audioTrack == nil) {
		return false
	}
	if video != nil && video != w.videoTrack &&
		(video.codec != w.videoTrack.codec || !bytes.Equal(video.config, w.videoTrack.config)) {
		return false
	}
	return audio == nil || audio == w.audioTrack || audio.sameConfig(w.audioTrack)
}

// hasVideo reports whether the init section has a video track.
func (w *mp4Writer) hasVideo() bool { return w.video != nil }

// hasAudio reports whether the init section has an audio track.
func (w *mp4Writer) hasAudio() bool { return w.audio != nil }

// initSection returns the init section and its generation.
func (w *mp4Writer) initSection() (int, []byte) { return w.gen, w.initData }

// begin starts a segment written into buf.
func (w *mp4Writer) begin(buf []byte) { w.out = buf }

// written returns the segment's fragments so far.
func (w *mp4Writer) written() []byte { return w.out }

// size is the segment's size so far, the frames not yet in a fragment
// included.
func (w *mp4Writer) size() int {
	n := len(w.out)
	for _, r := range [2]*mp4Run{w.video, w.audio} {
		if r != nil {
			n += r.bytes
		}
	}
	return n
}

// take ends the segment. Frames waiting for their successor stay for the
// next segment.
func (w *mp4Writer) take() ([]byte, error) {
	b := w.out
	w.out = nil
	return b, nil
}

// writeVideo queues a video frame.
func (w *mp4Writer) writeVideo(v *videoSample) error {
	data, _, err := flvmp4.SampleOf(v.frame)
	if err != nil {
		return fmt.Errorf("video frame at %d ms: %w: %w", v.frame.Time, ErrInvalidFrame, err)
	}
	w.video.push(uint64(v.dts), 0, fmp4.Sample{CompositionOffset: int32(v.cts), Flags: flvmp4.Flags(v.rap), Data: data})
	return nil
}

// writeAudio queues an audio frame.
func (w *mp4Writer) writeAudio(a *audioSample) error {
	d, _ := fmp4.SampleDuration(w.audio.track, a.data)
	w.audio.push(w.audio.audioTime(a.pts, d), d, fmp4.Sample{Flags: fmp4.SyncSample, Data: a.data})
	return nil
}

// fragment writes the frames complete at output time end as one fragment.
func (w *mp4Writer) fragment(end int64, by cutTrigger) (fragmentInfo, bool, error) {
	tracks := w.frag.Tracks[:0]
	videoRun := false
	for _, r := range [2]*mp4Run{w.video, w.audio} {
		if r == nil {
			continue
		}
		if base, samples := r.ready(end, by); len(samples) > 0 {
			tracks = append(tracks, fmp4.TrackFragment{TrackID: r.track.ID, BaseMediaDecodeTime: base, Samples: samples})
			videoRun = videoRun || r.video
		}
	}
	w.frag.Tracks = tracks
	if len(tracks) == 0 {
		return fragmentInfo{}, false, nil
	}
	*w.fragments++
	w.frag.SequenceNumber = *w.fragments
	start := len(w.out)
	w.out = w.frag.Append(w.out)
	info := fragmentInfo{start: start, size: len(w.out) - start, independent: w.video == nil}
	if videoRun {
		info.independent = tracks[0].StartsWithSync()
	}
	for _, r := range [2]*mp4Run{w.video, w.audio} {
		if r != nil {
			r.consume()
		}
	}
	clear(tracks)
	return info, true, nil
}

// mp4Run is the frames of one track not yet written into a fragment.
type mp4Run struct {
	track fmp4.Track
	video bool
	queue flvmp4.SampleQueue
	// clock gives audio frames exact decode times.
	clock flvmp4.AudioClock
	// bytes is the size of the queued frames' data; last is the exact
	// duration of the latest audio frame (0: unknown).
	bytes int
	last  uint32
}

// audioTime returns the decode time of an audio frame at output time t (90
// kHz) lasting d (timescale; 0: unknown).
func (r *mp4Run) audioTime(t int64, d uint32) uint64 {
	return r.clock.Time(t/ticksPerMs, d)
}

// push queues a frame decoded at dts (timescale) lasting d when known.
func (r *mp4Run) push(dts uint64, d uint32, s fmp4.Sample) {
	r.queue.Push(dts, s)
	r.bytes += len(s.Data)
	r.last = d
}

// ready completes what a fragment ending at output time end (90 kHz) holds
// and returns it: every frame of the track whose frame ends it (that
// frame's decode time gives the last one's duration) or of every track on
// a drain (the last one's duration estimated); the other track's frames
// but the last; every track's but the last on a hold.
func (r *mp4Run) ready(end int64, by cutTrigger) (uint64, []fmp4.Sample) {
	pending, ok := r.queue.Pending()
	switch {
	case !ok, by == triggerHold:
	case by == triggerDrain:
		r.queue.Finish(r.last)
		r.clock.Reset()
	case (by == triggerVideo) == r.video:
		next := uint64(end)
		if !r.video {
			// The frame that ends the fragment is timed again when pushed; it
			// is taken to last as long as the one before (the clock follows
			// its count only for frames that say how long they are).
			peek := r.clock
			next = peek.Time(end/ticksPerMs, r.last)
		}
		r.queue.Finish(uint32(max(next, pending+1) - pending))
	}
	return r.queue.Complete()
}

// consume drops the frames the last fragment held: all the complete ones.
func (r *mp4Run) consume() {
	_, samples := r.queue.Complete()
	for _, s := range samples {
		r.bytes -= len(s.Data)
	}
	r.queue.Take(len(samples))
}

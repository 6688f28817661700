package hls

import (
	"bytes"
	"fmt"

	"github.com/mediaserver/mediaserver/fmp4"
)

// fMP4 (CMAF) segments: an init section per set of tracks, then each
// segment as fragments (moof+mdat) of the fmp4 package, one per LL-HLS part
// or one per segment. A sample's duration is the distance to the next
// sample of its track, so the last sample of a track waits for its
// successor: a fragment holds a track's frames up to the frame that ends
// it (whose DTS completes the one before) and the other track's frames but
// the last, which goes into the next fragment.

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
		t := video.mp4
		t.ID = mp4VideoTrackID
		tracks = append(tracks, t)
		w.video = &mp4Run{id: t.ID, scale: clockRate, video: true}
	}
	if audio != nil {
		t := audio.mp4
		t.ID, t.Timescale, t.Channels = mp4AudioTrackID, uint32(audio.rate), max(t.Channels, audio.channels)
		if t.SampleRate == 0 && t.Codec == fmp4.CodecAAC {
			t.SampleRate = audio.rate
		}
		tracks = append(tracks, t)
		w.audio = &mp4Run{id: t.ID, scale: int64(audio.rate)}
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
	if w.video != nil {
		n += w.video.bytes
	}
	if w.audio != nil {
		n += w.audio.bytes
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
	flags := fmp4.NonSyncSample
	if v.rap {
		flags = fmp4.SyncSample
	}
	w.video.add(v.dts, 0, fmp4.Sample{CompositionOffset: int32(v.cts), Flags: flags, Data: v.data})
	return nil
}

// writeAudio queues an audio frame.
func (w *mp4Writer) writeAudio(a *audioSample) error {
	t := w.audio.fromTicks(a.pts)
	w.audio.add(t, int64(a.track.samples(a.data)), fmp4.Sample{Flags: fmp4.SyncSample, Data: a.data})
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
		if n := r.ready(end, by); n > 0 {
			tracks = append(tracks, fmp4.TrackFragment{
				TrackID: r.id, BaseMediaDecodeTime: uint64(r.dts[0]), Samples: r.samples[:n],
			})
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
	id    uint32
	scale int64 // timescale: 90 kHz for video, the sample rate for audio
	video bool
	// samples are the frames in decode order, and dts their decode times;
	// every duration but the last is known. bytes is their data's size.
	samples []fmp4.Sample
	dts     []int64
	bytes   int
	// prev is the decode time of the latest frame (havePrev), nominal its
	// samples when known (audio), lastDur the latest duration known.
	prev     int64
	havePrev bool
	nominal  int64
	lastDur  int64
	// n is the number of frames ready goes to write.
	n int
}

// fromTicks converts 90 kHz ticks to the run's timescale.
func (r *mp4Run) fromTicks(t int64) int64 {
	return (t*r.scale + clockRate/2) / clockRate
}

// follow returns the decode time of a frame at t (timescale) following the
// latest frame: where the latest one's samples end when t is within 2 ms
// of it (FLV's millisecond timestamps jitter by one), and always after it.
func (r *mp4Run) follow(t int64) int64 {
	if !r.havePrev {
		return t
	}
	if r.nominal > 0 {
		next, tol := r.prev+r.nominal, r.scale*2/1000
		if t-next <= tol && next-t <= tol {
			t = next
		}
	}
	return max(t, r.prev+1)
}

// add queues a frame decoded at t (timescale) with nominal samples (0:
// unknown); it completes the frame before.
func (r *mp4Run) add(t, nominal int64, s fmp4.Sample) {
	t = r.follow(t)
	if n := len(r.samples); n > 0 {
		r.lastDur = t - r.dts[n-1]
		r.samples[n-1].Duration = uint32(r.lastDur)
	}
	r.samples = append(r.samples, s)
	r.dts = append(r.dts, t)
	r.bytes += len(s.Data)
	r.prev, r.havePrev, r.nominal = t, true, nominal
}

// estimate is the duration assumed for the latest frame when none follows.
func (r *mp4Run) estimate() int64 {
	switch {
	case r.nominal > 0:
		return r.nominal
	case r.lastDur > 0:
		return r.lastDur
	case r.video:
		return defaultFrameTicks
	}
	return r.scale / 50
}

// ready decides how many queued frames the fragment ending at output time
// end (90 kHz) holds and completes the last of them: all of the track whose
// frame ends it (its DTS gives the last one's duration) or of every track
// on a drain (estimated); the other track's frames but the last.
func (r *mp4Run) ready(end int64, by cutTrigger) int {
	n := len(r.samples)
	switch {
	case n == 0:
	case by == triggerDrain:
		r.samples[n-1].Duration = uint32(r.estimate())
	case (by == triggerVideo) == r.video:
		d := max(r.follow(r.fromTicks(end))-r.dts[n-1], 1)
		r.samples[n-1].Duration = uint32(d)
	default:
		n--
	}
	r.n = n
	return n
}

// consume drops the frames the last fragment held.
func (r *mp4Run) consume() {
	n := r.n
	if n == 0 {
		return
	}
	for _, s := range r.samples[:n] {
		r.bytes -= len(s.Data)
	}
	left := copy(r.samples, r.samples[n:])
	clear(r.samples[left:])
	r.samples = r.samples[:left]
	r.dts = r.dts[:copy(r.dts, r.dts[n:])]
	r.n = 0
}

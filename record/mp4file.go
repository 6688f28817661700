package record

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/fmp4"
	"github.com/mediaserver/mediaserver/internal/flvmp4"
	"github.com/mediaserver/mediaserver/stream"
)

// Track IDs of the MP4 files: the stream's default video and audio tracks.
const (
	videoTrackID = 1
	audioTrackID = 2
)

// maxFragmentFactor: a fragment is cut at any frame once it holds this many
// fragment durations, when no keyframe came to cut it at.
const maxFragmentFactor = 4

// mp4Track is one track of an MP4 file and the samples it has not written
// yet.
type mp4Track struct {
	track fmp4.Track
	queue flvmp4.SampleQueue
	clock flvmp4.AudioClock // audio only
}

// mp4File writes one fragmented MP4 file: the init section, then one
// fragment (moof and mdat) per fragment duration of media, cut at a video
// keyframe where there is video, each written with a single write. A crash
// loses the fragment being gathered at most. The file holds the stream's
// default video and audio tracks, timed from 0 at its first frame.
type mp4File struct {
	file *os.File
	log  *slog.Logger

	headers    []*stream.Frame
	wantVideo  bool // the stream has a video configuration: wait for a keyframe
	video      *mp4Track
	audio      *mp4Track
	wroteInit  bool
	skipped    map[string]bool // tracks left out, logged once each
	fragEvery  uint32          // ms
	base       uint32          // timestamp of the first frame
	started    bool
	fragStart  uint32 // timestamp of the first frame of the fragment being gathered
	seq        uint32
	written    int64
	pendingLen int64
	buf        []byte
	frag       fmp4.Fragment
}

// newMP4File starts an MP4 file on file with the header frames the stream
// has shown so far; the init section is written with the first fragment.
func newMP4File(file *os.File, headers []*stream.Frame, fragEvery uint32, log *slog.Logger) (*mp4File, error) {
	mf := &mp4File{file: file, log: log, fragEvery: max(fragEvery, 1), skipped: map[string]bool{}}
	for _, h := range headers {
		mf.setHeader(h)
	}
	return mf, nil
}

// setHeader keeps a decoder configuration of the default tracks.
func (mf *mp4File) setHeader(f *stream.Frame) {
	if !f.IsSequenceStart() {
		return
	}
	if _, ok := configOf(f); !ok {
		return
	}
	for i, h := range mf.headers {
		if h.Type == f.Type {
			mf.headers[i] = f
			return
		}
	}
	mf.headers = append(mf.headers, f)
	if f.Type == flv.TagVideo {
		mf.wantVideo = true
	}
}

// configOf returns the default track's configuration in a sequence start.
func configOf(f *stream.Frame) (flv.Track, bool) {
	var tracks []flv.Track
	switch f.Type {
	case flv.TagVideo:
		h, err := flv.ParseVideoTagHeader(f.Payload)
		if err != nil {
			return flv.Track{}, false
		}
		tracks = h.TrackList(f.Payload)
	case flv.TagAudio:
		h, err := flv.ParseAudioTagHeader(f.Payload)
		if err != nil {
			return flv.Track{}, false
		}
		tracks = h.TrackList(f.Payload)
	}
	for _, t := range tracks {
		if t.ID == 0 {
			return t, true
		}
	}
	return flv.Track{}, false
}

// header returns the sequence start held for a tag type.
func (mf *mp4File) header(typ flv.TagType) *stream.Frame {
	for _, h := range mf.headers {
		if h.Type == typ {
			return h
		}
	}
	return nil
}

// WriteFrame adds a frame: a sequence start is kept for the track it
// configures, a coded frame of the default tracks becomes a sample.
func (mf *mp4File) WriteFrame(f *stream.Frame) error {
	if f.Header {
		if mf.video == nil || mf.audio == nil {
			mf.setHeader(f) // a track that has not started yet
		}
		return nil
	}
	data, sync, err := flvmp4.SampleOf(f)
	if errors.Is(err, flvmp4.ErrNoSample) {
		return nil
	} else if err != nil {
		mf.log.Debug("frame left out of the recording", "err", err)
		return nil
	}
	tr := mf.trackFor(f, data, sync)
	if tr == nil {
		return nil
	}
	if !mf.started {
		mf.started, mf.base, mf.fragStart = true, f.Time, f.Time
	}
	ms := int64(f.Time) - int64(mf.base)
	if f.Type == flv.TagVideo {
		tr.queue.Push(uint64(max(ms, 0))*fmp4.DefaultVideoTimescale/1000, fmp4.Sample{
			CompositionOffset: f.CompositionTime * fmp4.DefaultVideoTimescale / 1000,
			Flags:             flvmp4.Flags(sync), Data: data,
		})
	} else {
		d, _ := fmp4.SampleDuration(tr.track, data)
		tr.queue.Push(tr.clock.Time(ms, d), fmp4.Sample{Flags: fmp4.SyncSample, Data: data})
	}
	mf.pendingLen += int64(len(data))
	span := uint32(max(int64(f.Time)-int64(mf.fragStart), 0)) // audio may trail the keyframe that started the fragment
	cut := span >= mf.fragEvery*maxFragmentFactor
	if mf.video == nil {
		cut = cut || span >= mf.fragEvery
	} else if f.Type == flv.TagVideo && sync {
		cut = cut || span >= mf.fragEvery
	}
	if cut {
		mf.fragStart = f.Time
		return mf.flush()
	}
	return nil
}

// trackFor returns the track a sample of f goes to, creating it at its
// first sample, or nil when f's track is not recorded.
func (mf *mp4File) trackFor(f *stream.Frame, data []byte, sync bool) *mp4Track {
	slot, id := &mf.audio, uint32(audioTrackID)
	if f.Type == flv.TagVideo {
		slot, id = &mf.video, videoTrackID
	} else if mf.wantVideo && mf.video == nil {
		return nil // the file starts at a video keyframe
	}
	if *slot != nil {
		return *slot
	}
	if mf.wroteInit || (f.Type == flv.TagVideo && !sync) {
		return nil
	}
	config := data // AC-3, E-AC-3, MP3: the first frame describes the track
	codec := f.Codec
	if h := mf.header(f.Type); h != nil {
		t, _ := configOf(h)
		config, codec = t.Data, t.Codec
	}
	keyframe := []byte(nil)
	if f.Type == flv.TagVideo {
		keyframe = data
	}
	track, err := flvmp4.Track(id, codec, config, keyframe)
	if err != nil {
		if key := fmt.Sprint(f.Type, codec); !mf.skipped[key] {
			mf.skipped[key] = true
			mf.log.Warn("track left out of the MP4 recording", "type", f.Type.String(), "codec", codec.String(), "err", err)
		}
		return nil
	}
	*slot = &mp4Track{track: track}
	if f.Type == flv.TagAudio {
		(*slot).clock = flvmp4.NewAudioClock(track.Timescale)
	}
	return *slot
}

// flush writes the complete samples as one fragment, after the init
// section when it is the first.
func (mf *mp4File) flush() error {
	mf.buf = mf.buf[:0]
	if !mf.wroteInit {
		var tracks []fmp4.Track
		for _, tr := range []*mp4Track{mf.video, mf.audio} {
			if tr != nil {
				tracks = append(tracks, tr.track)
			}
		}
		if len(tracks) == 0 {
			return nil
		}
		in, err := fmp4.NewInit(tracks)
		if err != nil {
			return fmt.Errorf("mp4 init section: %w", err)
		}
		mf.buf = in.Append(mf.buf)
		mf.wroteInit = true
	}
	mf.frag.Tracks = mf.frag.Tracks[:0]
	type taken struct {
		tr *mp4Track
		n  int
	}
	var takes [2]taken
	for i, tr := range []*mp4Track{mf.video, mf.audio} {
		if tr == nil {
			continue
		}
		base, samples := tr.queue.Complete()
		if len(samples) == 0 {
			continue
		}
		mf.frag.Tracks = append(mf.frag.Tracks, fmp4.TrackFragment{TrackID: tr.track.ID, BaseMediaDecodeTime: base, Samples: samples})
		takes[i] = taken{tr, len(samples)}
	}
	if len(mf.frag.Tracks) > 0 {
		mf.seq++
		mf.frag.SequenceNumber = mf.seq
		mf.buf = mf.frag.Append(mf.buf)
	}
	for i := range mf.frag.Tracks {
		mf.frag.Tracks[i] = fmp4.TrackFragment{} // drop the payload references
	}
	var payload int64
	for _, tk := range takes {
		if tk.tr != nil {
			_, samples := tk.tr.queue.Complete()
			for _, s := range samples[:tk.n] {
				payload += int64(len(s.Data))
			}
			tk.tr.queue.Take(tk.n)
		}
	}
	mf.pendingLen -= payload
	if len(mf.buf) == 0 {
		return nil
	}
	n, err := mf.file.Write(mf.buf)
	mf.written += int64(n)
	if err != nil {
		return fmt.Errorf("write %s: %w", mf.file.Name(), err)
	}
	return nil
}

// Size returns the bytes written plus the sample bytes gathered.
func (mf *mp4File) Size() int64 { return mf.written + mf.pendingLen }

// Finish completes the last samples, writes them as the last fragment and
// syncs the file.
func (mf *mp4File) Finish() error {
	for _, tr := range []*mp4Track{mf.video, mf.audio} {
		if tr != nil {
			tr.queue.Finish(0)
		}
	}
	if err := mf.flush(); err != nil {
		return err
	}
	if err := mf.file.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", mf.file.Name(), err)
	}
	return nil
}

package stream

import (
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

// Rate measurement: frames and bytes are summed into per-second buckets keyed
// by the frame timestamp (DTS), and rates are averaged over the last
// rateWindow complete seconds.
const (
	rateWindow  = 5                        // seconds averaged
	bucketCount = 8                        // power of two > rateWindow
	bucketMask  = bucketCount - 1          // index mask
	rateStale   = rateWindow * time.Second // rates read as zero after this long without frames
	// clockEvery: the wall clock is read for LastFrameAt on every
	// clockEvery-th frame and whenever the timestamp enters a new second,
	// not on every frame.
	clockEvery = 16
)

// Stats is a snapshot of a stream's counters, for the admin API and metrics.
type Stats struct {
	// BytesIn counts payload bytes received from the publisher.
	BytesIn uint64
	// FramesIn counts frames received (all types); VideoFrames, AudioFrames
	// and DataFrames split it by tag type. Keyframes counts video keyframes.
	FramesIn, VideoFrames, AudioFrames, DataFrames, Keyframes uint64
	// Readers is the number of attached readers.
	Readers int
	// Dropped counts frames skipped by readers that fell behind, closed ones
	// included.
	Dropped uint64
	// VideoFPS is the measured video frame rate over the last ~5 s of
	// timestamps.
	VideoFPS float64
	// Bitrate, VideoBitrate and AudioBitrate are measured payload bit rates
	// in bits per second over the same window.
	Bitrate, VideoBitrate, AudioBitrate float64
	// KeyframeInterval is the timestamp distance between the last two
	// keyframes (0 until two were seen).
	KeyframeInterval time.Duration
	// LastTimestamp is the DTS (ms) of the last frame received.
	LastTimestamp uint32
	// LastFrameAt is the wall-clock time a frame was last received, to
	// within about a second (zero before the first frame).
	LastFrameAt time.Time
	// TimestampRegressions counts frames whose DTS was lower than the previous
	// frame of the same tag type.
	TimestampRegressions uint64
	// CachedFrames and CachedBytes describe the current GOP cache.
	CachedFrames, CachedBytes int
	// VideoCodec and AudioCodec are the codecs of the current sequence
	// headers (0 when absent).
	VideoCodec, AudioCodec flv.FourCC
}

// bucket accumulates one second of frames.
type bucket struct {
	sec         uint32
	valid       bool
	videoFrames uint32
	videoBytes  uint64
	audioBytes  uint64
	otherBytes  uint64
}

// meter holds the publisher-side counters of a stream. It is guarded by
// Stream.statsMu and touched once per frame.
type meter struct {
	bytesIn                               uint64
	frames, video, audio, data, keyframes uint64
	regressions                           uint64
	lastDTS                               [3]uint32 // per track: video, audio, data
	haveDTS                               [3]bool
	lastTime                              uint32    // DTS of the last frame
	lastAt                                time.Time // wall clock, see clockEvery
	clockSec                              uint32    // DTS second when lastAt was taken
	lastKeyTime                           uint32
	haveKeyTime                           bool
	keyInterval                           uint32
	buckets                               [bucketCount]bucket
	firstSec, latestSec                   uint32
	started                               bool
	// tracks measures each video and audio track (renditions.go);
	// overflow takes the frames of tracks past maxMeteredTracks.
	tracks   []trackMeter
	overflow trackMeter
}

// track maps a tag type to a meter track index.
func track(t flv.TagType) int {
	switch t {
	case flv.TagVideo:
		return 0
	case flv.TagAudio:
		return 1
	}
	return 2
}

// record counts one received frame.
func (m *meter) record(f *Frame) {
	size := uint64(len(f.Payload))
	m.bytesIn += size
	m.frames++
	tr := track(f.Type)
	switch tr {
	case 0:
		m.video++
	case 1:
		m.audio++
	default:
		m.data++
	}
	if m.haveDTS[tr] && int32(f.Time-m.lastDTS[tr]) < 0 {
		m.regressions++
	}
	m.lastDTS[tr], m.haveDTS[tr] = f.Time, true
	m.lastTime = f.Time
	if sec := f.Time / 1000; m.frames%clockEvery == 1 || sec != m.clockSec {
		m.lastAt, m.clockSec = time.Now(), sec
	}
	if f.Keyframe {
		m.keyframes++
		if m.haveKeyTime {
			m.keyInterval = f.Time - m.lastKeyTime
		}
		m.lastKeyTime, m.haveKeyTime = f.Time, true
	}

	sec := f.Time / 1000
	if tr != 2 && !f.Header {
		// Audio and video media frames drive the window.
		switch {
		case !m.started || sec+bucketCount <= m.latestSec || sec > m.latestSec+bucketCount:
			// First frame or a timestamp jump: restart the window.
			m.buckets = [bucketCount]bucket{}
			m.firstSec, m.latestSec, m.started = sec, sec, true
		case sec > m.latestSec:
			m.latestSec = sec
		}
		m.recordTrack(f, sec, size)
	} else if !m.started || sec > m.latestSec || sec+bucketCount <= m.latestSec {
		return // headers and script data outside the window are not measured
	}
	b := &m.buckets[sec&bucketMask]
	if !b.valid || b.sec != sec {
		if b.valid && b.sec > sec {
			return // older than the window
		}
		*b = bucket{sec: sec, valid: true}
	}
	switch tr {
	case 0:
		b.videoBytes += size
		if !f.Header {
			b.videoFrames++
		}
	case 1:
		b.audioBytes += size
	default:
		b.otherBytes += size
	}
}

// snapshot fills the publisher-side fields of st.
func (m *meter) snapshot(st *Stats, now time.Time) {
	st.BytesIn = m.bytesIn
	st.FramesIn, st.VideoFrames, st.AudioFrames, st.DataFrames = m.frames, m.video, m.audio, m.data
	st.Keyframes = m.keyframes
	st.TimestampRegressions = m.regressions
	st.LastTimestamp = m.lastTime
	st.LastFrameAt = m.lastAt
	st.KeyframeInterval = time.Duration(m.keyInterval) * time.Millisecond
	from, to, d := m.window(now)
	if d == 0 {
		return
	}
	var frames, vb, ab, ob uint64
	for sec := from; sec < to; sec++ {
		b := &m.buckets[sec&bucketMask]
		if !b.valid || b.sec != sec {
			continue
		}
		frames += uint64(b.videoFrames)
		vb += b.videoBytes
		ab += b.audioBytes
		ob += b.otherBytes
	}
	st.VideoFPS = float64(frames) / d
	st.VideoBitrate = float64(vb*8) / d
	st.AudioBitrate = float64(ab*8) / d
	st.Bitrate = float64((vb+ab+ob)*8) / d
}

// window returns the seconds rates are averaged over: the complete
// seconds [from, to) before the latest one, span of them; span is 0 when
// there is nothing to measure (no media yet, or none for rateStale).
func (m *meter) window(now time.Time) (from, to uint32, span float64) {
	if !m.started || now.Sub(m.lastAt) > rateStale {
		return 0, 0, 0
	}
	n := min(uint32(rateWindow), m.latestSec-m.firstSec)
	return m.latestSec - n, m.latestSec, float64(n)
}

// Stats returns a snapshot of the stream's counters.
func (s *Stream) Stats() Stats {
	var st Stats
	now := time.Now()
	s.statsMu.Lock()
	s.meter.snapshot(&st, now)
	s.statsMu.Unlock()

	s.mu.RLock()
	st.CachedFrames = int(s.tail - s.head)
	st.CachedBytes = s.cached
	if s.headers.Video != nil {
		st.VideoCodec = s.headers.Video.Codec
	}
	if s.headers.Audio != nil {
		st.AudioCodec = s.headers.Audio.Codec
	}
	s.mu.RUnlock()

	s.readersMu.Lock()
	st.Readers = len(s.readers)
	st.Dropped = s.droppedClosed
	for r := range s.readers {
		st.Dropped += r.dropped.Load()
	}
	s.readersMu.Unlock()
	return st
}

package stream

import (
	"bytes"
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

// ReaderInfo describes the session behind a Reader.
type ReaderInfo struct {
	// ID is the session identifier.
	ID string
	// Protocol is the output protocol (ProtocolHLS for the HLS segmenter).
	Protocol Protocol
	// RemoteAddr is the viewer's network address (empty for internal readers).
	RemoteAddr string
	// Tracks selects the tracks of a multitrack stream the reader
	// delivers; the zero value delivers every track unchanged.
	Tracks TrackSelection
}

// ReaderStats are a reader's counters.
type ReaderStats struct {
	// Frames and Bytes count frames and payload bytes delivered.
	Frames, Bytes uint64
	// Dropped counts media frames skipped because the reader fell behind
	// after it delivered its first media frame (a reader that falls behind
	// before that starts later instead: nothing it delivers has a gap).
	Dropped uint64
	// Resyncs counts the times the reader skipped ahead to a keyframe.
	Resyncs uint64
}

// Reader is one consumer's cursor into a Stream's shared ring. It holds no
// queue of its own: Read copies pointers to pending frames. A Reader's Read
// must be called from one goroutine at a time; Close, Info and Stats may be
// called from any goroutine.
type Reader struct {
	s       *Stream
	info    ReaderInfo
	created time.Time

	closeOnce sync.Once
	closed    chan struct{}

	// Cursor state, owned by the goroutine calling Read.
	next       uint64 // sequence number of the next entry to consider
	nextMedia  uint64 // media frames appended before next
	nextOffset uint64 // payload bytes appended before next
	seeking    bool   // must skip ahead to a random access point before reading on
	initial    bool   // no media frame delivered yet: skipped frames are not drops
	videoSync  bool   // a video keyframe was delivered since the last seek
	sent       Headers
	// pend holds the header frames queued for delivery; sent the ones
	// delivered, as the stream holds them.
	pend  []pendingHeader
	pendN int
	pendI int

	// Parking state (deliver.go): the delivery shard the reader was last
	// parked on, and guarded by its mu, the index in its parked readers
	// (-1: not parked), where the delivery goroutine writes, and what it
	// calls when the reader leaves it.
	shard   atomic.Pointer[deliveryShard]
	parkIdx int
	sink    Sink
	resume  func(error)

	frames, bytes, dropped, resyncs atomic.Uint64
}

// NewReader attaches a reader to s, positioned at the newest cached
// keyframe of the video track it selects (info.Tracks; for a stream without
// video so far: at the newest frame; when no keyframe is cached: at the
// next one to arrive). Its first Read delivers the header set in effect
// there, then the cached GOP, then live frames. The caller must Close it.
func (s *Stream) NewReader(info ReaderInfo) *Reader {
	r := &Reader{
		s:       s,
		info:    info,
		created: time.Now(),
		closed:  make(chan struct{}),
		seeking: true,
		initial: true,
		parkIdx: -1,
	}
	s.mu.RLock()
	r.seek()
	s.mu.RUnlock()
	s.attach(r)
	return r
}

// Info returns the reader's description.
func (r *Reader) Info() ReaderInfo { return r.info }

// Stream returns the stream the reader is attached to.
func (r *Reader) Stream() *Stream { return r.s }

// CreatedAt returns when the reader was attached.
func (r *Reader) CreatedAt() time.Time { return r.created }

// Stats returns the reader's counters.
func (r *Reader) Stats() ReaderStats {
	return ReaderStats{
		Frames:  r.frames.Load(),
		Bytes:   r.bytes.Load(),
		Dropped: r.dropped.Load(),
		Resyncs: r.resyncs.Load(),
	}
}

// Close detaches the reader and unblocks a pending Read, which returns
// ErrClosed. It is idempotent.
func (r *Reader) Close() {
	r.closeOnce.Do(func() {
		close(r.closed)
		r.s.detach(r)
	})
}

// Read blocks until at least one frame is available, then fills dst with up
// to len(dst) frames in stream order and returns how many. It returns
// (0, io.EOF) once the stream has ended and everything was delivered,
// (0, ctx.Err()) when ctx is done first, and (0, ErrClosed) after Close.
// The frames are shared and must not be modified.
func (r *Reader) Read(ctx context.Context, dst []*Frame) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	for {
		select {
		case <-r.closed:
			return 0, ErrClosed
		default:
		}
		s := r.s
		s.mu.RLock()
		n, size, wake, ended := r.fill(dst)
		s.mu.RUnlock()
		if n > 0 {
			r.frames.Add(uint64(n))
			r.bytes.Add(size)
			return n, nil
		}
		if ended {
			return 0, io.EOF
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-r.closed:
			return 0, ErrClosed
		}
	}
}

// fill copies pending frames into dst. It runs with s.mu held shared and
// touches only the reader's own cursor besides reading the stream. With
// nothing to deliver it returns the channel to wait on, or ended when the
// stream is over.
func (r *Reader) fill(dst []*Frame) (n int, size uint64, wake <-chan struct{}, ended bool) {
	s := r.s
	if !r.seeking && r.behind() {
		r.seeking = true
		r.resyncs.Add(1)
	}
	if r.seeking {
		r.seek()
	}
	sel := r.info.Tracks
	for n < len(dst) && r.pendI < r.pendN {
		h := r.pend[r.pendI]
		r.pend[r.pendI] = pendingHeader{}
		r.pendI++
		r.sent.set(h.orig.slot(), h.orig)
		f := sel.apply(h.out)
		if f == nil {
			continue // a configuration of a track the reader does not take
		}
		dst[n] = f
		n++
		size += uint64(len(f.Payload))
	}
	if !r.seeking {
		for n < len(dst) && r.next < s.tail {
			e := &s.ring[r.next&s.mask]
			f := e.frame
			r.next++
			r.nextOffset = e.offset + uint64(len(f.Payload))
			r.nextMedia = e.media
			if f.Header {
				k := f.slot()
				if r.sent.get(k) == f {
					continue // already delivered as part of a header set
				}
				r.sent.set(k, f)
				if f = sel.apply(f); f == nil {
					continue
				}
			} else {
				r.nextMedia++
				if f = sel.apply(f); f == nil {
					continue // a track the reader does not take
				}
				if f.Type == flv.TagVideo && !r.videoSync {
					if !f.Keyframe {
						continue // no video before a keyframe
					}
					r.videoSync = true
				}
				r.initial = false
			}
			dst[n] = f
			n++
			size += uint64(len(f.Payload))
		}
	}
	if n == 0 {
		if s.ended {
			return 0, 0, nil, true
		}
		s.waiters.Store(true)
		return 0, 0, s.wake, false
	}
	return n, size, nil, false
}

// behind reports whether the reader lost its position (trimmed from the
// ring, which is also how a reader more than Config.MaxReaderLag behind
// the newest frame is caught: see Stream.trimAged) or lags more than
// Config.MaxReaderLagBytes with a newer keyframe to jump to. s.mu must be
// held.
func (r *Reader) behind() bool {
	s := r.s
	if r.next < s.head {
		return true
	}
	limit := s.cfg.MaxReaderLagBytes
	if limit <= 0 || r.next >= s.tail || s.totalBytes-r.nextOffset <= uint64(limit) {
		return false
	}
	key, ok := r.newestKey()
	return ok && key > r.next
}

// newestKey returns the sequence number of the newest cached keyframe of
// the reader's video track, and whether there is one. s.mu must be held.
func (r *Reader) newestKey() (uint64, bool) {
	s := r.s
	sel := r.info.Tracks
	if !sel.Single || sel.Video == 0 {
		return s.lastKey, s.keyInRing()
	}
	seq, ok := s.trackKeys[sel.Video]
	return seq, ok && seq >= s.head
}

// seek moves the cursor to the newest random access point at or after it:
// the newest cached keyframe for a stream with video, the newest frame for
// one without. Skipped media frames count as dropped once the reader has
// delivered a media frame: before that it is still joining, and where it
// starts leaves no gap in what it delivers. When no keyframe is cached the
// cursor parks at the live edge and the reader keeps seeking as frames
// arrive. s.mu must be held.
func (r *Reader) seek() {
	s := r.s
	clear(r.pend[:])
	r.pendN, r.pendI = 0, 0
	var target uint64
	key, keyCached := r.newestKey()
	switch {
	case s.hasVideo && keyCached && key >= r.next:
		target = key
	case s.hasVideo:
		r.skipTo(s.tail, s.mediaCount, s.totalBytes)
		return
	case s.tail > s.head:
		target = max(s.tail-1, r.next)
		if target >= s.tail {
			// Positioned at the live edge already.
			r.position(s.tail, s.mediaCount, s.totalBytes, edgeHeaders(s.headers))
			return
		}
	default:
		r.position(s.tail, s.mediaCount, s.totalBytes, edgeHeaders(s.headers))
		return
	}
	e := &s.ring[target&s.mask]
	r.position(target, e.media, e.offset, s.joinHeaders(target, e.headers, e.frame.Time))
}

// skipTo moves the cursor to seq while still seeking, counting the skipped
// media frames as dropped for a reader that has delivered a media frame.
func (r *Reader) skipTo(seq, media, offset uint64) {
	if !r.initial && media > r.nextMedia {
		r.dropped.Add(media - r.nextMedia)
	}
	r.next, r.nextMedia, r.nextOffset = seq, media, offset
}

// position ends a seek at seq, queueing the frames of the header set in
// effect there (hs: metadata, video config, audio config …) that the
// consumer does not have yet.
func (r *Reader) position(seq, media, offset uint64, hs []pendingHeader) {
	r.skipTo(seq, media, offset)
	r.seeking = false
	r.videoSync = false
	clear(r.pend[:])
	r.pendN, r.pendI = 0, 0
	r.pend = r.pend[:0]
	for _, h := range hs {
		f := h.orig
		if cur := r.sent.get(f.slot()); cur == f || (cur != nil && bytes.Equal(cur.Payload, f.Payload)) {
			continue
		}
		r.pend = append(r.pend, h)
	}
	r.pendN = len(r.pend)
}

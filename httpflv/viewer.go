package httpflv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// transport carries a viewer's FLV bytes: one HTTP chunk write and flush, or
// one WebSocket binary message, per call.
type transport interface {
	// send writes p, a whole number of FLV structures, as one unit within
	// the write timeout. p is reused by the caller after send returns.
	// send writes one batch, the concatenation of bufs (size bytes in
	// all). bufs holds shared frame bytes: it must not be modified or kept.
	send(bufs [][]byte, size int) error
}

// directTransport is a transport that can also be written without waiting,
// which lets a viewer that keeps up be written by the stream's delivery
// goroutine instead of a goroutine of its own.
type directTransport interface {
	transport
	// canTrySend reports whether trySend works on this connection.
	canTrySend() bool
	// trySend writes the batch bufs (size bytes) as far as the connection
	// takes it at once. When it could not take all of it, it keeps the
	// rest and returns stream.ErrWouldBlock.
	trySend(bufs [][]byte, size int) error
	// flushRest writes what trySend kept, waiting as send does.
	flushRest() error
	// prepareDirect readies the connection for trySend (clears its
	// deadline) before the viewer is parked.
	prepareDirect() error
}

// parkedBufs is the most slice headers a parked viewer keeps for its
// batches: enough for a video frame and the audio held for it.
const parkedBufs = 16

// viewer is the write loop of one viewer: it reads frames from its stream
// reader and writes their shared FLV tag bytes in batches. It runs on a
// goroutine of the session's while it catches up; once caught up (with a
// directTransport) it is parked and the stream's delivery goroutine calls
// TryWrite instead, until resume hands it back.
type viewer struct {
	r          *stream.Reader
	out        transport
	headerWait time.Duration
	// bytesOut counts bytes handed to the transport successfully.
	bytesOut *atomic.Uint64

	maxBatch int
	frames   []*stream.Frame // Read's destination, len = maxBatch; nil while parked
	bufs     [][]byte        // the batch being sent: shared tag bytes
	// writeFailed is set when a write failed: the connection is unusable.
	writeFailed bool

	// direct is out as a directTransport, when it can be written without
	// waiting; park then hands the viewer to the stream's delivery
	// goroutine, reporting whether it did.
	direct directTransport
	park   func() bool
	// restSize is the size of the batch trySend could not finish.
	restSize int
}

// newViewer returns a viewer that reads r and writes to out.
func newViewer(r *stream.Reader, out transport, cfg Config, bytesOut *atomic.Uint64) *viewer {
	return &viewer{
		r:          r,
		out:        out,
		headerWait: cfg.HeaderWait,
		bytesOut:   bytesOut,
		maxBatch:   cfg.MaxBatch,
		frames:     make([]*stream.Frame, cfg.MaxBatch),
	}
}

// run writes the FLV header and the stream until the stream ends (io.EOF),
// ctx is done (its error or cause) or a write fails; or, with park set,
// until the viewer has caught up with the live edge and was parked
// (errParked).
func (v *viewer) run(ctx context.Context) error {
	if err := v.start(ctx); err != nil {
		return err
	}
	return v.loop(ctx, true)
}

// loop reads and writes batches (see run). caughtUp says the last write
// left nothing pending that the viewer knows of.
func (v *viewer) loop(ctx context.Context, caughtUp bool) error {
	for {
		if caughtUp && v.park != nil {
			// A parked viewer keeps only what TryWrite needs.
			v.frames = nil
			if cap(v.bufs) > parkedBufs {
				v.bufs = nil
			}
			if v.park() {
				return errParked
			}
		}
		if v.frames == nil {
			v.frames = make([]*stream.Frame, v.maxBatch)
		}
		n, err := v.r.Read(ctx, v.frames)
		if err != nil {
			return readError(ctx, err)
		}
		if err := v.write(nil, v.frames[:n]); err != nil {
			return err
		}
		caughtUp = n < len(v.frames)
	}
}

// resume continues a viewer that left the stream's delivery goroutine for
// reason (nil when its session was stopped), like run.
func (v *viewer) resume(ctx context.Context, reason error) error {
	switch {
	case reason == nil:
	case errors.Is(reason, stream.ErrWouldBlock):
		if err := v.direct.flushRest(); err != nil {
			// The body ends inside a batch: the connection is unusable.
			v.writeFailed = true
			return fmt.Errorf("write %d bytes: %w", v.restSize, err)
		}
		v.bytesOut.Add(uint64(v.restSize))
		v.restSize = 0
	default:
		return reason
	}
	return v.loop(ctx, false)
}

// TryWrite implements stream.Sink for the delivery goroutine: the frames'
// tags go out in one write that does not wait.
func (v *viewer) TryWrite(frames []*stream.Frame) error {
	bufs, size := appendTags(v.bufs[:0], frames)
	err := v.direct.trySend(bufs, size)
	clear(bufs)
	v.bufs = bufs[:0]
	switch {
	case err == nil:
		v.bytesOut.Add(uint64(size))
	case errors.Is(err, stream.ErrWouldBlock):
		v.restSize = size
	default:
		v.writeFailed = true
		err = fmt.Errorf("write %d bytes: %w", size, err)
	}
	return err
}

// appendTags appends the tags of frames to bufs as header, shared payload
// and trailer, and returns bufs and the bytes added.
func appendTags(bufs [][]byte, frames []*stream.Frame) ([][]byte, int) {
	size := 0
	for _, f := range frames {
		head, tail := f.FLVTagParts()
		bufs = append(bufs, head, f.Payload, tail)
		size += len(head) + len(f.Payload) + len(tail)
	}
	return bufs, size
}

// start decides the FLV header flags and writes the header followed by what
// the reader delivered meanwhile (metadata, sequence headers, the cached
// GOP). For a stream whose tracks are not known yet it waits up to
// headerWait for frames that tell.
func (v *viewer) start(ctx context.Context) error {
	var tracks trackSet
	tracks.addHeaders(v.r.Stream().Headers(), v.r.Info().Tracks)
	var pending []*stream.Frame
	var ended error
	deadline := time.Now().Add(v.headerWait)
	for (len(pending) == 0 || !tracks.ready()) && len(pending) < MaxMaxBatch {
		n, err := v.readUntil(ctx, deadline)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			// Settle the flags with what is known by now.
			tracks.addHeaders(v.r.Stream().Headers(), v.r.Info().Tracks)
			break
		}
		if errors.Is(err, io.EOF) {
			ended = err
			break
		}
		if err != nil {
			return readError(ctx, err)
		}
		for _, f := range v.frames[:n] {
			tracks.add(f)
		}
		pending = append(pending, v.frames[:n]...)
		clear(v.frames[:n])
	}
	if err := v.write(&tracks, pending); err != nil {
		return err
	}
	return ended
}

// readUntil reads one batch, giving up with context.DeadlineExceeded at
// deadline.
func (v *viewer) readUntil(ctx context.Context, deadline time.Time) (int, error) {
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return v.r.Read(wctx, v.frames)
}

// write sends the FLV file header (when tracks is not nil) and the tags of
// frames. The shared tag bytes are not copied: the batch goes to the
// transport as a list of slices, in pieces of at most about MaxBatchBytes.
// It clears frames so the reader's slice holds no stale pointers.
func (v *viewer) write(tracks *trackSet, frames []*stream.Frame) error {
	bufs, size := v.bufs[:0], 0
	if tracks != nil {
		hdr := flv.AppendHeader(make([]byte, 0, flv.HeaderSize+flv.PreviousTagSizeLen), tracks.header())
		bufs, size = append(bufs, hdr), len(hdr)
	}
	var err error
	for i := range frames {
		// The tag goes out as header, shared payload and trailer: the
		// payload is never copied into a second, contiguous tag.
		var n int
		bufs, n = appendTags(bufs, frames[i:i+1])
		size += n
		if size >= MaxBatchBytes && i < len(frames)-1 {
			if err = v.send(bufs, size); err != nil {
				break
			}
			clear(bufs)
			bufs, size = bufs[:0], 0
		}
	}
	if err == nil && size > 0 {
		err = v.send(bufs, size)
	}
	clear(bufs)
	clear(frames)
	v.bufs = bufs[:0]
	return err
}

// send hands one batch to the transport and counts it.
func (v *viewer) send(bufs [][]byte, size int) error {
	if err := v.out.send(bufs, size); err != nil {
		// A write refused because the session was stopped sent nothing.
		v.writeFailed = !errors.Is(err, errStopped)
		return fmt.Errorf("write %d bytes: %w", size, err)
	}
	v.bytesOut.Add(uint64(size))
	return nil
}

// readError turns a Read failure into the reason the viewer ends: the
// context's cause when it was cancelled, the error otherwise.
func readError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
	}
	return err
}

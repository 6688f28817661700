package rtmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/writev"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// playBatch is how many frames a player takes from the hub per write.
const playBatch = 64

// playSession feeds one player from a hub reader in its own goroutine.
type playSession struct {
	c        *ServerConn
	st       *stream.Stream
	streamID uint32

	mu     sync.Mutex // guards cancel, reader, paused, and parking against halt
	cancel context.CancelFunc
	reader *stream.Reader
	paused bool
	// wg counts the send loop from start until it ends, also while its
	// reader is parked on the stream's delivery goroutine and it has no
	// goroutine of its own.
	wg      sync.WaitGroup
	noAudio atomic.Bool
	noVideo atomic.Bool
	done    atomic.Bool // the stream ended and the player was told
	// tracks are the tracks the player gets of a multitrack stream.
	tracks stream.TrackSelection

	req      stream.AccessRequest // what the player was let in for
	started  time.Time
	stopOnce sync.Once
	// bytesBefore is what the connection had sent when the session
	// started; delivered adds up the stats of the session's readers (one
	// per pause). Both are owned by the Serve goroutine.
	bytesBefore uint64
	delivered   stream.ReaderStats

	// Direct writing (see TryWrite), where the connection allows it
	// (c.out.CanTryWrite): encKey is the chunkKey of the player's
	// serialisations, boxed once, and build makes one: neither allocates
	// per frame.
	encKey any
	build  func(*stream.Frame) []byte
	bufs   net.Buffers // TryWrite's batch
	// fullSocket counts the times the delivery goroutine found the
	// player's socket full and handed the player back to the send loop.
	fullSocket atomic.Uint64
}

// chunkKey identifies a frame's RTMP serialisation: players with the same
// chunk size and message stream id share the bytes.
type chunkKey struct {
	chunkSize int
	streamID  uint32
}

// onPlay starts a play session, or answers StreamNotFound.
func (c *ServerConn) onPlay(ctx context.Context, streamID uint32, cmd Command) error {
	if c.pub != nil || c.play != nil {
		return fmt.Errorf("play on a connection that already has a session: %w", ErrUnexpectedMessage)
	}
	key, query, err := c.streamKey(cmd)
	if err != nil {
		return c.refuse(ctx, streamID, codePlayStreamNotFound, nameRefusal(err), err)
	}
	if err := c.authorize(ctx, stream.ActionPlay, key, query); err != nil {
		return c.refuse(ctx, streamID, codePlayFailed, fmt.Sprintf("Playing %s is not allowed: %v.", key, err), err)
	}
	st, ok := c.hub.Lookup(key)
	if !ok {
		return c.refuse(ctx, streamID, codePlayStreamNotFound, fmt.Sprintf("Stream %s is not live.", key),
			fmt.Errorf("play %s: %w", key, stream.ErrStreamNotFound))
	}
	tracks, err := c.playTracks(st, query)
	if err != nil {
		return c.refuse(ctx, streamID, codePlayStreamNotFound, fmt.Sprintf("Stream %s has no such track (%s).", key, query), err)
	}
	c.log = c.connLog.With("stream", key.String())
	if err := c.writeControl(chunk.TypeUserControl,
		chunk.AppendUserControl(nil, chunk.UserControl{Type: chunk.EventStreamBegin, Value: streamID})); err != nil {
		return err
	}
	if reset, ok := cmd.BoolArg(3); !ok || reset {
		if err := c.writeStatus(streamID, "status", codePlayReset, "Playing and resetting "+key.String()+"."); err != nil {
			return err
		}
	}
	if err := c.writeStatus(streamID, "status", codePlayStart, "Started playing "+key.String()+"."); err != nil {
		return err
	}
	if err := c.writeData(streamID, "|RtmpSampleAccess", true, true); err != nil {
		return err
	}
	c.play = &playSession{c: c, st: st, streamID: streamID, started: time.Now(), bytesBefore: c.stats.bytesOut.Load(),
		req: c.accessRequest(stream.ActionPlay, key, query), tracks: tracks}
	if c.conn != nil {
		// As for HTTP-FLV viewers: a slow player's backlog stays in the
		// stream's ring, where the lag bound sees it, not in the kernel.
		_ = writev.LimitUnsent(c.conn)
	}
	c.stats.role.Store(RolePlayer)
	c.stats.stream.Store(key.String())
	c.play.start(ctx)
	c.log.Info("viewer joined", "protocol", "rtmp", "tracks", tracks.String())
	return nil
}

// playTracks returns the tracks a player gets of a multitrack stream: all
// of them, unchanged, for an Enhanced RTMP player that declared multitrack
// support (capsEx) and named no track; otherwise one video and one audio
// track, the default ones or those the query of its stream name names
// (name?track=N, name?video=N&audio=M), as single-track messages. It fails
// with stream.ErrUnknownTrack for a track the stream does not have.
func (c *ServerConn) playTracks(st *stream.Stream, query string) (stream.TrackSelection, error) {
	want, err := stream.ParseTrackQuery(query)
	if err != nil {
		return stream.TrackSelection{}, fmt.Errorf("play %s: %w", st.Key(), err)
	}
	if !want.Given() && c.Caps().CapsEx&CapsExMultitrack != 0 {
		return stream.TrackSelection{}, nil
	}
	sel, err := st.SelectTracks(want)
	if err != nil {
		return sel, fmt.Errorf("play: %w", err)
	}
	return sel, nil
}

// writeData sends an AMF0 data message on a message stream.
func (c *ServerConn) writeData(streamID uint32, values ...any) error {
	payload, err := appendValues(values)
	if err != nil {
		return err
	}
	return c.writeMessage(&chunk.Message{Type: chunk.TypeDataAMF0, ChunkStreamID: csidData, StreamID: streamID, Payload: payload})
}

// onPause pauses or resumes the play session. Resuming starts again at the
// newest keyframe, as a live stream cannot be resumed where it stopped.
func (c *ServerConn) onPause(ctx context.Context, cmd Command) error {
	if c.play == nil {
		return nil
	}
	pause, _ := cmd.BoolArg(0)
	if pause {
		c.play.pause()
		return c.writeStatus(c.play.streamID, "status", codePauseNotify, "Paused.")
	}
	if err := c.writeStatus(c.play.streamID, "status", codeUnpauseNotify, "Unpaused."); err != nil {
		return err
	}
	c.play.resume(ctx)
	return nil
}

// start attaches a hub reader and runs the send loop.
func (p *playSession) start(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx, p.cancel = context.WithCancel(ctx)
	p.reader = p.st.NewReader(stream.ReaderInfo{ID: p.c.id, Protocol: stream.ProtocolRTMP, RemoteAddr: p.c.remote,
		Tracks: p.tracks})
	p.paused = false
	key := chunkKey{chunkSize: p.c.cfg.ChunkSize, streamID: p.streamID}
	p.encKey = key
	p.build = func(f *stream.Frame) []byte { return appendFrameChunks(nil, f, key) }
	p.wg.Add(1)
	p.goLoop(ctx, p.reader, nil)
}

// goLoop runs the send loop on a goroutine, continuing after the reader
// left the delivery goroutine for reason (nil to start).
func (p *playSession) goLoop(ctx context.Context, r *stream.Reader, reason error) {
	go func() {
		if p.loop(ctx, r, reason) {
			return // parked: wg stays counted
		}
		p.wg.Done()
	}()
}

// pause stops the send loop and lets go of the hub reader.
func (p *playSession) pause() {
	p.mu.Lock()
	if p.paused {
		p.mu.Unlock()
		return
	}
	p.paused = true
	p.mu.Unlock()
	p.halt()
}

// resume restarts a paused session.
func (p *playSession) resume(ctx context.Context) {
	p.mu.Lock()
	paused := p.paused
	p.mu.Unlock()
	if paused {
		p.start(ctx)
	}
}

// stop ends the session for good, waits for its goroutine, tells the play
// listener and logs that the viewer left and why, as the HTTP-FLV and
// WebSocket-FLV viewers are logged.
func (p *playSession) stop(reason string) {
	p.stopOnce.Do(func() {
		p.halt()
		bytesOut := p.c.stats.bytesOut.Load() - p.bytesBefore
		d := time.Since(p.started)
		if l := p.c.cfg.PlayListener; l != nil {
			l.PlayStopped(p.req, bytesOut, d)
		}
		p.c.log.Info("viewer left", "reason", reason, "bytes_out", bytesOut,
			"frames", p.delivered.Frames, "dropped", p.delivered.Dropped, "socket_full", p.fullSocket.Load(),
			"duration", d.Round(time.Millisecond))
	})
}

// halt cancels the send loop, waits for it and closes the reader.
func (p *playSession) halt() {
	p.mu.Lock()
	cancel, reader := p.cancel, p.reader
	p.reader = nil
	if cancel != nil {
		cancel()
	}
	if reader != nil && reader.Unpark() {
		p.wg.Done() // the loop was parked: nothing runs
	}
	p.mu.Unlock()
	p.wg.Wait()
	if reader != nil {
		reader.Close()
		st := reader.Stats()
		p.delivered.Frames += st.Frames
		p.delivered.Dropped += st.Dropped
	}
}

// finished reports whether the stream ended and the player was told.
func (p *playSession) finished() bool { return p.done.Load() }

// setReceive switches audio or video delivery on or off.
func (p *playSession) setReceive(audio, on bool) {
	if audio {
		p.noAudio.Store(!on)
	} else {
		p.noVideo.Store(!on)
	}
}

// loop moves frames from the hub to the player, batching every frame that
// is pending into one vectored write. Once caught up it parks the reader
// on the stream's delivery goroutine, which writes to the player from
// then on (TryWrite), and returns true; the loop runs again (goLoop) when
// the reader leaves it for reason. It returns false when the session is
// over.
func (p *playSession) loop(ctx context.Context, r *stream.Reader, reason error) bool {
	c := p.c
	switch {
	case reason == nil:
	case errors.Is(reason, stream.ErrWouldBlock):
		if err := p.flushRest(); err != nil {
			p.writeFailed(err)
			return false
		}
	case errors.Is(reason, io.EOF):
		p.endOfStream()
		return false
	case errors.Is(reason, stream.ErrClosed):
		return false
	default:
		p.writeFailed(reason)
		return false
	}
	frames := make([]*stream.Frame, playBatch)
	var bufs net.Buffers
	caughtUp := reason == nil
	for {
		if caughtUp && p.park(ctx, r) {
			return true
		}
		n, err := r.Read(ctx, frames)
		if err != nil {
			if errors.Is(err, io.EOF) {
				p.endOfStream()
			}
			return false
		}
		bufs = p.appendChunks(bufs[:0], frames[:n])
		clear(frames[:n])
		err = c.writeBuffers(bufs)
		clear(bufs)
		if err != nil {
			p.writeFailed(err)
			return false
		}
		caughtUp = n < len(frames)
	}
}

// appendChunks appends the shared chunk serialisations of the frames the
// player wants to bufs.
func (p *playSession) appendChunks(bufs net.Buffers, frames []*stream.Frame) net.Buffers {
	for _, f := range frames {
		if (f.Type == flv.TagAudio && p.noAudio.Load()) || (f.Type == flv.TagVideo && p.noVideo.Load()) {
			continue
		}
		bufs = append(bufs, f.Encoded(p.encKey, p.build))
	}
	return bufs
}

// writeFailed ends the connection after a write to the player failed.
func (p *playSession) writeFailed(err error) {
	c := p.c
	if isTimeout(err) {
		c.closeWith(fmt.Errorf("%w (%v): %w", ErrWriteTimeout, c.cfg.WriteTimeout, err))
		return
	}
	c.log.Info("player write failed", "err", err)
	c.Close()
}

// park hands r to the stream's delivery goroutine, unless the session was
// halted or the stream ended meanwhile. It reports whether it did.
func (p *playSession) park(ctx context.Context, r *stream.Reader) bool {
	if !p.c.out.CanTryWrite() {
		return false
	}
	_ = p.c.out.Park() // a failure shows on the next write
	p.mu.Lock()
	defer p.mu.Unlock()
	if ctx.Err() != nil {
		return false
	}
	return r.Park(p, func(reason error) {
		if errors.Is(reason, stream.ErrWouldBlock) {
			p.fullSocket.Add(1)
		}
		p.goLoop(ctx, r, reason)
	})
}

// TryWrite implements stream.Sink: the delivery goroutine writes the
// frames' chunks with one non-blocking vectored write. What the socket
// does not take at once (all of it while a control message is being
// written) is kept for flushRest.
func (p *playSession) TryWrite(frames []*stream.Frame) error {
	c := p.c
	bufs := p.appendChunks(p.bufs[:0], frames)
	defer func() {
		clear(bufs)
		p.bufs = bufs[:0]
	}()
	if len(bufs) == 0 {
		return nil
	}
	n, err := c.out.TryWrite(bufs)
	c.stats.addOut(n)
	if errors.Is(err, writev.ErrWouldBlock) {
		return stream.ErrWouldBlock
	}
	return err
}

// flushRest writes what TryWrite kept, within the write timeout.
func (p *playSession) flushRest() error {
	n, err := p.c.out.Flush()
	p.c.stats.addOut(n)
	return err
}

// endOfStream tells the player the stream ended, then closes the
// connection: the player sees a clean stop rather than waiting for more.
func (p *playSession) endOfStream() {
	p.sayEnded("")
	p.c.log.Info("play ended: stream unpublished", "socket_full", p.fullSocket.Load())
	p.c.Close()
}

// sayEnded sends the player StreamEOF, NetStream.Play.UnpublishNotify and
// NetStream.Play.Stop (with why added to their descriptions) and marks the
// session finished.
func (p *playSession) sayEnded(why string) {
	c := p.c
	p.done.Store(true)
	if why != "" {
		why = " " + why
	}
	_ = c.writeControl(chunk.TypeUserControl,
		chunk.AppendUserControl(nil, chunk.UserControl{Type: chunk.EventStreamEOF, Value: p.streamID}))
	_ = c.writeStatus(p.streamID, "status", codePlayUnpublish, p.st.Key().String()+" is now unpublished."+why)
	_ = c.writeStatus(p.streamID, "status", codePlayStop, "Stopped playing "+p.st.Key().String()+"."+why)
}

// writeBuffers writes pre-built chunk bytes in one call.
func (c *ServerConn) writeBuffers(bufs net.Buffers) error {
	if len(bufs) == 0 {
		return nil
	}
	n, err := c.out.Write(bufs)
	c.stats.addOut(n)
	return err
}

// appendFrameChunks serialises a frame as one RTMP message in chunks.
func appendFrameChunks(dst []byte, f *stream.Frame, key chunkKey) []byte {
	csid := uint32(csidVideo)
	switch f.Type {
	case flv.TagAudio:
		csid = csidAudio
	case flv.TagScript:
		csid = csidData
	}
	return chunk.AppendMessage(dst, &chunk.Message{
		Type: chunk.MessageType(f.Type), Timestamp: f.Time, StreamID: key.streamID, ChunkStreamID: csid, Payload: f.Payload,
	}, key.chunkSize)
}

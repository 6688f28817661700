package httpflv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// Session protocols: the Session.Protocol, stream.AccessRequest.Protocol
// and stream.ReaderInfo.Protocol of a viewer.
const (
	// ProtocolFLV is the protocol of an HTTP-FLV viewer.
	ProtocolFLV = stream.ProtocolFLV
	// ProtocolWS is the protocol of a WebSocket-FLV viewer.
	ProtocolWS = stream.ProtocolWS
)

// Session is a snapshot of one viewer, for the admin API.
type Session struct {
	// ID is "flv-N" or "ws-N".
	ID string
	// Protocol is ProtocolFLV or ProtocolWS.
	Protocol stream.Protocol
	// RemoteAddr is the viewer's network address.
	RemoteAddr string
	// Stream is the key of the stream watched, "app/name".
	Stream string
	// Start is when the viewer attached.
	Start time.Time
	// BytesOut counts FLV bytes written to the viewer.
	BytesOut uint64
	// Frames counts frames delivered to the viewer.
	Frames uint64
	// Dropped counts frames the viewer skipped because it fell behind.
	Dropped uint64
}

// session is the live state of one viewer. The request goroutine owns it;
// stop may be called from any goroutine.
type session struct {
	id       string
	protocol stream.Protocol
	remote   string
	key      stream.Key
	start    time.Time
	reader   *stream.Reader
	bytesOut atomic.Uint64
	// fullSocket counts the times the stream's delivery goroutine found the
	// viewer's socket full and handed the viewer back to its own goroutine.
	fullSocket atomic.Uint64
	req        stream.AccessRequest // what the viewer was let in for

	// mu orders stop against the owner arming a write: after stop, the
	// owner does not start another write, and a write already under way is
	// cut short by interrupt.
	mu        sync.Mutex
	cancel    context.CancelCauseFunc
	stopped   bool
	interrupt func() // makes a blocked write fail at once; may be nil
	// armedUntil is the write deadline last set by arm.
	armedUntil time.Time
	// resume restarts the owner's goroutine while the viewer is parked on
	// the stream's delivery goroutine (park); nil otherwise.
	resume func(error)
}

// snapshot returns the session's public view.
func (s *session) snapshot() Session {
	st := s.reader.Stats()
	return Session{
		ID:         s.id,
		Protocol:   s.protocol,
		RemoteAddr: s.remote,
		Stream:     s.key.String(),
		Start:      s.start,
		BytesOut:   s.bytesOut.Load(),
		Frames:     st.Frames,
		Dropped:    st.Dropped,
	}
}

// stop ends the session with cause: its context is cancelled and a write in
// progress is interrupted.
func (s *session) stop(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	s.cancel(cause)
	if s.resume != nil && s.reader.Unpark() {
		// Parked: nothing is being written. The owner's goroutine starts
		// again and finds the session stopped.
		resume := s.resume
		s.resume = nil
		resume(nil)
		return
	}
	if s.interrupt != nil {
		s.interrupt()
	}
}

// park hands the viewer to the stream's delivery goroutine, which writes
// to sink from now on, unless the session was stopped or the stream has
// ended. When the viewer leaves the delivery goroutine (its sink could not
// keep up or failed, the stream ended) or the session is stopped, resume
// is called once, with the reason (nil for a stop), and must start the
// owner's goroutine again. park reports whether the viewer was parked.
func (s *session) park(sink stream.Sink, resume func(error)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.resume = resume
	parked := s.reader.Park(sink, func(err error) {
		s.mu.Lock()
		s.resume = nil
		s.mu.Unlock()
		resume(err)
	})
	if !parked {
		s.resume = nil // the stream has ended: the owner reads the rest
	}
	return parked
}

// end marks the session finished by its owner: later writes are refused
// and later stops do nothing. Unlike stop it does not interrupt the
// connection, so the owner can still end the response cleanly.
func (s *session) end(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.stopped = true
		s.cancel(cause)
	}
	s.interrupt = nil
}

// deadliner sets the deadline of the next writes: http.ResponseController
// and websocket.Conn both are.
type deadliner interface {
	SetWriteDeadline(t time.Time) error
}

// arm makes sure the coming write has a deadline about timeout away (set
// through d), unless the session was stopped, in which case it returns the
// reason. The deadline is moved only when it has come an eighth of timeout
// closer: resetting a socket deadline on every write costs more than the
// write's own bookkeeping. A transport without deadlines
// (http.ErrNotSupported) is accepted.
func (s *session) arm(d deadliner, timeout time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errStopped
	}
	now := time.Now()
	if s.armedUntil.Sub(now) > timeout-timeout/8 {
		return nil
	}
	if err := d.SetWriteDeadline(now.Add(timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("set write deadline: %w", err)
	}
	s.armedUntil = now.Add(timeout)
	return nil
}

// disarm forgets the deadline arm set: the connection's was cleared.
func (s *session) disarm() {
	s.mu.Lock()
	s.armedUntil = time.Time{}
	s.mu.Unlock()
}

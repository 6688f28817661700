package stream

import (
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// deliverBatch is the most frames the delivery goroutine hands a sink in
// one TryWrite.
const deliverBatch = 64

// Sink is where the stream's delivery goroutine writes a parked reader's
// frames (Reader.Park).
type Sink interface {
	// TryWrite writes frames, in order, without waiting: for a socket,
	// only as much as its send buffer takes at once. It returns nil when
	// all of them were written; ErrWouldBlock when it kept the rest for
	// its owner to finish; any other error when the sink failed. The
	// frames are shared and must not be modified; the sink may keep
	// references to their bytes until its owner has finished them.
	TryWrite(frames []*Frame) error
}

// maxDeliveryShards bounds the delivery goroutines of one stream.
const maxDeliveryShards = 16

// delivery is the state of a stream's delivery goroutines: one shard of
// the parked readers per core, each written by a goroutine of its own
// while it holds a parked reader, so a pass over many readers is split
// between cores.
type delivery struct {
	once   sync.Once
	shards []deliveryShard
	// wg is the registry's count of running delivery goroutines, which
	// Registry.Close waits for. startMu orders starting one against the
	// stream's end: once ended is set, no reader is parked any more.
	wg      *sync.WaitGroup
	startMu sync.Mutex
	ended   bool
}

// end refuses further Park calls; the stream has ended.
func (d *delivery) end() {
	d.startMu.Lock()
	d.ended = true
	d.startMu.Unlock()
}

// shard returns the shard with the fewest parked readers.
func (d *delivery) shard() *deliveryShard {
	d.once.Do(func() {
		d.shards = make([]deliveryShard, min(runtime.GOMAXPROCS(0), maxDeliveryShards))
		for i := range d.shards {
			d.shards[i].kick = make(chan struct{}, 1)
		}
	})
	best := &d.shards[0]
	for i := range d.shards {
		if n := d.shards[i].count.Load(); n < best.count.Load() {
			best = &d.shards[i]
		}
	}
	return best
}

// deliveryShard is one delivery goroutine's readers. The goroutine runs
// while at least one reader is parked on it.
type deliveryShard struct {
	// mu guards parked and running, and is held for a whole pass over the
	// parked readers, so Unpark returns only once no write to the reader's
	// sink is under way.
	mu      sync.Mutex
	parked  []*Reader
	running bool
	// count is len(parked), for choosing a shard without its lock.
	count atomic.Int32
	// kick wakes the goroutine for a newly parked reader (capacity 1).
	kick chan struct{}
}

// parkedExit is a reader leaving the delivery goroutine, and why.
type parkedExit struct {
	resume func(error)
	err    error
}

// Park hands the reader to its stream's delivery goroutine, which writes
// the reader's frames to sink as they arrive, for every parked reader in
// turn, with no goroutine of the reader's own. A consumer that has caught
// up with the live edge parks its reader instead of waiting in Read. Park
// reports false, and does nothing, once the stream has ended: the consumer
// reads what is left itself.
//
// The reader stays parked until sink returns an error (ErrWouldBlock for
// a sink that could not keep up), the stream ends (io.EOF, once every
// frame was written), the reader is closed (ErrClosed), or Unpark takes it
// back. In all but the last case resume is called once, on the delivery
// goroutine, with that error; it must not block, and typically starts the
// consumer's goroutine again, which continues with Read. While parked,
// the reader must not be read by anyone else.
func (r *Reader) Park(sink Sink, resume func(error)) bool {
	s := r.s
	s.deliv.startMu.Lock()
	defer s.deliv.startMu.Unlock()
	if s.deliv.ended {
		return false
	}
	d := s.deliv.shard()
	d.mu.Lock()
	r.sink, r.resume = sink, resume
	r.shard.Store(d)
	r.parkIdx = len(d.parked)
	d.parked = append(d.parked, r)
	d.count.Store(int32(len(d.parked)))
	start := !d.running
	d.running = true
	if !start {
		d.nudge() // the reader may have frames pending already
	}
	d.mu.Unlock()
	if start {
		wg := s.deliv.wg
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.deliverLoop(d)
		}()
	}
	return true
}

// Unpark takes a parked reader back from the delivery goroutine. It reports
// whether the reader was parked; if so, resume will not be called and the
// caller owns the reader again. It waits for a pass of the delivery
// goroutine that is under way to end.
func (r *Reader) Unpark() bool {
	d := r.shard.Load()
	if d == nil {
		return false // never parked
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.parkIdx < 0 {
		return false
	}
	d.removeLocked(r)
	r.resume = nil
	if len(d.parked) == 0 {
		d.nudge() // let it notice it has nothing left to do
	}
	return true
}

// nudge wakes the delivery goroutine for another pass.
func (d *deliveryShard) nudge() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// removeLocked drops r from the parked readers. d.mu must be held.
func (d *deliveryShard) removeLocked(r *Reader) {
	last := len(d.parked) - 1
	moved := d.parked[last]
	d.parked[r.parkIdx] = moved
	moved.parkIdx = r.parkIdx
	d.parked[last] = nil
	d.parked = d.parked[:last]
	d.count.Store(int32(last))
	r.parkIdx = -1
	r.sink = nil
}

// deliverLoop is the delivery goroutine of shard d: after every wake-up
// of the stream's readers it writes each parked reader's pending frames to
// its sink. It returns once no reader is parked on d.
func (s *Stream) deliverLoop(d *deliveryShard) {
	frames := make([]*Frame, deliverBatch)
	var exits []parkedExit
	for {
		// Take the wake channel before the pass: a frame appended during
		// the pass closes it, and the next pass picks the frame up.
		s.mu.RLock()
		wake := s.wake
		s.waiters.Store(true)
		s.mu.RUnlock()

		d.mu.Lock()
		for i := 0; i < len(d.parked); {
			r := d.parked[i]
			if err := r.deliverParked(frames); err != nil {
				d.removeLocked(r) // moves another reader to i
				exits = append(exits, parkedExit{r.resume, err})
				r.resume = nil
				continue
			}
			i++
		}
		idle := len(d.parked) == 0
		if idle {
			d.running = false
		}
		d.mu.Unlock()
		for i, e := range exits {
			e.resume(e.err)
			exits[i] = parkedExit{}
		}
		exits = exits[:0]
		if idle {
			return
		}
		select {
		case <-wake:
		case <-d.kick:
		}
	}
}

// deliverParked writes what the parked reader has pending to its sink. It
// returns nil when the reader is caught up, or why it must leave the
// delivery goroutine.
func (r *Reader) deliverParked(dst []*Frame) error {
	s := r.s
	for {
		select {
		case <-r.closed:
			return ErrClosed
		default:
		}
		s.mu.RLock()
		n, size, _, ended := r.fill(dst)
		s.mu.RUnlock()
		if n == 0 {
			if ended {
				return io.EOF
			}
			return nil
		}
		r.frames.Add(uint64(n))
		r.bytes.Add(size)
		err := r.sink.TryWrite(dst[:n])
		clear(dst[:n])
		if err != nil {
			return err
		}
		if n < len(dst) {
			return nil
		}
	}
}

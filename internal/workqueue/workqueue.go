// Package workqueue runs jobs from a bounded queue on a fixed set of
// workers: enqueueing never blocks (a full queue drops the job and counts
// it), and closing gives the queued jobs one grace period before their
// context is cancelled, then waits for the workers. Notification hooks use
// it: on_unpublish and on_record_done.
package workqueue

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of Enqueue.
var (
	// ErrFull is returned for a job dropped because the queue was full.
	ErrFull = errors.New("workqueue: queue full")
	// ErrClosed is returned for a job dropped because the queue closed.
	ErrClosed = errors.New("workqueue: closed")
)

// Queue is a bounded job queue with its workers.
type Queue[T any] struct {
	handle func(ctx context.Context, job T) error
	grace  time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu orders Enqueue against Close, so nothing is sent on the closed
	// channel.
	mu     sync.RWMutex
	jobs   chan T
	closed bool

	done, failed, dropped atomic.Uint64
}

// New starts workers goroutines running handle on the jobs of a queue of
// size. handle's context is cancelled grace after Close; an error it
// returns counts the job as failed (handle logs what it wants to).
func New[T any](workers, size int, grace time.Duration, handle func(ctx context.Context, job T) error) *Queue[T] {
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue[T]{handle: handle, grace: grace, ctx: ctx, cancel: cancel, jobs: make(chan T, size)}
	q.wg.Add(workers)
	for range workers {
		go q.work()
	}
	return q
}

// work runs queued jobs until the queue is closed and drained.
func (q *Queue[T]) work() {
	defer q.wg.Done()
	for job := range q.jobs {
		if err := q.handle(q.ctx, job); err != nil {
			q.failed.Add(1)
			continue
		}
		q.done.Add(1)
	}
}

// Enqueue queues job without blocking. A job that cannot be queued is
// dropped and counted, and the error (ErrFull or ErrClosed) says why.
func (q *Queue[T]) Enqueue(job T) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.dropped.Add(1)
		return ErrClosed
	}
	select {
	case q.jobs <- job:
		return nil
	default:
		q.dropped.Add(1)
		return ErrFull
	}
}

// Close stops accepting jobs, gives the queued ones one grace period, then
// cancels their context and waits for the workers. It may be called more
// than once.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.wg.Wait()
		return
	}
	q.closed = true
	close(q.jobs)
	q.mu.Unlock()
	stop := time.AfterFunc(q.grace, q.cancel)
	q.wg.Wait()
	stop.Stop()
	q.cancel()
}

// Counts returns the jobs done, failed and dropped so far.
func (q *Queue[T]) Counts() (done, failed, dropped uint64) {
	return q.done.Load(), q.failed.Load(), q.dropped.Load()
}

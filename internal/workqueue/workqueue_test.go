package workqueue

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestQueueDropsWhenFullAndDrainsOnClose(t *testing.T) {
	release := make(chan struct{})
	q := New(1, 1, time.Second, func(_ context.Context, n int) error {
		<-release
		if n%2 == 1 {
			return errors.New("odd")
		}
		return nil
	})
	if err := q.Enqueue(0); err != nil { // taken by the worker, which blocks
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for q.Enqueue(1) != nil { // fills the queue once the worker holds job 0
		if time.Now().After(deadline) {
			t.Fatal("queue never took a second job")
		}
		time.Sleep(time.Millisecond)
	}
	if err := q.Enqueue(2); !errors.Is(err, ErrFull) {
		t.Fatalf("enqueue on a full queue: %v, want ErrFull", err)
	}
	close(release)
	q.Close()
	if err := q.Enqueue(3); !errors.Is(err, ErrClosed) {
		t.Fatalf("enqueue after Close: %v, want ErrClosed", err)
	}
	done, failed, dropped := q.Counts()
	if done != 1 || failed != 1 || dropped < 2 {
		t.Errorf("done %d failed %d dropped %d, want 1, 1 and at least 2", done, failed, dropped)
	}
}

func TestCloseCancelsHungJobsAfterTheGracePeriod(t *testing.T) {
	q := New(2, 4, 50*time.Millisecond, func(ctx context.Context, _ int) error {
		<-ctx.Done()
		return ctx.Err()
	})
	for i := range 3 {
		if err := q.Enqueue(i); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	q.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	if _, failed, _ := q.Counts(); failed != 3 {
		t.Errorf("failed %d, want 3", failed)
	}
}

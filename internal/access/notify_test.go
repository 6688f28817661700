package access

import (
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

func TestUnpublishNotification(t *testing.T) {
	hook := newHookServer(t, 200, "")
	c := newChecker(t, Config{OnUnpublish: hook.URL})
	reg, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.AddObserver(c)
	pub, err := reg.Publish(stream.Key{App: "live", Name: "cam"}, stream.PublisherInfo{
		ID: "rtmp-3", Protocol: "rtmp", RemoteAddr: "192.0.2.9:4000", Query: "k=v",
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := stream.NewFrame(flv.TagAudio, 0, []byte{0xaf, 0x01, 1, 2, 3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	pub.WriteFrame(f)
	pub.Close()
	got := hook.next(t)
	if got.Action != "unpublish" || got.Protocol != "rtmp" || got.App != "live" || got.Name != "cam" ||
		got.Query != "k=v" || got.RemoteAddr != "192.0.2.9:4000" || got.SessionID != "rtmp-3" ||
		got.Bytes == nil || *got.Bytes != 7 || got.DurationSeconds == nil || *got.DurationSeconds < 0 {
		t.Fatalf("hook got %+v", got)
	}
	c.Close()
	if st := c.Stats(); st.NotifySent != 1 || st.NotifyFailed != 0 || st.NotifyDropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPlayStopNotification(t *testing.T) {
	hook := newHookServer(t, 500, "")
	c := newChecker(t, Config{OnPlayStop: hook.URL})
	c.PlayStopped(playReq("ws", "live", "cam", "198.51.100.3:7"), 123456, 90*time.Second)
	got := hook.next(t)
	if got.Action != "play_stop" || got.Protocol != "ws" || got.SessionID != "ws-1" ||
		got.Bytes == nil || *got.Bytes != 123456 || got.DurationSeconds == nil || *got.DurationSeconds != 90 {
		t.Fatalf("hook got %+v", got)
	}
	c.Close()
	if st := c.Stats(); st.NotifyFailed != 1 || st.NotifySent != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNotificationsWithoutHooksAreIgnored(t *testing.T) {
	c := newChecker(t, Config{})
	c.PlayStopped(playReq("flv", "a", "b", "x:1"), 1, time.Second)
	reg, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.AddObserver(c)
	pub, err := reg.Publish(stream.Key{App: "a", Name: "b"}, stream.PublisherInfo{})
	if err != nil {
		t.Fatal(err)
	}
	pub.Close()
	c.Close()
	if st := c.Stats(); st != (Stats{}) {
		t.Fatalf("stats %+v", st)
	}
}

// TestNotifyNeverBlocks fills the queue of a notifier whose hook hangs:
// callers return at once, the excess is dropped and counted, and no more
// calls run at once than there are workers.
func TestNotifyNeverBlocks(t *testing.T) {
	hook := newHookServer(t, 200, "").blocking()
	c := newChecker(t, Config{OnPlayStop: hook.URL, NotifyWorkers: 1, NotifyQueue: 2, HookTimeout: time.Minute})
	req := playReq("flv", "live", "cam", "198.51.100.3:7")
	c.PlayStopped(req, 1, time.Second)
	hook.next(t) // the worker is now busy with the first one

	done := make(chan struct{})
	go func() {
		for range 9 {
			c.PlayStopped(req, 1, time.Second)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("PlayStopped blocked behind a hanging hook")
	}
	if st := c.Stats(); st.NotifyDropped != 7 {
		t.Fatalf("dropped %d, want 7 (1 in flight, 2 queued)", st.NotifyDropped)
	}
	hook.unblock()
	c.Close()
	if n := hook.count(); n != 3 {
		t.Fatalf("hook called %d times, want 3", n)
	}
	if hook.maxInFlight() != 1 {
		t.Fatalf("%d calls at once with one worker", hook.maxInFlight())
	}
	if st := c.Stats(); st.NotifySent != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// TestCloseBoundsPendingNotifications: Close gives queued notifications
// one timeout, then cancels them, waits for the workers and drops what
// comes later.
func TestCloseBoundsPendingNotifications(t *testing.T) {
	hook := newHookServer(t, 200, "").blocking()
	defer hook.unblock()
	c, err := New(Config{OnPlayStop: hook.URL, NotifyWorkers: 2, HookTimeout: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := playReq("flv", "live", "cam", "198.51.100.3:7")
	for range 4 {
		c.PlayStopped(req, 1, time.Second)
	}
	closed := make(chan struct{})
	go func() {
		c.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return while hooks hang")
	}
	c.PlayStopped(req, 1, time.Second) // after Close: dropped, no panic
	c.Close()                          // idempotent
	st := c.Stats()
	if st.NotifySent != 0 || st.NotifyFailed != 4 || st.NotifyDropped != 1 {
		t.Fatalf("stats %+v", st)
	}
}

package rtmp

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// smallSendBuffers shrinks the send buffer of accepted connections, so a
// player that reads in bursts fills its socket.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// TestPlayerWithFullSocketGetsEveryMessage: a player that reads in bursts
// keeps filling its socket, so the stream's delivery goroutine hands it
// back to the send loop (often in the middle of a message) and takes it
// again once it has caught up. The player still gets every frame, byte for
// byte, in order, then the end of the stream.
func TestPlayerWithFullSocketGetsEveryMessage(t *testing.T) {
	testenv.CheckGoroutines(t)
	logs := &testenv.LogBuffer{}
	hub, err := stream.NewRegistry(stream.Config{}, logs.Logger(slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(ServerConfig{}, hub, logs.Logger(slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(smallSendBuffers{ln}) }()
	defer srv.Close()
	defer func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	}()

	pub, err := hub.Publish(stream.Key{App: "live", Name: "cam"}, stream.PublisherInfo{ID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	var published []*stream.Frame
	write := func(typ flv.TagType, ts uint32, payload []byte) {
		f, err := stream.NewFrame(typ, ts, payload)
		if err != nil {
			t.Fatal(err)
		}
		pub.WriteFrame(f)
		published = append(published, f)
	}
	frame := func(head []byte, size int, seed uint32) []byte {
		b := append([]byte(nil), head...)
		for i := len(b); i < size; i++ {
			b = append(b, byte(uint32(i)*31+seed))
		}
		return b
	}
	gop := func(ts uint32) {
		for i := range uint32(10) {
			head := []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41}
			if i == 0 {
				head = []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65}
			}
			write(flv.TagVideo, ts+20*i, frame(head, 32<<10, ts+i))
			write(flv.TagAudio, ts+20*i, frame([]byte{0xaf, 1}, 200, ts+i))
		}
	}
	write(flv.TagVideo, 0, []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe0})
	write(flv.TagAudio, 0, []byte{0xaf, 0, 0x12, 0x10})
	gop(0)

	c, err := Dial(context.Background(), "rtmp://"+ln.Addr().String()+"/live", ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.Conn().(*net.TCPConn).SetReadBuffer(64 << 10)
	if err := c.Play("cam"); err != nil {
		t.Fatal(err)
	}
	type media struct {
		typ     chunk.MessageType
		ts      uint32
		payload []byte
	}
	got := make(chan []media, 1)
	go func() {
		var ms []media
		defer func() { got <- ms }()
		for i := 0; ; i++ {
			m, err := c.ReadMessage()
			if err != nil {
				return
			}
			if m.Type == chunk.TypeAudio || m.Type == chunk.TypeVideo {
				ms = append(ms, media{m.Type, m.Timestamp, append([]byte(nil), m.Payload...)})
			}
			if i%4 == 0 {
				time.Sleep(time.Millisecond) // read in bursts
			}
		}
	}()
	testenv.WaitFor(t, 10*time.Second, "the player", func() bool { return len(srv.Sessions()) == 1 })
	for ts := uint32(200); ts < 200*30; ts += 200 {
		gop(ts) // about 320 KiB at once
		time.Sleep(30 * time.Millisecond)
	}
	var full uint64
	srv.mu.Lock()
	for conn := range srv.conns {
		if conn.play != nil {
			full = conn.play.fullSocket.Load()
		}
	}
	srv.mu.Unlock()
	pub.End()

	var ms []media
	select {
	case ms = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("the player's connection did not end after the stream")
	}
	if len(ms) != len(published) {
		t.Fatalf("player got %d media messages, want %d", len(ms), len(published))
	}
	for i, m := range ms {
		f := published[i]
		if m.typ != chunk.MessageType(f.Type) || m.ts != f.Time || !bytes.Equal(m.payload, f.Payload) {
			t.Fatalf("message %d: type %d at %d ms with %d bytes, want type %d at %d ms with %d",
				i, m.typ, m.ts, len(m.payload), f.Type, f.Time, len(f.Payload))
		}
	}
	if full < 5 {
		t.Fatalf("the player's socket filled %d times: the test did not exercise the hand-back enough", full)
	}
	t.Logf("%d messages; the delivery goroutine found the socket full %d times", len(ms), full)
}

// TestPauseWhileDeliveredDirectly: a player written by the stream's
// delivery goroutine pauses (the send loop is taken back and the reader
// let go) and unpauses (it starts again at a keyframe).
func TestPauseWhileDeliveredDirectly(t *testing.T) {
	testenv.CheckGoroutines(t)
	hub, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(ServerConfig{}, hub, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	pub, err := hub.Publish(stream.Key{App: "live", Name: "cam"}, stream.PublisherInfo{ID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	write := func(ts uint32, payload ...byte) {
		f, err := stream.NewFrame(flv.TagVideo, ts, payload)
		if err != nil {
			t.Fatal(err)
		}
		pub.WriteFrame(f)
	}
	key := func(ts uint32) { write(ts, 0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65) }
	inter := func(ts uint32) { write(ts, 0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41) }
	write(0, 0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe0)
	key(0)

	c, err := Dial(context.Background(), "rtmp://"+ln.Addr().String()+"/live", ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Play("cam"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var frames []chunk.Message
	var statuses []byte
	go func() {
		for {
			m, err := c.ReadMessage()
			if err != nil {
				return
			}
			mu.Lock()
			switch m.Type {
			case chunk.TypeVideo:
				frames = append(frames, m)
			case chunk.TypeCommandAMF0:
				statuses = append(statuses, m.Payload...)
			}
			mu.Unlock()
		}
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(frames)
	}
	sawStatus := func(code string) bool {
		mu.Lock()
		defer mu.Unlock()
		return bytes.Contains(statuses, []byte(code))
	}
	st, _ := hub.Lookup(stream.Key{App: "live", Name: "cam"})
	inter(40)
	testenv.WaitFor(t, 10*time.Second, "frames", func() bool { return count() == 3 })

	pause := func(on bool) {
		t.Helper()
		if err := c.send(c.streamID, Command{Name: "pause", Args: []any{on, 0.0}}); err != nil {
			t.Fatal(err)
		}
	}
	pause(true)
	testenv.WaitFor(t, 10*time.Second, "Pause.Notify", func() bool { return sawStatus(codePauseNotify) })
	testenv.WaitFor(t, 10*time.Second, "the reader to be let go", func() bool { return len(st.Readers()) == 0 })
	inter(80)
	key(120)
	pause(false)
	testenv.WaitFor(t, 10*time.Second, "Unpause.Notify", func() bool { return sawStatus(codeUnpauseNotify) })
	inter(160)
	testenv.WaitFor(t, 10*time.Second, "frames after the pause", func() bool { return count() >= 6 })
	mu.Lock()
	after := frames[3:]
	mu.Unlock()
	// Again from the newest keyframe: its sequence header, the keyframe
	// at 120 ms, then live frames; nothing from the pause.
	if len(after) != 3 || after[0].Payload[1] != 0 || after[1].Timestamp != 120 || after[2].Timestamp != 160 {
		for _, m := range after {
			t.Logf("after the pause: %d ms, % x", m.Timestamp, m.Payload[:2])
		}
		t.Fatal("the player did not start again at the newest keyframe")
	}
}

package rtmp_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// Minimal FLV bodies: an AVC sequence header, an AVC keyframe, an AAC
// sequence header and an AAC frame.
var (
	avcSeqHeader = []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1F, 0xFF, 0xE1, 0, 4, 0x67, 0x64, 0, 0x1F, 1, 0, 2, 0x68, 0xEE}
	avcKeyframe  = []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88}
	aacSeqHeader = []byte{0xAF, 0, 0x11, 0x90}
	aacFrame     = []byte{0xAF, 1, 0x21, 0x10}
)

func TestEncoderQuirks(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{})
	ctx := context.Background()

	t.Run("query after the stream key goes to auth, not the name", func(t *testing.T) {
		c, err := rtmp.Dial(ctx, s.url(""), rtmp.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Publish("cam?token=abc"); err != nil {
			t.Fatal(err)
		}
		st, ok := s.hub.Lookup(stream.Key{App: "live", Name: "cam"})
		if !ok {
			t.Fatal("stream live/cam not found")
		}
		if q := st.Info().Query; q != "token=abc" {
			t.Errorf("query = %q, want token=abc", q)
		}
	})

	t.Run("deleteStream with a name instead of an id ends the publish", func(t *testing.T) {
		c, err := rtmp.Dial(ctx, s.url(""), rtmp.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Publish("byname"); err != nil {
			t.Fatal(err)
		}
		payload, _ := rtmp.AppendCommand(nil, rtmp.Command{Name: "deleteStream", Args: []any{"byname"}})
		if err := c.WriteMessage(&chunk.Message{Type: chunk.TypeCommandAMF0, ChunkStreamID: 3, Payload: payload}); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 5*time.Second, "name to be free", func() bool {
			_, ok := s.hub.Lookup(stream.Key{App: "live", Name: "byname"})
			return !ok
		})
	})

	t.Run("createStream with transaction id 0 still gets its id", func(t *testing.T) {
		c, err := rtmp.Dial(ctx, s.url(""), rtmp.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		payload, _ := rtmp.AppendCommand(nil, rtmp.Command{Name: "createStream"})
		if err := c.WriteMessage(&chunk.Message{Type: chunk.TypeCommandAMF0, ChunkStreamID: 3, Payload: payload}); err != nil {
			t.Fatal(err)
		}
		for {
			msg, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if msg.Type != chunk.TypeCommandAMF0 {
				continue
			}
			cmd, err := rtmp.ParseCommand(&msg)
			if err != nil {
				t.Fatal(err)
			}
			if cmd.Name == "_result" {
				if id, ok := cmd.NumberArg(0); !ok || id < 1 {
					t.Errorf("createStream result %v", cmd.Args)
				}
				return
			}
		}
	})

	t.Run("app with a query and a trailing slash, tcUrl without a port", func(t *testing.T) {
		c, err := rtmp.Dial(ctx, "rtmp://"+s.addr+"/live?token=1/", rtmp.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Publish("appquery"); err != nil {
			t.Fatal(err)
		}
		st, ok := s.hub.Lookup(stream.Key{App: "live", Name: "appquery"})
		if !ok {
			t.Fatal("stream live/appquery not found")
		}
		if q := st.Info().Query; q != "token=1/" {
			t.Errorf("query = %q, want the app's query", q)
		}
	})

	t.Run("aggregate messages are split into frames", func(t *testing.T) {
		pub, err := rtmp.Dial(ctx, s.url(""), rtmp.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer pub.Close()
		if err := pub.Publish("agg"); err != nil {
			t.Fatal(err)
		}
		var agg []byte
		for i, m := range []struct {
			typ  uint8
			ts   uint32
			data []byte
		}{{9, 1000, avcSeqHeader}, {8, 1000, aacSeqHeader}, {9, 1000, avcKeyframe}, {8, 1023, aacFrame}, {9, 1033, avcKeyframe}} {
			agg = append(agg, m.typ, byte(len(m.data)>>16), byte(len(m.data)>>8), byte(len(m.data)),
				byte(m.ts>>16), byte(m.ts>>8), byte(m.ts), byte(m.ts>>24), 0, 0, 0)
			agg = append(agg, m.data...)
			size := 11 + len(m.data)
			agg = append(agg, byte(size>>24), byte(size>>16), byte(size>>8), byte(size))
			_ = i
		}
		if err := pub.WriteMessage(&chunk.Message{Type: chunk.TypeAggregate, ChunkStreamID: 6, StreamID: 1, Timestamp: 5000, Payload: agg}); err != nil {
			t.Fatal(err)
		}
		var st *stream.Stream
		testenv.WaitFor(t, 5*time.Second, "frames from the aggregate", func() bool {
			var ok bool
			st, ok = s.hub.Lookup(stream.Key{App: "live", Name: "agg"})
			return ok && st.Stats().FramesIn == 5
		})
		if got := st.Stats().LastTimestamp; got != 5033 {
			t.Errorf("last timestamp = %d, want 5033 (aggregate time + offset)", got)
		}
	})

	t.Run("metadata from @setDataFrame reaches players as onMetaData", func(t *testing.T) {
		pub, err := rtmp.Dial(ctx, s.url(""), rtmp.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer pub.Close()
		if err := pub.Publish("meta"); err != nil {
			t.Fatal(err)
		}
		meta, _ := amf.Append0(nil, "@setDataFrame", "onMetaData", amf.ECMAArray{{Key: "width", Value: 320.0}, {Key: "height", Value: 240.0}})
		for _, m := range []struct {
			typ  chunk.MessageType
			data []byte
		}{{chunk.TypeDataAMF0, meta}, {chunk.TypeVideo, avcSeqHeader}, {chunk.TypeVideo, avcKeyframe}} {
			if err := pub.WriteMedia(m.typ, 0, m.data); err != nil {
				t.Fatal(err)
			}
		}
		testenv.WaitFor(t, 5*time.Second, "stream headers", func() bool {
			st, ok := s.hub.Lookup(stream.Key{App: "live", Name: "meta"})
			return ok && st.Stats().FramesIn == 3
		})
		c, err := rtmp.Dial(ctx, s.url(""), rtmp.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Play("meta"); err != nil {
			t.Fatal(err)
		}
		for {
			msg, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if msg.Type != chunk.TypeDataAMF0 {
				continue
			}
			values, err := amf.Decode0(msg.Payload)
			if err != nil || len(values) == 0 {
				t.Fatalf("data message %x: %v", msg.Payload, err)
			}
			if values[0] == "onMetaData" {
				return
			}
		}
	})
}

// denyAll refuses every request and records them.
type denyAll struct {
	mu   sync.Mutex
	reqs []stream.AccessRequest
}

func (d *denyAll) Authorize(_ context.Context, req stream.AccessRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reqs = append(d.reqs, req)
	return errors.New("bad token")
}

func TestAuthorizerRefusesWithAReason(t *testing.T) {
	auth := &denyAll{}
	s := startServer(t, rtmp.ServerConfig{Authorizer: auth, RefusalDelay: 100 * time.Millisecond})
	for _, tc := range []struct {
		action stream.Action
		do     func(c *rtmp.Client) error
		code   string
	}{
		{stream.ActionPublish, func(c *rtmp.Client) error { return c.Publish("cam?token=wrong") }, "NetStream.Publish.Denied"},
		{stream.ActionPlay, func(c *rtmp.Client) error { return c.Play("cam?token=wrong") }, "NetStream.Play.Failed"},
	} {
		c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		err = tc.do(c)
		if !errors.Is(err, rtmp.ErrStatus) || !strings.Contains(err.Error(), tc.code) || !strings.Contains(err.Error(), "bad token") {
			t.Errorf("%s: %v, want %s with the reason", tc.action, err, tc.code)
		}
		expectClosed(t, c.Conn(), 5*time.Second)
		_ = c.Close()
	}
	auth.mu.Lock()
	defer auth.mu.Unlock()
	want := []stream.AccessRequest{
		{Action: stream.ActionPublish, Protocol: "rtmp", Key: stream.Key{App: "live", Name: "cam"}, Query: "token=wrong"},
		{Action: stream.ActionPlay, Protocol: "rtmp", Key: stream.Key{App: "live", Name: "cam"}, Query: "token=wrong"},
	}
	if len(auth.reqs) != len(want) {
		t.Fatalf("authorizer saw %d requests, want %d", len(auth.reqs), len(want))
	}
	for i, got := range auth.reqs {
		if got.Action != want[i].Action || got.Protocol != want[i].Protocol || got.Key != want[i].Key ||
			got.Query != want[i].Query || got.RemoteAddr == "" || got.SessionID == "" {
			t.Errorf("request %d = %+v, want %+v with address and session", i, got, want[i])
		}
	}
}

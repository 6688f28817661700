package httpflv

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// testKey is the stream the unit tests publish.
var testKey = stream.Key{App: "live", Name: "test"}

// Synthetic FLV tag bodies, parsed by stream.NewFrame like the real ones.
var (
	// avcSeqHeader is an AVC sequence start with a minimal avcC record.
	avcSeqHeader = []byte{0x17, 0x00, 0, 0, 0, 0x01, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0x00, 0x04,
		0x67, 0x42, 0xc0, 0x1e, 0x01, 0x00, 0x04, 0x68, 0xce, 0x3c, 0x80}
	// aacSeqHeader is an AAC sequence start: AAC-LC, 44.1 kHz, stereo.
	aacSeqHeader = []byte{0xaf, 0x00, 0x12, 0x10}
)

// amf0String appends an AMF0 string value.
func amf0String(dst []byte, s string) []byte {
	dst = append(dst, 0x02, byte(len(s)>>8), byte(len(s)))
	return append(dst, s...)
}

// metadataPayload returns "onMetaData" with an ECMA array announcing the
// given tracks the way ffmpeg does (a codec id only for present tracks).
func metadataPayload(audio, video bool) []byte {
	type pair struct {
		key string
		val float64
	}
	var pairs []pair
	if video {
		pairs = append(pairs, pair{"width", 640}, pair{"height", 360}, pair{"videocodecid", 7})
	}
	if audio {
		pairs = append(pairs, pair{"audiosamplerate", 44100}, pair{"audiocodecid", 10})
	}
	p := amf0String(nil, "onMetaData")
	p = append(p, 0x08)
	p = binary.BigEndian.AppendUint32(p, uint32(len(pairs)))
	for _, kv := range pairs {
		p = append(p, byte(len(kv.key)>>8), byte(len(kv.key)))
		p = append(p, kv.key...)
		p = append(p, 0x00)
		p = binary.BigEndian.AppendUint64(p, math.Float64bits(kv.val))
	}
	return append(p, 0, 0, 0x09)
}

// mustFrame parses a tag body with stream.NewFrame.
func mustFrame(t testing.TB, typ flv.TagType, ts uint32, payload []byte) *stream.Frame {
	t.Helper()
	f, err := stream.NewFrame(typ, ts, payload)
	if err != nil {
		t.Fatalf("NewFrame: %v", err)
	}
	return f
}

func metaFrame(t testing.TB, audio, video bool) *stream.Frame {
	return mustFrame(t, flv.TagScript, 0, metadataPayload(audio, video))
}

func videoHeaderFrame(t testing.TB) *stream.Frame {
	return mustFrame(t, flv.TagVideo, 0, avcSeqHeader)
}

func audioHeaderFrame(t testing.TB) *stream.Frame {
	return mustFrame(t, flv.TagAudio, 0, aacSeqHeader)
}

// videoFrame returns an AVC coded frame of size bytes whose body starts with
// the timestamp, so a reader can tell frames apart.
func videoFrame(t testing.TB, ts uint32, key bool, size int) *stream.Frame {
	p := make([]byte, max(size, 9))
	p[0] = 0x27
	if key {
		p[0] = 0x17
	}
	p[1] = 0x01
	binary.BigEndian.PutUint32(p[5:], ts)
	return mustFrame(t, flv.TagVideo, ts, p)
}

// audioFrame returns an AAC raw frame.
func audioFrame(t testing.TB, ts uint32, size int) *stream.Frame {
	p := make([]byte, max(size, 6))
	p[0], p[1] = 0xaf, 0x01
	binary.BigEndian.PutUint32(p[2:], ts)
	return mustFrame(t, flv.TagAudio, ts, p)
}

// fixture is a registry with one published stream and the handler serving
// it over a real loopback HTTP server.
type fixture struct {
	reg *stream.Registry
	pub *stream.Publisher
	h   *Handler
	srv *httptest.Server
}

// newFixture publishes testKey and serves it. Cleanup closes everything in
// shutdown order and checks that no session is left.
func newFixture(t testing.TB, cfg Config, scfg stream.Config) *fixture {
	t.Helper()
	reg, err := stream.NewRegistry(scfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := reg.Publish(testKey, stream.PublisherInfo{ID: "pub-1", Protocol: "test"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(cfg, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
		reg.Close()
		if n := len(h.Sessions()); n != 0 {
			t.Errorf("%d sessions left after Close", n)
		}
	})
	return &fixture{reg: reg, pub: pub, h: h, srv: srv}
}

func (f *fixture) url(path string) string { return f.srv.URL + path }
func (f *fixture) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(f.srv.URL, "http") + path
}

// publish writes frames to the stream.
func (f *fixture) publish(frames ...*stream.Frame) {
	for _, fr := range frames {
		f.pub.WriteFrame(fr)
	}
}

// get starts a GET and checks it is a live FLV response.
func get(t testing.TB, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %q", url, resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "video/x-flv" {
		t.Fatalf("Content-Type %q, want video/x-flv", ct)
	}
	return resp
}

// tagReader reads an FLV byte stream in the background and collects its tags.
type tagReader struct {
	header chan flv.Header
	mu     sync.Mutex
	tags   []flv.Tag
	err    error
	done   chan struct{}
}

// readTags parses r until it ends.
func readTags(r io.Reader) *tagReader {
	tr := &tagReader{header: make(chan flv.Header, 1), done: make(chan struct{})}
	go func() {
		defer close(tr.done)
		fr := flv.NewReader(bufio.NewReader(r))
		h, err := fr.ReadHeader()
		if err != nil {
			tr.finish(err)
			return
		}
		tr.header <- h
		for {
			tag, err := fr.ReadTag()
			if err != nil {
				tr.finish(err)
				return
			}
			tr.mu.Lock()
			tr.tags = append(tr.tags, tag)
			tr.mu.Unlock()
		}
	}()
	return tr
}

func (tr *tagReader) finish(err error) {
	tr.mu.Lock()
	tr.err = err
	tr.mu.Unlock()
}

// snapshot returns the tags read so far.
func (tr *tagReader) snapshot() []flv.Tag {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]flv.Tag(nil), tr.tags...)
}

// waitHeader returns the FLV file header.
func (tr *tagReader) waitHeader(t testing.TB) flv.Header {
	t.Helper()
	select {
	case h := <-tr.header:
		return h
	case <-tr.done:
		t.Fatalf("stream ended before the FLV header: %v", tr.err)
	case <-time.After(10 * time.Second):
		t.Fatal("no FLV header")
	}
	return flv.Header{}
}

// waitTags waits until at least n tags arrived and returns them all.
func (tr *tagReader) waitTags(t testing.TB, n int) []flv.Tag {
	t.Helper()
	testenv.WaitFor(t, waitTimeout, "tags", func() bool { return len(tr.snapshot()) >= n })
	return tr.snapshot()
}

// waitEnd waits for the byte stream to end and returns all tags and the
// final error (io.EOF for a clean end).
func (tr *tagReader) waitEnd(t testing.TB) ([]flv.Tag, error) {
	t.Helper()
	select {
	case <-tr.done:
	case <-time.After(20 * time.Second):
		t.Fatal("stream did not end")
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]flv.Tag(nil), tr.tags...), tr.err
}

// waitTimeout is how long the tests wait for a condition with
// testenv.WaitFor.
const waitTimeout = 20 * time.Second

// describeTag is a short form of a tag for failure messages: type letter,
// K for a video keyframe, H for a sequence header, then the timestamp.
func describeTag(tag flv.Tag) string {
	s := map[flv.TagType]string{flv.TagAudio: "a", flv.TagVideo: "v", flv.TagScript: "d"}[tag.Type]
	switch {
	case len(tag.Data) > 1 && tag.Type != flv.TagScript && tag.Data[1] == 0:
		s += "H"
	case tag.Type == flv.TagVideo && len(tag.Data) > 0 && tag.Data[0]>>4 == 1:
		s += "K"
	}
	return fmt.Sprintf("%s%d", s, tag.Timestamp)
}

func describeTags(tags []flv.Tag) string {
	parts := make([]string, len(tags))
	for i, tag := range tags {
		parts[i] = describeTag(tag)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// checkMonotonic fails when timestamps go backwards, overall or per type.
func checkMonotonic(t testing.TB, tags []flv.Tag) {
	t.Helper()
	last := map[flv.TagType]uint32{}
	var all uint32
	for i, tag := range tags {
		if tag.Timestamp < last[tag.Type] || tag.Timestamp < all {
			t.Fatalf("tag %d (%s) goes back in time: %s", i, describeTag(tag), describeTags(tags))
		}
		last[tag.Type], all = tag.Timestamp, tag.Timestamp
	}
}

// wsDial opens a WebSocket-FLV connection.
func wsDial(t testing.TB, url string, hdr http.Header) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(url, hdr)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(resp.Body)
			t.Fatalf("dial %s: %v: %s %q", url, err, resp.Status, body)
		}
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wsReader reads binary messages from c and exposes their concatenation as
// an io.Reader; messages and the close frame are recorded.
type wsReader struct {
	c        *websocket.Conn
	pr       *io.PipeReader
	mu       sync.Mutex
	messages []int // sizes
	closeErr error // the error that ended reading
	done     chan struct{}
}

func newWSReader(c *websocket.Conn) *wsReader {
	pr, pw := io.Pipe()
	r := &wsReader{c: c, pr: pr, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				r.mu.Lock()
				r.closeErr = err
				r.mu.Unlock()
				pw.CloseWithError(io.EOF)
				return
			}
			if typ != websocket.BinaryMessage {
				r.mu.Lock()
				r.closeErr = fmt.Errorf("message type %d, want binary", typ)
				r.mu.Unlock()
				pw.CloseWithError(r.closeErr)
				return
			}
			r.mu.Lock()
			r.messages = append(r.messages, len(msg))
			r.mu.Unlock()
			if _, err := pw.Write(msg); err != nil {
				return
			}
		}
	}()
	return r
}

func (r *wsReader) Read(p []byte) (int, error) { return r.pr.Read(p) }

// closeError waits for reading to end and returns the close frame the
// server sent.
func (r *wsReader) closeError(t testing.TB) *websocket.CloseError {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		t.Fatal("WebSocket not closed")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var ce *websocket.CloseError
	if !errors.As(r.closeErr, &ce) {
		t.Fatalf("WebSocket ended with %v, want a close frame", r.closeErr)
	}
	return ce
}

func (r *wsReader) messageSizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.messages...)
}

package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
)

// Viewer read sizes and caps.
const (
	// viewerBufferSize is each viewer's read buffer: large reads, few
	// syscalls, and room to peek a tag header plus a video prefix.
	viewerBufferSize = 32 << 10
	// videoPrefixLen is how much of a video tag body is parsed (the codec
	// header: frame type, packet type, composition time).
	videoPrefixLen = 32
	// maxFLVHeaderPadding caps the FLV file header's data offset beyond the
	// standard 9 bytes.
	maxFLVHeaderPadding = 1 << 16
	// maxErrorBody caps the error response body quoted in a viewer error.
	maxErrorBody = 256
	// gapFactor: a video DTS step above gapFactor × the nominal frame
	// interval is a gap.
	gapFactor = 2
)

// viewer is one simulated player and its measurements. The atomic fields
// are shared with the run's monitor; the others belong to the viewer's
// goroutine until it ends.
type viewer struct {
	id, pub    int
	url        string
	name       string // stream name (RTMP play)
	sends      *sendTable
	audioSends *sendTable
	keys       *keyRing
	clock      clock
	interval   time.Duration // nominal video frame interval
	stallAfter time.Duration

	// firstFrame is when the first video keyframe had arrived (time since
	// the clock base; 0: not yet); lastArrival when the last tag did.
	firstFrame  atomic.Int64
	lastArrival atomic.Int64
	bytes       atomic.Uint64
	stalled     atomic.Bool
	done        atomic.Bool

	// stamps is the viewer's connection when it records when data
	// arrived in the socket (stampConn); nil otherwise.
	stamps *stampConn
	// dial opens the viewer's TCP connection (RTMP; the HTTP client and
	// WebSocket dialer have their own).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	connectStart time.Duration
	lat          *histogram // arrival in the socket − send of live video frames
	latRead      *histogram // the same, taken when the tool read the frame
	audioLat     *histogram // arrival in the socket − send of live audio frames
	avail        *histogram // LL-HLS: part listed by a blocking reload − send of its last frame
	maxSilence   time.Duration
	gaps         uint64 // forward DTS gaps and, for HLS, missed segments
	backwards    uint64 // DTS going back
	lastDTS      uint32
	haveDTS      bool
	videoFrames  uint64
	err          error // why it ended before the run did
	endedEarly   bool
	hls          hlsCounters
	ll           llCounters
}

// ttff returns the time to first frame, if a keyframe arrived.
func (v *viewer) ttff() (time.Duration, bool) {
	first := v.firstFrame.Load()
	if first == 0 {
		return 0, false
	}
	return time.Duration(first) - v.connectStart, true
}

// arrived notes that n bytes arrived at now and updates the silence
// figures.
func (v *viewer) arrived(n int, now time.Duration) {
	v.bytes.Add(uint64(n))
	if v.firstFrame.Load() != 0 {
		silence := now - time.Duration(v.lastArrival.Load())
		if silence > v.maxSilence {
			v.maxSilence = silence
		}
		if silence >= v.stallAfter {
			v.stalled.Store(true)
		}
	}
	v.lastArrival.Store(int64(now))
}

// video notes a coded video frame with DTS ts (milliseconds) that arrived
// at now: first frame and timestamp continuity.
func (v *viewer) video(ts uint32, key bool, now time.Duration) {
	if v.firstFrame.Load() == 0 {
		if !key {
			return
		}
		v.firstFrame.Store(int64(now))
	}
	v.videoFrames++
	if v.haveDTS {
		step := int32(ts - v.lastDTS)
		switch {
		case step < 0:
			v.backwards++
		case time.Duration(step)*time.Millisecond > gapFactor*v.interval:
			v.gaps++
		}
	}
	v.lastDTS, v.haveDTS = ts, true
}

// frameLatency records arrival − send of the video frame with DTS ts when
// the publisher's send time is known and the frame was sent after the
// viewer started connecting (frames from the server's cache are not live):
// arrival in the viewer's socket when known, and when the tool read it.
func (v *viewer) frameLatency(ts uint32, now time.Duration) {
	if v.lat == nil || v.sends == nil || v.firstFrame.Load() == 0 {
		return
	}
	if sent, ok := v.sends.lookup(ts); ok && sent >= v.connectStart {
		v.lat.add(max(v.socketTime(now)-sent, 0))
		if v.latRead != nil {
			v.latRead.add(now - sent)
		}
	}
}

// audioLatency records arrival − send of the audio frame with DTS ts, on
// the terms of frameLatency (socket arrival only).
func (v *viewer) audioLatency(ts uint32, now time.Duration) {
	if v.audioLat == nil || v.audioSends == nil || v.firstFrame.Load() == 0 {
		return
	}
	if sent, ok := v.audioSends.lookup(ts); ok && sent >= v.connectStart {
		v.audioLat.add(max(v.socketTime(now)-sent, 0))
	}
}

// socketTime returns when the data the tool just read arrived in the
// viewer's socket (time since the clock base), or now when that is not
// known.
func (v *viewer) socketTime(now time.Duration) time.Duration {
	if v.stamps == nil {
		return now
	}
	a := v.stamps.arrival()
	if a == 0 {
		return now
	}
	return min(time.Unix(0, a).Sub(v.clock.base), now)
}

// videoKind classifies a video tag body from its first bytes: whether it
// is a coded frame (not a sequence header, end or command) and a keyframe.
func videoKind(prefix []byte) (coded, key bool) {
	if len(prefix) == 0 {
		return false, false
	}
	h, err := flv.ParseVideoTagHeader(prefix)
	if err != nil {
		// A prefix too short for a multitrack header, say: judge by the
		// frame type bits, common to legacy and extended headers.
		return true, (prefix[0]>>4)&7 == 1
	}
	if h.IsSequenceHeader() || h.IsCommand() || h.PacketType == flv.PacketSequenceEnd {
		return false, false
	}
	return true, h.Keyframe()
}

// flvTag is what readFLV reports of one tag: its type, DTS and size, and
// for video whether it is a coded frame and a keyframe.
type flvTag struct {
	typ   flv.TagType
	ts    uint32
	size  int // body size
	coded bool
	key   bool
}

// readFLV reads an FLV stream from br, the file header then tags, calling
// fn for each tag once it has arrived whole (wire is the number of bytes it
// took: header, body, previous tag size; the file header is reported as a
// tag of type 0 with its size). Payloads are discarded after the video
// codec header is parsed: nothing is allocated. It returns when br fails.
func readFLV(br *bufio.Reader, fn func(t flvTag, wire int)) error {
	hdr, err := br.Peek(flv.HeaderSize)
	if err != nil {
		return fmt.Errorf("flv header: %w", err)
	}
	if hdr[0] != 'F' || hdr[1] != 'L' || hdr[2] != 'V' {
		return errNoFLV
	}
	offset := int(binary.BigEndian.Uint32(hdr[5:9]))
	if offset < flv.HeaderSize || offset > flv.HeaderSize+maxFLVHeaderPadding {
		return fmt.Errorf("flv header: data offset %d", offset)
	}
	if _, err := br.Discard(offset + flv.PreviousTagSizeLen); err != nil {
		return fmt.Errorf("flv header: %w", err)
	}
	fn(flvTag{size: offset}, offset+flv.PreviousTagSizeLen)
	for {
		b, err := br.Peek(flv.TagHeaderSize)
		if err != nil {
			return err
		}
		typ, size, ts, err := flv.ParseTagHeader(b)
		if err != nil {
			return err
		}
		t := flvTag{typ: typ, ts: ts, size: size}
		if typ == flv.TagVideo && size > 0 {
			b, err := br.Peek(flv.TagHeaderSize + min(size, videoPrefixLen))
			if err != nil {
				return err
			}
			t.coded, t.key = videoKind(b[flv.TagHeaderSize:])
		}
		n := flv.TagHeaderSize + size + flv.PreviousTagSizeLen
		if _, err := br.Discard(n); err != nil {
			return err
		}
		fn(t, n)
	}
}

// scanFLV plays an FLV byte stream: bytes, first frame, gaps, latency.
func (v *viewer) scanFLV(r io.Reader, br *bufio.Reader) error {
	br.Reset(r)
	defer br.Reset(nil)
	return readFLV(br, v.onFLVTag)
}

// onFLVTag handles one tag of an FLV viewer.
func (v *viewer) onFLVTag(t flvTag, wire int) {
	now := v.clock.since()
	v.arrived(wire, now)
	switch {
	case t.coded:
		v.video(t.ts, t.key, now)
		v.frameLatency(t.ts, now)
	case t.typ == flv.TagAudio && t.size > 1:
		v.audioLatency(t.ts, now)
	}
}

// runHTTPFLV plays the stream over HTTP-FLV.
func (v *viewer) runHTTPFLV(ctx context.Context, client *http.Client, br *bufio.Reader) error {
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		v.stamps, _ = info.Conn.(*stampConn)
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError(resp)
	}
	return v.scanFLV(resp.Body, br)
}

// statusError describes an unexpected HTTP answer.
func statusError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return fmt.Errorf("HTTP %s: %s", resp.Status, strings.TrimSpace(string(body)))
}

// runWSFLV plays the stream over WebSocket-FLV.
func (v *viewer) runWSFLV(ctx context.Context, dialer *websocket.Dialer, br *bufio.Reader) error {
	conn, resp, err := dialer.DialContext(ctx, v.url, nil)
	if err != nil {
		if resp != nil {
			defer resp.Body.Close()
			return fmt.Errorf("websocket: %w (%v)", err, statusError(resp))
		}
		return fmt.Errorf("websocket: %w", err)
	}
	v.stamps, _ = conn.NetConn().(*stampConn)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	defer conn.Close()
	return v.scanFLV(&wsStream{conn: conn}, br)
}

// wsStream reads the concatenated payloads of a WebSocket's binary messages
// as one byte stream.
type wsStream struct {
	conn *websocket.Conn
	cur  io.Reader
}

// Read implements io.Reader.
func (s *wsStream) Read(p []byte) (int, error) {
	for {
		if s.cur == nil {
			typ, r, err := s.conn.NextReader()
			if err != nil {
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				continue
			}
			s.cur = r
		}
		n, err := s.cur.Read(p)
		if errors.Is(err, io.EOF) {
			s.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// runRTMP plays the stream over RTMP. Bytes counted are message payloads
// (the client does not expose chunk headers).
func (v *viewer) runRTMP(ctx context.Context, base string) error {
	c, err := rtmp.Dial(ctx, base, rtmp.ClientConfig{Dial: v.dial})
	if err != nil {
		return err
	}
	v.stamps, _ = c.Conn().(*stampConn)
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	defer c.Close()
	if err := c.Play(v.name); err != nil {
		return fmt.Errorf("play: %w", err)
	}
	for {
		msg, err := c.ReadMessage()
		if err != nil {
			return err
		}
		now := v.clock.since()
		switch msg.Type {
		case chunk.TypeVideo, chunk.TypeAudio, chunk.TypeDataAMF0:
			v.rtmpTag(msg.Type, msg.Timestamp, msg.Payload, now)
		case chunk.TypeAggregate:
			err := chunk.SplitAggregate(msg.Payload, func(typ chunk.MessageType, ts uint32, data []byte) error {
				v.rtmpTag(typ, ts, data, now)
				return nil
			})
			if err != nil {
				return fmt.Errorf("aggregate: %w", err)
			}
		}
	}
}

// rtmpTag handles one media message of an RTMP viewer.
func (v *viewer) rtmpTag(typ chunk.MessageType, ts uint32, payload []byte, now time.Duration) {
	v.arrived(len(payload), now)
	if typ == chunk.TypeAudio && len(payload) > 1 {
		v.audioLatency(ts, now)
	}
	if typ != chunk.TypeVideo {
		return
	}
	if coded, key := videoKind(payload[:min(len(payload), videoPrefixLen)]); coded {
		v.video(ts, key, now)
		v.frameLatency(ts, now)
	}
}

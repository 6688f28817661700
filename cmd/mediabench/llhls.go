package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"time"
)

// LL-HLS client behaviour.
const (
	// llCalibrationTolerance is how close a keyframe's send time must be to
	// a segment's program date-time for the keyframe to be taken as that
	// segment's first frame: well under any keyframe interval.
	llCalibrationTolerance = 400 * time.Millisecond
	// llMaxFailures is how many playlist requests in a row may fail (4xx,
	// 5xx) before the client gives up.
	llMaxFailures = 20
	// llDefaultPartTarget is the pause after a failed request when the
	// playlist announces no part target.
	llDefaultPartTarget = 200 * time.Millisecond
)

// llCounters are an LL-HLS client's figures.
type llCounters struct {
	Parts     uint64 `json:"parts"`      // parts fetched
	Missed    uint64 `json:"missed"`     // parts listed and gone before fetched, or skipped over
	Playlists uint64 `json:"playlists"`  // playlist requests answered
	Status4xx uint64 `json:"status_4xx"` // answers 400–499 (a part gone counts here too)
	Status5xx uint64 `json:"status_5xx"`
	// Unmapped are parts whose last frame could not be matched to the
	// publisher's send time (before the first calibration, or after the
	// server's timeline moved).
	Unmapped uint64 `json:"unmapped"`
}

// llClient plays one stream as hls.js does in low-latency mode: one
// playlist load, the init section, then blocking playlist reloads for the
// next part and a request for each new part, sent as soon as the playlist
// hints it (EXT-X-PRELOAD-HINT) and answered by the server once the part is
// complete. It never fetches a whole segment. Its buffers are reused from
// request to request.
type llClient struct {
	v      *viewer
	client *http.Client
	// ctx carries the connection trace that points v.stamps at the
	// connection each request uses.
	ctx context.Context
	// probe: ignore preload hints and fetch each part once a blocking reload
	// lists it, measuring when parts become available.
	probe bool

	playlistURL string
	dir, origin string // of the playlist URL, for relative URIs
	br          *bufio.Reader
	body        bytes.Buffer
	pl          llPlaylist
	scan        fmp4Scanner
	urlBuf      []byte
	hintURI     []byte

	// pos is the last part fetched (started: one was); startAt the first
	// part to fetch.
	pos, startAt partID
	started      bool
	// hinted: pos was fetched through a preload hint and no playlist has
	// listed it yet; hintPrev is the part fetched before it.
	hinted   bool
	hintPrev partID
	// lastRun is what the last part fetched held; hintRun the same of the
	// part fetched through the last hint.
	lastRun, hintRun fmp4Run
	// offset maps the server's media timeline onto the publisher's
	// timestamps: server ms − publisher ms.
	offset     int64
	calibrated bool
	// listedAt is when the last blocking reload answered.
	listedAt time.Duration
	failures int
}

// runLLHLS plays the stream as an LL-HLS client until ctx ends or the
// stream does.
func (v *viewer) runLLHLS(ctx context.Context, client *http.Client, br *bufio.Reader, connectTimeout time.Duration, probe bool) error {
	c, err := newLLClient(ctx, v, client, br, probe)
	if err != nil {
		return err
	}
	if err := c.start(connectTimeout); err != nil {
		return err
	}
	idle := 0 // rounds in a row that brought no part
	for {
		before := c.v.ll.Parts + c.v.ll.Missed
		if err := c.fetchListed(); err != nil {
			return err
		}
		if c.pl.endList {
			return errStreamEnded
		}
		want := c.pl.next(c.pos)
		if !c.started {
			want = c.pl.next(c.lastListed())
		}
		if !c.probe && c.started && c.pl.hint != nil && c.isLast(c.pos) {
			got, err := c.fetchHint(want)
			if err != nil {
				return err
			}
			if got {
				want = c.pos // the playlist that lists it, answered at once
			}
		}
		// A server that answers blocking reloads before the part exists
		// must not make the client spin.
		idle++
		if c.v.ll.Parts+c.v.ll.Missed != before {
			idle = 0
		}
		if idle > 1 && sleepCtx(c.ctx, c.partTarget()/2) != nil {
			return c.ctx.Err()
		}
		if err := c.reload(want); err != nil {
			return err
		}
	}
}

// newLLClient prepares viewer v's LL-HLS client.
func newLLClient(ctx context.Context, v *viewer, client *http.Client, br *bufio.Reader, probe bool) (*llClient, error) {
	c := &llClient{v: v, client: client, probe: probe, br: br, playlistURL: v.url}
	c.ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		v.stamps, _ = info.Conn.(*stampConn)
	}})
	scheme, rest, ok := strings.Cut(v.url, "://")
	if !ok {
		return nil, fmt.Errorf("ll-hls: playlist URL %q", v.url)
	}
	host, _, _ := strings.Cut(rest, "/")
	c.origin = scheme + "://" + host
	c.dir = v.url[:strings.LastIndexByte(v.url, '/')+1]
	c.scan.onSample = func(dts uint64, sync bool) {
		v.video(c.scan.video.toMs(dts), sync, v.clock.since())
	}
	return c, nil
}

// start loads the playlist until it lists an independent part, and the
// init section.
func (c *llClient) start(connectTimeout time.Duration) error {
	for {
		err := c.loadPlaylist(c.playlistURL)
		if err == nil && len(c.pl.mapURI) == 0 {
			return errNoInitSection
		}
		if err == nil {
			for i := len(c.pl.parts) - 1; i >= 0; i-- {
				if p := &c.pl.parts[i]; p.independent {
					c.startAt = partID{msn: p.msn, index: p.index}
					return c.loadInit()
				}
			}
			err = errNoPartYet
		}
		// Before the first part, "not found", "not ready" and a playlist
		// without parts are a stream still starting.
		var st *httpStatusError
		starting := errors.Is(err, errNoPartYet) ||
			errors.As(err, &st) && (st.code == http.StatusNotFound || st.code == http.StatusServiceUnavailable)
		if !starting || c.ctx.Err() != nil || c.v.clock.since()-c.v.connectStart >= connectTimeout {
			return err
		}
		if sleepCtx(c.ctx, hlsRetryInterval) != nil {
			return c.ctx.Err()
		}
	}
}

// loadInit fetches the init section and finds the video track.
func (c *llClient) loadInit() error {
	resp, err := c.get(c.resolve(c.pl.mapURI))
	if err != nil {
		return fmt.Errorf("init section: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("init section: %w", statusError(resp))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxInitBytes+1))
	if err != nil {
		return fmt.Errorf("init section: %w", err)
	}
	c.v.bytes.Add(uint64(len(b)))
	if len(b) > maxInitBytes {
		return fmt.Errorf("init section above %d bytes", maxInitBytes)
	}
	c.scan.video, err = parseInitVideo(b)
	return err
}

// lastListed returns the last part the playlist lists (the zero partID
// when none).
func (c *llClient) lastListed() partID {
	if p := c.pl.lastPart(); p != nil {
		return partID{msn: p.msn, index: p.index}
	}
	return partID{}
}

// isLast reports whether p is the last part the playlist lists: the
// playlist's preload hint is then for the part after p.
func (c *llClient) isLast(p partID) bool {
	last := c.pl.lastPart()
	return last != nil && last.msn == p.msn && last.index == p.index
}

// fetchListed fetches, in order, every listed part after the last one
// fetched, counting the parts that were skipped over.
func (c *llClient) fetchListed() error {
	if c.hinted {
		c.confirmHint()
	}
	for i := range c.pl.parts {
		p := &c.pl.parts[i]
		id := partID{msn: p.msn, index: p.index}
		if c.started {
			if !c.pos.less(id) {
				continue
			}
			if want := c.pl.next(c.pos); id != want {
				c.skipped(want, id)
			}
		} else if id.less(c.startAt) {
			continue
		}
		var listedAt time.Duration
		if c.probe {
			listedAt = c.listedAt
		}
		ok, err := c.fetchPart(p.uri, id, p.pdt, listedAt)
		if err != nil {
			return err
		}
		c.pos, c.started = id, true
		if !ok {
			c.v.ll.Missed++ // listed, then gone
			c.v.haveDTS = false
		}
	}
	return nil
}

// confirmHint finds the part fetched through the last preload hint in the
// new playlist, by its URI, and takes its place in the playlist as the last
// part fetched; the part's segment date may now anchor the timeline.
func (c *llClient) confirmHint() {
	c.hinted = false
	for i := range c.pl.parts {
		p := &c.pl.parts[i]
		if !bytes.Equal(p.uri, c.hintURI) {
			continue
		}
		id := partID{msn: p.msn, index: p.index}
		if want := c.pl.next(c.hintPrev); id != want {
			c.skipped(want, id) // the hint was for a later part than the next
		}
		c.pos = id
		if !c.calibrated && p.index == 0 {
			c.calibrate(c.hintRun, p.pdt)
		}
		return
	}
}

// skipped counts the parts between want (the next one expected) and got
// (the next one listed, later): all of them in the same segment; across
// segments, got's index plus one for each segment passed whole, and for
// want's own segment when want is its first part (a later index may not
// exist: the segment can have ended before it). At least one.
func (c *llClient) skipped(want, got partID) {
	var n uint64
	switch {
	case got.msn == want.msn:
		n = uint64(max(got.index-want.index, 0))
	case want.index == 0:
		n = got.msn - want.msn + uint64(got.index)
	default:
		n = got.msn - want.msn - 1 + uint64(got.index)
	}
	c.v.ll.Missed += max(n, 1)
	c.v.gaps++
	c.v.haveDTS = false
}

// fetchHint requests the hinted part, which the server answers once it is
// complete. It reports whether the part was fetched; a part the server
// does not have is left to the next playlist.
func (c *llClient) fetchHint(id partID) (bool, error) {
	c.hintURI = append(c.hintURI[:0], c.pl.hint...)
	pdt := time.Time{}
	if p := c.pl.lastPart(); p != nil && p.msn == id.msn {
		pdt = p.pdt // the segment goes on; else its date is not known yet
	}
	ok, err := c.fetchPart(c.hintURI, id, pdt, 0)
	if err != nil || !ok {
		return false, err
	}
	c.hintPrev = c.pos
	c.pos, c.hinted, c.hintRun = id, true, c.lastRun
	return true, nil
}

// fetchPart fetches one part, scans its samples and records its
// freshness; listedAt (when non-zero) is when a playlist first listed it.
// It reports false, with the status counted, when the server did not
// answer with the part.
func (c *llClient) fetchPart(uri []byte, id partID, pdt time.Time, listedAt time.Duration) (bool, error) {
	resp, err := c.get(c.resolve(uri))
	if err != nil {
		return false, fmt.Errorf("part %d.%d: %w", id.msn, id.index, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.countStatus(resp.StatusCode)
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return false, nil
	}
	c.br.Reset(resp.Body)
	run, n, err := c.scan.scan(c.br)
	c.br.Reset(nil)
	now := c.v.clock.since()
	if c.v.ll.Parts == 0 {
		// The first keyframe was noted while the part was scanned: the
		// silence is counted from this first arrival.
		c.v.lastArrival.Store(int64(now))
	}
	c.v.arrived(int(n), now)
	if err != nil {
		return false, fmt.Errorf("part %d.%d: %w", id.msn, id.index, err)
	}
	c.v.ll.Parts++
	c.lastRun = run
	if !c.calibrated && id.index == 0 {
		c.calibrate(run, pdt)
	}
	c.measure(run, c.v.socketTime(now), listedAt)
	return true, nil
}

// calibrate anchors the server's media timeline on the publisher's
// timestamps: the first frame of a segment that starts with a keyframe is
// the publisher's keyframe sent nearest the segment's program date-time
// (keyframes being much further apart than the two clocks).
func (c *llClient) calibrate(run fmp4Run, pdt time.Time) {
	v := c.v
	if run.samples == 0 || !run.firstSync || pdt.IsZero() || v.keys == nil {
		return
	}
	at := pdt.Sub(v.clock.base)
	if dts, sent, ok := v.keys.nearest(at); ok && (sent-at).Abs() < llCalibrationTolerance {
		c.offset = int64(c.scan.video.toMs(run.firstDTS)) - int64(dts)
		c.calibrated = true
	}
}

// measure records the freshness of a part that arrived at arrival: that
// time minus the publisher's send time of the part's last video frame;
// and, with listedAt, the part's availability (listedAt minus that send).
func (c *llClient) measure(run fmp4Run, arrival, listedAt time.Duration) {
	v := c.v
	if run.samples == 0 || v.sends == nil {
		return
	}
	if !c.calibrated {
		v.ll.Unmapped++
		return
	}
	sent, ok := v.sends.lookup(uint32(int64(c.scan.video.toMs(run.lastDTS)) - c.offset))
	if !ok {
		v.ll.Unmapped++
		c.calibrated = false // the timeline moved: a new anchor is needed
		return
	}
	if sent < v.connectStart {
		return // sent before the client came: not live
	}
	if v.lat != nil {
		v.lat.add(arrival - sent)
	}
	if v.avail != nil && listedAt > 0 {
		v.avail.add(listedAt - sent)
	}
}

// reload asks for the playlist once it lists part want (a blocking
// reload), with a delta update when the server offers them. A refused or
// failed request is counted and followed by a plain reload after a pause.
func (c *llClient) reload(want partID) error {
	u := append(c.urlBuf[:0], c.playlistURL...)
	u = append(u, "?_HLS_msn="...)
	u = strconv.AppendUint(u, want.msn, 10)
	u = append(u, "&_HLS_part="...)
	u = strconv.AppendInt(u, int64(want.index), 10)
	if c.pl.canSkipUntil > 0 && c.calibrated {
		u = append(u, "&_HLS_skip=YES"...)
	}
	c.urlBuf = u
	if !c.pl.canBlock {
		u = append(u[:0], c.playlistURL...) // no blocking reload: poll
		if err := sleepCtx(c.ctx, c.partTarget()); err != nil {
			return err
		}
	}
	err := c.loadPlaylist(string(u))
	if err == nil {
		c.failures = 0
		return nil
	}
	var st *httpStatusError
	if !errors.As(err, &st) {
		return err
	}
	c.failures++
	if c.failures >= llMaxFailures {
		return err
	}
	if err := sleepCtx(c.ctx, c.partTarget()); err != nil {
		return err
	}
	err = c.loadPlaylist(c.playlistURL)
	if errors.As(err, &st) {
		return nil // counted; the next round tries again
	}
	return err
}

// partTarget returns the playlist's part target, or a default.
func (c *llClient) partTarget() time.Duration {
	if c.pl.partTarget > 0 {
		return c.pl.partTarget
	}
	return llDefaultPartTarget
}

// loadPlaylist fetches and parses a playlist into c.pl. An HTTP error
// status is an *httpStatusError, counted; c.pl is then unchanged.
func (c *llClient) loadPlaylist(u string) error {
	resp, err := c.get(u)
	if err != nil {
		return fmt.Errorf("playlist: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.countStatus(resp.StatusCode)
		return &httpStatusError{code: resp.StatusCode, msg: "playlist: " + statusError(resp).Error()}
	}
	c.body.Reset()
	if _, err := c.body.ReadFrom(io.LimitReader(resp.Body, maxPlaylistBytes+1)); err != nil {
		return fmt.Errorf("playlist: %w", err)
	}
	c.listedAt = c.v.socketTime(c.v.clock.since())
	c.v.bytes.Add(uint64(c.body.Len()))
	c.v.ll.Playlists++
	return c.pl.parse(c.body.Bytes())
}

// countStatus counts an HTTP error status.
func (c *llClient) countStatus(code int) {
	switch {
	case code >= 500:
		c.v.ll.Status5xx++
	case code >= 400:
		c.v.ll.Status4xx++
	}
}

// get sends a GET for u.
func (c *llClient) get(u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(c.ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return c.client.Do(req)
}

// resolve returns the absolute URL of a URI of the playlist.
func (c *llClient) resolve(uri []byte) string {
	switch {
	case bytes.Contains(uri, []byte("://")):
		return string(uri)
	case len(uri) > 0 && uri[0] == '/':
		return string(append(append(c.urlBuf[:0], c.origin...), uri...))
	}
	return string(append(append(c.urlBuf[:0], c.dir...), uri...))
}

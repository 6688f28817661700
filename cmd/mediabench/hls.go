package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// HLS viewer behaviour.
const (
	// hlsLiveEdgeSegments: a viewer starts this many segments from the end
	// of the playlist, as hls.js does by default.
	hlsLiveEdgeSegments = 3
	// hlsRetryInterval is the wait between playlist requests while the
	// stream has no segment yet.
	hlsRetryInterval = 250 * time.Millisecond
	// hlsDefaultReload is the reload interval when the playlist announces no
	// target duration.
	hlsDefaultReload = time.Second
)

// hlsCounters are an HLS viewer's segment figures.
type hlsCounters struct {
	Segments  uint64 `json:"segments"`  // segments downloaded
	Missed    uint64 `json:"missed"`    // segments that left the window before being fetched
	Playlists uint64 `json:"playlists"` // playlist requests answered
	Underruns uint64 `json:"underruns"` // times a player would have run out of media
}

// httpStatusError is an unexpected HTTP status.
type httpStatusError struct {
	code int
	msg  string
}

// Error implements error.
func (e *httpStatusError) Error() string { return e.msg }

// hlsPlayer models playback: it starts when the first segment is complete
// and plays in real time; a segment completing after the media downloaded
// so far would have run out is an underrun (a stall), after which playback
// resumes from the new segment.
type hlsPlayer struct {
	started   bool
	playStart time.Duration // when position 0 played, adjusted after underruns
	buffered  time.Duration // media downloaded
	lastAt    time.Duration // when the last segment completed
}

// segment records a segment of duration d completed at now. It reports an
// underrun and returns the silence since the previous segment.
func (p *hlsPlayer) segment(d, now time.Duration) (underrun bool, silence time.Duration) {
	if !p.started {
		p.started, p.playStart, p.lastAt, p.buffered = true, now, now, d
		return false, 0
	}
	silence = now - p.lastAt
	if now-p.playStart > p.buffered {
		underrun = true
		p.playStart = now - p.buffered
	}
	p.buffered += d
	p.lastAt = now
	return underrun, silence
}

// runHLS plays the stream as an HLS client: it reloads the media playlist
// (after a target duration when it changed, half of one when it did not),
// downloads every new segment in order, starting hlsLiveEdgeSegments from
// the live edge, and scans the segments' video timestamps. Segments are
// MPEG-TS or, when the playlist names an init section, fMP4; the parts of
// a low-latency playlist are not fetched.
func (v *viewer) runHLS(ctx context.Context, client *http.Client, br *bufio.Reader, connectTimeout time.Duration) error {
	base, err := url.Parse(v.url)
	if err != nil {
		return err
	}
	var (
		next    uint64
		started bool
		scan    = hlsScanners{ts: newTSScanner()}
		player  hlsPlayer
	)
	scan.fmp4.onSample = func(dts uint64, sync bool) {
		v.video(scan.fmp4.video.toMs(dts), sync, v.clock.since())
	}
	connectWall := v.clock.base.Add(v.connectStart)
	for {
		pl, err := v.fetchPlaylist(ctx, client, v.url)
		if err == nil && !started && len(pl.Segments) == 0 {
			err = errNoSegmentYet
		}
		if err != nil {
			// Before the first segment, "not found", "not ready" and an empty
			// playlist are a stream still starting.
			var st *httpStatusError
			starting := errors.Is(err, errNoSegmentYet) ||
				errors.As(err, &st) && (st.code == http.StatusNotFound || st.code == http.StatusServiceUnavailable)
			retry := !started && ctx.Err() == nil && starting
			if retry && v.clock.since()-v.connectStart < connectTimeout {
				if sleepCtx(ctx, hlsRetryInterval) != nil {
					return ctx.Err()
				}
				continue
			}
			return err
		}
		if !started {
			next = pl.Segments[max(0, len(pl.Segments)-hlsLiveEdgeSegments)].Seq
			started = true
			if pl.Map != "" {
				if err := v.fetchInit(ctx, client, base, pl.Map, &scan.fmp4); err != nil {
					return err
				}
			}
		}
		if len(pl.Segments) > 0 && next < pl.Segments[0].Seq {
			v.missed(pl.Segments[0].Seq - next)
			next = pl.Segments[0].Seq
		}
		fresh := false
		for _, seg := range pl.Segments {
			if seg.Seq < next {
				continue
			}
			next, fresh = seg.Seq+1, true
			if seg.Discontinuity {
				v.haveDTS = false
			}
			ref, err := url.Parse(seg.URI)
			if err != nil {
				return fmt.Errorf("hls: segment URI %q: %w", shortText(seg.URI), err)
			}
			err = v.fetchSegment(ctx, client, base.ResolveReference(ref).String(), br, &scan)
			if errors.Is(err, errSegmentGone) {
				v.missed(1)
				continue
			}
			if err != nil {
				return err
			}
			now := v.clock.since()
			if v.hls.Segments == 0 && v.firstFrame.Load() != 0 {
				v.firstFrame.Store(int64(now)) // playable once the segment is whole
			}
			v.hls.Segments++
			underrun, silence := player.segment(seg.Duration, now)
			if underrun {
				v.hls.Underruns++
				v.stalled.Store(true)
			}
			v.maxSilence = max(v.maxSilence, silence)
			v.lastArrival.Store(int64(now))
			if v.lat != nil && !seg.ProgramDate.IsZero() {
				end := seg.ProgramDate.Add(seg.Duration)
				if !end.Before(connectWall) {
					v.lat.add(v.clock.base.Add(now).Sub(end))
				}
			}
		}
		if pl.EndList {
			return errStreamEnded
		}
		wait := pl.Target / 2
		if fresh {
			wait = pl.Target
		}
		if wait <= 0 {
			wait = hlsDefaultReload
		}
		if sleepCtx(ctx, wait) != nil {
			return ctx.Err()
		}
	}
}

// missed counts n segments the viewer never got: a gap in its timeline.
func (v *viewer) missed(n uint64) {
	v.hls.Missed += n
	v.gaps += n
	v.haveDTS = false // the timestamp jump is that same gap
}

// fetchPlaylist downloads and parses the media playlist.
func (v *viewer) fetchPlaylist(ctx context.Context, client *http.Client, u string) (mediaPlaylist, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return mediaPlaylist{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return mediaPlaylist{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := statusError(resp)
		return mediaPlaylist{}, &httpStatusError{code: resp.StatusCode, msg: "playlist: " + err.Error()}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPlaylistBytes+1))
	if err != nil {
		return mediaPlaylist{}, fmt.Errorf("playlist: %w", err)
	}
	v.bytes.Add(uint64(len(body)))
	v.hls.Playlists++
	return parsePlaylist(body)
}

// hlsScanners scan the segments of either container.
type hlsScanners struct {
	ts   tsScanner
	fmp4 fmp4Scanner
}

// fetchInit downloads the init section of fMP4 segments and finds their
// video track.
func (v *viewer) fetchInit(ctx context.Context, client *http.Client, base *url.URL, uri string, scan *fmp4Scanner) error {
	ref, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("hls: init section URI %q: %w", shortText(uri), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.ResolveReference(ref).String(), nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("hls: init section: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("hls: init section: %w", statusError(resp))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxInitBytes+1))
	if err != nil {
		return fmt.Errorf("hls: init section: %w", err)
	}
	v.bytes.Add(uint64(len(b)))
	if len(b) > maxInitBytes {
		return fmt.Errorf("hls: init section above %d bytes", maxInitBytes)
	}
	scan.video, err = parseInitVideo(b)
	return err
}

// fetchSegment downloads one segment, scanning it as it arrives (nothing
// is kept), and feeds the video timestamps to the viewer. A segment that
// does not start with an MPEG-TS sync byte is read as fMP4 when the
// playlist named an init section.
func (v *viewer) fetchSegment(ctx context.Context, client *http.Client, u string, br *bufio.Reader, scanners *hlsScanners) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusGone:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return errSegmentGone
	default:
		return fmt.Errorf("segment: %w", statusError(resp))
	}
	br.Reset(resp.Body)
	defer br.Reset(nil)
	if first, err := br.Peek(1); err == nil && first[0] != tsSyncByte && scanners.fmp4.video.trackID != 0 {
		_, n, err := scanners.fmp4.scan(br)
		v.bytes.Add(uint64(n))
		if err != nil {
			return fmt.Errorf("segment: %w", err)
		}
		return nil
	}
	scan := &scanners.ts
	var n uint64
	defer func() { v.bytes.Add(n) }()
	for {
		p, err := br.Peek(tsPacketSize)
		if len(p) == 0 && errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("segment: %d trailing bytes", len(p))
			}
			return fmt.Errorf("segment: %w", err)
		}
		pes, ok, err := scan.packet(p)
		if err != nil {
			return fmt.Errorf("segment: %w", err)
		}
		if _, err := br.Discard(tsPacketSize); err != nil {
			return err
		}
		n += tsPacketSize
		if ok {
			v.video(uint32(pes.DTS*1000/tsClock), pes.RandomAccess, v.clock.since())
		}
	}
}

// sleepCtx waits for d or until ctx ends, whose error it returns.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

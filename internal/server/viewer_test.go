package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

// tagRecord is one FLV tag an HTTP-FLV test viewer received.
type tagRecord struct {
	typ    flv.TagType
	ts     uint32
	header bool // sequence header or metadata
	key    bool // video keyframe
	at     time.Time
}

// flvViewer reads an HTTP-FLV stream, records its tags and keeps the bytes
// in a file for ffmpeg to decode afterwards.
type flvViewer struct {
	file   string
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	tags []tagRecord
	err  error // why reading stopped
}

// watchFLV starts a viewer of url; it stops when the test ends or Stop is
// called.
func watchFLV(t *testing.T, url string) *flvViewer {
	t.Helper()
	return watchFLVThrough(t, url, nil, nil)
}

// watchFLVThrough is watchFLV over a connection dialled by dial (a
// net.Dialer's when nil), reading the body through wrap (when not nil).
func watchFLVThrough(t *testing.T, url string, dial func(ctx context.Context, network, addr string) (net.Conn, error),
	wrap func(io.Reader) io.Reader) *flvViewer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true, DialContext: dial}}).Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	f, err := os.CreateTemp(t.TempDir(), "viewer-*.flv")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	v := &flvViewer{file: f.Name(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(v.done)
		defer f.Close()
		defer resp.Body.Close()
		var body io.Reader = resp.Body
		if wrap != nil {
			body = wrap(body)
		}
		r := flv.NewReader(io.TeeReader(body, f))
		_, err := r.ReadHeader()
		for err == nil {
			var tag flv.Tag
			tag, err = r.ReadTag()
			if err != nil {
				break
			}
			rec := tagRecord{typ: tag.Type, ts: tag.Timestamp, at: time.Now()}
			switch tag.Type {
			case flv.TagVideo:
				h, herr := flv.ParseVideoTagHeader(tag.Data)
				rec.header = herr == nil && h.IsSequenceHeader()
				rec.key = herr == nil && h.Keyframe()
			case flv.TagAudio:
				h, herr := flv.ParseAudioTagHeader(tag.Data)
				rec.header = herr == nil && h.IsSequenceHeader()
			default:
				rec.header = true
			}
			v.mu.Lock()
			v.tags = append(v.tags, rec)
			v.mu.Unlock()
		}
		v.mu.Lock()
		v.err = err
		v.mu.Unlock()
	}()
	t.Cleanup(v.Stop)
	return v
}

// Stop ends the viewer and waits for it.
func (v *flvViewer) Stop() {
	v.cancel()
	<-v.done
}

// snapshot returns the tags so far.
func (v *flvViewer) snapshot() []tagRecord {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]tagRecord(nil), v.tags...)
}

// ended reports whether reading stopped, and why.
func (v *flvViewer) ended() (bool, error) {
	select {
	case <-v.done:
		v.mu.Lock()
		defer v.mu.Unlock()
		return true, v.err
	default:
		return false, nil
	}
}

// timelineProblems checks that the media timestamps of each track never go
// back and never step by more than maxStep ms.
func timelineProblems(tags []tagRecord, maxStep uint32) []string {
	var out []string
	last := map[flv.TagType]uint32{}
	for _, tag := range tags {
		if tag.header || tag.typ == flv.TagScript {
			continue
		}
		if prev, ok := last[tag.typ]; ok && (tag.ts < prev || tag.ts-prev > maxStep) {
			out = append(out, fmt.Sprintf("%v %d→%d", tag.typ, prev, tag.ts))
		}
		last[tag.typ] = tag.ts
	}
	return out
}

package hls

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// dropWatch polls a multivariant playlist until a variant URI leaves it
// and records when.
type dropWatch struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	at   time.Time // when a playlist first came without the URI
}

func watchDrop(url, uri string) *dropWatch {
	d := &dropWatch{stop: make(chan struct{})}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-d.stop:
				return
			case <-tick.C:
			}
			resp, err := http.Get(url)
			if err != nil {
				continue
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK && !strings.Contains(string(body), uri) {
				d.mu.Lock()
				d.at = time.Now()
				d.mu.Unlock()
				return
			}
		}
	}()
	return d
}

// dropped stops the watch and returns when the URI left the playlist
// (zero if it did not).
func (d *dropWatch) dropped() time.Time {
	close(d.stop)
	d.wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.at
}

func TestGroupOfPublishersIsOneMultivariantPlaylist(t *testing.T) {
	const target = 2 * time.Second
	// The stopped member's stream waits for its publisher to come back, as
	// with the server's default republish window.
	s := startStackWithHub(t, Config{Variant: VariantLowLatency, SegmentDuration: target, EndListDelay: 3 * time.Second,
		Groups: map[string][]string{"live/show": {"live/show_360", "live/show_270", "live/show_180"}}},
		stream.Config{RepublishWindow: stream.DefaultRepublishWindow})
	url := s.playlistURL("show")
	if code, _, _ := httpGet(t, url); code != http.StatusNotFound {
		t.Errorf("group playlist with no member live: %d, want 404", code)
	}
	members := []struct {
		name          string
		width, height int
		rate          string
	}{{"show_360", 640, 360, "800k"}, {"show_270", 480, 270, "400k"}, {"show_180", 320, 180, "200k"}}
	pubs := make([]*testenv.Process, len(members))
	for i, m := range members {
		pubs[i] = testenv.Publish(t, s.rtmpURL(m.name), testenv.Source{Width: m.width, Height: m.height, FPS: 25,
			Extra: []string{"-b:v", m.rate}})
		defer pubs[i].Kill()
	}
	var vs []variantAttrs
	testenv.WaitFor(t, 60*time.Second, "three variants", func() bool {
		code, _, body := httpGet(t, url)
		vs = parseVariants(body)
		return code == http.StatusOK && len(vs) == 3
	})
	for i, v := range vs {
		if want := members[i].name + ".m3u8"; v.uri != want {
			t.Errorf("variant %d: URI %q, want %q", i, v.uri, want)
		}
		checkVariant(t, v, members[i].width, members[i].height)
	}
	checkMediaPlaylists(t, s.httpURL+"/live/", url, vs)
	checkSwitching(t, url, 3)

	// The first member stops while hls.js plays (and switches levels): the
	// group's playlist drops it within one target duration, and playback
	// goes on with the others.
	watch := watchDrop(url, members[0].name+".m3u8")
	var killedAt time.Time
	var killMu sync.Mutex
	killer := time.AfterFunc(6*time.Second, func() {
		killMu.Lock()
		defer killMu.Unlock()
		pubs[0].Kill()
		killedAt = time.Now()
	})
	defer killer.Stop()
	r := browsertest.PlaySwitchingLevels(t, url, 18*time.Second, 3*time.Second)
	droppedAt := watch.dropped()
	killMu.Lock()
	defer killMu.Unlock()
	if killedAt.IsZero() || droppedAt.IsZero() {
		t.Fatalf("publisher killed at %v, variant dropped at %v", killedAt, droppedAt)
	}
	if late := droppedAt.Sub(killedAt); late > target {
		t.Errorf("the stopped member left the playlist %v after its publisher, more than one target duration", late)
	}
	if errs := fatalPlayerErrors(r); len(errs) > 0 {
		t.Errorf("hls.js errors: %v", errs)
	}
	n := len(r.Samples)
	if n < 10 || r.Samples[n-1][1]-r.Samples[n-9][1] < 2 {
		t.Errorf("currentTime did not keep advancing after the member stopped: %v", r.Samples)
	}
	_, _, body := httpGet(t, url)
	if got := parseVariants(body); len(got) != 2 {
		t.Errorf("after one member stopped the group lists:\n%s", body)
	}

	// A player blocked on the playlist of a member whose publisher stops
	// (its stream waits for it to come back) is answered 404 at once, so
	// that it switches variant, rather than 503 after the blocking timeout.
	_, _, media := httpGet(t, s.playlistURL(members[1].name))
	blocked := fmt.Sprintf("%s?_HLS_msn=%d", s.playlistURL(members[1].name), edgeOf(t, media).lastMSN+2)
	answer := make(chan int, 1)
	go func() {
		resp, err := http.Get(blocked)
		if err != nil {
			answer <- 0
			return
		}
		resp.Body.Close()
		answer <- resp.StatusCode
	}()
	pubs[1].Kill()
	if code := <-answer; code != http.StatusNotFound {
		t.Errorf("blocking reload of a member that stopped: %d, want 404", code)
	}
}

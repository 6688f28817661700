package hls

import (
	"context"
	"encoding/base32"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// queryAuthorizer allows play requests whose query is "user=good".
type queryAuthorizer struct{}

// Authorize refuses every query but "user=good".
func (queryAuthorizer) Authorize(_ context.Context, req stream.AccessRequest) error {
	if req.Action != stream.ActionPlay || req.Protocol != stream.ProtocolHLS {
		return errors.New("unexpected request")
	}
	if req.Query != "user=good" {
		return errors.New("subscribers only")
	}
	return nil
}

// TestSegmentFetchedWithoutPlayAuthorisation pins the segment guess: a
// client refused the playlist could fetch its segments, which were never
// authorised. Segments are now asked about with the query the playlist
// propagated into their URIs.
func TestSegmentFetchedWithoutPlayAuthorisation(t *testing.T) {
	tm := startManager(t, Config{Authorizer: queryAuthorizer{}})
	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30}.frames(t, 4100))
	if resp, _ := tm.get(t, http.MethodGet, "/live/cam.m3u8?user=bad"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("playlist for a refused client: %d, want 403", resp.StatusCode)
	}
	p := tm.waitPlaylist(t, "/live/cam.m3u8?user=good", "a segment", func(p parsedPlaylist) bool { return len(p.segments) > 0 })
	for _, seg := range p.segments {
		name, query, ok := strings.Cut(seg.uri, "?")
		if !ok || query != "user=good" {
			t.Errorf("segment URI %q does not carry the playlist's query", seg.uri)
		}
		path := "/live/" + name
		for _, q := range []string{"", "?user=bad", "?user=good&x=1"} {
			if resp, body := tm.get(t, http.MethodGet, path+q); resp.StatusCode != http.StatusForbidden {
				t.Errorf("GET %s%s: %d with %d bytes, want 403", path, q, resp.StatusCode, len(body))
			}
		}
		if resp, body := tm.get(t, http.MethodGet, path+"?user=good"); resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s?user=good: %d with %d bytes, want the segment", path, resp.StatusCode, len(body))
		}
	}
	// A guessed path is refused before it is looked up.
	if resp, _ := tm.get(t, http.MethodGet, "/live/cam/"+strconv.FormatInt(time.Now().UnixMilli(), 36)+"-0.ts"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("guessed segment path: %d, want 403", resp.StatusCode)
	}
}

// TestSegmentPathTokenIsTheStartTime pins the guessable segment paths: the
// token every segment path carries was the state's creation time in base
// 36. It is now at least 96 random bits: states created at the same
// instant get unrelated tokens of 20 or more base-32 characters, none of
// them the clock's.
func TestSegmentPathTokenIsTheStartTime(t *testing.T) {
	tm := startManager(t, Config{})
	now := time.Unix(1_800_000_000, 0)
	tm.m.now = func() time.Time { return now }
	const states = 64
	seen := make(map[string]bool, states)
	tm.m.mu.Lock()
	for i := range states {
		st := tm.m.newStateLocked(stream.Key{App: "live", Name: "cam" + strconv.Itoa(i)})
		seen[st.token] = true
		bits := 8 * len(mustDecodeToken(t, st.token))
		if bits < 96 {
			t.Errorf("token %q holds %d bits, want at least 96", st.token, bits)
		}
		for d := int64(-1000); d <= states; d++ {
			if st.token == strconv.FormatInt(now.UnixMilli()+d, 36) {
				t.Errorf("token %q is the clock's", st.token)
			}
		}
		if !validToken(st.token) {
			t.Errorf("token %q does not parse back", st.token)
		}
	}
	tm.m.mu.Unlock()
	if len(seen) != states {
		t.Errorf("%d distinct tokens for %d states", len(seen), states)
	}
}

// mustDecodeToken decodes a state token as unpadded lower-case base 32,
// failing the test when it is not.
func mustDecodeToken(t *testing.T, token string) []byte {
	t.Helper()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(token))
	if err != nil {
		t.Errorf("token %q is not base 32: %v", token, err)
	}
	return b
}

func TestWithURIQuery(t *testing.T) {
	in := "#EXTM3U\n#EXT-X-MAP:URI=\"cam/init.mp4\"\n#EXTINF:1.000,\ncam/a-1.ts\n" +
		"#EXT-X-PART:DURATION=0.2,URI=\"cam/a-2.0.m4s\"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"cam/a-2.1.m4s?x=1\"\n\ncam/a-2.ts\r\n"
	want := "#EXTM3U\n#EXT-X-MAP:URI=\"cam/init.mp4?token=t\"\n#EXTINF:1.000,\ncam/a-1.ts?token=t\n" +
		"#EXT-X-PART:DURATION=0.2,URI=\"cam/a-2.0.m4s?token=t\"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"cam/a-2.1.m4s?x=1&token=t\"\n\ncam/a-2.ts?token=t\r\n"
	if got := string(withURIQuery([]byte(in), "token=t")); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestPropagatedQuery(t *testing.T) {
	for raw, want := range map[string]string{
		"":                          "",
		"token=abc":                 "token=abc",
		"token=a%2Bb&user=7":        "token=a%2Bb&user=7",
		"_HLS_msn=3&_HLS_part=1":    "",
		"token=a&_HLS_skip=YES":     "token=a",
		"x=%22%0A%23EXT-X-ENDLIST":  "x=%22%0A%23EXT-X-ENDLIST",
		"x=\"\n#EXT-X-ENDLIST&y=<>": "x=%22%0A%23EXT-X-ENDLIST&y=%3C%3E",
	} {
		if got := propagatedQuery(raw); got != want {
			t.Errorf("propagatedQuery(%q) = %q, want %q", raw, got, want)
		}
	}
}

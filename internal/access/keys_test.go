package access

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/mediaserver/mediaserver/stream"
)

func secretKeyReq(app, name, query string) stream.AccessRequest {
	return stream.AccessRequest{Action: stream.ActionPublish, Protocol: stream.ProtocolRTMP,
		Key: stream.Key{App: app, Name: name}, Query: query, RemoteAddr: "192.0.2.1:5000", SessionID: "s"}
}

// TestPublishBySecretKey pins the bug where a stream key was the stream's
// name: a key made in the store publishes its stream as
// "name?key=SECRET" or as the bare secret, under the name, and the name
// alone no longer publishes it.
func TestPublishBySecretKey(t *testing.T) {
	c := newChecker(t, Config{DataDir: t.TempDir()})
	k, secret, err := c.Keys().Create("live", "mystream")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		desc, app, name, query string
		wantName, wantQuery    string
	}{
		{"key in the query", "live", "mystream", "key=" + secret, "mystream", ""},
		{"key among other parameters", "live", "mystream", "a=1&key=" + secret + "&b=2", "mystream", "a=1&b=2"},
		{"bare key", "live", secret, "", "mystream", ""},
	} {
		g, err := c.AuthorizePublish(ctx, secretKeyReq(tc.app, tc.name, tc.query))
		if err != nil {
			t.Errorf("%s: %v", tc.desc, err)
			continue
		}
		if g.Key != (stream.Key{App: "live", Name: tc.wantName}) || g.KeyID != k.ID || g.Query != tc.wantQuery {
			t.Errorf("%s: grant %+v, want live/%s with key %s and query %q", tc.desc, g, tc.wantName, k.ID, tc.wantQuery)
		}
	}
	for _, tc := range []struct{ desc, app, name, query string }{
		{"the name alone", "live", "mystream", ""},
		{"a wrong key", "live", "mystream", "key=live_0000"},
		{"the key of another stream", "live", "other", "key=" + secret},
		{"the bare key in another app", "other", secret, ""},
		{"an unknown bare key", "live", secret[:len(secret)-1] + "x", ""},
	} {
		if _, err := c.AuthorizePublish(ctx, secretKeyReq(tc.app, tc.name, tc.query)); !errors.Is(err, ErrDenied) {
			t.Errorf("%s: %v, want ErrDenied", tc.desc, err)
		}
	}
	// Authorize cannot publish under the secret itself.
	if err := c.Authorize(ctx, secretKeyReq("live", secret, "")); !errors.Is(err, ErrDenied) {
		t.Errorf("Authorize of a bare key: %v, want ErrDenied", err)
	}
	// Streams without a key are unaffected.
	if g, err := c.AuthorizePublish(ctx, secretKeyReq("live", "open", "key=whatever")); err != nil || g.KeyID != "" {
		t.Errorf("stream without a key: %+v, %v", g, err)
	}
	if !c.ChecksPublisher(stream.Key{App: "live", Name: "mystream"}) {
		t.Error("a stream with a secret key is not owned by its key holder")
	}
	if _, err := c.Keys().Revoke(k.ID); err != nil {
		t.Fatal(err)
	}
	for _, req := range []stream.AccessRequest{secretKeyReq("live", secret, ""), secretKeyReq("live", "mystream", "key="+secret)} {
		if _, err := c.AuthorizePublish(ctx, req); !errors.Is(err, ErrDenied) {
			t.Errorf("revoked key (%s?%s): %v, want ErrDenied", req.Key.Name, req.Query, err)
		}
	}
}

// TestReloadAppliesPublishKeys: the keys of the configuration file change
// on reload without a new Checker.
func TestReloadAppliesPublishKeys(t *testing.T) {
	c := newChecker(t, Config{DataDir: t.TempDir(), Apps: map[string]AppRule{"live": {PublishKeys: []string{"old"}}}})
	ctx := context.Background()
	if err := c.Authorize(ctx, secretKeyReq("live", "new", "")); !errors.Is(err, ErrDenied) {
		t.Fatalf("before reload: %v", err)
	}
	if err := c.Reload(Config{Apps: map[string]AppRule{"live": {PublishKeys: []string{"new"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Authorize(ctx, secretKeyReq("live", "new", "")); err != nil {
		t.Errorf("after reload, the new key: %v", err)
	}
	if err := c.Authorize(ctx, secretKeyReq("live", "old", "")); !errors.Is(err, ErrDenied) {
		t.Errorf("after reload, the old key: %v", err)
	}
	if err := c.Reload(Config{Apps: map[string]AppRule{"live": {PublishKeys: []string{""}}}}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("invalid reload: %v", err)
	}
	if err := c.Authorize(ctx, secretKeyReq("live", "new", "")); err != nil {
		t.Errorf("an invalid reload changed the keys: %v", err)
	}
}

// TestBareKeyRefusedAfterOnPublishWasAsked: an ingest that cannot publish
// under another name is refused a bare secret key before on_publish is
// asked about a publish that would then be refused anyway.
func TestBareKeyRefusedAfterOnPublishWasAsked(t *testing.T) {
	hook := newHookServer(t, http.StatusOK, "")
	c := newChecker(t, Config{DataDir: t.TempDir(), OnPublish: hook.URL})
	_, secret, err := c.Keys().Create("live", "mystream")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Authorize(context.Background(), secretKeyReq("live", secret, "")); !errors.Is(err, ErrDenied) {
		t.Fatalf("Authorize of a bare key: %v, want ErrDenied", err)
	}
	if n := hook.count(); n != 0 {
		t.Fatalf("on_publish asked %d times about a bare key Authorize refuses, want 0", n)
	}
}

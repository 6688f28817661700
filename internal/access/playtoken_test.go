package access

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

const testPlaySecret = "0123456789abcdef-play"

// TestPlayWithoutSignedTokenIsRefused pins signed play URLs: with a play
// secret for the app, every protocol's play needs a token for that very
// stream, unexpired, and bound to the client's address when it names one;
// a refusal wraps ErrDenied and counts as a play denial.
func TestPlayWithoutSignedTokenIsRefused(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newChecker(t, Config{Apps: map[string]AppRule{"live": {PlaySecret: testPlaySecret}}})
	c.now = func() time.Time { return now }
	cam := stream.Key{App: "live", Name: "cam"}
	valid := SignPlayToken(testPlaySecret, cam, now.Add(time.Minute), "")
	cases := []struct {
		name   string
		key    stream.Key
		query  string
		remote string
		want   string // "" allows; otherwise a part of the refusal
	}{
		{"valid", cam, "token=" + valid, "127.0.0.1:5000", ""},
		{"valid among other parameters", cam, "user=7&token=" + valid + "&x=%zz", "127.0.0.1:5000", ""},
		{"no token", cam, "", "127.0.0.1:5000", "required"},
		{"other parameters only", cam, "user=7", "127.0.0.1:5000", "required"},
		{"wrong signature", cam, "token=" + valid[:len(valid)-2] + "AA", "127.0.0.1:5000", "not valid"},
		{"other stream's token", cam, "token=" + SignPlayToken(testPlaySecret, stream.Key{App: "live", Name: "other"}, now.Add(time.Minute), ""), "127.0.0.1:5000", "not valid"},
		{"other secret", cam, "token=" + SignPlayToken("another-secret-of-16", cam, now.Add(time.Minute), ""), "127.0.0.1:5000", "not valid"},
		{"expired", cam, "token=" + SignPlayToken(testPlaySecret, cam, now, ""), "127.0.0.1:5000", "expired"},
		{"expiry edited", cam, "token=" + strconv.FormatInt(now.Add(time.Hour).Unix(), 10) + valid[strings.IndexByte(valid, '.'):], "127.0.0.1:5000", "not valid"},
		{"malformed", cam, "token=abc", "127.0.0.1:5000", "malformed"},
		{"bound to the client", cam, "token=" + SignPlayToken(testPlaySecret, cam, now.Add(time.Minute), "192.0.2.7"), "192.0.2.7:5000", ""},
		{"bound to the client over IPv6", cam, "token=" + SignPlayToken(testPlaySecret, cam, now.Add(time.Minute), "2001:db8::7"), "[2001:db8::7]:5000", ""},
		{"bound to another client", cam, "token=" + SignPlayToken(testPlaySecret, cam, now.Add(time.Minute), "192.0.2.7"), "192.0.2.8:5000", "not valid"},
		{"app without a secret", stream.Key{App: "open", Name: "cam"}, "", "127.0.0.1:5000", ""},
	}
	for _, tc := range cases {
		for _, proto := range []stream.Protocol{stream.ProtocolRTMP, stream.ProtocolFLV, stream.ProtocolWS, stream.ProtocolHLS} {
			before := c.Stats().PlayDenied
			err := c.Authorize(context.Background(), stream.AccessRequest{
				Action: stream.ActionPlay, Protocol: proto, Key: tc.key, Query: tc.query, RemoteAddr: tc.remote,
			})
			denied := c.Stats().PlayDenied - before
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s over %s: refused: %v", tc.name, proto, err)
			case tc.want != "" && (!errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("%s over %s: %v, want a denial saying %q", tc.name, proto, err, tc.want)
			case tc.want != "" && denied != 1:
				t.Errorf("%s over %s: %d play denials counted, want 1", tc.name, proto, denied)
			}
		}
	}
	// Publishing is not signed.
	if err := c.Authorize(context.Background(), stream.AccessRequest{Action: stream.ActionPublish, Protocol: stream.ProtocolRTMP, Key: cam}); err != nil {
		t.Errorf("publish: %v", err)
	}
}

// TestPlayTokenRefusalSkipsHook: a missing token is refused before on_play
// is asked, so unsigned requests cost the hook nothing.
func TestPlayTokenRefusalSkipsHook(t *testing.T) {
	hook := newHookServer(t, http.StatusNoContent, "")
	c := newChecker(t, Config{OnPlay: hook.URL, Apps: map[string]AppRule{WildcardApp: {PlaySecret: testPlaySecret}}})
	key := stream.Key{App: "live", Name: "cam"}
	req := stream.AccessRequest{Action: stream.ActionPlay, Protocol: stream.ProtocolHLS, Key: key, RemoteAddr: "127.0.0.1:1"}
	if err := c.Authorize(context.Background(), req); !errors.Is(err, ErrDenied) {
		t.Fatalf("no token: %v, want ErrDenied", err)
	}
	if n := hook.count(); n != 0 {
		t.Errorf("on_play asked %d times for an unsigned request", n)
	}
	req.Query = "token=" + SignPlayToken(testPlaySecret, key, time.Now().Add(time.Minute), "")
	if err := c.Authorize(context.Background(), req); err != nil {
		t.Fatalf("valid token: %v", err)
	}
	if n := hook.count(); n != 1 {
		t.Errorf("on_play asked %d times for a signed request, want 1", n)
	}
}

// TestPlayTokenMintedWithOpenSSL mints a token the way the README shows,
// with the openssl command line, and checks that the server takes it.
func TestPlayTokenMintedWithOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is needed: %v", err)
	}
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	script := `printf '%s\n%s\n%s' "live/cam" "$EXP" "" | ` + openssl + ` dgst -sha256 -hmac "$SECRET" -binary | ` +
		openssl + ` base64 -A | tr '+/' '-_' | tr -d '='`
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(cmd.Environ(), "EXP="+exp, "SECRET="+testPlaySecret)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	token := exp + "." + strings.TrimSpace(string(out))
	key := stream.Key{App: "live", Name: "cam"}
	if want := SignPlayToken(testPlaySecret, key, time.Unix(mustAtoi(t, exp), 0), ""); token != want {
		t.Errorf("openssl minted %q, SignPlayToken %q", token, want)
	}
	mac := hmac.New(sha256.New, []byte(testPlaySecret))
	mac.Write([]byte("live/cam\n" + exp + "\n"))
	if want := exp + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)); token != want {
		t.Errorf("openssl minted %q, the documented formula %q", token, want)
	}
}

// mustAtoi parses a decimal int64.
func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestValidatePlaySecret refuses a play secret too short to sign with.
func TestValidatePlaySecret(t *testing.T) {
	if err := (Config{Apps: map[string]AppRule{"live": {PlaySecret: "short"}}}).Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("short secret: %v, want ErrInvalidConfig", err)
	}
	if err := (Config{Apps: map[string]AppRule{"live": {PlaySecret: testPlaySecret}}}).Validate(); err != nil {
		t.Errorf("good secret: %v", err)
	}
}

// TestReloadedPlaySecretWasNotApplied: a play secret added by a reload
// (SIGHUP) is required from then on, and one removed is no longer, as the
// reloaded configuration reported by the API says.
func TestReloadedPlaySecretWasNotApplied(t *testing.T) {
	c := newChecker(t, Config{})
	play := stream.AccessRequest{Action: stream.ActionPlay, Protocol: stream.ProtocolFLV,
		Key: stream.Key{App: "live", Name: "cam"}, RemoteAddr: "127.0.0.1:5000"}
	if err := c.Authorize(context.Background(), play); err != nil {
		t.Fatalf("before the reload: %v", err)
	}
	if err := c.Reload(Config{Apps: map[string]AppRule{WildcardApp: {PlaySecret: testPlaySecret}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Authorize(context.Background(), play); err == nil || !strings.Contains(err.Error(), "required") {
		t.Fatalf("after a reload added a play secret, a play without a token: %v, want refused", err)
	}
	if got := c.Apps()[WildcardApp].PlaySecret; got != testPlaySecret {
		t.Fatalf("Apps after the reload: play secret %q", got)
	}
	if err := c.Reload(Config{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Authorize(context.Background(), play); err != nil {
		t.Fatalf("after a reload removed the play secret: %v", err)
	}
}

package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// DashboardOptions drive ui.mjs through the operator's path on the web UI.
type DashboardOptions struct {
	// URL is the UI's address ("http://127.0.0.1:PORT/").
	URL string `json:"url"`
	// Token is the API token to type into the prompt; empty when the API
	// needs none. With a token, a wrong one is tried first.
	Token string `json:"token,omitempty"`
	// Stream is the "app/name" to find, play and kick.
	Stream string `json:"stream"`
	// ExpectWarnings maps "app/name" to the warning kinds to wait for
	// before the dashboard screenshot (all warnings are reported anyway).
	ExpectWarnings map[string][]string `json:"expectWarnings,omitempty"`
	// Waiting is an "app/name" whose publisher left and which waits for it
	// to come back: its row is read once it shows as waiting.
	Waiting string `json:"waiting,omitempty"`
	// KickSession is a viewer session id to kick from the session table.
	KickSession string `json:"kickSession,omitempty"`
	// PlaySeconds is how much media each protocol must play. Default 3.
	PlaySeconds float64 `json:"playSeconds,omitempty"`
	// Artifacts is the directory screenshots are written to.
	Artifacts string `json:"artifacts,omitempty"`
	// Mode is set by Dashboard.
	Mode string `json:"mode"`
}

// PlayResult is what one protocol's playback did.
type PlayResult struct {
	Engine   string    `json:"engine"`
	State    string    `json:"state"`
	Advanced float64   `json:"advanced"`
	Width    int       `json:"width"`
	Height   int       `json:"height"`
	Errors   []string  `json:"errors"`
	Samples  []float64 `json:"samples"`
	// Latency is what the player's Latency field showed last ("1.2 s",
	// or "–" when the player cannot tell).
	Latency string `json:"latency"`
}

// DashboardResult is what ui.mjs saw on the dashboard.
type DashboardResult struct {
	Failure           string                `json:"failure"`
	Steps             []string              `json:"steps"`
	Console           []string              `json:"console"`
	PageErrors        []string              `json:"pageErrors"`
	Screenshots       []string              `json:"screenshots"`
	TokenPrompted     bool                  `json:"tokenPrompted"`
	WrongTokenRefused bool                  `json:"wrongTokenRefused"`
	TokenRemembered   bool                  `json:"tokenRemembered"`
	Resolution        string                `json:"resolution"`
	RowText           string                `json:"rowText"`
	Warnings          map[string][]string   `json:"warnings"`
	WaitingRow        WaitingRow            `json:"waitingRow"`
	URLs              map[string]string     `json:"urls"`
	OBS               map[string]string     `json:"obs"`
	Play              map[string]PlayResult `json:"play"`
	SessionKicked     bool                  `json:"sessionKicked"`
	StreamGone        bool                  `json:"streamGone"`
}

// WaitingRow is what the stream table showed of DashboardOptions.Waiting.
type WaitingRow struct {
	// Shown is set once the row was marked as waiting.
	Shown bool `json:"shown"`
	// Text is the row's text.
	Text string `json:"text"`
	// KickDisabled is set when its Kick button could not be pressed.
	KickDisabled bool `json:"kickDisabled"`
}

// Dashboard runs the operator's path on the UI at opts.URL in headless
// Chromium and returns what happened; the caller asserts.
func Dashboard(t testing.TB, opts DashboardOptions) DashboardResult {
	t.Helper()
	opts.Mode = "dashboard"
	var r DashboardResult
	runUI(t, opts, 4*time.Minute, &r)
	for _, s := range r.Steps {
		t.Logf("ui: %s", s)
	}
	return r
}

// RenditionsOptions drive ui.mjs through the dashboard player's rendition
// menu (Renditions).
type RenditionsOptions struct {
	// URL is the UI's address ("http://127.0.0.1:PORT/"), of an API that
	// needs no token.
	URL string `json:"url"`
	// Stream is the "app/name" of a multitrack stream to watch over HLS.
	Stream string `json:"stream"`
	// Level is the rendition to choose, as an hls.js level index.
	Level int `json:"level"`
	// ChooseOnFirstFragment makes the page choose in the menu, each time
	// the player starts, the level hls.js loads, the moment the first part
	// of its first fragment has arrived (hls.js is parsing the init segment
	// from it), instead of the test choosing Level once the menu shows.
	ChooseOnFirstFragment bool `json:"chooseOnFirstFragment,omitempty"`
	// Artifacts is the directory screenshots are written to.
	Artifacts string `json:"artifacts,omitempty"`
	// Mode is set by Renditions.
	Mode string `json:"mode"`
}

// RenditionsResult is what ui.mjs saw of the dashboard player's rendition
// menu (Renditions).
type RenditionsResult struct {
	Failure     string   `json:"failure"`
	Steps       []string `json:"steps"`
	Console     []string `json:"console"`
	PageErrors  []string `json:"pageErrors"`
	Screenshots []string `json:"screenshots"`
	// Options are the menu's entries ("Auto", then one per rendition).
	Options []string `json:"options"`
	// Playing is what the player said plays after the choice.
	Playing string `json:"playing"`
	// Menu is the menu's value then (the level index, "-1" for Auto).
	Menu string `json:"menu"`
	// ChosenOnFirstFragment are the levels the page chose on a first
	// fragment, in order (RenditionsOptions.ChooseOnFirstFragment).
	ChosenOnFirstFragment []int `json:"chosenOnFirstFragment"`
	// Width and Height are the picture's size then.
	Width  int      `json:"width"`
	Height int      `json:"height"`
	Errors []string `json:"errors"`
	// Advanced is how far currentTime moved in the 2 s after the chosen
	// rendition showed.
	Advanced float64 `json:"advanced"`
	// Trace is set when the chosen rendition did not show in time or the
	// player listed errors: the hls.js events and log lines that led there
	// and the player's state.
	Trace *RenditionsTrace `json:"trace"`
}

// RenditionsTrace is what hls.js did and what the page showed when the
// chosen rendition did not show in time or the player listed errors.
type RenditionsTrace struct {
	// HLS holds hls.js's level properties then (currentLevel, loadLevel,
	// nextLoadLevel, manualLevel, autoLevelEnabled, levels).
	HLS map[string]any `json:"hls"`
	// Select is the rendition menu's value; SelectFocused is set when it
	// had the focus.
	Select        string `json:"select"`
	SelectFocused bool   `json:"selectFocused"`
	// Playing is the text beside the menu naming the rendition that plays.
	Playing string `json:"playing"`
	// Video is the video element's size, time, ready state and buffered ranges.
	Video map[string]any `json:"video"`
	// Events are the hls.js events about levels, fragments, buffers and
	// errors, each after the seconds since the page loaded and the player
	// instance (#1, #2…), with the moment the test chose in the menu.
	// A long list keeps its start and its end.
	Events []string `json:"events"`
	// Log are hls.js's own log lines, numbered the same way.
	Log []string `json:"log"`
}

// Renditions opens opts.Stream in the dashboard at opts.URL, plays it over
// HLS, chooses rendition opts.Level in the player's menu and reports what
// the player showed. The caller asserts.
func Renditions(t testing.TB, opts RenditionsOptions) RenditionsResult {
	t.Helper()
	opts.Mode = "renditions"
	var r RenditionsResult
	runUI(t, opts, 2*time.Minute, &r)
	for _, s := range r.Steps {
		t.Logf("ui: %s", s)
	}
	if tr := r.Trace; tr != nil {
		t.Logf("ui: hls.js %v; menu %q (focused %v); %q; video %v", tr.HLS, tr.Select, tr.SelectFocused, tr.Playing,
			tr.Video)
		for _, e := range tr.Events {
			t.Logf("ui: hls.js event %s", e)
		}
		for _, l := range tr.Log {
			t.Logf("ui: hls.js log %s", l)
		}
	}
	return r
}

// KeysResult is what ui.mjs did in the stream keys panel.
type KeysResult struct {
	Failure     string   `json:"failure"`
	Steps       []string `json:"steps"`
	Console     []string `json:"console"`
	PageErrors  []string `json:"pageErrors"`
	Screenshots []string `json:"screenshots"`
	// Secret is what the panel showed to paste into OBS (create).
	Secret string `json:"secret"`
	// Listed is the text of the key's list item.
	Listed string `json:"listed"`
	// ConfirmVerb is the confirmation button's text (revoke).
	ConfirmVerb string `json:"confirmVerb"`
	// Revoked is set once the key left the list (revoke).
	Revoked bool `json:"revoked"`
}

// KeyPanel creates a stream key for live/name in the dashboard at url (an
// API that needs no token) and reads the secret it shows, or with revoke
// set revokes the only key listed. Screenshots go to artifacts. The
// caller asserts.
func KeyPanel(t testing.TB, url, name string, revoke bool, artifacts string) KeysResult {
	t.Helper()
	action := "create"
	if revoke {
		action = "revoke"
	}
	var r KeysResult
	runUI(t, map[string]any{"mode": "keys", "url": url, "action": action, "name": name, "artifacts": artifacts},
		2*time.Minute, &r)
	for _, s := range r.Steps {
		t.Logf("ui: %s", s)
	}
	return r
}

// RecordResult is what ui.mjs did with the record button and the
// recordings panel.
type RecordResult struct {
	Failure     string   `json:"failure"`
	Steps       []string `json:"steps"`
	Console     []string `json:"console"`
	PageErrors  []string `json:"pageErrors"`
	Screenshots []string `json:"screenshots"`
	// ButtonBefore and ButtonWhile are the record button's text before
	// and while recording.
	ButtonBefore string `json:"buttonBefore"`
	ButtonWhile  string `json:"buttonWhile"`
	// ListedWhile and ListedDone are the text of the file's list item while
	// recording and once stopped.
	ListedWhile string `json:"listedWhile"`
	ListedDone  string `json:"listedDone"`
	// ConfirmVerb is the delete confirmation's button text.
	ConfirmVerb string `json:"confirmVerb"`
	// Deleted is set once the file left the list.
	Deleted bool `json:"deleted"`
}

// RecordPanel opens the dashboard at url (an API that needs no token) on
// stream ("app/name"), records it for a few seconds with the detail's
// record button, stops, and deletes the file from the recordings panel.
// Screenshots go to artifacts. The caller asserts.
func RecordPanel(t testing.TB, url, stream, artifacts string) RecordResult {
	t.Helper()
	var r RecordResult
	runUI(t, map[string]any{"mode": "record", "url": url, "stream": stream, "artifacts": artifacts}, 2*time.Minute, &r)
	for _, s := range r.Steps {
		t.Logf("ui: %s", s)
	}
	return r
}

// Call is one call of an exported function of a UI module, made in the
// page: Module is a file under web/static/js ("health.js").
type Call struct {
	Module string `json:"module"`
	Func   string `json:"fn"`
	Args   []any  `json:"args"`
}

// CallResult is the JSON value a call returned, or its error.
type CallResult struct {
	Value json.RawMessage `json:"value"`
	Error string          `json:"error"`
}

// CallModules opens the UI at url and makes the calls in the page, so
// that the UI's own modules are tested in the browser that runs them.
func CallModules(t testing.TB, url string, calls []Call) []CallResult {
	t.Helper()
	var r struct {
		Failure    string       `json:"failure"`
		PageErrors []string     `json:"pageErrors"`
		Results    []CallResult `json:"results"`
	}
	runUI(t, map[string]any{"mode": "call", "url": url, "calls": calls}, 2*time.Minute, &r)
	if r.Failure != "" {
		t.Fatalf("ui harness: %s", r.Failure)
	}
	if len(r.Results) != len(calls) {
		t.Fatalf("ui harness returned %d results for %d calls (page errors %q)", len(r.Results), len(calls), r.PageErrors)
	}
	return r.Results
}

// Fetch is one request a page makes with the browser's fetch.
type Fetch struct {
	URL    string `json:"url"`
	Method string `json:"method"`
	// Mode is the fetch mode: "cors" (the default) or "no-cors", which
	// sends a simple request without a preflight and hides the answer.
	Mode string `json:"mode,omitempty"`
	// Body and ContentType, when set, are sent with the request.
	Body        string `json:"body,omitempty"`
	ContentType string `json:"contentType,omitempty"`
}

// FetchResult is what the page saw of one Fetch: the status (0 for an
// opaque no-cors answer), the response type, or the error fetch threw.
type FetchResult struct {
	Status int    `json:"status"`
	Type   string `json:"type"`
	Error  string `json:"error"`
}

// FetchFrom opens pageURL in headless Chromium and makes the fetches from
// it in order, as a script of that page's origin would: the browser adds
// Origin and Sec-Fetch-Site and enforces CORS itself.
func FetchFrom(t testing.TB, pageURL string, fetches []Fetch) []FetchResult {
	t.Helper()
	var r struct {
		Failure    string        `json:"failure"`
		PageErrors []string      `json:"pageErrors"`
		Results    []FetchResult `json:"results"`
	}
	runUI(t, map[string]any{"mode": "fetch", "url": pageURL, "fetches": fetches}, 2*time.Minute, &r)
	if r.Failure != "" {
		t.Fatalf("ui harness: %s", r.Failure)
	}
	if len(r.Results) != len(fetches) {
		t.Fatalf("ui harness returned %d results for %d fetches (page errors %q)", len(r.Results), len(fetches), r.PageErrors)
	}
	return r.Results
}

// runUI runs ui.mjs with opts and decodes its JSON report into out.
func runUI(t testing.TB, opts any, timeout time.Duration, out any) {
	t.Helper()
	RequireTools(t)
	arg, err := json.Marshal(opts)
	if err != nil {
		t.Fatalf("ui options: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(Dir(), "ui.mjs"), string(arg))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("ui harness: %v (output %q)", err, stdout)
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("ui harness output %q: %v", stdout, err)
	}
}

// ArtifactDir returns the directory test artifacts (screenshots) go to:
// $TEST_ARTIFACTS when set, else mediaserver-artifacts in the system's
// temporary directory. It is created when missing.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "mediaserver-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifact directory: %v", err)
	}
	return dir
}

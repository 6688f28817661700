package record_test

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/record"
	"github.com/mediaserver/mediaserver/stream"
)

// streamKey names a stream.
func streamKey(app, name string) stream.Key { return stream.Key{App: app, Name: name} }

// TestFLVRecordingRotatesAndTellsTheHook: an app recorded in FLV with a
// 2 s segment duration gives several files, each remuxed by ffmpeg without
// an error, each announced to on_record_done with its path, size,
// duration and stream, listed by the API and deletable once complete.
func TestFLVRecordingRotatesAndTellsTheHook(t *testing.T) {
	hook := newHookSink(t)
	dir := t.TempDir()
	srv := startServer(t, record.Config{
		Dir:          dir,
		Apps:         map[string]record.Rule{"live": {Format: record.FormatFLV, SegmentDuration: 2 * time.Second}},
		OnRecordDone: hook.url,
	})
	const published = 7 * time.Second
	pub := testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Width: 320, Height: 240, Duration: published})
	if exited, err := pub.Wait(time.Minute); !exited || err != nil {
		t.Fatalf("ffmpeg: exited %v, %v", exited, err)
	}
	testenv.WaitFor(t, 20*time.Second, "the last file's hook", func() bool {
		return slices.ContainsFunc(hook.Events(), func(e record.DoneEvent) bool { return e.Reason == record.ReasonStreamEnded })
	})
	events := hook.Events()
	if len(events) < 3 {
		t.Fatalf("%d files, want at least 3 for %s in 2 s segments: %+v", len(events), published, events)
	}
	var total float64
	for i, ev := range events {
		fi, err := os.Stat(ev.Path)
		if err != nil {
			t.Fatalf("hook %d: %v", i, err)
		}
		if ev.Action != record.HookActionRecordDone || ev.Stream != "live/cam" || ev.App != "live" || ev.Name != "cam" ||
			ev.Format != record.FormatFLV || ev.ID != filepath.Base(ev.Path) || filepath.Dir(ev.Path) != dir ||
			!strings.HasPrefix(ev.ID, "live-cam-") || !strings.HasSuffix(ev.ID, ".flv") || strings.Contains(ev.ID, ".part") {
			t.Errorf("hook %d: %+v", i, ev)
		}
		if ev.Size != fi.Size() || ev.Size == 0 {
			t.Errorf("hook %d: size %d, file has %d bytes", i, ev.Size, fi.Size())
		}
		last := i == len(events)-1
		if (!last && (ev.DurationSeconds < 1.5 || ev.DurationSeconds > 3.5 || ev.Reason != record.ReasonDuration)) ||
			(last && ev.Reason != record.ReasonStreamEnded) {
			t.Errorf("hook %d: %.2f s, reason %q", i, ev.DurationSeconds, ev.Reason)
		}
		total += ev.DurationSeconds
		out, err := runTool(t, "ffmpeg", "-nostdin", "-v", "error", "-i", ev.Path, "-c", "copy", "-f", "mp4",
			filepath.Join(t.TempDir(), "remux.mp4"))
		if err != nil || out != "" {
			t.Errorf("ffmpeg remux of %s: %v\n%s", ev.ID, err, out)
		}
	}
	if math.Abs(total-published.Seconds()) > 1.5 {
		t.Errorf("files hold %.2f s, %s published", total, published)
	}

	listed := listRecordings(t, srv)
	if len(listed) != len(events) {
		t.Fatalf("API lists %d recordings, hook told %d: %+v", len(listed), len(events), listed)
	}
	for _, r := range listed {
		if r.State != string(record.StateDone) || r.Stream != "live/cam" || r.Format != record.FormatFLV || r.Size == 0 {
			t.Errorf("listed %+v", r)
		}
	}
	victim := listed[0]
	if status, body := apiCall(t, srv, http.MethodDelete, "/recordings/"+victim.ID); status != http.StatusNoContent {
		t.Fatalf("DELETE /recordings/%s: %d %s", victim.ID, status, body)
	}
	if _, err := os.Stat(victim.Path); !os.IsNotExist(err) {
		t.Errorf("deleted recording still there: %v", err)
	}
	if status, _ := apiCall(t, srv, http.MethodDelete, "/recordings/"+victim.ID); status != http.StatusNotFound {
		t.Errorf("DELETE of a deleted recording: %d, want 404", status)
	}
	for _, id := range []string{"..", ".." + "%2F" + "x.flv", "..%2F..%2Fetc%2Fpasswd"} {
		if status, _ := apiCall(t, srv, http.MethodDelete, "/recordings/"+id); status != http.StatusBadRequest && status != http.StatusNotFound {
			t.Errorf("DELETE /recordings/%s: %d, want 400 or 404", id, status)
		}
	}
	if n := len(listRecordings(t, srv)); n != len(events)-1 {
		t.Errorf("after a delete the API lists %d recordings, want %d", n, len(events)-1)
	}
}

// TestRecordingStartedAndStoppedThroughTheAPI: a stream no rule records
// is recorded from POST …/recording to DELETE …/recording; its file cannot
// be deleted while it is written, and is complete and readable after.
func TestRecordingStartedAndStoppedThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, record.Config{Dir: dir})
	if status, _ := apiCall(t, srv, http.MethodPost, "/streams/live/cam/recording"); status != http.StatusNotFound {
		t.Errorf("recording a stream that is not live: %d, want 404", status)
	}
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Width: 320, Height: 240})
	testenv.WaitFor(t, 20*time.Second, "the stream", func() bool {
		_, ok := srv.Hub().Lookup(streamKey("live", "cam"))
		return ok
	})
	status, body := apiCall(t, srv, http.MethodPost, "/streams/live/cam/recording")
	if status != http.StatusCreated {
		t.Fatalf("POST recording: %d %s", status, body)
	}
	var started recordingDoc
	if err := json.Unmarshal(body, &started); err != nil {
		t.Fatal(err)
	}
	if started.ID == "" || started.State != string(record.StateRecording) || !strings.HasSuffix(started.Path, ".part.mp4") {
		t.Errorf("POST recording answered %s", body)
	}
	if status, _ := apiCall(t, srv, http.MethodPost, "/streams/live/cam/recording"); status != http.StatusConflict {
		t.Errorf("second POST recording: %d, want 409", status)
	}
	var current recordingDoc
	testenv.WaitFor(t, 20*time.Second, "2 s recorded", func() bool {
		for _, r := range listRecordings(t, srv) {
			if r.State == string(record.StateRecording) && r.DurationSeconds >= 2 {
				current = r
				return true
			}
		}
		return false
	})
	if !strings.Contains(current.Path, ".part.mp4") || current.Stream != "live/cam" || current.Format != record.FormatFMP4 {
		t.Errorf("file in progress: %+v", current)
	}
	if status, _ := apiCall(t, srv, http.MethodDelete, "/recordings/"+current.ID); status != http.StatusConflict {
		t.Errorf("DELETE of a file being written: %d, want 409", status)
	}
	status, body = apiCall(t, srv, http.MethodDelete, "/streams/live/cam/recording")
	if status != http.StatusOK {
		t.Fatalf("DELETE recording: %d %s", status, body)
	}
	var done recordingDoc
	if err := json.Unmarshal(body, &done); err != nil {
		t.Fatal(err)
	}
	if done.ID != current.ID || done.ID != started.ID || done.State != string(record.StateDone) || done.Reason != record.ReasonStopped ||
		done.Path != filepath.Join(dir, done.ID) {
		t.Errorf("stopped recording: %+v", done)
	}
	if status, _ := apiCall(t, srv, http.MethodDelete, "/streams/live/cam/recording"); status != http.StatusConflict {
		t.Errorf("second DELETE recording: %d, want 409", status)
	}
	checkDecodes(t, done.Path)
	if box := runMP4Box(t, done.Path); len(box.Errors) > 0 || len(box.Tracks) != 2 || box.Moofs == 0 {
		t.Errorf("mp4box: %+v", box)
	}
	p, err := testenv.FFprobe(t, done.Path, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if p.Video() == nil || p.Audio() == nil || p.Video().CodecName != "h264" || p.Audio().CodecName != "aac" {
		t.Errorf("ffprobe: %+v", p.Streams)
	}
}

// TestRecordingRefusedWhenTheDiskIsFull: below record.min_free_disk a
// recording is refused (507) with the reason, and a rule records nothing.
func TestRecordingRefusedWhenTheDiskIsFull(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, record.Config{Dir: dir, MinFreeDisk: math.MaxInt64,
		Apps: map[string]record.Rule{"live": {}}})
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Width: 320, Height: 240})
	testenv.WaitFor(t, 20*time.Second, "the stream", func() bool {
		_, ok := srv.Hub().Lookup(streamKey("live", "cam"))
		return ok
	})
	status, body := apiCall(t, srv, http.MethodPost, "/streams/live/cam/recording")
	if status != http.StatusInsufficientStorage || !strings.Contains(string(body), "free disk space below the minimum") {
		t.Errorf("POST recording on a full disk: %d %s", status, body)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written on a full disk: %v", entries)
	}
}

// TestThirtySecondMP4 records a 30 s publish as fragmented MP4: ffprobe
// reports its duration within 1 s, ffmpeg decodes it without a word,
// mp4box parses its fragments and Chromium plays it in a <video> element.
func TestThirtySecondMP4(t *testing.T) {
	browsertest.RequireTools(t)
	hook := newHookSink(t)
	dir := t.TempDir()
	srv := startServer(t, record.Config{Dir: dir, Apps: map[string]record.Rule{"live": {}}, OnRecordDone: hook.url})
	const published = 30 * time.Second
	pub := testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Width: 320, Height: 240, Duration: published})
	if exited, err := pub.Wait(published + time.Minute); !exited || err != nil {
		t.Fatalf("ffmpeg: exited %v, %v", exited, err)
	}
	testenv.WaitFor(t, 20*time.Second, "the hook", func() bool { return len(hook.Events()) > 0 })
	events := hook.Events()
	if len(events) != 1 {
		t.Fatalf("%d files, want 1: %+v", len(events), events)
	}
	ev := events[0]
	if ev.Format != record.FormatFMP4 || !strings.HasSuffix(ev.Path, ".mp4") || ev.Reason != record.ReasonStreamEnded ||
		math.Abs(ev.DurationSeconds-published.Seconds()) > 1 {
		t.Errorf("hook: %+v", ev)
	}
	p, err := testenv.FFprobe(t, ev.Path, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := strconv.ParseFloat(p.Format.Duration, 64); err != nil || math.Abs(d-published.Seconds()) > 1 {
		t.Errorf("ffprobe duration %q s, published %s", p.Format.Duration, published)
	}
	if p.Video() == nil || p.Audio() == nil {
		t.Errorf("ffprobe streams: %+v", p.Streams)
	}
	checkDecodes(t, ev.Path)

	box := runMP4Box(t, ev.Path)
	if len(box.Errors) > 0 || len(box.Tracks) != 2 || box.Moofs < 20 {
		t.Errorf("mp4box: %+v", box)
	}
	for id, s := range box.Samples {
		if s.Count == 0 || s.Sync == 0 {
			t.Errorf("mp4box track %s: %+v", id, s)
		}
	}

	files := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(files.Close)
	res := browsertest.Play(t, browsertest.File, files.URL+"/"+ev.ID, 6*time.Second)
	if len(res.Errors) > 0 || res.CurrentTime < 2 || res.VideoWidth != 320 {
		t.Errorf("Chromium: currentTime %.2f, %dx%d, errors %v", res.CurrentTime, res.VideoWidth, res.VideoHeight, res.Errors)
	}
}

// TestRecordButtonInBrowser: in headless Chromium the stream detail's
// record button records the stream, the recordings panel lists the file
// while it is written and once stopped, and deletes it.
func TestRecordButtonInBrowser(t *testing.T) {
	browsertest.RequireTools(t)
	dir := t.TempDir()
	srv := startServer(t, record.Config{Dir: dir, Format: record.FormatFLV})
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Width: 320, Height: 240})
	testenv.WaitFor(t, 20*time.Second, "the stream", func() bool {
		_, ok := srv.Hub().Lookup(streamKey("live", "cam"))
		return ok
	})
	artifacts := filepath.Join(browsertest.ArtifactDir(t), "record")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	res := browsertest.RecordPanel(t, "http://"+srv.HTTPAddr()+"/", "live/cam", artifacts)
	if res.Failure != "" || len(res.PageErrors) > 0 {
		t.Fatalf("recording from the dashboard: %s %q", res.Failure, res.PageErrors)
	}
	if res.ButtonBefore != "Record" || res.ButtonWhile != "Stop recording" {
		t.Errorf("record button %q, then %q while recording", res.ButtonBefore, res.ButtonWhile)
	}
	if !strings.Contains(res.ListedWhile, "live/cam") || !strings.Contains(res.ListedWhile, "FLV") ||
		!strings.Contains(res.ListedDone, "done") || res.ConfirmVerb != "Delete" || !res.Deleted {
		t.Errorf("recordings panel: while %q, done %q, confirm %q, deleted %v", res.ListedWhile, res.ListedDone, res.ConfirmVerb, res.Deleted)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left after the delete: %v", entries)
	}
}

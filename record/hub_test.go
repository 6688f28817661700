package record

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/cliptest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// clipFrames encodes a 4 s H.264+AAC clip into FLV with ffmpeg (320x240,
// or the size given, at the video bitrate given) and returns its frames as
// the hub holds them.
func clipFrames(t *testing.T, sizeAndRate ...string) []*stream.Frame {
	t.Helper()
	size, rate := "320x240", "500k"
	if len(sizeAndRate) == 2 {
		size, rate = sizeAndRate[0], sizeAndRate[1]
	}
	return cliptest.Frames(t, "-f", "lavfi", "-i", "testsrc2=size="+size+":rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "4", "-c:v", "libx264", "-preset", "veryfast",
		"-b:v", rate, "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac")
}

// TestRecordingStopsWhenTheDiskFills: a recording under way stops, with
// ReasonLowDisk in its file's state and the hook, once the free space
// falls below record.min_free_disk; the file written so far is complete.
func TestRecordingStopsWhenTheDiskFills(t *testing.T) {
	frames := clipFrames(t)
	log := slog.New(slog.DiscardHandler)
	hub, err := stream.NewRegistry(stream.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	m, err := NewManager(Config{Dir: t.TempDir(), Apps: map[string]Rule{"live": {Format: FormatFLV}},
		MinFreeDisk: 1 << 30, DiskCheckInterval: time.Nanosecond}, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var free atomic.Uint64
	free.Store(2 << 30)
	m.freeDisk = func(string) (uint64, error) { return free.Load(), nil }
	hub.AddObserver(m)
	pub, err := hub.Publish(stream.Key{App: "live", Name: "cam"}, stream.PublisherInfo{ID: "pub", Protocol: stream.ProtocolRTMP})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	half := len(frames) / 2
	for _, f := range frames[:half] {
		pub.WriteFrame(f)
	}
	testenv.WaitFor(t, 10*time.Second, "a second recorded", func() bool {
		list := m.Recordings()
		return len(list) == 1 && list[0].Duration >= time.Second
	})
	free.Store(1 << 20)
	for _, f := range frames[half:] {
		pub.WriteFrame(f)
	}
	testenv.WaitFor(t, 10*time.Second, "the recording to stop", func() bool { return !m.Recording("live", "cam") })
	list := m.Recordings()
	if len(list) != 1 || list[0].State != StateDone || list[0].Reason != ReasonLowDisk || isPart(list[0].ID) {
		t.Fatalf("recordings: %+v", list)
	}
	if fi, err := os.Stat(list[0].Path); err != nil || fi.Size() != list[0].Size {
		t.Errorf("file: %v, %+v", err, fi)
	}
	if _, err := m.Start("live", "cam"); !errors.Is(err, ErrLowDisk) {
		t.Errorf("start on a full disk: %v", err)
	}
}

// TestStreamPublishedAgainIsRecordedAgain: a stream that ends and is
// published again at once under the same name gets a second file, even
// while the first is still being completed; each is announced to the
// hook, and Close leaves no goroutine behind.
func TestStreamPublishedAgainIsRecordedAgain(t *testing.T) {
	testenv.CheckGoroutines(t)
	frames := clipFrames(t)
	var calls atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	log := slog.New(slog.DiscardHandler)
	hub, err := stream.NewRegistry(stream.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	m, err := NewManager(Config{Dir: t.TempDir(), Apps: map[string]Rule{"live": {}}, OnRecordDone: hook.URL}, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	hub.AddObserver(m)
	key := stream.Key{App: "live", Name: "cam"}
	for range 2 {
		pub, err := hub.Publish(key, stream.PublisherInfo{ID: "pub", Protocol: stream.ProtocolRTMP})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range frames {
			pub.WriteFrame(f)
		}
		pub.Close()
	}
	testenv.WaitFor(t, 10*time.Second, "both recordings to end", func() bool {
		list := m.Recordings()
		return len(list) == 2 && list[0].State == StateDone && list[1].State == StateDone
	})
	for _, in := range m.Recordings() {
		if in.Reason != ReasonStreamEnded || in.Duration < 3*time.Second {
			t.Errorf("%+v", in)
		}
	}
	m.Close()
	if n := calls.Load(); n != 2 {
		t.Errorf("hook called %d times, want 2", n)
	}
}

// TestRecordingRotatesBySize: with max_size set, a new file starts at the
// first keyframe past the size, and each file is a complete MP4 ffprobe
// reads on its own.
func TestRecordingRotatesBySize(t *testing.T) {
	frames := clipFrames(t, "1280x720", "4M")
	log := slog.New(slog.DiscardHandler)
	hub, err := stream.NewRegistry(stream.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	m, err := NewManager(Config{Dir: t.TempDir(), Apps: map[string]Rule{"live": {MaxSize: MinMaxSize}}}, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	hub.AddObserver(m)
	pub, err := hub.Publish(stream.Key{App: "live", Name: "cam"}, stream.PublisherInfo{ID: "pub", Protocol: stream.ProtocolRTMP})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		pub.WriteFrame(f)
	}
	pub.Close()
	testenv.WaitFor(t, 10*time.Second, "the recording to end", func() bool { return !m.Recording("live", "cam") })
	list := m.Recordings()
	if len(list) < 2 {
		t.Fatalf("%d files from 2 MB with max_size 1 MiB: %+v", len(list), list)
	}
	var total time.Duration
	for i, in := range list {
		last := in.Reason == ReasonStreamEnded
		if in.State != StateDone || (!last && (in.Reason != ReasonSize || in.Size < MinMaxSize || in.Size > 2*MinMaxSize)) {
			t.Errorf("file %d: %+v", i, in)
		}
		total += in.Duration
		p, err := testenv.FFprobe(t, in.Path, time.Minute)
		if err != nil || p.Video() == nil || p.Audio() == nil {
			t.Errorf("file %d: ffprobe %v, %+v", i, err, p.Streams)
		}
	}
	if total < 3500*time.Millisecond {
		t.Errorf("files hold %s of 4 s", total)
	}
}

// TestFLVFilesStartWithTheirHeaders: every FLV file of a rotated recording
// starts with the stream's headers (onMetaData, then the video and audio
// sequence starts) and then a video keyframe at timestamp 0.
func TestFLVFilesStartWithTheirHeaders(t *testing.T) {
	frames := clipFrames(t)
	log := slog.New(slog.DiscardHandler)
	hub, err := stream.NewRegistry(stream.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	m, err := NewManager(Config{Dir: t.TempDir(), Format: FormatFLV, SegmentDuration: time.Second}, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	pub, err := hub.Publish(stream.Key{App: "live", Name: "cam"}, stream.PublisherInfo{ID: "pub", Protocol: stream.ProtocolRTMP})
	if err != nil {
		t.Fatal(err)
	}
	half := len(frames) / 2
	for _, f := range frames[:half] {
		pub.WriteFrame(f)
	}
	if _, err := m.Start("live", "cam"); err != nil { // mid-stream: the headers went by long ago
		t.Fatal(err)
	}
	for _, f := range frames[half:] {
		pub.WriteFrame(f)
	}
	pub.Close()
	testenv.WaitFor(t, 10*time.Second, "the recording to end", func() bool { return !m.Recording("live", "cam") })
	list := m.Recordings()
	if len(list) < 2 {
		t.Fatalf("%d files, want 2 s in 1 s files: %+v", len(list), list)
	}
	for _, in := range list {
		data, err := os.ReadFile(in.Path)
		if err != nil {
			t.Fatal(err)
		}
		r := flv.NewReader(bytes.NewReader(data))
		h, err := r.ReadHeader()
		if err != nil || !h.HasAudio || !h.HasVideo {
			t.Fatalf("%s: header %+v, %v", in.ID, h, err)
		}
		var kinds []string
		for len(kinds) < 4 {
			tag, err := r.ReadTag()
			if err != nil {
				t.Fatalf("%s: tag %d: %v", in.ID, len(kinds), err)
			}
			f, err := stream.NewFrame(tag.Type, tag.Timestamp, tag.Data)
			if err != nil {
				t.Fatal(err)
			}
			kind := fmt.Sprintf("%s@%d", tag.Type, tag.Timestamp)
			switch {
			case f.Header && f.Type == flv.TagScript:
				kind = "metadata"
			case f.IsSequenceStart():
				kind += " config"
			case f.Keyframe:
				kind += " key"
			}
			kinds = append(kinds, kind)
		}
		if want := []string{"metadata", "video@0 config", "audio@0 config", "video@0 key"}; !slices.Equal(kinds, want) {
			t.Errorf("%s starts %q, want %q", in.ID, kinds, want)
		}
	}
}

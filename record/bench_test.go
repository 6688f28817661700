package record

import (
	"fmt"
	"log/slog"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/cliptest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// benchStreams is how many streams BenchmarkRecordFiftyStreams records.
const benchStreams = 50

// benchClip encodes a 4 s 1280x720 H.264+AAC clip at about 2.5 Mbit/s and
// returns its frames' tags.
func benchClip(b *testing.B) []flv.Tag {
	b.Helper()
	return cliptest.Tags(b, "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast",
		"-b:v", "2200k", "-maxrate", "2200k", "-bufsize", "2200k", "-g", "60", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "128k")
}

// BenchmarkRecordFiftyStreams records 50 streams of a 2.5 Mbit/s
// H.264+AAC clip to fragmented MP4 on the disk of the temporary
// directory. One iteration publishes the clip's 4 s to every stream and
// waits for every recording to have taken it, so no frame is dropped;
// realtime-streams is how many such streams the machine records in real
// time (it must exceed 50). At the end every file is checked complete:
// ffprobe reads each, with the duration published. Run it on a quiet
// machine:
//
//	go test -run '^$' -bench RecordFiftyStreams -benchtime 10x ./record/
func BenchmarkRecordFiftyStreams(b *testing.B) {
	tags := benchClip(b)
	var clipMs, clipBytes uint32
	for _, t := range tags {
		clipMs = max(clipMs, t.Timestamp)
		clipBytes += uint32(len(t.Data))
	}
	clipMs += 33 // the last frame's duration
	log := slog.New(slog.DiscardHandler)
	hub, err := stream.NewRegistry(stream.Config{}, log)
	if err != nil {
		b.Fatal(err)
	}
	defer hub.Close()
	dir := b.TempDir()
	m, err := NewManager(Config{Dir: dir, Apps: map[string]Rule{"bench": {}}}, hub, log)
	if err != nil {
		b.Fatal(err)
	}
	hub.AddObserver(m)
	pubs := make([]*stream.Publisher, benchStreams)
	for i := range pubs {
		key := stream.Key{App: "bench", Name: fmt.Sprintf("s%02d", i)}
		if pubs[i], err = hub.Publish(key, stream.PublisherInfo{ID: key.Name, Protocol: stream.ProtocolRTMP}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		offset := uint32(i) * clipMs
		for _, t := range tags {
			if i > 0 && t.Type != flv.TagScript && isConfig(t) {
				continue // headers once, at the start
			}
			for _, p := range pubs {
				f, err := stream.NewFrame(t.Type, t.Timestamp+offset, t.Data)
				if err != nil {
					b.Fatal(err)
				}
				p.WriteFrame(f)
			}
		}
		want := time.Duration(offset+clipMs-200) * time.Millisecond
		deadline := time.Now().Add(time.Minute)
		for !allRecorded(m, want) {
			if time.Now().After(deadline) {
				b.Fatalf("recordings did not take iteration %d", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	elapsed := b.Elapsed()
	b.StopTimer()
	media := time.Duration(b.N) * time.Duration(clipMs) * time.Millisecond
	b.ReportMetric(float64(benchStreams)*media.Seconds()/elapsed.Seconds(), "realtime-streams")
	b.ReportMetric(float64(clipBytes)*8/(float64(clipMs)/1000)/1e6, "Mbit/s/stream")
	for _, p := range pubs {
		p.Close()
	}
	for _, p := range pubs {
		<-p.Done()
	}
	m.Close()
	files := m.Recordings()
	if len(files) != benchStreams {
		b.Fatalf("%d files, want %d", len(files), benchStreams)
	}
	for _, in := range files {
		if in.State != StateDone {
			b.Errorf("%s: %s (%s)", in.ID, in.State, in.Reason)
			continue
		}
		out, err := exec.Command(testenv.Tool(b, "ffprobe"), "-v", "error", "-show_entries", "format=duration",
			"-of", "csv=p=0", in.Path).CombinedOutput()
		d, perr := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil || perr != nil || math.Abs(d-media.Seconds()) > 1 {
			b.Errorf("%s: ffprobe %q (%v), published %s", in.ID, out, err, media)
		}
	}
}

// isConfig reports whether a tag is a sequence start.
func isConfig(t flv.Tag) bool {
	f, err := stream.NewFrame(t.Type, t.Timestamp, t.Data)
	return err == nil && f.Header
}

// allRecorded reports whether every recording holds at least d.
func allRecorded(m *Manager, d time.Duration) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, in := range m.files {
		if in.State != StateRecording || in.Duration < d {
			return false
		}
		n++
	}
	return n == benchStreams
}

package record_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/record"
)

// TestKilledServerLeavesAPlayableMP4: the real binary recording fMP4 is
// killed with SIGKILL; the file it leaves (still named .part) is read by
// ffprobe up to the last complete fragment and decoded by ffmpeg without
// an error, and the next run lists it as incomplete.
func TestKilledServerLeavesAPlayableMP4(t *testing.T) {
	bin := testenv.BuildServer(t, "../cmd/mediaserver")
	dir := t.TempDir()
	config := filepath.Join(t.TempDir(), "mediaserver.yaml")
	yaml := fmt.Sprintf("access:\n  data_dir: %q\nrecord:\n  dir: %q\n  apps: {live: {format: fmp4}}\n", t.TempDir(), dir)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartServer(t, bin, nil, "-config", config, "-rtmp-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")
	rtmpAddr, httpAddr := srv.RTMPAddr, srv.HTTPAddr
	testenv.Publish(t, "rtmp://"+rtmpAddr+"/live/cam", testenv.Source{Width: 320, Height: 240})
	var recorded float64
	var part string
	testenv.WaitFor(t, 30*time.Second, "5 s recorded", func() bool {
		resp, err := http.Get("http://" + httpAddr + "/api/v1/recordings")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var doc struct {
			Items []recordingDoc `json:"items"`
		}
		if json.NewDecoder(resp.Body).Decode(&doc) != nil || len(doc.Items) != 1 {
			return false
		}
		recorded, part = doc.Items[0].DurationSeconds, doc.Items[0].Path
		return recorded >= 5
	})
	if err := srv.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.Exited()
	if !strings.HasSuffix(part, ".part.mp4") {
		t.Fatalf("file in progress named %s", part)
	}
	p, err := testenv.FFprobe(t, part, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	d, err := strconv.ParseFloat(p.Format.Duration, 64)
	// What the API last showed, less the fragment being gathered (1 s) and
	// what was recorded between that look and the kill.
	if err != nil || d < recorded-1.5 || p.Video() == nil || p.Audio() == nil {
		t.Errorf("ffprobe after the kill: %q s (%.2f s recorded), streams %+v", p.Format.Duration, recorded, p.Streams)
	}
	checkDecodes(t, part)

	m, err := record.NewManager(record.Config{Dir: dir}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	list := m.Recordings()
	if len(list) != 1 || list[0].State != record.StateIncomplete || list[0].Path != part || list[0].Size == 0 {
		t.Errorf("next run lists %+v", list)
	}
}

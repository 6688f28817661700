package fmp4_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/fmp4"
	"github.com/mediaserver/mediaserver/internal/browsertest"
)

// mseCase is one written file for Chromium's Media Source Extensions.
type mseCase struct {
	Dir  string `json:"dir"`
	Mime string `json:"mime"`
}

// mseResult is what testdata/mse.mjs prints for one case.
type mseResult struct {
	Dir         string       `json:"dir"`
	Supported   bool         `json:"supported"`
	Errors      []string     `json:"errors"`
	Buffered    [][2]float64 `json:"buffered"`
	CurrentTime float64      `json:"currentTime"`
}

// mseMime returns the MIME type of a video and audio pair, the video's
// RFC 6381 codecs parameter from the flv package.
func mseMime(t *testing.T, video media, audioCodecs string) string {
	t.Helper()
	fourCC := map[fmp4.Codec]flv.FourCC{fmp4.CodecAVC: flv.FourCCAVC, fmp4.CodecHEVC: flv.FourCCHEVC,
		fmp4.CodecAV1: flv.FourCCAV1, fmp4.CodecVP9: flv.FourCCVP9}[video.track.Codec]
	info, err := flv.ParseVideoConfig(fourCC, video.track.Config)
	if err != nil {
		t.Fatal(err)
	}
	return `video/mp4; codecs="` + info.CodecString + "," + audioCodecs + `"`
}

// runMSE appends each case's init section and fragments to a SourceBuffer
// in headless Chromium and plays them.
func runMSE(t *testing.T, cases []mseCase) map[string]mseResult {
	t.Helper()
	browsertest.RequireTools(t)
	_, file, _, _ := runtime.Caller(0)
	arg, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(filepath.Dir(file), "testdata", "mse.mjs"), string(arg))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node mse.mjs: %v\n%s", err, stderr.String())
	}
	results := map[string]mseResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r mseResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("mse.mjs output %q: %v", sc.Text(), err)
		}
		results[r.Dir] = r
	}
	return results
}

// checkMSE requires Chromium to have buffered and played the whole file
// without an error.
func checkMSE(t *testing.T, name string, r mseResult, duration float64) {
	t.Helper()
	t.Logf("%s: Chromium buffered %v and played to %.2f s", name, r.Buffered, r.CurrentTime)
	switch {
	case !r.Supported:
		t.Errorf("%s: Chromium does not support the type", name)
	case len(r.Errors) > 0:
		t.Errorf("%s: Chromium: %q", name, r.Errors)
	case len(r.Buffered) != 1 || r.Buffered[0][0] > 0.1 || r.Buffered[0][1] < duration-0.1:
		t.Errorf("%s: Chromium buffered %v of a %.2f s file", name, r.Buffered, duration)
	case r.CurrentTime < duration-0.2:
		t.Errorf("%s: Chromium played to %.2f s of %.2f s", name, r.CurrentTime, duration)
	}
}

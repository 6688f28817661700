// Package cliptest encodes short synthetic clips with ffmpeg for tests and
// returns them as FLV tags or as the frames the hub would hold.
package cliptest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// Tags runs ffmpeg with args (inputs and codec options; the FLV output is
// added) and returns the tags of the FLV file it wrote, each with its own
// copy of the data.
func Tags(t testing.TB, args ...string) []flv.Tag {
	t.Helper()
	out := filepath.Join(t.TempDir(), "clip.flv")
	cmd := exec.Command(testenv.Tool(t, "ffmpeg"), append(append([]string{"-v", "error"}, args...), "-f", "flv", out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	r := flv.NewReader(bytes.NewReader(data))
	if _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	var tags []flv.Tag
	for {
		tag, err := r.ReadTag()
		if errors.Is(err, io.EOF) {
			return tags
		} else if err != nil {
			t.Fatal(err)
		}
		tag.Data = bytes.Clone(tag.Data)
		tags = append(tags, tag)
	}
}

// Frames is Tags as the frames the hub holds.
func Frames(t testing.TB, args ...string) []*stream.Frame {
	t.Helper()
	tags := Tags(t, args...)
	frames := make([]*stream.Frame, 0, len(tags))
	for _, tag := range tags {
		f, err := stream.NewFrame(tag.Type, tag.Timestamp, tag.Data)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	return frames
}

package stream

import (
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

// Regression (republish adds a phantom subtitle stream): a continuing
// publisher's onMetaData was re-sent at the continued, non-zero time, and
// ffmpeg takes a script tag at a time other than 0 for a data stream. It
// stays at 0 for a reader attached across the republish and for one joining
// after it; the sequence headers continue the timeline.
func TestRepublishDoesNotShiftMetadata(t *testing.T) {
	reg, p1 := newTestStream(t, Config{RepublishWindow: time.Minute})
	defer reg.Close()
	s := p1.Stream()
	attached := s.NewReader(ReaderInfo{ID: "attached"})
	defer attached.Close()
	publishGOP(p1, 0, 10, 1) // last media: audio at 363
	drainPending(t, attached, 64)
	p1.Close()
	p2, err := reg.Publish(testKey, PublisherInfo{ID: "p2"})
	if err != nil {
		t.Fatal(err)
	}
	publishGOP(p2, 0, 10, 2) // a new encoder: new metadata and headers
	const resume = 363 + 40
	late := s.NewReader(ReaderInfo{ID: "late"})
	defer late.Close()
	for name, got := range map[string][]*Frame{"attached": drainPending(t, attached, 64), "late": drainPending(t, late, 64)} {
		if len(got) < 4 || got[0].Type != flv.TagScript || !got[1].Header || !got[2].Header || !got[3].Keyframe {
			t.Fatalf("%s reader got %s, want metadata, two headers, keyframe", name, describe(got))
		}
		if got[0].Time != 0 || got[0].Generation() != 1 || got[1].Time != resume || got[2].Time != resume || got[3].Time != resume {
			t.Errorf("%s reader got %s, want metadata at 0, headers and keyframe at %d", name, describe(got[:4]), resume)
		}
	}
}

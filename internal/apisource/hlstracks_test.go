package apisource

import (
	"bytes"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// TestRegressionMP3TrackHLSUnknown: the audio track of an MP3-only stream
// is reported as in the HLS rendition once the segmenter took it (it was
// "unknown" for as long as the stream lived, the playlist never starting).
func TestRegressionMP3TrackHLSUnknown(t *testing.T) {
	hub, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := hls.NewManager(hls.Config{}, hub, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hub.Close()
		m.Close()
	})
	pub, err := hub.Publish(stream.Key{App: "live", Name: "mp3"}, stream.PublisherInfo{ID: "test", Protocol: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	// MPEG-1 layer III, 128 kbit/s at 44.1 kHz: 417-byte frames of 1152 samples.
	for k := 0; k < 120; k++ {
		payload := append([]byte{flv.SoundFormatMP3<<4 | 0x0f, 0xff, 0xfb, 0x90, 0x64}, bytes.Repeat([]byte{byte(k)}, 413)...)
		f, err := stream.NewFrame(flv.TagAudio, uint32(k*1152*1000/44100), payload)
		if err != nil {
			t.Fatal(err)
		}
		pub.WriteFrame(f)
	}
	src := New(Deps{Hub: hub, HLS: m})
	testenv.WaitFor(t, 20*time.Second, "the MP3 track in HLS", func() bool {
		info, ok := src.Stream("live", "mp3")
		for _, tr := range info.Tracks {
			if tr.Kind == api.KindAudio && tr.ID == 0 {
				return ok && tr.HLS == api.HLSIncluded
			}
		}
		return false
	})
}

package enhancedtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
)

// renditions are the video tracks of the multitrack test stream: track 0,
// 1 and 2 in this order.
var renditions = []testenv.Rendition{{Width: 640, Height: 360}, {Width: 320, Height: 180}, {Width: 160, Height: 90}}

// publishRenditions has FFmpeg 8.1 (the Enhanced RTMP peer) publish a
// multitrack stream of three H.264 renditions and AAC as live/name, and
// waits until the API lists the three video tracks.
func publishRenditions(t *testing.T, srv *server.Server, name string) {
	t.Helper()
	file := testenv.EncodeRenditions(t, t.TempDir(), 90*time.Second, renditions...)
	// The peer stops by itself after this long, the clip's length: the
	// probes below have time to spare on a loaded machine.
	t.Setenv("MEDIASERVER_PEER_TIMEOUT_MS", "90000")
	testenv.PublishEnhanced(t, file, "rtmp://"+srv.RTMPAddr()+"/live/"+name)
	testenv.WaitFor(t, 30*time.Second, "three video tracks in the API", func() bool {
		st, ok := getStream(t, srv, name)
		return ok && st.track("video", 2) != nil && st.track("video", 1) != nil && st.track("audio", 0) != nil
	})
}

// probeOneTrack reads url with Debian's ffprobe (FFmpeg 5.1, which knows
// nothing of Enhanced RTMP multitrack) and checks that it sees exactly one
// video stream of the given size and one audio stream.
func probeOneTrack(t *testing.T, url string, want testenv.Rendition) {
	t.Helper()
	p, err := testenv.FFprobe(t, url, 30*time.Second)
	if err != nil {
		t.Errorf("%s: %v", url, err)
		return
	}
	var video, audio []testenv.Stream
	for _, s := range p.Streams {
		switch s.CodecType {
		case "video":
			video = append(video, s)
		case "audio":
			audio = append(audio, s)
		}
	}
	if len(video) != 1 || len(audio) != 1 {
		t.Errorf("%s: %d video and %d audio streams, want one of each: %+v", url, len(video), len(audio), p.Streams)
		return
	}
	if v := video[0]; v.CodecName != "h264" || v.Width != want.Width || v.Height != want.Height {
		t.Errorf("%s: video %s %dx%d, want h264 %dx%d", url, v.CodecName, v.Width, v.Height, want.Width, want.Height)
	}
	if a := audio[0]; a.CodecName != "aac" {
		t.Errorf("%s: audio %s, want aac", url, a.CodecName)
	}
}

// TestLegacyReadersOfMultitrackGetOneTrack: FFmpeg 8.1 publishes three
// H.264 renditions and AAC as one Enhanced RTMP multitrack stream. FFmpeg
// 5.1 reading it over HTTP-FLV and RTMP sees one video and one audio
// stream: the default track, or the one asked for with ?track= or
// ?video=; FFmpeg 8 asking for ?track=all over either sees the three
// renditions. A
// WebSocket-FLV viewer gets single-track tags of the track it
// asked for. The API lists each rendition with its measured rates and the
// keyframes as aligned. An unknown track is 404 over HTTP and
// StreamNotFound over RTMP.
func TestLegacyReadersOfMultitrackGetOneTrack(t *testing.T) {
	srv := servertest.Start(t, nil)
	publishRenditions(t, srv, "abr")
	flvURL := "http://" + srv.HTTPAddr() + "/live/abr.flv"
	rtmpURL := "rtmp://" + srv.RTMPAddr() + "/live/abr"

	probeOneTrack(t, flvURL, renditions[0])
	probeOneTrack(t, rtmpURL, renditions[0])
	probeOneTrack(t, flvURL+"?track=1", renditions[1])
	probeOneTrack(t, rtmpURL+"?track=2", renditions[2])
	probeOneTrack(t, flvURL+"?video=2&audio=0", renditions[2])

	t.Run("every track for FFmpeg 8", func(t *testing.T) {
		// FFmpeg 8's RTMP client does not declare multitrack support in
		// connect: it asks with the query, as over HTTP-FLV.
		for _, url := range []string{flvURL + "?track=all", rtmpURL + "?track=all"} {
			p, err := testenv.ProbeEnhanced(t, url, 20*time.Second)
			if err != nil {
				t.Error(err)
				continue
			}
			var sizes []testenv.Rendition
			for _, s := range p.Streams {
				if s.Type == "video" {
					sizes = append(sizes, testenv.Rendition{Width: s.Width, Height: s.Height})
				}
			}
			if !slices.Equal(sizes, renditions) || p.Audio() == nil {
				t.Errorf("FFmpeg 8 reading %s: %+v, want the three renditions and audio", url, p.Streams)
			}
		}
	})

	t.Run("websocket", func(t *testing.T) {
		w, h := wsVideoSize(t, "ws://"+srv.HTTPAddr()+"/live/abr.flv?track=1")
		if w != renditions[1].Width || h != renditions[1].Height {
			t.Errorf("WebSocket-FLV ?track=1: %dx%d, want %dx%d", w, h, renditions[1].Width, renditions[1].Height)
		}
	})

	t.Run("api renditions", func(t *testing.T) {
		var st apiStream
		testenv.WaitFor(t, 20*time.Second, "measured rates of the three video tracks", func() bool {
			var ok bool
			st, ok = getStream(t, srv, "abr")
			for id := range renditions {
				if tr := st.track("video", id); tr == nil || tr.Bitrate == 0 {
					return false
				}
			}
			return ok && st.Tracks.KeyframeAlignment != "unknown"
		})
		t.Logf("tracks %+v, keyframes %s", st.Tracks.List, st.Tracks.KeyframeAlignment)
		if st.Tracks.KeyframeAlignment != "aligned" {
			t.Errorf("keyframe alignment %q, want aligned", st.Tracks.KeyframeAlignment)
		}
		for id, want := range renditions {
			tr := st.track("video", id)
			if tr.Width != want.Width || tr.Height != want.Height || tr.FPS < 24 || tr.FPS > 26 || tr.Peak < tr.Bitrate {
				t.Errorf("video track %d: %+v, want %dx%d at 25 fps", id, *tr, want.Width, want.Height)
			}
			if id > 0 && tr.Bitrate >= st.track("video", id-1).Bitrate {
				t.Errorf("video track %d (%dx%d) at %d bit/s, not below track %d's %d", id, tr.Width, tr.Height,
					tr.Bitrate, id-1, st.track("video", id-1).Bitrate)
			}
		}
	})

	t.Run("unknown track", func(t *testing.T) {
		for _, q := range []string{"track=7", "video=3", "audio=1", "track=x"} {
			resp, err := http.Get(flvURL + "?" + q)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET abr.flv?%s: %s, want 404", q, resp.Status)
			}
		}
		c, err := rtmp.Dial(context.Background(), "rtmp://"+srv.RTMPAddr()+"/live", rtmp.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Play("abr?track=7"); !errors.Is(err, rtmp.ErrStatus) || !strings.Contains(err.Error(), "NetStream.Play.StreamNotFound") {
			t.Errorf("RTMP play abr?track=7: %v, want NetStream.Play.StreamNotFound", err)
		}
	})
}

// wsVideoSize reads a WebSocket-FLV stream until its first video coded
// frame, checking that every tag is single-track, and returns the picture
// size of the video sequence start it got.
func wsVideoSize(t *testing.T, url string) (width, height int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, url, http.Header{"Origin": {"http://" + strings.TrimPrefix(url, "ws://")}})
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", url, err, resp)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	var buf bytes.Buffer
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		buf.Write(msg)
		w, h, done, err := firstVideo(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if done {
			return w, h
		}
	}
}

// firstVideo parses an FLV byte stream read so far: done once a video
// coded frame followed a video sequence start, whose picture size it
// returns. Any multitrack tag is an error.
func firstVideo(b []byte) (width, height int, done bool, err error) {
	r := flv.NewReader(bytes.NewReader(b))
	if _, err := r.ReadHeader(); err != nil {
		return 0, 0, false, nil // not all of it yet
	}
	for {
		tag, err := r.ReadTag()
		if err != nil {
			return width, height, false, nil
		}
		var multitrack bool
		switch tag.Type {
		case flv.TagVideo:
			h, err := flv.ParseVideoTagHeader(tag.Data)
			if err != nil {
				return 0, 0, false, fmt.Errorf("video tag: %w", err)
			}
			multitrack = h.Multitrack
			switch h.PacketType {
			case flv.PacketSequenceStart:
				c, err := flv.ParseVideoConfig(h.Codec, tag.Data[h.HeaderLen:])
				if err != nil {
					return 0, 0, false, fmt.Errorf("video sequence start: %w", err)
				}
				width, height = c.Width, c.Height
			case flv.PacketCodedFrames:
				if width == 0 {
					return 0, 0, false, errors.New("video coded frame before the sequence start")
				}
				return width, height, true, nil
			}
		case flv.TagAudio:
			h, err := flv.ParseAudioTagHeader(tag.Data)
			if err != nil {
				return 0, 0, false, fmt.Errorf("audio tag: %w", err)
			}
			multitrack = h.Multitrack
		}
		if multitrack {
			return 0, 0, false, fmt.Errorf("multitrack %v tag at %d ms", tag.Type, tag.Timestamp)
		}
	}
}

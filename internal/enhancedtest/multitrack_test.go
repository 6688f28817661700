package enhancedtest

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
)

// Decoder configurations for the synthetic tracks: x264 720p High@3.1 and
// an hvcC of Main@3.1 without parameter sets (content is not decoded here).
const (
	avcC720p     = "0164001fffe1001a6764001facd9405005bb0110000003001000000303c0f183196001000668ebe3cb22c0fdf8f800"
	hvcCNoArrays = "0121400000009000000000005df000fcfdf8f81e000f00"
)

// multitrackCaps is what an OBS 30 multitrack publisher declares.
var multitrackCaps = rtmp.EnhancedCaps{Declared: true, FourCCList: []string{"avc1", "hvc1"},
	CapsEx: rtmp.CapsExReconnect | rtmp.CapsExMultitrack}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// videoTag builds a video tag body: track 0 as an ordinary (legacy AVC)
// tag, other tracks as Enhanced RTMP multitrack (one track) hvc1, as OBS
// and FFmpeg send them.
func videoTag(t *testing.T, track uint8, pt flv.PacketType, key bool, body []byte) []byte {
	t.Helper()
	frame := flv.FrameInter
	if key {
		frame = flv.FrameKey
	}
	var h flv.VideoTagHeader
	if track == 0 {
		h = flv.VideoTagHeader{FrameType: frame, LegacyCodecID: flv.VideoCodecAVC, Codec: flv.FourCCAVC, PacketType: pt}
		p, err := flv.AppendVideoTag(nil, h, body)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	h = flv.VideoTagHeader{FrameType: frame, Enhanced: true, PacketType: pt, Codec: flv.FourCCHEVC, Multitrack: true,
		MultitrackType: flv.MultitrackOneTrack, Tracks: []flv.Track{{ID: track, Codec: flv.FourCCHEVC, Data: body}}}
	p, err := flv.AppendVideoTag(nil, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// multitrackFile writes, with the repository's FLV writer, a stream of two
// video tracks (0: H.264, 1: H.265) and AAC audio: gops groups of 25
// frames at 25 fps.
func multitrackFile(t *testing.T, gops int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := flv.NewWriter(&buf, flv.Header{HasAudio: true, HasVideo: true})
	write := func(typ flv.TagType, ts uint32, data []byte) {
		if err := w.WriteTag(flv.Tag{Type: typ, Timestamp: ts, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	write(flv.TagVideo, 0, videoTag(t, 0, flv.PacketSequenceStart, true, mustHex(t, avcC720p)))
	write(flv.TagVideo, 0, videoTag(t, 1, flv.PacketSequenceStart, true, mustHex(t, hvcCNoArrays)))
	write(flv.TagAudio, 0, []byte{0xaf, 0x00, 0x11, 0x90})
	for i := range gops * 25 {
		ts := uint32(i * 40)
		key := i%25 == 0
		nal0, nal1 := []byte{0, 0, 0, 2, 0x41, byte(i)}, []byte{0, 0, 0, 3, 0x02, 0x01, byte(i)}
		if key {
			nal0, nal1 = []byte{0, 0, 0, 2, 0x65, byte(i)}, []byte{0, 0, 0, 3, 0x26, 0x01, byte(i)}
		}
		write(flv.TagVideo, ts, videoTag(t, 0, flv.PacketCodedFrames, key, nal0))
		write(flv.TagVideo, ts, videoTag(t, 1, flv.PacketCodedFrames, key, nal1))
		write(flv.TagAudio, ts, []byte{0xaf, 0x01, 0x21, byte(i)})
	}
	return buf.Bytes()
}

// publishFile sends the tags of an FLV file whose timestamps are in
// [from, to) with an RTMP client, in real time when pace is set.
func publishFile(c *rtmp.Client, file []byte, from, to uint32, pace bool) error {
	r := flv.NewReader(bytes.NewReader(file))
	if _, err := r.ReadHeader(); err != nil {
		return err
	}
	start := time.Now()
	for {
		tag, err := r.ReadTag()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if tag.Timestamp < from || tag.Timestamp >= to {
			continue
		}
		if pace {
			if d := time.Duration(tag.Timestamp-from)*time.Millisecond - time.Since(start); d > 0 {
				time.Sleep(d)
			}
		}
		if err := c.WriteMedia(chunk.MessageType(tag.Type), tag.Timestamp, tag.Data); err != nil {
			return err
		}
	}
}

// dial connects to the server declaring caps and publishes name.
func dial(t *testing.T, srv *server.Server, name string, caps rtmp.EnhancedCaps) *rtmp.Client {
	t.Helper()
	c, err := rtmp.Dial(context.Background(), "rtmp://"+srv.RTMPAddr()+"/live", rtmp.ClientConfig{ConnectObject: caps.Properties()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Publish(name); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMultitrackKeepsBothVideoTracksInHTTPFLV: a stream with two video
// tracks reaches an HTTP-FLV viewer that asks for every track
// (?track=all) with both: each track's sequence start (the late viewer
// gets them from the header set) and coded frames of both, unchanged. The
// API lists both tracks.
func TestMultitrackKeepsBothVideoTracksInHTTPFLV(t *testing.T) {
	srv := servertest.Start(t, nil)
	file := multitrackFile(t, 3)
	c := dial(t, srv, "mt", multitrackCaps)
	if err := publishFile(c, file, 0, 1000, false); err != nil { // headers and the first GOP
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+srv.HTTPAddr()+"/live/mt.flv?track=all", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET mt.flv: %s", resp.Status)
	}
	published := make(chan error, 1)
	go func() { published <- publishFile(c, file, 1000, 3000, true) }()
	defer func() {
		if err := <-published; err != nil {
			t.Errorf("publish: %v", err)
		}
	}()

	r := flv.NewReader(resp.Body)
	hdr, err := r.ReadHeader()
	if err != nil || !hdr.HasVideo || !hdr.HasAudio {
		t.Fatalf("FLV header %+v, %v", hdr, err)
	}
	seqStart := map[uint8]flv.FourCC{}
	coded := map[uint8]int{}
	keyAt := map[uint8]bool{}
	for len(seqStart) < 2 || coded[0] < 30 || coded[1] < 30 {
		tag, err := r.ReadTag()
		if err != nil {
			t.Fatalf("after %v sequence starts and %v coded frames: %v", seqStart, coded, err)
		}
		if tag.Type != flv.TagVideo {
			continue
		}
		h, err := flv.ParseVideoTagHeader(tag.Data)
		if err != nil {
			t.Fatalf("video tag: %v", err)
		}
		for _, tr := range h.TrackList(tag.Data) {
			switch h.PacketType {
			case flv.PacketSequenceStart:
				seqStart[tr.ID] = tr.Codec
			case flv.PacketCodedFrames:
				if _, ok := seqStart[tr.ID]; !ok {
					t.Fatalf("track %d coded frame before its sequence start", tr.ID)
				}
				if coded[tr.ID] == 0 {
					keyAt[tr.ID] = h.Keyframe()
				}
				coded[tr.ID]++
			}
		}
	}
	if seqStart[0] != flv.FourCCAVC || seqStart[1] != flv.FourCCHEVC {
		t.Errorf("sequence starts %v", seqStart)
	}
	if !keyAt[0] || !keyAt[1] {
		t.Errorf("the viewer did not start each track at a keyframe: %v", keyAt)
	}

	st, ok := getStream(t, srv, "mt")
	if !ok {
		t.Fatal("stream not live")
	}
	v0, v1 := st.track("video", 0), st.track("video", 1)
	if v0 == nil || v0.FourCC != "avc1" || v0.Width != 1280 || v1 == nil || v1.FourCC != "hvc1" || v1.Profile != "Main" {
		t.Errorf("API tracks %+v", st.Tracks.List)
	}
	// Track 1 is an HLS rendition of its own; its HEVC configuration here
	// has no parameter sets, so nothing of it is segmented, and the API
	// must not say it is.
	if v1 != nil && (v1.HLSPlaylist != "/live/mt~v1.m3u8" || v1.HLS == "included") {
		t.Errorf("track 1 HLS status %q, playlist %q", v1.HLS, v1.HLSPlaylist)
	}
	if !slices.Equal(st.Publisher.Capabilities, []string{"reconnect", "multitrack"}) {
		t.Errorf("publisher capabilities %v", st.Publisher.Capabilities)
	}
}

// TestReconnectThroughAPI: POST /api/v1/streams/live/{name}/reconnect asks
// a publisher that declared the Reconnect capability, over RTMP; one that
// did not is a conflict.
func TestReconnectThroughAPI(t *testing.T) {
	srv := servertest.Start(t, nil)
	file := multitrackFile(t, 1)
	capable := dial(t, srv, "capable", multitrackCaps)
	legacy := dial(t, srv, "legacy", rtmp.EnhancedCaps{})
	for _, c := range []*rtmp.Client{capable, legacy} {
		if err := publishFile(c, file, 0, 200, false); err != nil {
			t.Fatal(err)
		}
	}
	post := func(name string) int {
		resp, err := http.Post("http://"+srv.HTTPAddr()+"/api/v1/streams/live/"+name+"/reconnect", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	testenv.WaitFor(t, 10*time.Second, "both streams", func() bool {
		_, a := getStream(t, srv, "capable")
		_, b := getStream(t, srv, "legacy")
		return a && b
	})
	if code := post("capable"); code != http.StatusAccepted {
		t.Fatalf("reconnect capable: %d", code)
	}
	info, err := capable.ReadStatus()
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := info.String("code"); code != rtmp.CodeReconnectRequest {
		t.Fatalf("status %v", info)
	}
	if code := post("legacy"); code != http.StatusConflict {
		t.Fatalf("reconnect legacy: %d", code)
	}
	if code := post("absent"); code != http.StatusNotFound {
		t.Fatalf("reconnect absent: %d", code)
	}
}

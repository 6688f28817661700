package apisource

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/httpflv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// avcC720p is the decoder configuration x264 writes for 1280x720 High@3.1.
const avcC720p = "0164001fffe1001a6764001facd9405005bb0110000003001000000303c0f183196001000668ebe3cb22c0fdf8f800"

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newFrame(t *testing.T, typ flv.TagType, ts uint32, payload []byte) *stream.Frame {
	t.Helper()
	f, err := stream.NewFrame(typ, ts, payload)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// metadata encodes an onMetaData body.
func metadata(t *testing.T, props amf.ECMAArray) []byte {
	t.Helper()
	b, err := amf.Append0(nil, "onMetaData", props)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDescribeTracks(t *testing.T) {
	avcHeader := append([]byte{0x17, 0x00, 0, 0, 0}, unhex(t, avcC720p)...)
	aacHeader := []byte{0xaf, 0x00, 0x11, 0x90}   // AAC-LC 48000 Hz stereo
	heaac := []byte{0xaf, 0x00, 0x2b, 0x11, 0x88} // explicit SBR: 24000 core, 48000 out, 2 ch
	mp3Frame := []byte{0x2e, 0xff, 0xfb}          // MP3 44 kHz 16-bit stereo
	cases := []struct {
		name      string
		headers   func() stream.Headers
		stats     stream.Stats
		wantVideo *api.VideoTrack
		wantAudio *api.AudioTrack
		encoder   string
	}{
		{
			name: "H.264 and AAC",
			headers: func() stream.Headers {
				return stream.Headers{
					Video: newFrame(t, flv.TagVideo, 0, avcHeader),
					Audio: newFrame(t, flv.TagAudio, 0, aacHeader),
					Metadata: newFrame(t, flv.TagScript, 0, metadata(t, amf.ECMAArray{
						{Key: "width", Value: 640.0}, {Key: "height", Value: 360.0}, {Key: "encoder", Value: "Lavf61.7.100"},
					})),
				}
			},
			stats:     stream.Stats{VideoFPS: 25, VideoFrames: 10, AudioFrames: 10},
			wantVideo: &api.VideoTrack{Codec: "H.264", CodecString: "avc1.64001f", Profile: "High", Level: "3.1", Width: 1280, Height: 720, FPS: 25},
			wantAudio: &api.AudioTrack{Codec: "AAC", CodecString: "mp4a.40.2", SampleRate: 48000, Channels: 2},
			encoder:   "Lavf61.7.100",
		},
		{
			name:      "HE-AAC reports the output rate",
			headers:   func() stream.Headers { return stream.Headers{Audio: newFrame(t, flv.TagAudio, 0, heaac)} },
			wantAudio: &api.AudioTrack{Codec: "AAC", CodecString: "mp4a.40.5", SampleRate: 48000, Channels: 2},
		},
		{
			name: "metadata only",
			headers: func() stream.Headers {
				return stream.Headers{Metadata: newFrame(t, flv.TagScript, 0, metadata(t, amf.ECMAArray{
					{Key: "width", Value: 1920.0}, {Key: "height", Value: 1080.0}, {Key: "videocodecid", Value: 7.0},
					{Key: "audiocodecid", Value: 2.0}, {Key: "audiosamplerate", Value: 44100.0}, {Key: "stereo", Value: true},
				}))}
			},
			stats:     stream.Stats{VideoFrames: 3, AudioFrames: 3, VideoFPS: 29.97},
			wantVideo: &api.VideoTrack{Codec: "H.264", Width: 1920, Height: 1080, FPS: 29.97},
			wantAudio: &api.AudioTrack{Codec: "MP3", SampleRate: 44100, Channels: 2},
		},
		{
			name:      "legacy audio header bits",
			headers:   func() stream.Headers { return stream.Headers{Audio: newFrame(t, flv.TagAudio, 0, mp3Frame)} },
			wantAudio: &api.AudioTrack{Codec: "MP3", SampleRate: 44100, Channels: 1},
		},
		{
			name:    "nothing yet",
			headers: func() stream.Headers { return stream.Headers{} },
		},
		{
			name: "corrupt configuration keeps the codec",
			headers: func() stream.Headers {
				return stream.Headers{
					Video: newFrame(t, flv.TagVideo, 0, []byte{0x17, 0x00, 0, 0, 0, 0x01, 0x64}),
					Audio: newFrame(t, flv.TagAudio, 0, []byte{0xaf, 0x00, 0x10}),
				}
			},
			wantVideo: &api.VideoTrack{Codec: "H.264"},
			wantAudio: &api.AudioTrack{Codec: "AAC"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := describeTracks(tc.headers(), tc.stats)
			if !equalPtr(got.video, tc.wantVideo) {
				t.Errorf("video %+v, want %+v", got.video, tc.wantVideo)
			}
			if !equalPtr(got.audio, tc.wantAudio) {
				t.Errorf("audio %+v, want %+v", got.audio, tc.wantAudio)
			}
			if got.encoder != tc.encoder {
				t.Errorf("encoder %q, want %q", got.encoder, tc.encoder)
			}
		})
	}
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func TestAVCNames(t *testing.T) {
	cases := []struct {
		profile, constraints, level uint8
		name, lvl                   string
	}{
		{66, 0xc0, 30, "Constrained Baseline", "3.0"},
		{66, 0x80, 13, "Baseline", "1.3"},
		{77, 0, 40, "Main", "4.0"},
		{100, 0, 51, "High", "5.1"},
		{110, 0, 31, "High 10", "3.1"},
		{123, 0, 0, "123", ""},
	}
	for _, tc := range cases {
		if got := avcProfileName(tc.profile, tc.constraints); got != tc.name {
			t.Errorf("profile %d: %q, want %q", tc.profile, got, tc.name)
		}
		if got := avcLevel(tc.level); got != tc.lvl {
			t.Errorf("level %d: %q, want %q", tc.level, got, tc.lvl)
		}
	}
}

// fakeRTMP and fakeFLV list fixed sessions and record kicks.
type fakeRTMP struct {
	list   []rtmp.Session
	kicked []string
}

func (f *fakeRTMP) Sessions() []rtmp.Session { return f.list }
func (f *fakeRTMP) Kick(id string) bool {
	for _, s := range f.list {
		if s.ID == id {
			f.kicked = append(f.kicked, id)
			return true
		}
	}
	return false
}

type fakeFLV struct {
	list   []httpflv.Session
	kicked []string
}

func (f *fakeFLV) Sessions() []httpflv.Session { return f.list }
func (f *fakeFLV) Kick(id string) bool {
	for _, s := range f.list {
		if s.ID == id {
			f.kicked = append(f.kicked, id)
			return true
		}
	}
	return false
}

type fakeHLS int

func (f fakeHLS) Viewers(stream.Key) int { return int(f) }

func TestSource(t *testing.T) {
	reg, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	key := stream.Key{App: "live", Name: "cam"}
	pub, err := reg.Publish(key, stream.PublisherInfo{
		ID: "rtmp-1", Protocol: "rtmp", RemoteAddr: "192.0.2.1:5000", Encoder: "FMLE/3.0 (compatible; FMSc/1.0)",
	})
	if err != nil {
		t.Fatal(err)
	}
	pub.WriteFrame(newFrame(t, flv.TagVideo, 0, append([]byte{0x17, 0x00, 0, 0, 0}, unhex(t, avcC720p)...)))
	pub.WriteFrame(newFrame(t, flv.TagVideo, 0, []byte{0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65}))
	readers := []*stream.Reader{
		pub.Stream().NewReader(stream.ReaderInfo{ID: "rtmp-2", Protocol: "rtmp"}),
		pub.Stream().NewReader(stream.ReaderInfo{ID: "flv-1", Protocol: stream.ProtocolFLV}),
		pub.Stream().NewReader(stream.ReaderInfo{ID: "flv-2", Protocol: stream.ProtocolFLV}),
		pub.Stream().NewReader(stream.ReaderInfo{ID: "ws-1", Protocol: stream.ProtocolWS}),
		pub.Stream().NewReader(stream.ReaderInfo{ID: "hls/live/cam", Protocol: "hls"}),
	}
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rt := &fakeRTMP{list: []rtmp.Session{
		{ID: "rtmp-1", RemoteAddr: "192.0.2.1:5000", Role: "publisher", Stream: "live/cam", Start: start, BytesIn: 900, BytesOut: 50},
		{ID: "rtmp-2", RemoteAddr: "192.0.2.2:5000", Role: "player", Stream: "live/cam", Start: start, BytesIn: 10, BytesOut: 700},
		{ID: "rtmp-3", RemoteAddr: "192.0.2.3:5000", Start: start},
	}}
	fv := &fakeFLV{list: []httpflv.Session{
		{ID: "ws-1", Protocol: "ws", RemoteAddr: "192.0.2.4:1", Stream: "live/cam", Start: start, BytesOut: 300, Dropped: 4},
	}}
	src := New(Deps{Hub: reg, RTMP: rt, HTTPFLV: fv, HLS: fakeHLS(2)})

	list := src.Streams()
	if len(list) != 1 {
		t.Fatalf("%d streams", len(list))
	}
	s := list[0]
	if s.App != "live" || s.Name != "cam" || s.Publisher.SessionID != "rtmp-1" || s.Publisher.Protocol != "rtmp" ||
		s.Publisher.Encoder != "FMLE/3.0 (compatible; FMSc/1.0)" || s.Publisher.RemoteAddr != "192.0.2.1:5000" ||
		s.Video == nil || s.Video.Width != 1280 || s.Audio != nil || s.BytesIn == 0 || s.FramesIn != 2 {
		t.Fatalf("stream %+v video %+v", s, s.Video)
	}
	if want := (api.ViewerCounts{RTMP: 1, FLV: 2, WS: 1, HLS: 2}); s.Viewers != want {
		t.Errorf("viewers %+v, want %+v", s.Viewers, want)
	}
	if _, ok := src.Stream("live", "nope"); ok {
		t.Error("unknown stream found")
	}
	if got, ok := src.Stream("live", "cam"); !ok || got.Viewers != s.Viewers {
		t.Errorf("Stream: %v %+v", ok, got)
	}

	sessions := src.Sessions()
	var ids, roles []string
	for _, s := range sessions {
		ids = append(ids, s.ID)
		roles = append(roles, s.Role+"/"+s.Protocol)
	}
	if !slices.Equal(ids, []string{"rtmp-1", "rtmp-2", "rtmp-3", "ws-1"}) ||
		!slices.Equal(roles, []string{"publisher/rtmp", "viewer/rtmp", "connecting/rtmp", "viewer/ws"}) {
		t.Fatalf("sessions %v %v", ids, roles)
	}
	if sessions[3].BytesOut != 300 || sessions[3].Dropped != 4 || sessions[0].BytesIn != 900 {
		t.Errorf("counters %+v", sessions)
	}

	if !src.Kick("ws-1") || !src.Kick("rtmp-3") || src.Kick("nope") {
		t.Fatal("kick results")
	}
	if !src.KickPublisher("live", "cam") || src.KickPublisher("live", "nope") {
		t.Fatal("kick publisher results")
	}
	if !slices.Equal(rt.kicked, []string{"rtmp-3", "rtmp-1"}) || !slices.Equal(fv.kicked, []string{"ws-1"}) {
		t.Fatalf("kicked rtmp %v flv %v", rt.kicked, fv.kicked)
	}
}

func TestSourceWithOnlyAHub(t *testing.T) {
	reg, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := New(Deps{Hub: reg})
	if len(src.Sessions()) != 0 || src.Kick("x") || src.KickPublisher("a", "b") || len(src.Streams()) != 0 {
		t.Fatal("empty source is not empty")
	}
}

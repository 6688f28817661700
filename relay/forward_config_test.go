package relay

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

func TestSplitTargetURL(t *testing.T) {
	for _, c := range []struct {
		raw, connect, name string
	}{
		{"rtmp://a.example/live2/KEY", "rtmp://a.example/live2", "KEY"},
		{"rtmps://b.example:443/app/KEY", "rtmps://b.example:443/app", "KEY"},
		{"rtmp://10.0.0.5:1936/live/cam/sub?token=x", "rtmp://10.0.0.5:1936/live", "cam/sub?token=x"},
	} {
		connect, name, err := splitTargetURL(c.raw)
		if err != nil || connect != c.connect || name != c.name {
			t.Errorf("splitTargetURL(%q) = %q, %q, %v; want %q, %q", c.raw, connect, name, err, c.connect, c.name)
		}
	}
	for _, raw := range []string{"", "http://a.example/live/x", "rtmp://a.example/live", "rtmp://a.example/live/",
		"rtmp:///live/x", "rtmp://a.example", "rtmp://a.example/" + strings.Repeat("x", MaxTargetURLLength) + "/y", "rtmp://%zz/a/b"} {
		if _, _, err := splitTargetURL(raw); !errors.Is(err, ErrTargetURL) {
			t.Errorf("splitTargetURL(%.40q): %v, want ErrTargetURL", raw, err)
		}
	}
}

func TestRedactURLShortensTheKey(t *testing.T) {
	for raw, want := range map[string]string{
		"rtmp://a.example/live2/abcd-efgh-ijkl":     "rtmp://a.example/live2/abcd…",
		"rtmps://user:pw@b.example:443/app/KEY?x=1": "rtmps://b.example:443/app/KEY?…",
		"rtmp://a.example/live/{name}":              "rtmp://a.example/live/{nam…",
	} {
		if got := redactURL(raw); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestForwardConfigValidate(t *testing.T) {
	good := ForwardConfig{Apps: map[string][]string{"live": {"rtmp://a.example/live2/{name}"}},
		Streams: map[string][]string{"live/cam": {"rtmps://b.example/app/KEY"}}, OnForward: "http://hooks.example/forward"}.WithDefaults()
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	if got := good.targetsFor("live", "cam"); len(got) != 2 {
		t.Errorf("targets of live/cam: %v", got)
	}
	for name, edit := range map[string]func(*ForwardConfig){
		"bad app url":    func(c *ForwardConfig) { c.Apps["live"] = []string{"http://a.example/x/y"} },
		"app with slash": func(c *ForwardConfig) { c.Apps["a/b"] = nil },
		"stream key":     func(c *ForwardConfig) { c.Streams["cam"] = []string{"rtmp://a.example/x/y"} },
		"hook url":       func(c *ForwardConfig) { c.OnForward = "ftp://x" },
		"backoffs":       func(c *ForwardConfig) { c.MaxBackoff = c.MinBackoff / 2 },
		"negative":       func(c *ForwardConfig) { c.Timeout = -time.Second },
		"max targets":    func(c *ForwardConfig) { c.MaxTargets = -1 },
		"ca file":        func(c *ForwardConfig) { c.CAFile = "/nonexistent/ca.pem" },
	} {
		c := good
		c.Apps = map[string][]string{"live": {"rtmp://a.example/live2/{name}"}}
		c.Streams = map[string][]string{}
		edit(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestBackoffDoublesWithJitterUpToMax(t *testing.T) {
	minWait, maxWait := time.Second, 8*time.Second
	for failures, full := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second} {
		for range 50 {
			if d := backoff(minWait, maxWait, failures); d > full || d < full/2 {
				t.Fatalf("backoff after %d failures: %v, want in [%v, %v]", failures, d, full/2, full)
			}
		}
	}
}

// TestCheckCodecSendsEnhancedCodecsOnlyWhereAnnounced: an HEVC sequence
// start in Enhanced RTMP form goes only to a target that announced hvc1;
// a legacy H.264 one goes everywhere.
func TestCheckCodecSendsEnhancedCodecsOnlyWhereAnnounced(t *testing.T) {
	hevc, err := flv.AppendVideoTagHeader(nil, flv.VideoTagHeader{FrameType: 1, Enhanced: true, Codec: flv.FourCCHEVC,
		PacketType: flv.PacketSequenceStart})
	if err != nil {
		t.Fatal(err)
	}
	hevcFrame, err := stream.NewFrame(flv.TagVideo, 0, append(hevc, 1, 2, 3))
	if err != nil {
		t.Fatal(err)
	}
	avcFrame, err := stream.NewFrame(flv.TagVideo, 0, []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe0, 0xe0})
	if err != nil {
		t.Fatal(err)
	}
	legacy := rtmp.EnhancedCaps{}
	announced := rtmp.EnhancedCaps{Declared: true, FourCCList: []string{"hvc1", "avc1"}}
	onlyAV1 := rtmp.EnhancedCaps{Declared: true, FourCCList: []string{"av01"}}
	if err := checkCodec(avcFrame, legacy); err != nil {
		t.Errorf("H.264 to a legacy target: %v", err)
	}
	if err := checkCodec(hevcFrame, announced); err != nil {
		t.Errorf("HEVC to a target that announced hvc1: %v", err)
	}
	for _, caps := range []rtmp.EnhancedCaps{legacy, onlyAV1} {
		err := checkCodec(hevcFrame, caps)
		if !errors.Is(err, ErrCodecNotAnnounced) || !strings.Contains(err.Error(), "hvc1") {
			t.Errorf("HEVC to a target that announced %v: %v, want ErrCodecNotAnnounced naming hvc1", caps.Codecs(), err)
		}
	}
}

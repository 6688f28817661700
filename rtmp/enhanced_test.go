package rtmp_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// obsCaps is the declaration OBS 30 sends: both info maps, and capsEx with
// Reconnect and Multitrack.
var obsCaps = rtmp.EnhancedCaps{
	Declared:   true,
	FourCCList: []string{"av01", "vp09", "hvc1"},
	Video:      []rtmp.FourCCInfo{{FourCC: "av01", Mask: rtmp.FourCCCanEncode}, {FourCC: "hvc1", Mask: rtmp.FourCCCanEncode}},
	Audio:      []rtmp.FourCCInfo{{FourCC: "Opus", Mask: rtmp.FourCCCanEncode}, {FourCC: "mp4a", Mask: rtmp.FourCCCanEncode}},
	CapsEx:     rtmp.CapsExReconnect | rtmp.CapsExMultitrack,
}

// TestEnhancedCapsBothDirections: the connect properties decode to the
// declaration, and the declaration encodes to the same properties.
func TestEnhancedCapsBothDirections(t *testing.T) {
	cases := []struct {
		name  string
		props amf.Object
		caps  rtmp.EnhancedCaps
	}{
		{"obs", amf.Object{
			{Key: "fourCcList", Value: []any{"av01", "vp09", "hvc1"}},
			{Key: "videoFourCcInfoMap", Value: amf.Object{{Key: "av01", Value: 2.0}, {Key: "hvc1", Value: 2.0}}},
			{Key: "audioFourCcInfoMap", Value: amf.Object{{Key: "Opus", Value: 2.0}, {Key: "mp4a", Value: 2.0}}},
			{Key: "capsEx", Value: 3.0},
		}, obsCaps},
		{"ffmpeg fourCcList only", amf.Object{
			{Key: "fourCcList", Value: []any{"hvc1", "av01", "vp09"}}, {Key: "capsEx", Value: 0.0},
		}, rtmp.EnhancedCaps{Declared: true, FourCCList: []string{"hvc1", "av01", "vp09"}}},
		{"forwarder wildcard", amf.Object{
			{Key: "videoFourCcInfoMap", Value: amf.Object{{Key: "*", Value: 4.0}}},
			{Key: "capsEx", Value: 15.0},
		}, rtmp.EnhancedCaps{Declared: true, Video: []rtmp.FourCCInfo{{FourCC: "*", Mask: rtmp.FourCCCanForward}},
			CapsEx: rtmp.CapsExReconnect | rtmp.CapsExMultitrack | rtmp.CapsExModEx | rtmp.CapsExTimestampNanoOffset}},
		{"legacy", nil, rtmp.EnhancedCaps{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj := append(amf.Object{{Key: "app", Value: "live"}}, c.props...)
			got := rtmp.ParseEnhancedCaps(obj)
			if !reflect.DeepEqual(got, c.caps) {
				t.Fatalf("parse:\n got %+v\nwant %+v", got, c.caps)
			}
			if enc := c.caps.Properties(); !reflect.DeepEqual(enc, c.props) {
				t.Fatalf("encode:\n got %+v\nwant %+v", enc, c.props)
			}
		})
	}
}

// TestEnhancedCapsIgnoresJunk: wrong types and oversized lists are read
// as far as they make sense, never trusted.
func TestEnhancedCapsIgnoresJunk(t *testing.T) {
	long := make([]any, 200)
	for i := range long {
		long[i] = "hvc1"
	}
	got := rtmp.ParseEnhancedCaps(amf.ECMAArray{
		{Key: "fourCcList", Value: append([]any{1.0, true}, long...)},
		{Key: "videoFourCcInfoMap", Value: "not a map"},
		{Key: "audioFourCcInfoMap", Value: amf.ECMAArray{{Key: "Opus", Value: -1.0}, {Key: "fLaC", Value: "x"}, {Key: "ac-3", Value: 1.0}}},
		{Key: "capsEx", Value: 1e20},
	})
	if !got.Declared || len(got.FourCCList) != rtmp.MaxDeclaredFourCCs || got.Video != nil || got.CapsEx != 0 ||
		!reflect.DeepEqual(got.Audio, []rtmp.FourCCInfo{{FourCC: "ac-3", Mask: 1}}) || got.CanReconnect() {
		t.Fatalf("got %+v", got)
	}
	if codes := got.Codecs(); !reflect.DeepEqual(codes, []string{"ac-3", "hvc1"}) {
		t.Fatalf("Codecs() = %v", codes)
	}
}

// FuzzEnhancedCaps: a connect object that decodes gives a declaration that
// encodes and decodes back to itself; nothing panics.
func FuzzEnhancedCaps(f *testing.F) {
	for _, c := range []rtmp.EnhancedCaps{obsCaps, {Declared: true, CapsEx: 1}} {
		b, err := amf.Append0(nil, c.Properties())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := amf.NewDecoder0(data).Next()
		if err != nil {
			return
		}
		caps := rtmp.ParseEnhancedCaps(v)
		enc, err := amf.Append0(nil, caps.Properties())
		if err != nil {
			t.Fatalf("encode %+v: %v", caps, err)
		}
		back, err := amf.NewDecoder0(enc).Next()
		if err != nil {
			t.Fatalf("decode own encoding: %v", err)
		}
		if again := rtmp.ParseEnhancedCaps(back); !reflect.DeepEqual(again, caps) {
			t.Fatalf("round trip %+v → %+v", caps, again)
		}
	})
}

// dialEnhanced connects declaring caps and publishes name with one
// keyframe.
func dialEnhanced(t *testing.T, s *testServer, name string, caps rtmp.EnhancedCaps) *rtmp.Client {
	t.Helper()
	c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{ConnectObject: caps.Properties(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Publish(name); err != nil {
		t.Fatalf("publish %s: %v", name, err)
	}
	for _, p := range [][]byte{{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe0, 0xe0}, {0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65}} {
		if err := c.WriteMedia(chunk.TypeVideo, 0, p); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestConnectAnswersEnhancedCaps: the connect _result states what the
// server supports, and the publisher's declaration reaches the hub.
func TestConnectAnswersEnhancedCaps(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{})
	c := dialEnhanced(t, s, "caps", obsCaps)
	server := rtmp.ParseEnhancedCaps(c.Properties)
	if !server.Declared || server.CapsEx&(rtmp.CapsExReconnect|rtmp.CapsExMultitrack|rtmp.CapsExModEx) !=
		rtmp.CapsExReconnect|rtmp.CapsExMultitrack|rtmp.CapsExModEx {
		t.Fatalf("server caps %+v", server)
	}
	for _, want := range []string{"hvc1", "av01", "vp09", "avc1", "mp4a", "Opus", "fLaC", "ac-3", "ec-3", ".mp3"} {
		if !slices.Contains(server.FourCCList, want) {
			t.Errorf("fourCcList %v lacks %s", server.FourCCList, want)
		}
	}
	if !slices.Contains(server.Video, rtmp.FourCCInfo{FourCC: "*", Mask: rtmp.FourCCCanForward}) {
		t.Errorf("videoFourCcInfoMap %v does not forward every codec", server.Video)
	}
	st := s.waitLive(t, "caps")
	if caps := st.Info().Caps; caps.CapsEx != 3 || !reflect.DeepEqual(caps.Codecs, []string{"Opus", "av01", "hvc1", "mp4a", "vp09"}) ||
		!reflect.DeepEqual(caps.Names(), []string{"reconnect", "multitrack"}) {
		t.Fatalf("publisher caps %+v", caps)
	}
}

// TestRequestReconnect: a publisher that declared Reconnect gets
// NetConnection.Connect.ReconnectRequest with the tcUrl it connected to;
// one that did not is not asked (it would not understand).
func TestRequestReconnect(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{})
	capable := dialEnhanced(t, s, "capable", obsCaps)
	legacy := dialEnhanced(t, s, "legacy", rtmp.EnhancedCaps{})
	s.waitLive(t, "capable")
	s.waitLive(t, "legacy")

	if s.srv.RequestReconnect(stream.Key{App: "live", Name: "legacy"}) {
		t.Fatal("reconnect requested from a publisher without the capability")
	}
	if s.srv.RequestReconnect(stream.Key{App: "live", Name: "absent"}) {
		t.Fatal("reconnect requested from nobody")
	}
	if !s.srv.RequestReconnect(stream.Key{App: "live", Name: "capable"}) {
		t.Fatal("RequestReconnect did not find the capable publisher")
	}
	info, err := capable.ReadStatus()
	if err != nil {
		t.Fatal(err)
	}
	code, _ := info.String("code")
	level, _ := info.String("level")
	tcURL, _ := info.String("tcUrl")
	if code != rtmp.CodeReconnectRequest || level != "status" || tcURL != "rtmp://127.0.0.1/live" {
		t.Fatalf("status %v", info)
	}
	if n := s.srv.DrainPublishers(); n != 1 {
		t.Fatalf("DrainPublishers asked %d publishers, want 1", n)
	}
	if info, err := capable.ReadStatus(); err != nil || info == nil {
		t.Fatalf("second request: %v, %v", info, err)
	}
	// The legacy publisher was left alone and still publishes.
	if err := legacy.WriteMedia(chunk.TypeVideo, 40, []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41}); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, "the legacy publisher's frame", func() bool {
		st, ok := s.hub.Lookup(stream.Key{App: "live", Name: "legacy"})
		return ok && st.Stats().VideoFrames >= 2
	})
}

package relay_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/relay"
	"github.com/mediaserver/mediaserver/stream"
)

// TestForwardHEVCOnlyWhereAnnounced: an HEVC stream (published in
// Enhanced RTMP by the FFmpeg 8 peer) is forwarded to a second server,
// which announces hvc1 in its connect _result and receives HEVC, and not
// to ffmpeg 5.1, which announces no Enhanced RTMP codec: that target
// shows the error state with the reason.
func TestForwardHEVCOnlyWhereAnnounced(t *testing.T) {
	edge := servertest.Start(t, nil)
	port := testenv.FreePort(t)
	testenv.Start(t, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-listen", "1",
		"-i", fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", port), "-c", "copy", "-f", "null", "-")
	legacy := fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", port)
	enhanced := "rtmp://" + edge.RTMPAddr() + "/edge/{name}"
	srv := servertest.Start(t, func(c *server.Config) {
		c.Forward.Apps = map[string][]string{"live": {legacy, enhanced}}
		c.Forward.MinBackoff, c.Forward.MaxBackoff = 200*time.Millisecond, 10*time.Second
	})
	clip := testenv.EncodeClip(t, t.TempDir(), testenv.Clip{Video: "hevc", Duration: 15 * time.Second})
	testenv.PublishEnhanced(t, clip, "rtmp://"+srv.RTMPAddr()+"/live/hevc")

	var states map[string]forwardDoc
	testenv.WaitFor(t, 40*time.Second, "one target live and one in error", func() bool {
		states = map[string]forwardDoc{}
		for _, f := range forwards(t, srv, "live", "hevc") {
			states[f.State] = f
		}
		return states[relay.StateLive].ID != "" && states[relay.StateError].ID != ""
	})
	if f := states[relay.StateError]; !strings.HasPrefix(f.URL, fmt.Sprintf("rtmp://127.0.0.1:%d/", port)) ||
		!strings.Contains(f.LastError, "hvc1") || !strings.Contains(f.LastError, "announced no Enhanced RTMP codecs") {
		t.Errorf("legacy target %+v: want the error naming hvc1", f)
	}
	if f := states[relay.StateLive]; !strings.HasPrefix(f.URL, "rtmp://"+edge.RTMPAddr()+"/edge/") {
		t.Errorf("live target %+v: want the second server", f)
	}
	testenv.WaitFor(t, 30*time.Second, "HEVC at the second server", func() bool {
		st, ok := edge.Hub().Lookup(stream.Key{App: "edge", Name: "hevc"})
		return ok && st.Stats().Keyframes > 0 && st.Headers().Video != nil && st.Headers().Video.Codec == flv.FourCCHEVC
	})
}

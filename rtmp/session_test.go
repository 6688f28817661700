package rtmp_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
)

// onlyPublishers reports whether every connection of s is publishing: the
// players have gone.
func onlyPublishers(s *testServer) bool {
	for _, sess := range s.srv.Sessions() {
		if sess.Role != "publisher" {
			return false
		}
	}
	return true
}

// TestDeleteStreamClosedConnectionsOlderThanSetupTimeout pins the bug where
// deleteStream on a connection older than SetupTimeout closed it (the read
// deadline fell back to the expired setup deadline): an encoder could not
// publish again on its connection, a player could not play again, and every
// player that left with deleteStream was counted as a setup timeout.
func TestDeleteStreamClosedConnectionsOlderThanSetupTimeout(t *testing.T) {
	const setup = 300 * time.Millisecond
	s := startServer(t, rtmp.ServerConfig{SetupTimeout: setup})

	t.Run("publish again", func(t *testing.T) {
		c := publishClient(t, s, "again", 0, 3)
		s.waitLive(t, "again")
		time.Sleep(3 * setup) // the connection outlives its setup deadline
		if err := c.DeleteStream(); err != nil {
			t.Fatal(err)
		}
		if err := c.Publish("again"); err != nil {
			t.Fatalf("publish again on the same connection: %v", err)
		}
		sendFrames(t, c, 0, 3)
		s.waitLive(t, "again")
	})

	t.Run("play again", func(t *testing.T) {
		publishClient(t, s, "watched", 0, 3)
		s.waitLive(t, "watched")
		v, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if err := v.Play("watched"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * setup)
		if err := v.DeleteStream(); err != nil {
			t.Fatal(err)
		}
		if err := v.Play("watched"); err != nil {
			t.Fatalf("play again on the same connection: %v", err)
		}
		// How ffmpeg leaves: deleteStream, then close.
		if err := v.DeleteStream(); err != nil {
			t.Fatal(err)
		}
		_ = v.Close()
		testenv.WaitFor(t, 5*time.Second, "the player's connection to end", func() bool { return onlyPublishers(s) })
	})

	if n := s.srv.LimitsHit()[rtmp.LimitSetupTimeout]; n != 0 {
		t.Errorf("setup timeouts counted %d, want 0", n)
	}
	if strings.Contains(s.logs.String(), "limit="+rtmp.LimitSetupTimeout) {
		t.Error("a connection was logged as a setup timeout")
	}
}

// TestFFmpegPlayerLeavingWasCountedAsSetupTimeout is the same bug seen
// from a real player: ffmpeg sends deleteStream when it stops, and one
// that had watched longer than SetupTimeout was logged and counted as a
// setup timeout.
func TestFFmpegPlayerLeavingWasCountedAsSetupTimeout(t *testing.T) {
	const setup = 2 * time.Second
	s := startServer(t, rtmp.ServerConfig{SetupTimeout: setup})
	testenv.Publish(t, s.url("cam"), testenv.Source{Duration: 60 * time.Second})
	s.waitLive(t, "cam")
	// 4 s of media: all but the cached GOP arrives in real time, so the
	// player watches for longer than the setup timeout.
	reader := testenv.Start(t, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-i", s.url("cam"), "-t", "4", "-c", "copy", "-f", "null", "-")
	if exited, err := reader.Wait(60 * time.Second); !exited || err != nil {
		t.Fatalf("ffmpeg player: exited %v, err %v\n%s", exited, err, reader.Output())
	}
	testenv.WaitFor(t, 5*time.Second, "the player's leaving logged", func() bool {
		return strings.Contains(s.logs.String(), `msg="viewer left"`)
	})
	if n := s.srv.LimitsHit()[rtmp.LimitSetupTimeout]; n != 0 {
		t.Errorf("setup timeouts counted %d, want 0", n)
	}
	if strings.Contains(s.logs.String(), "limit="+rtmp.LimitSetupTimeout) {
		t.Error("the ffmpeg player was logged as a setup timeout")
	}
}

// viewerLeftRE matches the line logged when a viewer leaves, with the
// fields HTTP-FLV and WebSocket-FLV viewers are logged with.
var viewerLeftRE = regexp.MustCompile(`msg="viewer left" .*session=(rtmp-\d+) .*stream=live/cam .*reason=(.+) bytes_out=[1-9]\d* frames=[1-9]\d* dropped=\d+ socket_full=\d+ duration=\S+`)

// TestRTMPPlayerLeavingWasNotLogged pins the bug where an RTMP player's
// leaving was not logged, while HTTP-FLV and WebSocket-FLV viewers' was.
func TestRTMPPlayerLeavingWasNotLogged(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{})
	publishClient(t, s, "cam", 0, 3)
	s.waitLive(t, "cam")

	p := play(t, s.url("cam"), "cam")
	testenv.WaitFor(t, 5*time.Second, "the player's frames", func() bool { return len(p.snapshot()) >= 3 })
	_ = p.c.Close()
	testenv.WaitFor(t, 5*time.Second, "the player's leaving logged", func() bool {
		return viewerLeftRE.MatchString(s.logs.String())
	})
	if m := viewerLeftRE.FindStringSubmatch(s.logs.String()); m[2] != `"peer left"` {
		t.Errorf("player that closed its connection left with reason %s, want \"peer left\"", m[2])
	}

	v, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Play("cam"); err != nil {
		t.Fatal(err)
	}
	if err := v.DeleteStream(); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, "the second player's leaving logged", func() bool {
		return strings.Contains(s.logs.String(), `reason="player sent deleteStream"`)
	})
}

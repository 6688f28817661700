package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
)

// TestSIGTERMEndsEveryoneCleanly runs the real binary with ffmpeg
// publishing and HTTP-FLV, WebSocket-FLV, RTMP and HLS viewers, sends
// SIGTERM and checks that the process exits 0 within the grace period and
// that every client saw a clean end.
func TestSIGTERMEndsEveryoneCleanly(t *testing.T) {
	const grace = 5 * time.Second
	bin := testenv.BuildServer(t, ".")
	srv := testenv.StartServer(t, bin, []string{"MEDIASERVER_HTTP_SHUTDOWN_GRACE=" + grace.String(),
		"MEDIASERVER_HLS_SEGMENT_DURATION=1s"}, "-rtmp-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")
	rtmpAddr, httpAddr, logs := srv.RTMPAddr, srv.HTTPAddr, srv.Logs
	base := "http://" + httpAddr + "/live/cam"
	testenv.Publish(t, "rtmp://"+rtmpAddr+"/live/cam", testenv.Source{Duration: 60 * time.Second})
	testenv.WaitFor(t, 20*time.Second, "an HLS segment", func() bool {
		resp, err := http.Get(base + ".m3u8")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(body), "#EXTINF")
	})

	// HTTP-FLV: the body must end cleanly (chunked terminator), at a tag
	// boundary.
	flvEnd := make(chan error, 1)
	resp, err := http.Get(base + ".flv")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer resp.Body.Close()
		r := flv.NewReader(resp.Body)
		_, err := r.ReadHeader()
		tags := 0
		for err == nil {
			_, err = r.ReadTag()
			tags++
		}
		if errors.Is(err, io.EOF) && tags < 2 {
			err = errors.New("ended before any media")
		}
		flvEnd <- err
	}()

	// WebSocket-FLV: a close frame 1001 (going away).
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+httpAddr+"/live/cam.flv", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	wsEnd := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				wsEnd <- err
				return
			}
		}
	}()

	// RTMP: StreamEOF and NetStream.Play.UnpublishNotify.
	player, err := rtmp.Dial(context.Background(), "rtmp://"+rtmpAddr+"/live", rtmp.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer player.Close()
	if err := player.Play("cam"); err != nil {
		t.Fatal(err)
	}
	rtmpEnd := make(chan []string, 1)
	go func() {
		var seen []string
		for {
			m, err := player.ReadMessage()
			if err != nil {
				rtmpEnd <- seen
				return
			}
			switch m.Type {
			case chunk.TypeUserControl:
				if ev, err := chunk.ParseUserControl(m.Payload); err == nil && ev.Type == chunk.EventStreamEOF {
					seen = append(seen, "StreamEOF")
				}
			case chunk.TypeCommandAMF0:
				if cmd, err := rtmp.ParseCommand(&m); err == nil && cmd.Name == "onStatus" {
					if obj, ok := cmd.Arg(0).(interface{ String(string) (string, bool) }); ok {
						code, _ := obj.String("code")
						seen = append(seen, code)
					}
				}
			}
		}
	}()

	// HLS: a player polling the playlist sees EXT-X-ENDLIST.
	endList := make(chan bool, 1)
	go func() {
		client := &http.Client{Timeout: 2 * time.Second}
		for {
			resp, err := client.Get(base + ".m3u8")
			if err != nil {
				endList <- false
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "#EXT-X-ENDLIST") {
				endList <- true
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	time.Sleep(2 * time.Second) // everyone is watching

	start := time.Now()
	if err := srv.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.Exited():
		err := srv.ExitErr()
		took := time.Since(start)
		t.Logf("exited after %v: %v", took.Round(time.Millisecond), err)
		if err != nil {
			t.Errorf("exit status: %v, want 0", err)
		}
		if took > grace+time.Second {
			t.Errorf("shutdown took %v, grace is %v", took, grace)
		}
	case <-time.After(grace + 5*time.Second):
		t.Fatalf("still running %v after SIGTERM", grace+5*time.Second)
	}

	if err := <-flvEnd; !errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("HTTP-FLV body ended with %v, want a clean end", err)
	}
	var ce *websocket.CloseError
	if err := <-wsEnd; !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("WebSocket-FLV ended with %v, want close 1001", err)
	}
	seen := <-rtmpEnd
	if !contains(seen, "StreamEOF") || !contains(seen, "NetStream.Play.UnpublishNotify") {
		t.Errorf("RTMP player saw %v, want StreamEOF and NetStream.Play.UnpublishNotify", seen)
	}
	if !<-endList {
		t.Error("no HLS playlist with EXT-X-ENDLIST was served during the shutdown")
	}
	if !strings.Contains(logs.String(), `msg="publish ended"`) {
		t.Error("the publisher's end was not logged")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

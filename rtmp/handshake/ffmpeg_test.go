package handshake

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// TestFFmpegC1KnownAnswer checks the digest computation against a real
// peer: testdata/ffmpeg_c0c1.bin is the C0C1 that ffmpeg (as an RTMP
// player) sent to this server; ffmpeg's C1 is deterministic.
// testdata/ffmpeg_connect.bin is the connect command it sent next.
func TestFFmpegC1KnownAnswer(t *testing.T) {
	c0c1, err := os.ReadFile("testdata/ffmpeg_c0c1.bin")
	if err != nil {
		t.Fatal(err)
	}
	if len(c0c1) != 1+PacketSize || c0c1[0] != 3 {
		t.Fatalf("fixture: %d bytes, C0 %d", len(c0c1), c0c1[0])
	}
	c1 := c0c1[1:]
	schema, off := findDigest(c1, playerKeyText)
	if schema != Schema1 {
		t.Fatalf("ffmpeg's C1: schema %v, want schema1", schema)
	}
	// Recompute the digest in place from scratch.
	again := append([]byte(nil), c1...)
	clear(again[off : off+DigestSize])
	if got := imprintDigest(again, Schema1, playerKeyText); got != off || !bytes.Equal(again, c1) {
		t.Error("recomputed digest differs from ffmpeg's")
	}
	rw := &scriptedRW{r: bytes.NewReader(append(c0c1, make([]byte, PacketSize)...))}
	res, err := Accept(rw, ServerConfig{})
	if err != nil || res.Schema != Schema1 || res.ClientVersion != 0x09007c02 {
		t.Errorf("Accept(ffmpeg C1) = %+v, %v", res, err)
	}
}

// TestFFmpegPlayerHandshake runs the handshake against a real ffmpeg
// player, which verifies S1's digest and S2's signature before sending C2
// (so a nil error from Accept means ffmpeg accepted them); the test then
// verifies ffmpeg's C2 signature.
func TestFFmpegPlayerHandshake(t *testing.T) {
	ffmpeg := testenv.Tool(t, "ffmpeg")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "debug",
		"-i", "rtmp://"+ln.Addr().String()+"/app/stream", "-t", "1", "-f", "null", "-")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("ffmpeg output:\n%s", stderr.String())
		}
	}()
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	rec := &recordingConn{rw: conn}
	res, err := Accept(rec, ServerConfig{})
	if err != nil {
		t.Fatalf("handshake with ffmpeg: %v", err)
	}
	if res.Schema != Schema1 {
		t.Errorf("ffmpeg's schema %v, want schema1", res.Schema)
	}
	s1 := rec.out.Bytes()[1 : 1+PacketSize]
	c2 := rec.in.Bytes()[1+PacketSize:]
	off := digestOffset(s1, Schema1)
	if !signatureValid(c2, playerKey, s1[off:off+DigestSize]) {
		t.Error("ffmpeg's C2 signature does not verify")
	}
	// ffmpeg goes on with its connect command.
	buf := make([]byte, 1)
	if _, err := conn.Read(buf); err != nil {
		t.Errorf("no chunk from ffmpeg after the handshake: %v", err)
	}
}

// TestClientAgainstFFmpegServer runs Client against ffmpeg listening as an
// RTMP server, which checks that C2 echoes its S1. ffmpeg answers with a
// plain S1 (version 0), so a digest client falls back to the plain echo.
func TestClientAgainstFFmpegServer(t *testing.T) {
	ffmpeg := testenv.Tool(t, "ffmpeg")
	for _, schema := range []Schema{SchemaNone, Schema1} {
		t.Run(schema.String(), func(t *testing.T) {
			// Reserve a free port for ffmpeg to listen on.
			probe, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := probe.Addr().String()
			probe.Close()

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "warning",
				"-listen", "1", "-timeout", "20", "-i", "rtmp://"+addr+"/app/stream", "-f", "null", "-")
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				cancel()
				_ = cmd.Wait()
				if t.Failed() {
					t.Logf("ffmpeg output:\n%s", stderr.String())
				}
			}()
			var conn net.Conn
			for deadline := time.Now().Add(15 * time.Second); ; {
				conn, err = net.Dial("tcp", addr)
				if err == nil || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("dial ffmpeg: %v", err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
			res, err := Client(conn, ClientConfig{Schema: schema})
			if err != nil {
				t.Fatalf("handshake with ffmpeg: %v", err)
			}
			if res.Schema != SchemaNone || res.SignatureValid {
				t.Errorf("result %+v, want plain", res)
			}
			// ffmpeg compares C2 with its S1 and hangs up on a mismatch;
			// otherwise it answers a connect command (the one ffmpeg itself
			// sends as a player) with protocol control messages.
			connect, err := os.ReadFile("testdata/ffmpeg_connect.bin")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Write(connect); err != nil {
				t.Fatalf("send connect: %v", err)
			}
			buf := make([]byte, 1)
			if _, err := io.ReadFull(conn, buf); err != nil {
				t.Fatalf("ffmpeg did not answer after the handshake: %v", err)
			}
			// ffmpeg only warns about a C2 that does not echo S1.
			conn.Close()
			cancel()
			_ = cmd.Wait()
			if bytes.Contains(stderr.Bytes(), []byte("Erroneous C2")) {
				t.Errorf("ffmpeg complains about C2:\n%s", stderr.String())
			}
		})
	}
}

package rtmp_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/rtmp/handshake"
	"github.com/mediaserver/mediaserver/stream"
)

var updateTranscripts = flag.Bool("update", false, "rewrite the RTMP transcripts in testdata/ with what the server sends now")

// transcriptWait bounds the wait for one answer of the server: a guard
// against a hang, not a timing assertion.
const transcriptWait = 10 * time.Second

// wireMessage is one message seen on the wire with the bytes that carried
// it (chunk headers included).
type wireMessage struct {
	msg chunk.Message
	raw []byte
}

// transcript is a dialogue with a ServerConn over net.Pipe, after the
// handshake, written down message by message: what the client sent and
// what the server answered, each decoded and with its bytes.
type transcript struct {
	t      *testing.T
	conn   net.Conn
	w      *chunk.Writer
	wbuf   bytes.Buffer
	txID   float64
	fromS  chan wireMessage
	readDn chan error
	served chan error
	text   strings.Builder
}

// newTranscript starts a ServerConn with cfg on one end of a pipe and runs
// the client handshake on the other.
func newTranscript(t *testing.T, hub rtmp.Hub, cfg rtmp.ServerConfig, title string) *transcript {
	t.Helper()
	client, server := net.Pipe()
	tr := &transcript{t: t, conn: client, fromS: make(chan wireMessage, 64), readDn: make(chan error, 1), served: make(chan error, 1)}
	conn, err := rtmp.NewServerConn(server, "rtmp-1", cfg, hub, nil)
	if err != nil {
		t.Fatalf("NewServerConn: %v", err)
	}
	go func() { tr.served <- conn.Serve(context.Background()) }()
	if _, err := handshake.Client(client, handshake.ClientConfig{}); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	tr.w = chunk.NewWriter(&tr.wbuf)
	go tr.readServer()
	fmt.Fprintf(&tr.text, "# %s\n", title)
	tr.text.WriteString("# The RTMP dialogue after the handshake (which is random). C: the client, S: the server;\n" +
		"# each message decoded (type, chunk stream, message stream, timestamp, body), then the bytes that carried it.\n" +
		"# Regenerate with: go test ./rtmp -run TestWireTranscripts -update\n")
	return tr
}

// readServer reads what the server sends until the pipe closes, cutting the
// bytes at message boundaries.
func (tr *transcript) readServer() {
	var raw bytes.Buffer
	r := chunk.NewReader(io.TeeReader(tr.conn, &raw), chunk.ReaderConfig{})
	var at uint64
	for {
		m, err := r.ReadMessage()
		if err != nil {
			close(tr.fromS)
			tr.readDn <- err
			return
		}
		n := r.BytesRead()
		b := raw.Next(int(n - at))
		at = n
		tr.fromS <- wireMessage{msg: m, raw: bytes.Clone(b)}
	}
}

// step starts a section of the transcript.
func (tr *transcript) step(name string) {
	fmt.Fprintf(&tr.text, "\n== %s\n", name)
}

// send writes a message from the client and records it.
func (tr *transcript) send(m *chunk.Message) {
	tr.t.Helper()
	tr.wbuf.Reset()
	if err := tr.w.WriteMessage(m); err != nil {
		tr.t.Fatal(err)
	}
	raw := bytes.Clone(tr.wbuf.Bytes())
	tr.record("C", wireMessage{msg: *m, raw: raw})
	if _, err := tr.conn.Write(raw); err != nil {
		tr.t.Fatalf("send %v: %v", m.Type, err)
	}
}

// setChunkSize sends Set Chunk Size from the client and uses the size
// from then on.
func (tr *transcript) setChunkSize(n int) {
	tr.t.Helper()
	tr.wbuf.Reset()
	if err := tr.w.SetChunkSize(n); err != nil {
		tr.t.Fatal(err)
	}
	raw := bytes.Clone(tr.wbuf.Bytes())
	m := chunk.ControlMessage(chunk.TypeSetChunkSize, chunk.AppendSetChunkSize(nil, uint32(n)))
	tr.record("C", wireMessage{msg: m, raw: raw})
	if _, err := tr.conn.Write(raw); err != nil {
		tr.t.Fatalf("send Set Chunk Size: %v", err)
	}
}

// command sends a command on message stream streamID with the next
// transaction id and returns the id.
func (tr *transcript) command(streamID uint32, name string, object any, args ...any) float64 {
	tr.t.Helper()
	tr.txID++
	payload, err := rtmp.AppendCommand(nil, rtmp.Command{Name: name, TransactionID: tr.txID, Object: object, Args: args})
	if err != nil {
		tr.t.Fatal(err)
	}
	tr.send(&chunk.Message{Type: chunk.TypeCommandAMF0, ChunkStreamID: 3, StreamID: streamID, Payload: payload})
	return tr.txID
}

// expect records what the server sends until a message satisfies until.
func (tr *transcript) expect(what string, until func(chunk.Message) bool) {
	tr.t.Helper()
	for {
		select {
		case m, ok := <-tr.fromS:
			if !ok {
				tr.t.Fatalf("the server closed the connection before %s:\n%s", what, tr.text.String())
			}
			tr.record("S", m)
			if until(m.msg) {
				return
			}
		case <-time.After(transcriptWait):
			tr.t.Fatalf("no %s from the server:\n%s", what, tr.text.String())
		}
	}
}

// expectResult records the server's messages up to the _result (or
// _error) of transaction tx.
func (tr *transcript) expectResult(tx float64) {
	tr.t.Helper()
	tr.expect(fmt.Sprintf("answer to transaction %v", tx), func(m chunk.Message) bool {
		cmd, err := rtmp.ParseCommand(&m)
		return err == nil && (cmd.Name == "_result" || cmd.Name == "_error") && cmd.TransactionID == tx
	})
}

// expectStatus records the server's messages up to an onStatus with code.
func (tr *transcript) expectStatus(code string) {
	tr.t.Helper()
	tr.expect("onStatus "+code, func(m chunk.Message) bool {
		cmd, err := rtmp.ParseCommand(&m)
		if err != nil || cmd.Name != "onStatus" {
			return false
		}
		obj, _ := cmd.Arg(0).(amf.Object)
		got, _ := obj.String("code")
		return got == code
	})
}

// expectData records the server's messages up to a data message whose
// first value is name.
func (tr *transcript) expectData(name string) {
	tr.t.Helper()
	tr.expect("data message "+name, func(m chunk.Message) bool {
		vals, err := amf.Decode0(m.Payload)
		return err == nil && m.Type == chunk.TypeDataAMF0 && len(vals) > 0 && vals[0] == name
	})
}

// close ends the dialogue: the client closes the connection, and whatever
// the server still sent is recorded. It returns the transcript and what
// the server's Serve returned.
func (tr *transcript) close() (string, error) {
	tr.t.Helper()
	tr.step("the client closes the connection")
	_ = tr.conn.Close()
	for m := range tr.fromS {
		tr.record("S", m)
	}
	<-tr.readDn
	return tr.text.String(), <-tr.served
}

// closeCleanly is close for a dialogue that ends well.
func (tr *transcript) closeCleanly() string {
	tr.t.Helper()
	text, err := tr.close()
	if err != nil {
		tr.t.Errorf("Serve: %v", err)
	}
	return text
}

// hexLineBytes is how many bytes one line of a transcript's hex holds.
const hexLineBytes = 48

// record writes one message down: a decoded line, then its bytes in hex.
func (tr *transcript) record(side string, m wireMessage) {
	fmt.Fprintf(&tr.text, "%s %v cs=%d ms=%d ts=%d: %s\n", side, m.msg.Type, m.msg.ChunkStreamID,
		m.msg.StreamID, m.msg.Timestamp, describeBody(m.msg))
	for b := m.raw; len(b) > 0; {
		n := min(len(b), hexLineBytes)
		fmt.Fprintf(&tr.text, "  %s\n", hex.EncodeToString(b[:n]))
		b = b[n:]
	}
}

// describeBody decodes a message body for the transcript.
func describeBody(m chunk.Message) string {
	p := m.Payload
	switch m.Type {
	case chunk.TypeSetChunkSize, chunk.TypeAbort, chunk.TypeAck, chunk.TypeWindowAckSize:
		if len(p) == 4 {
			return strconv.FormatUint(uint64(uint32(p[0])<<24|uint32(p[1])<<16|uint32(p[2])<<8|uint32(p[3])), 10)
		}
	case chunk.TypeSetPeerBandwidth:
		if b, err := chunk.ParseSetPeerBandwidth(p); err == nil {
			return fmt.Sprintf("%d %v", b.Size, b.Limit)
		}
	case chunk.TypeUserControl:
		if ev, err := chunk.ParseUserControl(p); err == nil {
			if ev.Type == chunk.EventSetBufferLength {
				return fmt.Sprintf("%v %d %dms", ev.Type, ev.Value, ev.BufferLength)
			}
			return fmt.Sprintf("%v %d", ev.Type, ev.Value)
		}
	case chunk.TypeCommandAMF0, chunk.TypeDataAMF0:
		if vals, err := amf.Decode0(p); err == nil {
			parts := make([]string, len(vals))
			for i, v := range vals {
				parts[i] = formatAMF(v)
			}
			return strings.Join(parts, " ")
		}
	}
	return fmt.Sprintf("%d bytes", len(p))
}

// formatAMF writes an AMF0 value the way a reviewer reads it.
func formatAMF(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case amf.Undefined:
		return "undefined"
	case string:
		return strconv.Quote(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case amf.Object:
		return "{" + formatProps(v) + "}"
	case amf.ECMAArray:
		return "ecma{" + formatProps(v) + "}"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = formatAMF(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

func formatProps(props []amf.Property) string {
	parts := make([]string, len(props))
	for i, p := range props {
		parts[i] = p.Key + ": " + formatAMF(p.Value)
	}
	return strings.Join(parts, ", ")
}

// compareTranscript checks a transcript against its committed file, or
// rewrites the file with -update.
func compareTranscript(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateTranscripts {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got == string(want) {
		return
	}
	gotLines, wantLines := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gotLines), len(wantLines)) {
		var g, w string
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Fatalf("what the server sends changed: %s line %d\nwant: %s\ngot:  %s\n\nwhole transcript:\n%s\n"+
				"If the change is intended, review it and run go test ./rtmp -run TestWireTranscripts -update",
				path, i+1, w, g, got)
		}
	}
}

// TestWireTranscripts pins, byte for byte, what encoders and players see
// of the server's side of the RTMP dialogue: connect and its _result (with
// the properties and capabilities announced), createStream, publish and
// onStatus, play with its Play.Reset, Play.Start and |RtmpSampleAccess,
// deleteStream, and a refused publish.
func TestWireTranscripts(t *testing.T) {
	hub, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	defer hub.Close()

	t.Run("publish", func(t *testing.T) {
		// As OBS and other librtmp encoders do it.
		tr := newTranscript(t, hub, rtmp.ServerConfig{}, "An encoder publishes live/cam, unpublishes, and starts again on the same connection.")
		tr.step("set chunk size (no answer)")
		tr.setChunkSize(4096)
		tr.step("connect")
		tx := tr.command(0, "connect", amf.Object{
			{Key: "app", Value: "live"}, {Key: "type", Value: "nonprivate"},
			{Key: "flashVer", Value: "FMLE/3.0 (compatible; FMSc/1.0)"}, {Key: "swfUrl", Value: "rtmp://127.0.0.1/live"},
			{Key: "tcUrl", Value: "rtmp://127.0.0.1/live"},
		})
		tr.expectResult(tx)
		tr.step("releaseStream")
		tr.expectResult(tr.command(0, "releaseStream", nil, "cam"))
		tr.step("FCPublish")
		tr.expectResult(tr.command(0, "FCPublish", nil, "cam"))
		tr.step("createStream")
		tr.expectResult(tr.command(0, "createStream", nil))
		tr.step("publish")
		tr.command(1, "publish", nil, "cam", "live")
		tr.expectStatus("NetStream.Publish.Start")
		tr.step("FCUnpublish")
		tr.expectResult(tr.command(0, "FCUnpublish", nil, "cam"))
		tr.step("deleteStream (no answer)")
		tr.command(0, "deleteStream", nil, 1.0)
		tr.step("createStream again: the connection is still open")
		tr.expectResult(tr.command(0, "createStream", nil))
		compareTranscript(t, "publish.transcript", tr.closeCleanly())
	})

	t.Run("play", func(t *testing.T) {
		key := stream.Key{App: "live", Name: "cam"}
		pub, err := hub.Publish(key, stream.PublisherInfo{ID: "encoder", Protocol: "rtmp"})
		if err != nil {
			t.Fatal(err)
		}
		defer pub.End()
		// As ffmpeg and other librtmp players do it, on a stream with no
		// media yet, so that only the dialogue is on the wire.
		tr := newTranscript(t, hub, rtmp.ServerConfig{}, "A player plays live/cam, stops with deleteStream, and the connection stays open.")
		tr.step("connect")
		tx := tr.command(0, "connect", amf.Object{
			{Key: "app", Value: "live"}, {Key: "flashVer", Value: "LNX 9,0,124,2"},
			{Key: "tcUrl", Value: "rtmp://127.0.0.1:1935/live"}, {Key: "fpad", Value: false},
			{Key: "capabilities", Value: 15.0}, {Key: "audioCodecs", Value: 4071.0},
			{Key: "videoCodecs", Value: 252.0}, {Key: "videoFunction", Value: 1.0},
		})
		tr.expectResult(tx)
		tr.step("window acknowledgement size (no answer)")
		tr.send(&chunk.Message{Type: chunk.TypeWindowAckSize, ChunkStreamID: 2, Payload: chunk.AppendWindowAckSize(nil, 2500000)})
		tr.step("createStream")
		tr.expectResult(tr.command(0, "createStream", nil))
		tr.step("getStreamLength")
		tr.expectResult(tr.command(1, "getStreamLength", nil, "cam"))
		tr.step("play")
		tr.command(1, "play", nil, "cam", -2000.0)
		tr.expectData("|RtmpSampleAccess")
		tr.step("set buffer length (no answer)")
		tr.send(&chunk.Message{Type: chunk.TypeUserControl, ChunkStreamID: 2, Payload: chunk.AppendUserControl(nil,
			chunk.UserControl{Type: chunk.EventSetBufferLength, Value: 1, BufferLength: 3000})})
		tr.step("deleteStream (no answer)")
		tr.command(0, "deleteStream", nil, 1.0)
		tr.step("createStream again: the connection is still open")
		tr.expectResult(tr.command(0, "createStream", nil))
		compareTranscript(t, "play.transcript", tr.closeCleanly())
	})

	t.Run("refused", func(t *testing.T) {
		// OBS with the stream key left empty: the refusal says what to set.
		tr := newTranscript(t, hub, rtmp.ServerConfig{RefusalDelay: time.Millisecond},
			"An encoder publishes without a stream key and is refused.")
		tr.step("connect")
		tr.expectResult(tr.command(0, "connect", amf.Object{
			{Key: "app", Value: "live"}, {Key: "type", Value: "nonprivate"},
			{Key: "flashVer", Value: "FMLE/3.0 (compatible; FMSc/1.0)"}, {Key: "tcUrl", Value: "rtmp://192.0.2.1/live"},
		}))
		tr.step("createStream")
		tr.expectResult(tr.command(0, "createStream", nil))
		tr.step("publish")
		tr.command(1, "publish", nil, "", "live")
		tr.expectStatus("NetStream.Publish.BadName")
		text, err := tr.close()
		if !errors.Is(err, stream.ErrInvalidName) {
			t.Errorf("Serve: %v, want %v", err, stream.ErrInvalidName)
		}
		compareTranscript(t, "refused.transcript", text)
	})
}

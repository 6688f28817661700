package rtmp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/internal/writev"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/rtmp/handshake"
	"github.com/mediaserver/mediaserver/stream"
)

// ErrStatus is returned by the client when the server answers a command
// with an error status.
var ErrStatus = errors.New("rtmp: error status")

// DefaultClientTimeout is the default ClientConfig.Timeout.
const DefaultClientTimeout = 10 * time.Second

// ClientConfig configures a Client. Zero fields take the defaults.
type ClientConfig struct {
	// ChunkSize is the chunk size the client sends with. Default
	// DefaultChunkSize (4096), as the server.
	ChunkSize int
	// Timeout bounds each read and write. Default DefaultClientTimeout
	// (10s).
	Timeout time.Duration
	// ConnectObject adds properties to the connect command object (for
	// example fourCcList for Enhanced RTMP).
	ConnectObject amf.Object
	// Dial opens the TCP connection. Default: a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// LimitUnsent caps the bytes the socket queues unsent, as the
	// server's players' are (writev.LimitUnsent): a slow server's backlog
	// then stays in the stream's ring, where a hub reader's lag bound
	// drops it, rather than in the kernel.
	LimitUnsent bool
	// TLS configures the TLS client of rtmps:// URLs. Nil: the system's
	// roots, and the URL's host as the server name (also when TLS leaves
	// ServerName empty).
	TLS *tls.Config
}

// Default ports of the client's URL schemes.
const (
	// DefaultPort is the port of an rtmp:// URL without one.
	DefaultPort = "1935"
	// DefaultTLSPort is the port of an rtmps:// URL without one.
	DefaultTLSPort = "443"
)

// withDefaults returns c with the documented defaults in its zero fields.
func (c ClientConfig) withDefaults() ClientConfig {
	setDefault(&c.ChunkSize, DefaultChunkSize)
	setDefault(&c.Timeout, DefaultClientTimeout)
	return c
}

// Client is a minimal RTMP client over rtmp:// or rtmps://: connect, then
// publish or play. Forwards publish with it (WriteFrames); tests and the
// load tool use it too. Its writes go through the same connection writer
// as the server's (writev.Conn): commands and control messages from any
// goroutine, media batches in one vectored write.
type Client struct {
	conn     net.Conn
	r        *chunk.Reader
	w        *chunk.Writer
	out      *writev.Conn
	cfg      ClientConfig
	scheme   string
	app      string
	txID     float64
	streamID uint32
	// Connect is the information object of the connect _result.
	Connect amf.Object
	// Properties is the properties object of the connect _result (fmsVer,
	// and the server's Enhanced RTMP capabilities).
	Properties amf.Object

	// encKey and build make the shared chunk serialisation of a published
	// frame (WriteFrames), set by Publish; bufs is WriteFrames' batch.
	encKey any
	build  func(*stream.Frame) []byte
	bufs   net.Buffers
}

// Dial connects to an rtmp:// or rtmps:// URL
// (rtmp[s]://host[:port]/app[/…]) and runs the TLS handshake (rtmps), the
// RTMP handshake and connect. A URL of another scheme fails with
// ErrURLScheme.
func Dial(ctx context.Context, rawURL string, cfg ClientConfig) (*Client, error) {
	cfg = cfg.withDefaults()
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("rtmp url: %w", err)
	}
	port := DefaultPort
	switch u.Scheme {
	case "rtmp":
	case "rtmps":
		port = DefaultTLSPort
	default:
		return nil, fmt.Errorf("rtmp url scheme %q: %w", u.Scheme, ErrURLScheme)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), port)
	}
	app, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if u.RawQuery != "" {
		app += "?" + u.RawQuery // encoders pass auth tokens this way
	}
	dial := cfg.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	if cfg.LimitUnsent {
		_ = writev.LimitUnsent(conn) // a failure leaves the kernel's default
	}
	if u.Scheme == "rtmps" {
		if conn, err = tlsClient(ctx, conn, u.Hostname(), cfg); err != nil {
			return nil, err
		}
	}
	c := &Client{conn: conn, cfg: cfg, app: app, scheme: u.Scheme}
	if err := c.open(u); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return c, nil
}

// open runs the handshake and connect.
func (c *Client) open(u *url.URL) error {
	_ = c.conn.SetDeadline(time.Now().Add(c.cfg.Timeout))
	if _, err := handshake.Client(c.conn, handshake.ClientConfig{}); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	c.r = chunk.NewReader(c.conn, chunk.ReaderConfig{})
	c.w = chunk.NewWriter(c.conn)
	c.out = writev.NewConn(c.conn, writev.ConnConfig{Timeout: c.cfg.Timeout})
	if err := c.out.Control(func() error { return c.w.SetChunkSize(c.cfg.ChunkSize) }); err != nil {
		return err
	}
	tcURL := c.scheme + "://" + u.Hostname() + "/" + c.app
	obj := amf.Object{
		{Key: "app", Value: c.app},
		{Key: "flashVer", Value: "FMLE/3.0 (compatible; mediaserver)"},
		{Key: "tcUrl", Value: tcURL},
		{Key: "fpad", Value: false},
		{Key: "capabilities", Value: 15.0},
		{Key: "audioCodecs", Value: 4071.0},
		{Key: "videoCodecs", Value: 252.0},
		{Key: "videoFunction", Value: 1.0},
	}
	obj = append(obj, c.cfg.ConnectObject...)
	res, err := c.call("connect", obj)
	if err != nil {
		return err
	}
	if info, ok := res.Arg(0).(amf.Object); ok {
		c.Connect = info
	}
	if props, ok := res.Object.(amf.Object); ok {
		c.Properties = props
	}
	return nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Conn returns the underlying connection.
func (c *Client) Conn() net.Conn { return c.conn }

// Call sends a command with a new transaction id and waits for its _result
// (or _error, returned as ErrStatus).
func (c *Client) Call(name string, object any, args ...any) (Command, error) {
	return c.call(name, object, args...)
}

// WriteMessage sends a raw message, for tests that need to send what no
// well-behaved client would.
func (c *Client) WriteMessage(m *chunk.Message) error {
	return c.out.Control(func() error { return c.w.WriteMessage(m) })
}

// call sends a command and waits for its _result or _error.
func (c *Client) call(name string, object any, args ...any) (Command, error) {
	c.txID++
	tx := c.txID
	if err := c.send(0, Command{Name: name, TransactionID: tx, Object: object, Args: args}); err != nil {
		return Command{}, err
	}
	for {
		cmd, err := c.readCommand()
		if err != nil {
			return Command{}, fmt.Errorf("%s: %w", name, err)
		}
		if cmd.TransactionID != tx {
			continue
		}
		if cmd.Name == "_error" {
			return cmd, fmt.Errorf("%s: %w: %v", name, ErrStatus, cmd.Args)
		}
		if cmd.Name == "_result" {
			return cmd, nil
		}
	}
}

// send writes a command on a message stream.
func (c *Client) send(streamID uint32, cmd Command) error {
	payload, err := AppendCommand(nil, cmd)
	if err != nil {
		return err
	}
	return c.WriteMessage(&chunk.Message{Type: chunk.TypeCommandAMF0, ChunkStreamID: csidCommand, StreamID: streamID, Payload: payload})
}

// readCommand reads messages until a command arrives.
func (c *Client) readCommand() (Command, error) {
	for {
		msg, err := c.ReadMessage()
		if err != nil {
			return Command{}, err
		}
		if msg.Type == chunk.TypeCommandAMF0 || msg.Type == chunk.TypeCommandAMF3 {
			return ParseCommand(&msg)
		}
	}
}

// ReadMessage reads the next message of any type.
func (c *Client) ReadMessage() (chunk.Message, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(c.cfg.Timeout))
	return c.r.ReadMessage()
}

// createStream asks for a message stream.
func (c *Client) createStream() error {
	res, err := c.call("createStream", nil)
	if err != nil {
		return err
	}
	id, ok := res.NumberArg(0)
	if !ok {
		return fmt.Errorf("createStream: no stream id in %v", res.Args)
	}
	c.streamID = uint32(id)
	return nil
}

// waitStatus reads until an onStatus arrives and returns its code; an
// error-level status is returned as ErrStatus.
func (c *Client) waitStatus() (string, error) {
	for {
		cmd, err := c.readCommand()
		if err != nil {
			return "", err
		}
		if cmd.Name != "onStatus" {
			continue
		}
		info := cmd.Arg(0)
		code, _ := propertyString(info, "code")
		level, _ := propertyString(info, "level")
		if level == "error" {
			desc, _ := propertyString(info, "description")
			return code, fmt.Errorf("%w: %s: %s", ErrStatus, code, desc)
		}
		return code, nil
	}
}

// Publish starts publishing name (which may carry a ?query).
func (c *Client) Publish(name string) error {
	if err := c.createStream(); err != nil {
		return err
	}
	if err := c.send(c.streamID, Command{Name: "publish", Args: []any{name, "live"}}); err != nil {
		return err
	}
	code, err := c.waitStatus()
	if err != nil {
		return err
	}
	if code != codePublishStart {
		return fmt.Errorf("publish: unexpected status %s", code)
	}
	key := chunkKey{chunkSize: c.cfg.ChunkSize, streamID: c.streamID}
	c.encKey = key
	c.build = func(f *stream.Frame) []byte { return appendFrameChunks(nil, f, key) }
	return nil
}

// Play starts playing name; media follows through ReadMessage.
func (c *Client) Play(name string) error {
	if err := c.createStream(); err != nil {
		return err
	}
	if err := c.send(c.streamID, Command{Name: "play", Args: []any{name, -2000.0, -1.0, true}}); err != nil {
		return err
	}
	for {
		code, err := c.waitStatus()
		if err != nil {
			return err
		}
		if code == codePlayStart {
			return nil
		}
	}
}

// DeleteStream ends the client's publish or play the way encoders and
// players do when they stop: deleteStream on message stream 0, naming the
// stream. The connection stays open for another Publish or Play.
func (c *Client) DeleteStream() error {
	c.txID++
	return c.send(0, Command{Name: "deleteStream", TransactionID: c.txID, Args: []any{float64(c.streamID)}})
}

// WriteMedia sends an audio, video or data message on the published
// stream.
func (c *Client) WriteMedia(typ chunk.MessageType, ts uint32, payload []byte) error {
	csid := uint32(csidVideo)
	switch typ {
	case chunk.TypeAudio:
		csid = csidAudio
	case chunk.TypeDataAMF0:
		csid = csidData
	}
	return c.WriteMessage(&chunk.Message{Type: typ, Timestamp: ts, StreamID: c.streamID, ChunkStreamID: csid, Payload: payload})
}

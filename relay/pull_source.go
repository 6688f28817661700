package relay

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// sampleAccess is the data message servers send players before media; it
// is not part of the stream.
const sampleAccess = "|RtmpSampleAccess"

// source is an open connection to a pulled stream's origin.
type source interface {
	// copy reads the stream and hands every frame to emit, in order,
	// until the source ends or fails (a clean end returns io.EOF).
	copy(emit func(*stream.Frame)) error
	// Close ends the connection; a copy blocked in a read returns.
	Close() error
}

// dialer opens sources. Its transport is shared by the HTTP-FLV sources
// of one Puller.
type dialer struct {
	readTimeout time.Duration
	tlsConfig   *tls.Config
	transport   *http.Transport
	client      *http.Client
}

// newDialer returns a dialer whose reads time out after readTimeout and
// whose TLS connections use tlsConfig (nil: the defaults).
func newDialer(readTimeout time.Duration, tlsConfig *tls.Config) *dialer {
	d := &dialer{readTimeout: readTimeout, tlsConfig: tlsConfig}
	netDialer := &net.Dialer{Timeout: readTimeout}
	d.transport = &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := netDialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &readDeadlineConn{Conn: conn, timeout: readTimeout}, nil
		},
		TLSClientConfig:       tlsConfig.Clone(),
		TLSHandshakeTimeout:   readTimeout,
		ResponseHeaderTimeout: readTimeout,
		ForceAttemptHTTP2:     true,
	}
	d.client = &http.Client{Transport: d.transport}
	return d
}

// close lets go of idle HTTP connections.
func (d *dialer) close() { d.transport.CloseIdleConnections() }

// open connects to rawURL and starts reading the stream.
func (d *dialer) open(ctx context.Context, rawURL string) (source, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedSource, err)
	}
	switch u.Scheme {
	case "rtmp", "rtmps":
		return d.openRTMP(ctx, u)
	case "http", "https":
		return d.openHTTP(ctx, u)
	}
	return nil, fmt.Errorf("%w: scheme %q", ErrUnsupportedSource, u.Scheme)
}

// openRTMP connects to an rtmp:// or rtmps:// URL and plays its stream:
// the path's first segment is the app, the rest the stream name.
func (d *dialer) openRTMP(ctx context.Context, u *url.URL) (source, error) {
	path := strings.TrimPrefix(u.Path, "/")
	app, name, ok := strings.Cut(path, "/")
	if !ok || app == "" || name == "" {
		return nil, fmt.Errorf("%w: %s: the path must be /app/name", ErrUnsupportedSource, u.Redacted())
	}
	netDialer := &net.Dialer{Timeout: d.readTimeout}
	dial := netDialer.DialContext
	dialURL := *u
	if u.Scheme == "rtmps" {
		port := u.Port()
		if port == "" {
			port = "443"
		}
		dialURL.Scheme, dialURL.Host = "rtmp", net.JoinHostPort(u.Hostname(), port)
		tlsCfg := &tls.Config{}
		if d.tlsConfig != nil {
			tlsCfg = d.tlsConfig.Clone()
		}
		if tlsCfg.ServerName == "" {
			tlsCfg.ServerName = u.Hostname()
		}
		dial = (&tls.Dialer{NetDialer: netDialer, Config: tlsCfg}).DialContext
	}
	// The handshake, connect and play run under per-read deadlines, not
	// ctx: until they are done, ctx ending closes the connection.
	var stopClosing func() bool
	cfg := rtmp.ClientConfig{Timeout: d.readTimeout, Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err == nil {
			stopClosing = context.AfterFunc(ctx, func() { _ = conn.Close() })
		}
		return conn, err
	}}
	// The query goes with the stream name, where servers read tokens.
	dialURL.Path, dialURL.RawPath, dialURL.RawQuery = "/"+app, "", ""
	if u.RawQuery != "" {
		name += "?" + u.RawQuery
	}
	c, err := rtmp.Dial(ctx, dialURL.String(), cfg)
	if err != nil {
		if stopClosing != nil {
			stopClosing()
		}
		return nil, fmt.Errorf("connect: %w", err)
	}
	err = c.Play(name)
	if !stopClosing() && err == nil {
		err = ctx.Err() // closed by ctx just as play succeeded
	}
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("play: %w", err)
	}
	return &rtmpSource{c: c}, nil
}

// rtmpSource is a stream played from an RTMP server.
type rtmpSource struct{ c *rtmp.Client }

// Close closes the RTMP connection.
func (s *rtmpSource) Close() error { return s.c.Close() }

// copy hands on the audio, video and data messages played, aggregates
// split; it ends when the server says the stream ended.
func (s *rtmpSource) copy(emit func(*stream.Frame)) error {
	for {
		msg, err := s.c.ReadMessage()
		if err != nil {
			return err
		}
		switch msg.Type {
		case chunk.TypeAudio, chunk.TypeVideo, chunk.TypeDataAMF0:
			if err := emitTag(flv.TagType(msg.Type), msg.Timestamp, msg.Payload, emit); err != nil {
				return err
			}
		case chunk.TypeCommandAMF0:
			cmd, err := rtmp.ParseCommand(&msg)
			if err != nil {
				return fmt.Errorf("source command: %w", err)
			}
			if code, ends := playEnded(cmd); ends {
				return fmt.Errorf("%w: %s", ErrSourceEnded, code)
			}
		case chunk.TypeAggregate:
			err := chunk.SplitAggregateAt(msg.Timestamp, msg.Payload, func(typ chunk.MessageType, ts uint32, data []byte) error {
				return emitTag(flv.TagType(typ), ts, data, emit)
			})
			if err != nil {
				return err
			}
		}
	}
}

// playEnded reports whether cmd is the onStatus by which a server tells a
// player the stream ended (some keep the connection open after it), and
// its code.
func playEnded(cmd rtmp.Command) (string, bool) {
	if cmd.Name != "onStatus" {
		return "", false
	}
	info, _ := cmd.Arg(0).(amf.Object)
	code, _ := info.String("code")
	switch code {
	case "NetStream.Play.UnpublishNotify", "NetStream.Play.Stop", "NetStream.Play.Complete":
		return code, true
	}
	return code, false
}

// openHTTP requests an HTTP-FLV URL and reads the FLV file header.
func (d *dialer) openHTTP(ctx context.Context, u *url.URL) (source, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("request: %w", err)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("request: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("%w: %s", ErrSourceStatus, resp.Status)
	}
	s := &httpSource{body: resp.Body, cancel: cancel, r: flv.NewReader(resp.Body)}
	if _, err := s.r.ReadHeader(); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("read: %w", err)
	}
	return s, nil
}

// httpSource is a stream read from an HTTP-FLV response.
type httpSource struct {
	body   io.ReadCloser
	cancel context.CancelFunc
	r      *flv.Reader
}

// Close ends the request and its response body.
func (s *httpSource) Close() error {
	s.cancel()
	return s.body.Close()
}

// copy hands on the FLV tags of the response body.
func (s *httpSource) copy(emit func(*stream.Frame)) error {
	for {
		tag, err := s.r.ReadTag()
		if err != nil {
			return err
		}
		if err := emitTag(tag.Type, tag.Timestamp, tag.Data, emit); err != nil {
			return err
		}
	}
}

// emitTag turns one FLV tag body into a frame for emit. Empty media tags
// (keep-alives) and the players' sample-access message are skipped.
func emitTag(typ flv.TagType, ts uint32, payload []byte, emit func(*stream.Frame)) error {
	if len(payload) == 0 {
		return nil
	}
	if typ == flv.TagScript && bytes.Contains(payload[:min(len(payload), 32)], []byte(sampleAccess)) {
		return nil
	}
	f, err := stream.NewFrame(typ, ts, payload)
	if err != nil {
		return fmt.Errorf("source frame: %w", err)
	}
	emit(f)
	return nil
}

// readDeadlineConn sets a read deadline before every read, so that a
// source that goes silent fails instead of blocking its pull forever.
type readDeadlineConn struct {
	net.Conn
	timeout time.Duration
}

// Read reads with a deadline of the timeout from now.
func (c *readDeadlineConn) Read(b []byte) (int, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	return c.Conn.Read(b)
}

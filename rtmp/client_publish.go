package rtmp

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// tlsClient runs the TLS handshake of an rtmps:// dial on conn, within
// the client's timeout. It closes conn when the handshake fails.
func tlsClient(ctx context.Context, conn net.Conn, host string, cfg ClientConfig) (net.Conn, error) {
	tcfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLS != nil {
		tcfg = cfg.TLS.Clone()
	}
	if tcfg.ServerName == "" {
		tcfg.ServerName = host
	}
	tc := tls.Client(conn, tcfg)
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("tls handshake with %s: %w", host, err)
	}
	return tc, nil
}

// ServerCaps returns the Enhanced RTMP capabilities the server announced
// in its connect _result: in the properties object, where this server
// puts them, or else in the information object. Declared is false for a
// server that announced none (a legacy server).
func (c *Client) ServerCaps() EnhancedCaps {
	if caps := ParseEnhancedCaps(c.Properties); caps.Declared {
		return caps
	}
	return ParseEnhancedCaps(c.Connect)
}

// Accepts reports whether the server announced codec fourCC (or the
// wildcard) in its connect _result.
func (c EnhancedCaps) Accepts(fourCC string) bool {
	for _, f := range c.Codecs() {
		if f == fourCC || f == FourCCWildcard {
			return true
		}
	}
	return false
}

// WriteFrames sends frames of a hub stream on the published stream, in
// one vectored write through the connection writer the server's players
// use, and returns the bytes written. Each frame's chunks are built once
// and shared with every server player and client of the same chunk size
// and message stream id. It must be called from one goroutine at a time,
// after Publish.
func (c *Client) WriteFrames(frames []*stream.Frame) (int, error) {
	if c.build == nil {
		return 0, ErrNotPublishing
	}
	bufs := c.bufs[:0]
	for _, f := range frames {
		bufs = append(bufs, f.Encoded(c.encKey, c.build))
	}
	n, err := c.out.Write(bufs)
	clear(bufs)
	c.bufs = bufs[:0]
	if err != nil {
		return n, fmt.Errorf("write %d frames: %w", len(frames), err)
	}
	return n, nil
}

// Drain reads what the server sends while the client publishes, until the
// connection fails or is closed (Close releases it) or the server sends an
// error-level status (returned wrapping ErrStatus). It answers ping
// requests and has no read deadline: a server may stay silent for the
// whole publish. It runs on a goroutine of its own, beside WriteFrames.
func (c *Client) Drain() error {
	_ = c.conn.SetReadDeadline(time.Time{})
	for {
		msg, err := c.r.ReadMessage()
		if err != nil {
			return fmt.Errorf("read from server: %w", err)
		}
		switch msg.Type {
		case chunk.TypeUserControl:
			ev, err := chunk.ParseUserControl(msg.Payload)
			if err == nil && ev.Type == chunk.EventPingRequest {
				pong := chunk.AppendUserControl(nil, chunk.UserControl{Type: chunk.EventPingResponse, Value: ev.Value})
				if err := c.WriteMessage(&chunk.Message{Type: chunk.TypeUserControl, ChunkStreamID: csidControl, Payload: pong}); err != nil {
					return fmt.Errorf("answer ping: %w", err)
				}
			}
		case chunk.TypeCommandAMF0, chunk.TypeCommandAMF3:
			cmd, err := ParseCommand(&msg)
			if err != nil || cmd.Name != "onStatus" {
				continue
			}
			info := cmd.Arg(0)
			if level, _ := propertyString(info, "level"); level == "error" {
				code, _ := propertyString(info, "code")
				desc, _ := propertyString(info, "description")
				return fmt.Errorf("%w: %s: %s", ErrStatus, code, desc)
			}
		}
	}
}

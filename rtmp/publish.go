package rtmp

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// errEndedByHub records that the hub closed a publisher's stream: the
// connection ends cleanly.
var errEndedByHub = errors.New("stream closed by the server")

// codeConnectClosed is the onStatus code telling a client the server
// closes its connection.
const codeConnectClosed = "NetConnection.Connect.Closed"

// publishSession is a connection's publish to the hub. A goroutine watches
// the hub's publisher: when the hub cuts it off (another publisher took the
// stream over, it went over a budget, or the stream was closed) the client
// is told why and the connection closed.
type publishSession struct {
	pub      *stream.Publisher
	streamID uint32
	leaving  atomic.Bool   // the connection itself ends the publish
	quit     chan struct{} // closed when the connection ends the publish
	wg       sync.WaitGroup
}

// newPublishSession starts the session of pub on c's message stream
// streamID, with its watcher.
func newPublishSession(c *ServerConn, pub *stream.Publisher, streamID uint32) *publishSession {
	p := &publishSession{pub: pub, streamID: streamID, quit: make(chan struct{})}
	p.wg.Go(func() {
		<-pub.Done()
		if p.leaving.Load() {
			return
		}
		if le := pub.CutOff(); le != nil {
			// Over a budget (stream.max_ingest_bitrate): the stream ended.
			// The connection stays open for the refusal delay, its media
			// ignored, so that an encoder still sending reads the reason
			// before the close resets the connection.
			_ = c.writeStatus(streamID, "error", codePublishRejected, "Stream is unpublished: "+le.Reason+".")
			t := time.NewTimer(c.cfg.RefusalDelay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-p.quit:
			}
			c.closeWith(fmt.Errorf("%w: %w", ErrPublisherCutOff, le))
			return
		}
		if pub.TakenOver() {
			const reason = "another publisher took the stream over"
			_ = c.writeStatus(streamID, "status", codeUnpublishSuccess, "Stream is now unpublished: "+reason+".")
			c.closeWith(fmt.Errorf("%w: %s", ErrPublisherCutOff, reason))
			return
		}
		// The hub closed the stream: the server is shutting down.
		c.log.Info("publish ended", "reason", "stream closed by the server")
		_ = c.writeStatus(streamID, "status", codeUnpublishSuccess, "Stream is now unpublished: the server closed it.")
		_ = c.writeStatus(0, "status", codeConnectClosed, "Server shutting down.")
		c.closeWith(errEndedByHub)
	})
	return p
}

// close gives the stream up and waits for the watcher. With end set the
// stream ends at once instead of waiting for a republish.
func (p *publishSession) close(end bool) {
	p.leaving.Store(true)
	close(p.quit)
	if end {
		p.pub.End()
	} else {
		p.pub.Close()
	}
	p.wg.Wait()
}

// handleMedia turns an audio or video message into a frame for the hub.
func (c *ServerConn) handleMedia(typ chunk.MessageType, ts uint32, payload []byte) error {
	if c.pub == nil {
		return fmt.Errorf("media message type %d without publish: %w", typ, ErrUnexpectedMessage)
	}
	if len(payload) == 0 {
		// Encoders send empty audio/video messages as keep-alives.
		return nil
	}
	c.lastMedia = time.Now()
	f, err := stream.NewFrame(flv.TagType(typ), ts, payload)
	if err != nil {
		return fmt.Errorf("%s message at %d ms: %w", flv.TagType(typ), ts, err)
	}
	c.pub.pub.WriteFrame(f)
	return nil
}

// handleData takes @setDataFrame/onMetaData from a publisher; other data
// messages are passed on to players as they are.
func (c *ServerConn) handleData(msg *chunk.Message) error {
	body, err := amfPayload(msg)
	if err != nil {
		return err
	}
	return c.handleScript(msg.Timestamp, body)
}

// handleScript forwards one AMF0 script body to the hub.
func (c *ServerConn) handleScript(ts uint32, body []byte) error {
	if c.pub == nil {
		// Players and clients that have not published may send data
		// messages (|RtmpSampleAccess echoes); they are not errors.
		return nil
	}
	dec := amf.NewDecoder0(body)
	first, err := dec.Next()
	if err != nil {
		return fmt.Errorf("data message: %w", err)
	}
	name, ok := first.(string)
	if !ok {
		return fmt.Errorf("data message name is %T: %w", first, ErrMalformedCommand)
	}
	switch name {
	case "@setDataFrame", "onMetaData":
		body = flv.StripSetDataFrame(body)
		if _, err := flv.ParseMetadata(body); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
	case "@clearDataFrame":
		return nil
	}
	f, err := stream.NewFrame(flv.TagScript, ts, body)
	if err != nil {
		return fmt.Errorf("data message %q: %w", name, err)
	}
	c.pub.pub.WriteFrame(f)
	return nil
}

// handleAggregate splits a type-22 message into its media and data
// messages.
func (c *ServerConn) handleAggregate(msg *chunk.Message) error {
	return chunk.SplitAggregateAt(msg.Timestamp, msg.Payload, func(typ chunk.MessageType, ts uint32, data []byte) error {
		switch typ {
		case chunk.TypeAudio, chunk.TypeVideo:
			return c.handleMedia(typ, ts, data)
		case chunk.TypeDataAMF0:
			return c.handleScript(ts, data)
		default:
			return fmt.Errorf("aggregate sub-message type %v: %w", typ, ErrUnexpectedMessage)
		}
	})
}

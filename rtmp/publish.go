package rtmp

import (
	"fmt"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/rtmp/amf"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// publishSession is a connection's publish to the hub.
type publishSession struct {
	pub      *stream.Publisher
	streamID uint32
}

func newPublishSession(pub *stream.Publisher, streamID uint32) *publishSession {
	return &publishSession{pub: pub, streamID: streamID}
}

func (p *publishSession) close() { p.pub.Close() }

// handleMedia turns an audio or video message into a frame for the hub.
func (c *ServerConn) handleMedia(typ uint8, ts uint32, payload []byte) error {
	if c.pub == nil {
		return fmt.Errorf("media message type %d without publish: %w", typ, ErrUnexpectedMessage)
	}
	if len(payload) == 0 {
		// Encoders send empty audio/video messages as keep-alives.
		return nil
	}
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
	return chunk.SplitAggregateAt(msg.Timestamp, msg.Payload, func(typ uint8, ts uint32, data []byte) error {
		switch typ {
		case chunk.TypeAudio, chunk.TypeVideo:
			return c.handleMedia(typ, ts, data)
		case chunk.TypeDataAMF0:
			return c.handleScript(ts, data)
		default:
			return fmt.Errorf("aggregate sub-message type %d: %w", typ, ErrUnexpectedMessage)
		}
	})
}

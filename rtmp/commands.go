package rtmp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// Status codes sent in onStatus and _result information objects.
const (
	codeConnectSuccess     = "NetConnection.Connect.Success"
	codeConnectRejected    = "NetConnection.Connect.Rejected"
	codeCallFailed         = "NetConnection.Call.Failed"
	codePublishStart       = "NetStream.Publish.Start"
	codePublishBadName     = "NetStream.Publish.BadName"
	codePublishDenied      = "NetStream.Publish.Denied"
	codePublishRejected    = "NetStream.Publish.Rejected"
	codePlayFailed         = "NetStream.Play.Failed"
	codeUnpublishSuccess   = "NetStream.Unpublish.Success"
	codePlayReset          = "NetStream.Play.Reset"
	codePlayStart          = "NetStream.Play.Start"
	codePlayStop           = "NetStream.Play.Stop"
	codePlayStreamNotFound = "NetStream.Play.StreamNotFound"
	codePlayUnpublish      = "NetStream.Play.UnpublishNotify"
	codePauseNotify        = "NetStream.Pause.Notify"
	codeUnpauseNotify      = "NetStream.Unpause.Notify"
)

// Server identity reported in the connect result.
const (
	fmsVersion   = "FMS/3,5,7,7009"
	capabilities = 31
)

// handleCommand runs one command. An error ends the connection.
func (c *ServerConn) handleCommand(ctx context.Context, streamID uint32, cmd Command) error {
	if cmd.Name != "connect" && !c.connected && !isNotification(cmd.Name) {
		return fmt.Errorf("%s before connect: %w", cmd.Name, ErrUnexpectedMessage)
	}
	switch cmd.Name {
	case "connect":
		return c.onConnect(cmd)
	case "createStream":
		id := c.nextStreamID
		c.nextStreamID++
		return c.writeResult(cmd, nil, float64(id))
	case "releaseStream", "FCPublish", "FCUnpublish", "FCSubscribe", "FCUnsubscribe":
		// Flash Media Server conventions that encoders send around publish
		// and play; they need no state here.
		if cmd.Name == "FCUnpublish" && c.pub != nil {
			c.endPublish("FCUnpublish")
		}
		return c.writeResult(cmd, nil, amf.Undefined{})
	case "publish":
		return c.onPublish(ctx, streamID, cmd)
	case "play":
		return c.onPlay(ctx, streamID, cmd)
	case "deleteStream", "closeStream":
		// deleteStream names a stream id (some encoders send the name
		// instead); closeStream arrives on the stream itself. Either way
		// the connection has at most one session to end.
		c.endPublish(cmd.Name)
		c.endPlay(cmd.Name)
		return nil
	case "getStreamLength":
		return c.writeResult(cmd, nil, 0.0)
	case "pause", "pauseRaw":
		return c.onPause(ctx, cmd)
	case "receiveAudio", "receiveVideo":
		on, _ := cmd.BoolArg(0)
		if c.play != nil {
			c.play.setReceive(cmd.Name == "receiveAudio", on)
		}
		return nil
	case "_checkbw", "checkBandwidth":
		return c.writeResult(cmd, nil, amf.Undefined{})
	case "_result", "_error", "onStatus", "onBWDone", "onFCPublish", "onFCUnpublish", "_onbwcheck", "_onbwdone", "setPeerInfo":
		return nil
	default:
		if cmd.TransactionID != 0 {
			_ = c.writeCommand(0, Command{Name: "_error", TransactionID: cmd.TransactionID, Args: []any{
				statusObject("error", codeCallFailed, "Method not found ("+cmd.Name+")."),
			}})
		}
		return fmt.Errorf("command %q: %w", cmd.Name, ErrUnknownCommand)
	}
}

// isNotification reports commands a client may send at any time without
// expecting an answer.
func isNotification(name string) bool {
	switch name {
	case "_result", "_error", "onStatus", "onBWDone", "setPeerInfo":
		return true
	}
	return false
}

// writeResult answers a command with _result. A transaction id of 0 asks
// for no answer, but encoders that send 0 on createStream still wait for
// the stream id, so that one is always answered.
func (c *ServerConn) writeResult(cmd Command, object any, args ...any) error {
	if cmd.TransactionID == 0 && cmd.Name != "createStream" {
		return nil
	}
	return c.writeCommand(0, Command{Name: "_result", TransactionID: cmd.TransactionID, Object: object, Args: args})
}

// statusObject builds the information object of onStatus and _result.
func statusObject(level, code, description string) amf.Object {
	return amf.Object{
		{Key: "level", Value: level},
		{Key: "code", Value: code},
		{Key: "description", Value: description},
	}
}

// writeStatus sends onStatus on a message stream.
func (c *ServerConn) writeStatus(streamID uint32, level, code, description string) error {
	return c.writeCommand(streamID, Command{Name: "onStatus", Args: []any{statusObject(level, code, description)}})
}

// onConnect handles connect: it records the app and answers with window,
// bandwidth and chunk size settings and the _result.
func (c *ServerConn) onConnect(cmd Command) error {
	if c.connected {
		return fmt.Errorf("second connect: %w", ErrUnexpectedMessage)
	}
	rawApp, _ := property(cmd.Object, "app")
	app, _ := rawApp.(string)
	c.tcURL, _ = propertyString(cmd.Object, "tcUrl")
	c.flashVer, _ = propertyString(cmd.Object, "flashVer")
	if enc, ok := property(cmd.Object, "objectEncoding"); ok {
		c.objectEncoding, _ = enc.(float64)
	}
	_, c.appQuery = splitQuery(app)
	c.app = cleanApp(app)
	if problem := nameProblem("app", c.app, serverURL(c.tcURL, "")); problem != "" {
		_ = c.writeCommand(0, Command{Name: "_error", TransactionID: cmd.TransactionID, Args: []any{
			statusObject("error", codeConnectRejected, sentence(problem)),
		}})
		return fmt.Errorf("connect app %q: %w: %s", app, stream.ErrInvalidName, problem)
	}
	c.log = c.log.With("app", c.app)
	c.connLog = c.log

	if err := c.writeControl(chunk.TypeWindowAckSize, chunk.AppendWindowAckSize(nil, c.cfg.WindowAckSize)); err != nil {
		return err
	}
	if err := c.writeControl(chunk.TypeSetPeerBandwidth, chunk.AppendSetPeerBandwidth(nil,
		chunk.SetPeerBandwidth{Size: c.cfg.WindowAckSize, Limit: chunk.LimitDynamic})); err != nil {
		return err
	}
	if err := c.out.Control(func() error { return c.w.SetChunkSize(c.cfg.ChunkSize) }); err != nil {
		return fmt.Errorf("set chunk size: %w", err)
	}
	info := statusObject("status", codeConnectSuccess, "Connection succeeded.")
	info = append(info, amf.Property{Key: "objectEncoding", Value: c.objectEncoding})
	props := amf.Object{
		{Key: "fmsVer", Value: fmsVersion},
		{Key: "capabilities", Value: float64(capabilities)},
		{Key: "mode", Value: 1.0},
	}
	props = append(props, serverCapsProperties()...)
	c.noteConnect(cmd.Object)
	if err := c.writeCommand(0, Command{Name: "_result", TransactionID: cmd.TransactionID, Object: props, Args: []any{info}}); err != nil {
		return err
	}
	c.connected = true
	c.log.Debug("connected", "tcUrl", c.tcURL, "flashVer", c.flashVer)
	return nil
}

// propertyString looks a string property up in an AMF object.
func propertyString(obj any, key string) (string, bool) {
	v, ok := property(obj, key)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// streamKey parses the name argument of publish or play into a hub key
// and the query that follows it. An unusable name is stream.ErrInvalidName
// with what to fix in the encoder's settings.
func (c *ServerConn) streamKey(cmd Command) (stream.Key, string, error) {
	raw, _ := cmd.StringArg(0)
	name, query := splitQuery(raw)
	if query == "" {
		query = c.appQuery
	}
	if problem := nameProblem("stream key", name, serverURL(c.tcURL, c.app)); problem != "" {
		return stream.Key{}, "", fmt.Errorf("%w: %s", stream.ErrInvalidName, problem)
	}
	return stream.Key{App: c.app, Name: name}, query, nil
}

// nameRefusal is the onStatus description refusing a publish or play of an
// unusable stream key: the problem and how to fix it.
func nameRefusal(err error) string {
	return sentence(strings.TrimPrefix(err.Error(), stream.ErrInvalidName.Error()+": "))
}

// onPublish starts a publish session, or refuses it.
func (c *ServerConn) onPublish(ctx context.Context, streamID uint32, cmd Command) error {
	if c.pub != nil || c.play != nil {
		return fmt.Errorf("publish on a connection that already has a session: %w", ErrUnexpectedMessage)
	}
	key, query, err := c.streamKey(cmd)
	if err != nil {
		return c.refuse(ctx, streamID, codePublishBadName, nameRefusal(err), err)
	}
	grant, err := c.authorizePublish(ctx, key, query)
	if errors.Is(err, stream.ErrStreamBusy) { // live on another server of the cluster
		return c.refuse(ctx, streamID, codePublishBadName, fmt.Sprintf("Stream %s is already being published.", key), err)
	} else if err != nil {
		return c.refuse(ctx, streamID, codePublishDenied, fmt.Sprintf("Publishing %s is not allowed: %v.", key, err), err)
	}
	key = grant.Key
	pub, err := c.hub.Publish(key, stream.PublisherInfo{
		ID: c.id, Protocol: stream.ProtocolRTMP, RemoteAddr: c.remote, Query: grant.Query, Encoder: c.flashVer,
		Owner: grant.KeyID != "" || c.isOwner(key), Caps: c.Caps().ClientCaps(), KeyID: grant.KeyID,
	})
	if err != nil {
		code, desc := codePublishBadName, fmt.Sprintf("Cannot publish %s: %v.", key, err)
		var le *stream.LimitError
		switch {
		case errors.Is(err, stream.ErrStreamBusy):
			desc = fmt.Sprintf("Stream %s is already being published.", key)
		case errors.As(err, &le):
			code, desc = codePublishRejected, fmt.Sprintf("Cannot publish %s: %s.", key, le.Reason)
			c.logBudgetRefusal(key, le)
		case errors.Is(err, stream.ErrKeyMismatch):
			desc = fmt.Sprintf("Stream %s is published with another stream key.", key)
		}
		return c.refuse(ctx, streamID, code, desc, err)
	}
	c.pub = newPublishSession(c, pub, streamID)
	c.lastMedia = time.Now()
	c.stats.role.Store(RolePublisher)
	c.stats.stream.Store(key.String())
	c.log = c.connLog.With("stream", key.String())
	c.log.Info("publish started")
	if err := c.writeControl(chunk.TypeUserControl,
		chunk.AppendUserControl(nil, chunk.UserControl{Type: chunk.EventStreamBegin, Value: streamID})); err != nil {
		return err
	}
	return c.writeStatus(streamID, "status", codePublishStart, key.String()+" is now published.")
}

// authorizePublish asks the configured Authorizer, if any, about a
// publish of key, through PublishResolver when it implements it.
func (c *ServerConn) authorizePublish(ctx context.Context, key stream.Key, query string) (stream.PublishGrant, error) {
	grant := stream.PublishGrant{Key: key, Query: query}
	if c.cfg.Authorizer == nil {
		return grant, nil
	}
	if r, ok := c.cfg.Authorizer.(PublishResolver); ok {
		return r.AuthorizePublish(ctx, c.accessRequest(stream.ActionPublish, key, query))
	}
	return grant, c.authorize(ctx, stream.ActionPublish, key, query)
}

// authorize asks the configured Authorizer, if any.
func (c *ServerConn) authorize(ctx context.Context, action stream.Action, key stream.Key, query string) error {
	if c.cfg.Authorizer == nil {
		return nil
	}
	return c.cfg.Authorizer.Authorize(ctx, c.accessRequest(action, key, query))
}

// accessRequest describes this connection's request to publish or play key.
func (c *ServerConn) accessRequest(action stream.Action, key stream.Key, query string) stream.AccessRequest {
	return stream.AccessRequest{
		Action: action, Protocol: stream.ProtocolRTMP, Key: key, Query: query, RemoteAddr: c.remote, SessionID: c.id,
	}
}

// refuse tells the client why its publish or play was refused, holds the
// connection for the refusal delay (an encoder that retries at once would
// otherwise reconnect in a tight loop) and returns the error that closes
// it.
func (c *ServerConn) refuse(ctx context.Context, streamID uint32, code, desc string, cause error) error {
	_ = c.writeStatus(streamID, "error", code, desc)
	t := time.NewTimer(c.cfg.RefusalDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return fmt.Errorf("%s refused: %w", code, cause)
}

// endPublish ends the publish session, if any, and tells the client.
func (c *ServerConn) endPublish(reason string) {
	if c.pub == nil {
		return
	}
	c.log.Info("publish ended", "reason", reason)
	id := c.pub.streamID
	c.pub.close(true) // the encoder stopped on purpose: no republish wait
	c.pub = nil
	c.sessionEnded()
	_ = c.writeStatus(id, "status", codeUnpublishSuccess, "Stream is now unpublished.")
}

// endPlay ends the play session, if any, because the client sent the
// command named reason.
func (c *ServerConn) endPlay(reason string) {
	if c.play == nil {
		return
	}
	c.play.stop("player sent " + reason)
	c.play = nil
	c.sessionEnded()
}

// sessionEnded returns the connection to the state it had before its
// publish or play: the client may start another session on it, within a
// new SetupTimeout.
func (c *ServerConn) sessionEnded() {
	c.setupDeadline = time.Now().Add(c.cfg.SetupTimeout)
	c.log = c.connLog
	c.stats.role.Store(Role(""))
	c.stats.stream.Store("")
}

// logBudgetRefusal logs a publisher refused by a stream budget, at most one
// line per limit and address group every interval of the server's refusal
// log (a flood of refusals from one network is one line, with the count
// left out).
func (c *ServerConn) logBudgetRefusal(key stream.Key, le *stream.LimitError) {
	args := []any{"stream", key.String(), "session", c.id, "remote", c.remote, "limit", le.Limit, "reason", le.Reason}
	if c.refusals == nil {
		c.connLog.Debug("publisher refused", args...)
		return
	}
	c.refusals.Warn(c.connLog, le.Limit+" "+stream.AddressGroup(c.remote), "publisher refused", args...)
}

package rtmp

import (
	"slices"
	"sort"
	"sync/atomic"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/stream"
)

// Enhanced RTMP (v2) capability negotiation: the client declares in the
// connect command object which codecs (fourCcList, videoFourCcInfoMap,
// audioFourCcInfoMap) and extended features (capsEx) it supports; the
// server states its own in the _result properties. A publisher whose capsEx
// has Reconnect can be asked to reconnect (NetConnection.Connect.
// ReconnectRequest), which lets the server drain without cutting it off.

// CapsEx bits (Enhanced RTMP v2 CapsExMask).
const (
	// CapsExReconnect: the peer handles NetConnection.Connect.ReconnectRequest.
	CapsExReconnect uint32 = 0x01
	// CapsExMultitrack: the peer handles multitrack audio and video.
	CapsExMultitrack uint32 = 0x02
	// CapsExModEx: the peer parses the ModEx signal.
	CapsExModEx uint32 = 0x04
	// CapsExTimestampNanoOffset: the peer handles the nanosecond timestamp
	// offset ModEx.
	CapsExTimestampNanoOffset uint32 = 0x08
)

// FourCcInfoMask bits of videoFourCcInfoMap and audioFourCcInfoMap values.
const (
	FourCCCanDecode  uint32 = 0x01
	FourCCCanEncode  uint32 = 0x02
	FourCCCanForward uint32 = 0x04
)

// FourCCWildcard is the FourCC key that stands for every codec.
const FourCCWildcard = "*"

// CodeReconnectRequest is the onStatus code asking a client to reconnect.
const CodeReconnectRequest = "NetConnection.Connect.ReconnectRequest"

// Limits on what a client's capability declaration may hold; entries past
// them are ignored.
const (
	// MaxDeclaredFourCCs caps the entries read from fourCcList and from each
	// info map.
	MaxDeclaredFourCCs = 64
)

// serverCapsEx is what this server supports: it asks publishers to
// reconnect, carries multitrack streams, parses ModEx and forwards the
// nanosecond offsets unchanged.
const serverCapsEx = CapsExReconnect | CapsExMultitrack | CapsExModEx | CapsExTimestampNanoOffset

// Codecs the server knows by FourCC. It forwards every codec unchanged to
// FLV and RTMP viewers (the wildcard says so); these are also named so that
// clients that look a codec up find it.
var (
	serverVideoFourCCs = []string{"av01", "vp09", "vp08", "hvc1", "avc1"}
	serverAudioFourCCs = []string{"Opus", "fLaC", "ac-3", "ec-3", ".mp3", "mp4a"}
)

// FourCCInfo is one entry of a FourCC info map.
type FourCCInfo struct {
	// FourCC is the codec ("hvc1", "Opus") or FourCCWildcard.
	FourCC string
	// Mask is a FourCcInfoMask bit set.
	Mask uint32
}

// EnhancedCaps is what a client declared in its connect command object.
type EnhancedCaps struct {
	// Declared is set when the object had any Enhanced RTMP property.
	Declared bool
	// FourCCList is the fourCcList, in order (v1 form).
	FourCCList []string
	// Video and Audio are the videoFourCcInfoMap and audioFourCcInfoMap
	// entries, sorted by FourCC.
	Video, Audio []FourCCInfo
	// CapsEx is the capsEx bit set.
	CapsEx uint32
}

// CanReconnect reports whether the client handles a reconnect request.
func (c EnhancedCaps) CanReconnect() bool { return c.CapsEx&CapsExReconnect != 0 }

// Codecs returns every FourCC the client declared (fourCcList and both
// info maps), deduplicated and sorted.
func (c EnhancedCaps) Codecs() []string {
	out := slices.Clone(c.FourCCList)
	for _, m := range [][]FourCCInfo{c.Video, c.Audio} {
		for _, e := range m {
			out = append(out, e.FourCC)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// ParseEnhancedCaps reads the Enhanced RTMP properties of a connect command
// object (an AMF object or ECMA array). Values of the wrong type are
// ignored, as are list and map entries past MaxDeclaredFourCCs.
func ParseEnhancedCaps(obj any) EnhancedCaps {
	var c EnhancedCaps
	if v, ok := property(obj, "fourCcList"); ok {
		c.Declared = true
		if list, ok := v.([]any); ok {
			for _, e := range list {
				if s, ok := e.(string); ok && len(c.FourCCList) < MaxDeclaredFourCCs {
					c.FourCCList = append(c.FourCCList, s)
				}
			}
		}
	}
	for _, m := range []struct {
		key string
		dst *[]FourCCInfo
	}{{"videoFourCcInfoMap", &c.Video}, {"audioFourCcInfoMap", &c.Audio}} {
		v, ok := property(obj, m.key)
		if !ok {
			continue
		}
		c.Declared = true
		*m.dst = infoMap(v)
	}
	if v, ok := property(obj, "capsEx"); ok {
		c.Declared = true
		if f, ok := v.(float64); ok && f >= 0 && f <= 1<<32-1 {
			c.CapsEx = uint32(f)
		}
	}
	return c
}

// infoMap reads a FourCC info map.
func infoMap(v any) []FourCCInfo {
	var props []amf.Property
	switch o := v.(type) {
	case amf.Object:
		props = o
	case amf.ECMAArray:
		props = o
	default:
		return nil
	}
	var out []FourCCInfo
	for _, p := range props {
		f, ok := p.Value.(float64)
		if !ok || f < 0 || f > 1<<32-1 || len(out) >= MaxDeclaredFourCCs {
			continue
		}
		out = append(out, FourCCInfo{FourCC: p.Key, Mask: uint32(f)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FourCC < out[j].FourCC })
	return out
}

// ClientCaps converts the declaration into the hub's description of a
// publisher's capabilities.
func (c EnhancedCaps) ClientCaps() stream.ClientCaps {
	if !c.Declared {
		return stream.ClientCaps{}
	}
	return stream.ClientCaps{CapsEx: c.CapsEx, Codecs: c.Codecs()}
}

// serverCapsProperties returns the Enhanced RTMP properties of the
// server's connect _result: fourCcList, the info maps (every codec can be
// forwarded) and capsEx.
func serverCapsProperties() amf.Object {
	list := make([]any, 0, len(serverVideoFourCCs)+len(serverAudioFourCCs))
	infoMap := func(fourCCs []string) amf.Object {
		m := amf.Object{{Key: FourCCWildcard, Value: float64(FourCCCanForward)}}
		for _, f := range fourCCs {
			list = append(list, f)
			m = append(m, amf.Property{Key: f, Value: float64(FourCCCanForward)})
		}
		return m
	}
	video, audio := infoMap(serverVideoFourCCs), infoMap(serverAudioFourCCs)
	return amf.Object{
		{Key: "fourCcList", Value: list},
		{Key: "videoFourCcInfoMap", Value: video},
		{Key: "audioFourCcInfoMap", Value: audio},
		{Key: "capsEx", Value: float64(serverCapsEx)},
	}
}

// enhancedConn is a connection's Enhanced RTMP state. It is written once by
// the connection's goroutine at connect and read by the server (reconnect
// requests) from other goroutines.
type enhancedConn struct {
	info atomic.Pointer[connectInfo]
}

// connectInfo is what connect told about a client.
type connectInfo struct {
	caps  EnhancedCaps
	tcURL string
}

// noteConnect records the client's declaration; called by onConnect.
func (c *ServerConn) noteConnect(obj any) {
	caps := ParseEnhancedCaps(obj)
	c.enh.info.Store(&connectInfo{caps: caps, tcURL: c.tcURL})
	if caps.Declared {
		c.log.Debug("enhanced RTMP client", "capsEx", caps.CapsEx, "codecs", caps.Codecs())
	}
}

// Caps returns what the client declared in connect (zero before connect or
// for a legacy client).
func (c *ServerConn) Caps() EnhancedCaps {
	if info := c.enh.info.Load(); info != nil {
		return info.caps
	}
	return EnhancedCaps{}
}

// requestReconnect sends NetConnection.Connect.ReconnectRequest when the
// client declared it can reconnect. tcUrl names the current connection's
// URL (the spec's default made explicit).
func (c *ServerConn) requestReconnect(description string) bool {
	info := c.enh.info.Load()
	if info == nil || !info.caps.CanReconnect() {
		return false
	}
	status := amf.Object{{Key: "level", Value: "status"}, {Key: "code", Value: CodeReconnectRequest}}
	if info.tcURL != "" {
		status = append(status, amf.Property{Key: "tcUrl", Value: info.tcURL})
	}
	status = append(status, amf.Property{Key: "description", Value: description})
	// This runs on the caller's goroutine: c.log belongs to Serve's, which
	// rescopes it as sessions start and end.
	st, _ := c.stats.stream.Load().(string)
	log := c.connLog.With("stream", st)
	if err := c.writeCommand(0, Command{Name: "onStatus", Args: []any{status}}); err != nil {
		log.Info("reconnect request not sent", "err", err)
		return false
	}
	log.Info("reconnect requested", "reason", description)
	return true
}

// isPublishing reports whether the connection publishes key.
func (c *ServerConn) isPublishing(key stream.Key) bool {
	role, _ := c.stats.role.Load().(Role)
	st, _ := c.stats.stream.Load().(string)
	return role == RolePublisher && st == key.String()
}

// RequestReconnect asks the publisher of key to reconnect (Enhanced RTMP
// NetConnection.Connect.ReconnectRequest). The publisher keeps streaming
// until it has reconnected; with seamless republish its viewers do not
// notice. It reports whether a publisher of key that declared the
// Reconnect capability was found and told.
func (s *Server) RequestReconnect(key stream.Key) bool {
	for _, c := range s.connList() {
		if c.isPublishing(key) && c.requestReconnect("The stream is moving; please reconnect.") {
			return true
		}
	}
	return false
}

// DrainPublishers asks every publisher that declared the Reconnect
// capability to reconnect, before a shutdown: they move to another instance
// (or to this one once it is back) at their next keyframe instead of being
// cut off. It returns how many were asked. It does not wait for them to
// leave; the caller owns the shutdown order.
func (s *Server) DrainPublishers() int {
	n := 0
	for _, c := range s.connList() {
		role, _ := c.stats.role.Load().(Role)
		if role == RolePublisher && c.requestReconnect("The server is shutting down; please reconnect.") {
			n++
		}
	}
	return n
}

// connList snapshots the current connections.
func (s *Server) connList() []*ServerConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*ServerConn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// Properties returns the connect command object properties that declare
// c: the encoder of ParseEnhancedCaps (nothing for an undeclared c). A
// client adds them to ClientConfig.ConnectObject.
func (c EnhancedCaps) Properties() amf.Object {
	if !c.Declared {
		return nil
	}
	var out amf.Object
	if c.FourCCList != nil {
		list := make([]any, len(c.FourCCList))
		for i, f := range c.FourCCList {
			list[i] = f
		}
		out = append(out, amf.Property{Key: "fourCcList", Value: list})
	}
	for _, m := range []struct {
		key     string
		entries []FourCCInfo
	}{{"videoFourCcInfoMap", c.Video}, {"audioFourCcInfoMap", c.Audio}} {
		if m.entries == nil {
			continue
		}
		obj := make(amf.Object, len(m.entries))
		for i, e := range m.entries {
			obj[i] = amf.Property{Key: e.FourCC, Value: float64(e.Mask)}
		}
		out = append(out, amf.Property{Key: m.key, Value: obj})
	}
	return append(out, amf.Property{Key: "capsEx", Value: float64(c.CapsEx)})
}

// ReadStatus reads messages until an onStatus command arrives, on any
// message stream, and returns its information object. A client uses it to
// see NetConnection.Connect.ReconnectRequest while publishing.
func (c *Client) ReadStatus() (amf.Object, error) {
	for {
		cmd, err := c.readCommand()
		if err != nil {
			return nil, err
		}
		if cmd.Name != "onStatus" {
			continue
		}
		switch info := cmd.Arg(0).(type) {
		case amf.Object:
			return info, nil
		case amf.ECMAArray:
			return amf.Object(info), nil
		}
		return nil, nil
	}
}

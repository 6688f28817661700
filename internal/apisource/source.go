package apisource

import (
	"strings"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/httpflv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// Hub is the stream hub; *stream.Registry is one.
type Hub interface {
	// Streams returns the live streams.
	Streams() []*stream.Stream
	// Lookup returns the live stream for key.
	Lookup(key stream.Key) (*stream.Stream, bool)
}

// RTMP lists and kicks RTMP connections; *rtmp.Server is one.
type RTMP interface {
	// Sessions lists the current connections.
	Sessions() []rtmp.Session
	// Kick closes the connection with the given id.
	Kick(id string) bool
}

// HTTPFLV lists and kicks HTTP-FLV and WebSocket-FLV viewers;
// *httpflv.Handler is one.
type HTTPFLV interface {
	// Sessions lists the current viewers.
	Sessions() []httpflv.Session
	// Kick ends the viewer with the given id.
	Kick(id string) bool
}

// HLS counts a stream's HLS clients; *hls.Manager is one.
type HLS interface {
	// Viewers counts the distinct HLS clients of key seen recently.
	Viewers(key stream.Key) int
}

// Deps are the components read. Hub is required; a nil component is
// left out (no sessions of that kind, zero HLS viewers).
type Deps struct {
	Hub     Hub
	RTMP    RTMP
	HTTPFLV HTTPFLV
	HLS     HLS
}

// Source implements api.StreamSource and api.SessionSource over Deps.
type Source struct {
	deps Deps
}

var (
	_ api.StreamSource  = (*Source)(nil)
	_ api.SessionSource = (*Source)(nil)
)

// New returns a Source over deps.
func New(deps Deps) *Source { return &Source{deps: deps} }

// Streams implements api.StreamSource.
func (s *Source) Streams() []api.StreamInfo {
	live := s.deps.Hub.Streams()
	out := make([]api.StreamInfo, 0, len(live))
	for _, st := range live {
		out = append(out, s.describe(st))
	}
	return out
}

// Stream implements api.StreamSource.
func (s *Source) Stream(app, name string) (api.StreamInfo, bool) {
	st, ok := s.deps.Hub.Lookup(stream.Key{App: app, Name: name})
	if !ok {
		return api.StreamInfo{}, false
	}
	return s.describe(st), true
}

// KickPublisher implements api.StreamSource: it closes the publisher's
// connection, which ends the stream; readers drain and get a clean end.
func (s *Source) KickPublisher(app, name string) bool {
	st, ok := s.deps.Hub.Lookup(stream.Key{App: app, Name: name})
	if !ok {
		return false
	}
	return s.Kick(st.Info().ID)
}

// describe snapshots one stream. A stream waiting for its publisher to
// come back has none and receives nothing: its rates read zero at once,
// not after the measurement window.
func (s *Source) describe(st *stream.Stream) api.StreamInfo {
	key, info, stats := st.Key(), st.Info(), st.Stats()
	state := api.StateLive
	if st.State() == stream.StateWaiting {
		state = api.StateWaiting
		stats.Bitrate, stats.VideoBitrate, stats.AudioBitrate, stats.VideoFPS = 0, 0, 0, 0
	}
	tr := describeTracks(st.Headers(), stats)
	alignment := api.AlignmentUnknown
	if state == api.StateLive {
		rs := st.Renditions()
		applyRenditions(tr.list, rs)
		alignment = alignmentName(rs.KeyframeAlignment)
	}
	encoder := tr.encoder
	if encoder == "" {
		encoder = info.Encoder
	}
	out := api.StreamInfo{
		App: key.App, Name: key.Name, State: state,
		Publisher: api.PublisherInfo{
			SessionID: info.ID, Protocol: info.Protocol.APIName(), RemoteAddr: info.RemoteAddr,
			Encoder: encoder, StartTime: st.StartTime(),
		},
		Video: tr.video, Audio: tr.audio, Tracks: tr.list, KeyframeAlignment: alignment,
		Bitrate: stats.Bitrate, VideoBitrate: stats.VideoBitrate, AudioBitrate: stats.AudioBitrate,
		BytesIn: stats.BytesIn, FramesIn: stats.FramesIn,
		KeyframeInterval: stats.KeyframeInterval,
		Dropped:          stats.Dropped,
		StartTime:        st.StartTime(),
	}
	for _, r := range st.Readers() {
		switch r.Info().Protocol {
		case stream.ProtocolRTMP:
			out.Viewers.RTMP++
		case stream.ProtocolFLV:
			out.Viewers.FLV++
		case stream.ProtocolWS:
			out.Viewers.WS++
		}
	}
	if s.deps.HLS != nil {
		out.Viewers.HLS = s.deps.HLS.Viewers(key)
	}
	s.hlsStatus(key, out.Tracks)
	out.Publisher.Capabilities, out.Publisher.FourCCs = publisherCaps(info)
	return out
}

// Sessions implements api.SessionSource: RTMP connections (publishers,
// players, connections still setting up) and HTTP-FLV/WS-FLV viewers.
func (s *Source) Sessions() []api.SessionInfo {
	var out []api.SessionInfo
	if s.deps.RTMP != nil {
		for _, c := range s.deps.RTMP.Sessions() {
			info := api.SessionInfo{
				ID: c.ID, Protocol: stream.ProtocolRTMP.APIName(), Stream: c.Stream, RemoteAddr: c.RemoteAddr,
				StartTime: c.Start, BytesIn: c.BytesIn, BytesOut: c.BytesOut,
			}
			switch c.Role {
			case rtmp.RolePublisher:
				info.Role = api.RolePublisher
			case rtmp.RolePlayer:
				info.Role = api.RoleViewer
				info.Dropped = s.readerDropped(c.Stream, c.ID)
			default:
				info.Role = api.RoleConnecting
			}
			out = append(out, info)
		}
	}
	if s.deps.HTTPFLV != nil {
		for _, v := range s.deps.HTTPFLV.Sessions() {
			out = append(out, api.SessionInfo{
				ID: v.ID, Role: api.RoleViewer, Protocol: v.Protocol.APIName(), Stream: v.Stream,
				RemoteAddr: v.RemoteAddr, StartTime: v.Start, BytesOut: v.BytesOut, Dropped: v.Dropped,
			})
		}
	}
	return out
}

// readerDropped finds the reader of session id on stream "app/name" and
// returns its drop count (0 when not found).
func (s *Source) readerDropped(key, id string) uint64 {
	app, name, ok := strings.Cut(key, "/")
	if !ok {
		return 0
	}
	st, ok := s.deps.Hub.Lookup(stream.Key{App: app, Name: name})
	if !ok {
		return 0
	}
	for _, r := range st.Readers() {
		if r.Info().ID == id {
			return r.Stats().Dropped
		}
	}
	return 0
}

// Kick implements api.SessionSource.
func (s *Source) Kick(id string) bool {
	if s.deps.RTMP != nil && s.deps.RTMP.Kick(id) {
		return true
	}
	return s.deps.HTTPFLV != nil && s.deps.HTTPFLV.Kick(id)
}

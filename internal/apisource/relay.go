package apisource

import (
	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/relay"
	"github.com/mediaserver/mediaserver/stream"
)

// Relays lists the streams pulled from other servers; *relay.Puller is
// one.
type Relays interface {
	// Status lists the pulls.
	Status() []relay.PullStatus
	// StatusOf returns the pull of key, if any.
	StatusOf(key stream.Key) (relay.PullStatus, bool)
}

var _ api.RelaySource = (*Source)(nil)

// Relays implements api.RelaySource.
func (s *Source) Relays() []api.RelayInfo {
	if s.deps.Relays == nil {
		return nil
	}
	pulls := s.deps.Relays.Status()
	out := make([]api.RelayInfo, 0, len(pulls))
	for _, st := range pulls {
		out = append(out, relayInfo(st))
	}
	return out
}

// relayOf returns the pull that publishes key, if any.
func (s *Source) relayOf(key stream.Key) *api.RelayInfo {
	if s.deps.Relays == nil {
		return nil
	}
	st, ok := s.deps.Relays.StatusOf(key)
	if !ok {
		return nil
	}
	info := relayInfo(st)
	return &info
}

// relayInfo converts a pull's status.
func relayInfo(st relay.PullStatus) api.RelayInfo {
	return api.RelayInfo{
		App: st.Key.App, Name: st.Key.Name, URL: st.URL, OnDemand: st.OnDemand, State: string(st.State),
		Since: st.Since, Bytes: st.Bytes, Retries: st.Retries, LastError: st.LastError,
	}
}

package apisource

import (
	"errors"
	"fmt"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/relay"
)

// Forwarder lists, adds and removes forward targets; *relay.Forwarder is
// one.
type Forwarder interface {
	// Targets returns the targets of the live stream app/name.
	Targets(app, name string) ([]relay.TargetInfo, bool)
	// AddTarget starts forwarding app/name to url.
	AddTarget(app, name, url string) (relay.TargetInfo, error)
	// RemoveTarget stops target id of app/name and waits for it.
	RemoveTarget(app, name, id string) error
}

// Forwards implements api.ForwardSource over a Forwarder.
type Forwards struct {
	Forwarder Forwarder
}

var _ api.ForwardSource = Forwards{}

// Forwards implements api.ForwardSource.
func (f Forwards) Forwards(app, name string) ([]api.ForwardInfo, bool) {
	targets, ok := f.Forwarder.Targets(app, name)
	if !ok {
		return nil, false
	}
	out := make([]api.ForwardInfo, 0, len(targets))
	for _, t := range targets {
		out = append(out, forwardInfo(t))
	}
	return out, true
}

// AddForward implements api.ForwardSource.
func (f Forwards) AddForward(app, name, url string) (api.ForwardInfo, error) {
	t, err := f.Forwarder.AddTarget(app, name, url)
	if err != nil {
		return api.ForwardInfo{}, forwardError(err)
	}
	return forwardInfo(t), nil
}

// RemoveForward implements api.ForwardSource.
func (f Forwards) RemoveForward(app, name, id string) error {
	return forwardError(f.Forwarder.RemoveTarget(app, name, id))
}

// forwardInfo converts a target's snapshot.
func forwardInfo(t relay.TargetInfo) api.ForwardInfo {
	return api.ForwardInfo{ID: t.ID, URL: t.URL, Origin: t.Origin, State: t.State, Since: t.Since, Bytes: t.Bytes,
		Bitrate: t.Bitrate, Retries: t.Retries, Dropped: t.Dropped, LastError: t.LastError}
}

// forwardError wraps the API's sentinel matching a relay error.
func forwardError(err error) error {
	for _, m := range []struct{ relay, api error }{
		{relay.ErrTargetURL, api.ErrForwardURL},
		{relay.ErrStreamNotLive, api.ErrForwardStreamNotLive},
		{relay.ErrClosed, api.ErrForwardStreamNotLive},
		{relay.ErrTargetNotFound, api.ErrForwardNotFound},
		{relay.ErrTooManyTargets, api.ErrTooManyForwards},
	} {
		if errors.Is(err, m.relay) {
			return fmt.Errorf("%w: %w", m.api, err)
		}
	}
	return err
}

package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/mediaserver/mediaserver/relay"
	"github.com/mediaserver/mediaserver/stream"
)

// Puller is the relay an edge pulls streams through.
type Puller interface {
	stream.Demander
	PullResolved(ctx context.Context, key stream.Key, resolve relay.Resolver) error
}

// EdgeDemander is an edge's stream.Demander: a stream a viewer asks for
// that is not live here is pulled from the origin that has it (over
// HTTP-FLV, from its advertised URL), after the relay's own configured
// sources. The pull looks the origin up again before every reconnection,
// so a stream republished on another origin is followed there.
type EdgeDemander struct {
	Node  *Node
	Relay Puller
	// StartTimeout bounds how long the first viewer waits for the pull.
	StartTimeout time.Duration
}

// Demand implements stream.Demander.
func (e EdgeDemander) Demand(key stream.Key) bool {
	if e.Relay.Demand(key) {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.StartTimeout)
	defer cancel()
	if _, err := e.Node.Owner(ctx, key); err != nil {
		return false // live nowhere (or Redis down with no owner known): nothing to pull
	}
	err := e.Relay.PullResolved(ctx, key, e.Node.SourceURL)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		e.Node.log.Debug("pull from origin", "stream", key.String(), "err", err)
	}
	return err == nil
}

// SourceURL is a relay.Resolver: the HTTP-FLV URL of key at its origin.
func (n *Node) SourceURL(ctx context.Context, key stream.Key) (string, error) {
	owner, err := n.Owner(ctx, key)
	if err != nil {
		return "", err
	}
	return owner + "/" + key.App + "/" + key.Name + ".flv", nil
}

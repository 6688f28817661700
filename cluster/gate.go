package cluster

import (
	"context"

	"github.com/mediaserver/mediaserver/stream"
)

// Authorizer is the publish and play authoriser a PublishGate wraps: the
// access checker, with its optional interfaces (the rtmp package asks for
// AuthorizePublish and ChecksPublisher when they are there).
type Authorizer interface {
	Authorize(ctx context.Context, req stream.AccessRequest) error
	AuthorizePublish(ctx context.Context, req stream.AccessRequest) (stream.PublishGrant, error)
	ChecksPublisher(key stream.Key) bool
}

// PublishGate claims the name of every publish its inner authoriser lets
// through: a name another origin holds is refused with an error wrapping
// stream.ErrStreamBusy. Plays pass straight through.
type PublishGate struct {
	Inner Authorizer
	Node  *Node
}

// Authorize implements the outputs' Authorizer.
func (g PublishGate) Authorize(ctx context.Context, req stream.AccessRequest) error {
	if err := g.Inner.Authorize(ctx, req); err != nil || req.Action != stream.ActionPublish {
		return err
	}
	return g.Node.Claim(ctx, req.Key)
}

// AuthorizePublish implements rtmp.PublishResolver: the name claimed is
// the one the inner authoriser resolved (a secret stream key stands for
// its stream).
func (g PublishGate) AuthorizePublish(ctx context.Context, req stream.AccessRequest) (stream.PublishGrant, error) {
	grant, err := g.Inner.AuthorizePublish(ctx, req)
	if err != nil {
		return grant, err
	}
	return grant, g.Node.Claim(ctx, grant.Key)
}

// ChecksPublisher implements rtmp.OwnerChecker.
func (g PublishGate) ChecksPublisher(key stream.Key) bool { return g.Inner.ChecksPublisher(key) }

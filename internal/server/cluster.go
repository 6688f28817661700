package server

import (
	"context"
	"fmt"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/cluster"
	"github.com/mediaserver/mediaserver/internal/metrics"
	"github.com/mediaserver/mediaserver/stream"
)

// health is the /healthz check: a cluster node whose Redis cannot be
// reached is degraded (it still serves what it has, so it stays in its
// load balancer's rotation).
func (s *Server) health() error {
	if s.cluster == nil {
		return nil
	}
	if err := s.cluster.Health(); err != nil {
		return fmt.Errorf("%w: %v", metrics.ErrDegraded, err)
	}
	return nil
}

// closeCluster leaves the cluster, if the server is in one: its claims are
// released.
func (s *Server) closeCluster() {
	if s.cluster == nil {
		return
	}
	if err := s.cluster.Close(); err != nil {
		s.log.Warn("leave cluster", "err", err)
	}
}

// clusterSource adapts the cluster node to the API.
type clusterSource struct{ node *cluster.Node }

// Cluster implements api.ClusterSource.
func (c clusterSource) Cluster(ctx context.Context) api.ClusterInfo {
	info := api.ClusterInfo{Role: string(c.node.Role()), Advertise: c.node.Advertise(), Redis: "ok"}
	list, err := c.node.Streams(ctx)
	if err != nil {
		info.Redis, info.Error = "unreachable", err.Error()
		return info
	}
	for _, st := range list {
		info.Streams = append(info.Streams, api.ClusterStream{Stream: st.Stream, Origin: st.Origin})
	}
	return info
}

// demander is what the hub asks for streams viewers want that are not
// live: on an edge, the origin that has them through the relay; otherwise
// the relay's configured sources.
func (s *Server) demander() stream.Demander {
	if s.cluster != nil && s.cluster.Role() == cluster.RoleEdge {
		return cluster.EdgeDemander{Node: s.cluster, Relay: s.relay, StartTimeout: s.cfg.Relay.StartTimeout}
	}
	return s.relay
}

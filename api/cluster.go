package api

import (
	"context"
	"net/http"
)

// ClusterInfo describes the cluster as this node sees it (GET /cluster).
type ClusterInfo struct {
	// Role is "origin" or "edge".
	Role string `json:"role"`
	// Advertise is the node's advertised base URL, if any.
	Advertise string `json:"advertise"`
	// Redis is "ok" or "unreachable"; Error says why.
	Redis string `json:"redis"`
	Error string `json:"error"`
	// Streams are the streams live in the cluster, with their origins;
	// empty while Redis is unreachable.
	Streams []ClusterStream `json:"streams"`
}

// ClusterStream is one stream live in the cluster.
type ClusterStream struct {
	Stream string `json:"stream"`
	Origin string `json:"origin"`
}

// ClusterSource describes the cluster the server is part of.
type ClusterSource interface {
	Cluster(ctx context.Context) ClusterInfo
}

// cluster serves GET /cluster: 404 on a server outside a cluster.
func (h *handler) cluster(w http.ResponseWriter, r *http.Request) {
	if h.deps.Cluster == nil {
		writeError(w, http.StatusNotFound, CodeNotFound, "this server is not part of a cluster (cluster.role is empty)")
		return
	}
	info := h.deps.Cluster.Cluster(r.Context())
	if info.Streams == nil {
		info.Streams = []ClusterStream{}
	}
	writeJSON(w, http.StatusOK, info)
}

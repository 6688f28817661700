package api

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// RelayInfo describes a stream pulled from another server (relay.*).
type RelayInfo struct {
	// App and Name identify the stream the pull publishes.
	App, Name string
	// URL is the source.
	URL string
	// OnDemand tells a pull started by a viewer from an always-on one.
	OnDemand bool
	// State is "connecting", "live", "retrying" or "idle".
	State string
	// Since is when the pull entered State.
	Since time.Time
	// Bytes counts the payload bytes received from the source; Retries
	// the connections made after the first.
	Bytes, Retries uint64
	// LastError is why the source last failed or ended ("" before).
	LastError string
}

// RelaySource lists the streams pulled from other servers.
type RelaySource interface {
	// Relays lists the running pulls.
	Relays() []RelayInfo
}

// relayDoc is one stream pulled from another server.
type relayDoc struct {
	App       string    `json:"app"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	OnDemand  bool      `json:"on_demand"`
	State     string    `json:"state"`
	Since     time.Time `json:"since"`
	Bytes     uint64    `json:"bytes"`
	Retries   uint64    `json:"retries"`
	LastError string    `json:"last_error"`
}

// newRelayDoc converts a pull's snapshot; secrets in its URL (password,
// secret-named query values) are masked.
func newRelayDoc(r RelayInfo) relayDoc {
	return relayDoc{
		App: r.App, Name: r.Name, URL: maskURL(r.URL), OnDemand: r.OnDemand, State: r.State, Since: utc(r.Since),
		Bytes: r.Bytes, Retries: r.Retries, LastError: r.LastError,
	}
}

// listRelays serves GET /relays: every running pull, sorted by stream,
// whether its stream is live or not.
func (h *handler) listRelays(w http.ResponseWriter, r *http.Request) {
	p, err := parsePaging(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
		return
	}
	var all []RelayInfo
	if h.deps.Relays != nil {
		all = h.deps.Relays.Relays()
	}
	slices.SortFunc(all, func(a, b RelayInfo) int {
		if c := strings.Compare(a.App, b.App); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	page := pageOf(all, p)
	doc := listDoc[relayDoc]{Items: make([]relayDoc, 0, len(page)), Total: len(all), Page: p.page, PerPage: p.perPage}
	for _, rl := range page {
		doc.Items = append(doc.Items, newRelayDoc(rl))
	}
	writeJSON(w, http.StatusOK, doc)
}

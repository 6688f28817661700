package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// Limits on the on_forward hook's answer.
const (
	// maxHookAnswer caps the bytes of an on_forward answer read.
	maxHookAnswer = 64 << 10
)

// ForwardHookRequest is the JSON body POSTed to the on_forward hook when
// a stream starts.
type ForwardHookRequest struct {
	// Action is "forward".
	Action string `json:"action"`
	// App and Name identify the stream.
	App  string `json:"app"`
	Name string `json:"name"`
	// Targets are the URL templates configured for the stream
	// (forward.apps and forward.streams), expanded.
	Targets []string `json:"targets"`
}

// ForwardHookAnswer is the JSON body a 2xx answer of the on_forward hook
// carries: the targets the stream is forwarded to, in place of the
// configured ones (an empty list: none).
type ForwardHookAnswer struct {
	// Targets are rtmp:// or rtmps:// target URLs.
	Targets []string `json:"targets"`
}

// forwardHook calls the on_forward hook with a pool of its own: its calls
// neither wait for nor hold up the access hooks'.
type forwardHook struct {
	url        string
	timeout    time.Duration
	configured func(stream.Key) []string
	client     *http.Client
	slots      chan struct{} // one per call in flight
}

// newForwardHook returns the hook client of cfg.OnForward.
func newForwardHook(cfg ForwardConfig) *forwardHook {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = cfg.MaxHookCalls
	return &forwardHook{
		url: cfg.OnForward, timeout: cfg.HookTimeout,
		configured: func(k stream.Key) []string {
			var out []string
			for _, tmpl := range cfg.targetsFor(k.App, k.Name) {
				out = append(out, expandTarget(tmpl, k.App, k.Name))
			}
			return out
		},
		client: &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		slots: make(chan struct{}, cfg.MaxHookCalls),
	}
}

// ask posts the stream to the hook, once a slot of the pool is free, and
// returns the targets of its answer. The wait for a slot and the call are
// each bounded by the hook's timeout.
func (h *forwardHook) ask(ctx context.Context, key stream.Key) ([]string, error) {
	wait := time.NewTimer(h.timeout)
	defer wait.Stop()
	select {
	case h.slots <- struct{}{}:
	case <-wait.C:
		return nil, fmt.Errorf("on_forward: %d calls in flight for %v", cap(h.slots), h.timeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("on_forward: %w", ctx.Err())
	}
	defer func() { <-h.slots }()
	body, err := json.Marshal(ForwardHookRequest{Action: "forward", App: key.App, Name: key.Name, Targets: h.configured(key)})
	if err != nil {
		return nil, fmt.Errorf("on_forward: encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("on_forward: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mediaserver-hook")
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("on_forward: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxHookAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("on_forward: read answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("on_forward: answered %s", resp.Status)
	}
	if len(data) > maxHookAnswer {
		return nil, fmt.Errorf("on_forward: answer longer than %d bytes", maxHookAnswer)
	}
	var answer ForwardHookAnswer
	if err := json.Unmarshal(data, &answer); err != nil {
		return nil, fmt.Errorf("on_forward: answer: %w", err)
	}
	return answer.Targets, nil
}

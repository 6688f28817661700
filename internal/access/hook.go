package access

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// HookAction is the "action" field of a HookRequest.
type HookAction string

// Hook actions. HookPublish and HookPlay are spelled as the stream.Action
// they ask about.
const (
	// HookPublish asks whether a stream may be published.
	HookPublish = HookAction(stream.ActionPublish)
	// HookPlay asks whether a viewer may play a stream.
	HookPlay = HookAction(stream.ActionPlay)
	// HookUnpublish tells that a stream ended.
	HookUnpublish HookAction = "unpublish"
	// HookPlayStop tells that a viewer stopped.
	HookPlayStop HookAction = "play_stop"
)

// Limits on what is read from a hook's answer.
const (
	// maxHookReason caps the part of a refusing answer's body quoted in
	// the refusal.
	maxHookReason = 128
	// maxHookDrain caps the bytes of an answer read (and discarded) so the
	// connection can be reused.
	maxHookDrain = 64 << 10
)

// HookRequest is the JSON body POSTed to every hook.
type HookRequest struct {
	// Action is HookPublish, HookPlay, HookUnpublish or HookPlayStop.
	Action HookAction `json:"action"`
	// Protocol is the client's protocol by its API name
	// (stream.Protocol.APIName): "rtmp", "flv", "ws" or "hls".
	Protocol string `json:"protocol"`
	// App and Name identify the stream.
	App  string `json:"app"`
	Name string `json:"name"`
	// Query is the query string sent with the stream name (tokens), without
	// the '?'.
	Query string `json:"query"`
	// RemoteAddr is the client's address (host:port).
	RemoteAddr string `json:"remote_addr"`
	// SessionID names the session in the server's logs and API.
	SessionID string `json:"session_id"`
	// Bytes is, for unpublish, the payload bytes received and, for
	// play_stop, the bytes sent. Absent for publish and play.
	Bytes *uint64 `json:"bytes,omitempty"`
	// DurationSeconds is how long the session lasted. Absent for publish
	// and play.
	DurationSeconds *float64 `json:"duration_seconds,omitempty"`
}

// hookClient posts HookRequests.
type hookClient struct {
	client *http.Client
	// exposeReason puts a refusing answer's first line in the refusal's
	// client-readable text; otherwise only its cause (logged) has it.
	exposeReason bool
}

// newHookClient returns a client whose calls do not follow redirects (a
// redirect is not a 2xx answer).
func newHookClient(exposeReason bool) *hookClient {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 16
	return &hookClient{
		client: &http.Client{
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		exposeReason: exposeReason,
	}
}

// call posts req to url and waits at most timeout for the whole answer. It
// returns nil for a 2xx answer, an error wrapping ErrHookRefused for
// another status and one wrapping ErrHookFailed when no answer came. name
// ("on_publish") starts the message. The error's text is meant for clients
// and carries no transport details, nor the answer's body unless the
// client was made to expose it; those are kept for logs (see causeOf).
func (h *hookClient) call(ctx context.Context, name, url string, timeout time.Duration, req HookRequest) error {
	body, err := json.Marshal(req)
	if err != nil {
		return &refusal{kind: ErrHookFailed, msg: name + " hook request could not be encoded", cause: err}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return &refusal{kind: ErrHookFailed, msg: name + " hook URL is invalid", cause: err}
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("User-Agent", "mediaserver-hook")
	resp, err := h.client.Do(hreq)
	if err != nil {
		msg := name + " hook is unavailable"
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			msg = fmt.Sprintf("%s hook did not answer within %v", name, timeout)
		}
		return &refusal{kind: ErrHookFailed, msg: msg, cause: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxHookDrain))
		return nil
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxHookReason))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxHookDrain))
	msg := fmt.Sprintf("%s hook answered %d", name, resp.StatusCode)
	cause := fmt.Errorf("status %s", resp.Status)
	if reason := printable(head); reason != "" {
		cause = fmt.Errorf("status %s: %q", resp.Status, reason)
		if h.exposeReason {
			msg += ": " + reason
		}
	}
	return &refusal{kind: ErrHookRefused, msg: msg, cause: cause}
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// printable returns the first line of b as trimmed printable ASCII, for
// quoting a hook's reason to a client.
func printable(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	var sb strings.Builder
	for _, c := range line {
		if c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		}
	}
	return strings.TrimSpace(sb.String())
}

// close releases idle connections.
func (h *hookClient) close() { h.client.CloseIdleConnections() }

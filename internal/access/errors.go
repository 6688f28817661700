package access

import "errors"

// Sentinel errors wrapped by Authorize's refusals; callers that must tell
// a refusal from an outage (an HTTP output answering 403 or 503) compare
// with errors.Is. The error text itself is written for the client.
var (
	// ErrDenied: the app or stream key is not allowed by the
	// configuration, or the action is unknown.
	ErrDenied = errors.New("access denied")
	// ErrHookRefused: a hook answered with a non-2xx status.
	ErrHookRefused = errors.New("hook refused")
	// ErrHookFailed: a hook could not be asked (no answer within the
	// timeout, connection failure, too many hooks in flight).
	ErrHookFailed = errors.New("hook failed")
	// ErrInvalidConfig is wrapped by Config.Validate.
	ErrInvalidConfig = errors.New("access: invalid config")
)

// refusal is a refusal with a client-readable message that wraps one of
// the sentinels.
type refusal struct {
	kind  error
	msg   string
	cause error // for logs only; may be nil
}

// Error returns the client-readable message.
func (r *refusal) Error() string { return r.msg }

// Unwrap returns the sentinel.
func (r *refusal) Unwrap() error { return r.kind }

// causeOf returns the logged cause of a refusal: its underlying error when
// it has one, else err itself.
func causeOf(err error) error {
	var r *refusal
	if errors.As(err, &r) && r.cause != nil {
		return r.cause
	}
	return err
}

// isRefused reports whether err is a hook's non-2xx answer.
func isRefused(err error) bool { return errors.Is(err, ErrHookRefused) }

package logmask

import (
	"context"
	"fmt"
	"log/slog"
)

// handler is a slog.Handler that masks secrets before its inner handler
// sees a record.
type handler struct {
	inner slog.Handler
}

// Wrap returns a handler that writes to h with secrets masked (String) in
// every record's message and attributes. Wrapping a handler Wrap returned
// returns it unchanged.
func Wrap(h slog.Handler) slog.Handler {
	if _, ok := h.(handler); ok {
		return h
	}
	return handler{inner: h}
}

// Logger returns log writing through Wrap.
func Logger(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(handler); ok {
		return log
	}
	return slog.New(Wrap(log.Handler()))
}

// Enabled implements slog.Handler.
func (h handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle implements slog.Handler.
func (h handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	if err := h.inner.Handle(ctx, out); err != nil {
		return fmt.Errorf("log record: %w", err)
	}
	return nil
}

// WithAttrs implements slog.Handler.
func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{inner: h.inner.WithAttrs(maskAttrs(attrs))}
}

// WithGroup implements slog.Handler.
func (h handler) WithGroup(name string) slog.Handler {
	return handler{inner: h.inner.WithGroup(name)}
}

// maskAttrs returns attrs with secrets masked.
func maskAttrs(attrs []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = maskAttr(a)
	}
	return out
}

// maskAttr returns a with secrets masked in its value. A value of any
// other kind than string or group is masked in its printed form, which
// then replaces it when it held a secret.
func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, String(v.String()))
	case slog.KindGroup:
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(maskAttrs(v.Group())...)}
	case slog.KindAny:
		if v.Any() == nil {
			break
		}
		s := fmt.Sprint(v.Any())
		if m := String(s); m != s {
			return slog.String(a.Key, m)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

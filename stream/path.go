package stream

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidName is returned for an app or stream name that cannot be used
// in a URL.
var ErrInvalidName = errors.New("stream: invalid name")

// MaxNameLength caps app and stream names.
const MaxNameLength = 128

// CheckName reports whether s can be used as an app or stream name: it must
// be usable in a URL path segment as it is (letters, digits and -_.~, not
// starting with a dot).
func CheckName(s string) error {
	if s == "" || len(s) > MaxNameLength {
		return fmt.Errorf("%w: length %d not in 1..%d", ErrInvalidName, len(s), MaxNameLength)
	}
	if s[0] == '.' {
		return fmt.Errorf("%w: %q starts with a dot", ErrInvalidName, s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == '~':
		default:
			return fmt.Errorf("%w: %q has character %q", ErrInvalidName, s, c)
		}
	}
	return nil
}

// KeyFromPath parses a URL path of the form /{app}/{name}{suffix} (for
// example /live/cam.flv with suffix ".flv") into a stream key.
func KeyFromPath(path, suffix string) (Key, error) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return Key{}, fmt.Errorf("%w: path %q is not absolute", ErrInvalidName, truncate(path))
	}
	rest, ok = strings.CutSuffix(rest, suffix)
	if !ok {
		return Key{}, fmt.Errorf("%w: path %q does not end in %s", ErrInvalidName, truncate(path), suffix)
	}
	app, name, ok := strings.Cut(rest, "/")
	if !ok {
		return Key{}, fmt.Errorf("%w: path %q is not /app/name%s", ErrInvalidName, truncate(path), suffix)
	}
	if err := CheckName(app); err != nil {
		return Key{}, err
	}
	if err := CheckName(name); err != nil {
		return Key{}, err
	}
	return Key{App: app, Name: name}, nil
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

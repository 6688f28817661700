package rtmp

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mediaserver/mediaserver/stream"
)

// splitQuery separates "name?query" into its two parts. Encoders put auth
// tokens after the stream key this way; the query goes to auth and is not
// part of the name.
func splitQuery(s string) (name, query string) {
	name, query, _ = strings.Cut(s, "?")
	return name, query
}

// cleanApp turns the app a client sent in connect into the app name:
// without a query, a trailing slash or surrounding space.
func cleanApp(app string) string {
	app, _ = splitQuery(strings.TrimSpace(app))
	return strings.Trim(app, "/")
}

// allowedNameChars describes the characters stream.CheckName allows.
const allowedNameChars = `letters, digits, "-", "_", "." and "~"`

// nameProblem tells a client what is wrong with an app or stream key it
// sent and what to set instead; what names the field in the words of an
// encoder's settings ("app", "stream key"), and server is the server URL to
// suggest (rtmp://HOST/APP). It returns "" for a usable name.
func nameProblem(what, name, server string) string {
	if stream.CheckName(name) == nil {
		return ""
	}
	switch {
	case name == "":
		return fmt.Sprintf("missing %s: set the server to %s and the stream key to a name", what, server)
	case len(name) > stream.MaxNameLength:
		return fmt.Sprintf("%s is %d characters long, the limit is %d", what, len(name), stream.MaxNameLength)
	case strings.HasPrefix(name, "."):
		return fmt.Sprintf("%s %q starts with a dot", what, name)
	}
	for _, r := range name {
		if stream.CheckName("a"+string(r)) == nil {
			continue
		}
		if r == '/' {
			return fmt.Sprintf("%s %q has a \"/\": set the server to %s and the stream key to a name without one",
				what, name, server)
		}
		return fmt.Sprintf("%s %q has %q, which is not allowed: use %s", what, name, r, allowedNameChars)
	}
	return fmt.Sprintf("%s %q is not usable: use 1 to %d of %s", what, name, stream.MaxNameLength, allowedNameChars)
}

// serverURL is the server URL to suggest to a client: the scheme and host
// of its tcUrl (rtmp://HOST when it sent none) and app, or "live" when it
// has none.
func serverURL(tcURL, app string) string {
	base := "rtmp://HOST"
	if u, err := url.Parse(tcURL); err == nil && u.Scheme != "" && u.Host != "" {
		base = u.Scheme + "://" + u.Host
	}
	if app == "" || stream.CheckName(app) != nil {
		app = "live"
	}
	return base + "/" + app
}

// sentence makes a description sentence of a problem: capitalised, with a
// full stop.
func sentence(problem string) string {
	if problem == "" {
		return problem
	}
	r, n := utf8.DecodeRuneInString(problem)
	return string(unicode.ToUpper(r)) + problem[n:] + "."
}

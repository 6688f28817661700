package rtmp

import "strings"

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

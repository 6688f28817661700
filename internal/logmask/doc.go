// Package logmask keeps secrets out of the logs. Wrap puts a slog.Handler
// behind a filter that rewrites every record, at every level, before it is
// written: in the message and in every attribute (strings, errors,
// Stringers, groups, and attributes added with Logger.With), the values of
// secret-named query parameters (key, token, secret, sig, password and
// names made of them, such as stream_key or access_token) and the
// passwords of URLs become Masked. It is applied once, where the process
// builds its logger, so that no component has to remember it: RTMP tcUrls,
// publish and play queries, hook URLs and errors quoting them are all
// masked.
package logmask

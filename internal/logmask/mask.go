package logmask

import (
	"strings"

	"github.com/mediaserver/mediaserver/api"
)

// Masked replaces a secret in a log line, as it does in the API's
// configuration echo. It is plain letters so that it reads the same in text
// and JSON lines.
const Masked = api.Masked

// String returns s with the values of secret-named parameters
// ("name=value" after a query separator, a space or a quote, also
// percent-encoded as %3D) and the passwords of URLs ("scheme://user:pw@")
// replaced by Masked. Text without '=' or '@' is returned as it is.
func String(s string) string {
	if !strings.ContainsAny(s, "=@%") {
		return s
	}
	return maskUserinfo(maskParams(s))
}

// maskParams masks the values of secret-named parameters.
func maskParams(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is copied or masked into b
	for i := 0; i < len(s); i++ {
		eq := equalsAt(s, i)
		if eq == 0 {
			continue
		}
		start := i
		for start > 0 && nameChar(s[start-1]) {
			start--
		}
		// A percent-encoded separator (%3F, %26) before the name.
		if start >= 1 && s[start-1] == '%' && i-start > 2 {
			start += 2
		}
		name := s[start:i]
		end := valueEnd(s, i+eq)
		if name == "" || end == i+eq || !api.IsSecretName(name) || !separated(s, start) {
			i += eq - 1
			continue
		}
		b.WriteString(s[done : i+eq])
		b.WriteString(Masked)
		done = end
		i = end - 1
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// equalsAt returns the length of an equals sign at s[i] ("=" or "%3D"), or
// 0.
func equalsAt(s string, i int) int {
	switch {
	case s[i] == '=':
		return 1
	case s[i] == '%' && len(s) >= i+3 && s[i+1] == '3' && (s[i+2] == 'D' || s[i+2] == 'd'):
		return 3
	}
	return 0
}

// separated reports whether the name starting at s[start] follows a
// separator: the start of the text, a query separator, a space, a quote or
// a bracket.
func separated(s string, start int) bool {
	if start == 0 {
		return true
	}
	switch s[start-1] {
	case '?', '&', ';', ' ', '\t', '\n', '"', '\'', '(', '[', '{', ',', '/':
		return true
	}
	// A percent-encoded ? or & (%3F, %26), whose digits were skipped.
	return start >= 3 && s[start-3] == '%' && (strings.EqualFold(s[start-2:start], "3f") || s[start-2:start] == "26")
}

// valueEnd returns the index where the value starting at s[from] ends.
func valueEnd(s string, from int) int {
	for i := from; i < len(s); i++ {
		switch s[i] {
		case '&', '#', ';', ' ', '\t', '\r', '\n', '"', '\'', '<', '>', '\\', '`', ')', ']', '}':
			return i
		case '%':
			if len(s) >= i+3 && (s[i+1:i+3] == "26" || s[i+1:i+3] == "23" || strings.EqualFold(s[i+1:i+3], "3f")) {
				return i
			}
		}
	}
	return len(s)
}

// nameChar reports whether c may appear in a parameter name.
func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// maskUserinfo masks the password of every "scheme://user:password@host"
// in s.
func maskUserinfo(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "://")
		if i < 0 {
			break
		}
		authStart := i + 3
		authEnd := authStart
		for authEnd < len(rest) && !strings.ContainsRune("/?# \t\n\"'<>", rune(rest[authEnd])) {
			authEnd++
		}
		auth := rest[authStart:authEnd]
		at := strings.LastIndexByte(auth, '@')
		colon := strings.IndexByte(auth, ':')
		b.WriteString(rest[:authStart])
		if at > 0 && colon >= 0 && colon < at {
			b.WriteString(auth[:colon+1])
			b.WriteString(Masked)
			b.WriteString(auth[at:])
		} else {
			b.WriteString(auth)
		}
		rest = rest[authEnd:]
	}
	b.WriteString(rest)
	return b.String()
}

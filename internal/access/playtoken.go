package access

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mediaserver/mediaserver/internal/conns"
	"github.com/mediaserver/mediaserver/stream"
)

// PlayTokenParam is the query parameter that carries a signed play token.
const PlayTokenParam = "token"

// MinPlaySecretLen is the shortest AppRule.PlaySecret Validate accepts.
const MinPlaySecretLen = 16

// maxPlayTokenLen bounds the token a client may send: the expiry (at most
// 20 digits), a dot and the 43 characters of an unpadded base64url
// SHA-256.
const maxPlayTokenLen = 64

// SignPlayToken returns the play token for stream key, valid until expires
// (to the second), signed with secret: "{expiry}.{signature}", where expiry
// is in Unix seconds and signature is the unpadded base64url HMAC-SHA256,
// keyed with secret, of
//
//	{app}/{name}\n{expiry}\n{client IP}
//
// clientIP is "" for a token any address may use; otherwise the token is
// only accepted from that address (written as net/netip prints it). The
// token goes in the play URL's query as token=….
func SignPlayToken(secret string, key stream.Key, expires time.Time, clientIP string) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return exp + "." + playSignature(secret, key, exp, clientIP)
}

// playSignature is the signature part of a play token.
func playSignature(secret string, key stream.Key, expiry, clientIP string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(key.App + "/" + key.Name + "\n" + expiry + "\n" + clientIP))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// PlaySecretFor returns the play secret of app: its own rule's, or the
// WildcardApp rule's when app is not listed; "" when playing app is not
// signed.
func (c Config) PlaySecretFor(app string) string {
	rule, ok := c.Apps[app]
	if !ok {
		rule = c.Apps[WildcardApp]
	}
	return rule.PlaySecret
}

// checkPlayToken applies the app's play secret, if it has one, to a play
// request: the query must carry a token for this stream that has not
// expired, signed for any address or for the client's.
func (c *Checker) checkPlayToken(req stream.AccessRequest) error {
	secret := Config{Apps: c.Apps()}.PlaySecretFor(req.Key.App)
	if secret == "" {
		return nil
	}
	token := playTokenOf(req.Query)
	if token == "" {
		return &refusal{kind: ErrDenied, msg: "a signed play token is required"}
	}
	exp, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > maxPlayTokenLen {
		return &refusal{kind: ErrDenied, msg: "play token is malformed"}
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || strconv.FormatInt(unix, 10) != exp {
		return &refusal{kind: ErrDenied, msg: "play token is malformed"}
	}
	valid := hmac.Equal([]byte(sig), []byte(playSignature(secret, req.Key, exp, "")))
	if ip := clientIP(req.RemoteAddr); !valid && ip != "" {
		valid = hmac.Equal([]byte(sig), []byte(playSignature(secret, req.Key, exp, ip)))
	}
	if !valid {
		return &refusal{kind: ErrDenied, msg: fmt.Sprintf("play token is not valid for %s", req.Key)}
	}
	if !c.now().Before(time.Unix(unix, 0)) {
		return &refusal{kind: ErrDenied, msg: "play token has expired"}
	}
	return nil
}

// playTokenOf returns the token parameter of a query ("" when absent or
// unparsable).
func playTokenOf(query string) string {
	if !strings.Contains(query, PlayTokenParam+"=") {
		return ""
	}
	v, _ := url.ParseQuery(query) // what parsed, even when a later pair did not
	return v.Get(PlayTokenParam)
}

// clientIP returns the IP of a host:port address the way a play token
// names it ("" when it is not an IP address).
func clientIP(remoteAddr string) string {
	ip, err := CanonicalClientIP(conns.Host(remoteAddr))
	if err != nil {
		return ""
	}
	return ip
}

// CanonicalClientIP returns an IP address the way a play token bound to it
// writes it (IPv4 in dotted decimal, also when written IPv4-mapped; IPv6
// in its shortest form, without a zone), or an error when s is not an IP
// address.
func CanonicalClientIP(s string) (string, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return "", fmt.Errorf("client IP: %w", err)
	}
	return ip.Unmap().WithZone("").String(), nil
}

package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/mediaserver/mediaserver/internal/access"
	"github.com/mediaserver/mediaserver/stream"
)

// signFlag, as the first argument, makes the command print a signed play
// URL instead of serving.
const signFlag = "-sign-play-url"

// signPlayURL prints the play URL it is given (RTMP, HTTP-FLV,
// WebSocket-FLV or HLS) with a token=… signed with its app's play_secret,
// read from the configuration the server would load:
//
//	mediaserver -sign-play-url [-config FILE] [-expires 1h] [-client-ip IP] URL
func signPlayURL(args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mediaserver "+signFlag, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML configuration file (env "+envPrefix+"CONFIG)")
	expires := fs.Duration("expires", time.Hour, "how long the URL may be played from now")
	clientIP := fs.String("client-ip", "", "only this client address may play the URL (default any)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%s: want one play URL, got %d arguments", signFlag, fs.NArg())
	}
	var cfgArgs []string
	if *configFile != "" {
		cfgArgs = []string{"-config", *configFile}
	}
	cfg, err := loadConfig(cfgArgs, environ, stderr)
	if err != nil {
		return err
	}
	u, err := url.Parse(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("%s: %w", signFlag, err)
	}
	key, err := playURLKey(u.Path)
	if err != nil {
		return fmt.Errorf("%s: %w", signFlag, err)
	}
	secret := cfg.Access.PlaySecretFor(key.App)
	if secret == "" {
		return fmt.Errorf("%s: no play_secret for app %q in access.apps", signFlag, key.App)
	}
	ip := ""
	if *clientIP != "" {
		if ip, err = access.CanonicalClientIP(*clientIP); err != nil {
			return fmt.Errorf("%s: %w", signFlag, err)
		}
	}
	q := u.Query()
	q.Set(access.PlayTokenParam, access.SignPlayToken(secret, key, time.Now().Add(*expires), ip))
	u.RawQuery = q.Encode()
	_, err = fmt.Fprintln(stdout, u.String())
	return err
}

// playURLKey returns the stream a play URL's path names:
// /{app}/{name}.m3u8, /{app}/{name}.flv or /{app}/{name} (RTMP).
func playURLKey(path string) (stream.Key, error) {
	for _, suffix := range []string{".m3u8", ".flv"} {
		if strings.HasSuffix(path, suffix) {
			return stream.KeyFromPath(path, suffix)
		}
	}
	return stream.KeyFromPath(path, "")
}

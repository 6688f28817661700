package main

import (
	"net"
	"net/url"
)

// defaultRTMPPort is the port an rtmp:// URL without one means.
const defaultRTMPPort = "1935"

// obsApp is the app the startup line suggests publishing to.
const obsApp = "live"

// clickableURLs returns where to go once the server runs: the dashboard
// URL for a browser and the server URL to give OBS (the stream key is any
// name), from the addresses the HTTP and RTMP listeners are bound to. A
// wildcard listen address (":8080", "0.0.0.0", "[::]") is reachable on
// this machine as localhost, so that is the host shown for it.
func clickableURLs(httpAddr, rtmpAddr string) (dashboard, obsServer string) {
	dashboard = (&url.URL{Scheme: "http", Host: usableHost(httpAddr, "80"), Path: "/"}).String()
	obsServer = (&url.URL{Scheme: "rtmp", Host: usableHost(rtmpAddr, defaultRTMPPort), Path: "/" + obsApp}).String()
	return dashboard, obsServer
}

// usableHost turns a listen address into a host[:port] a client can dial:
// localhost for a wildcard or missing host, and no port when it is the
// scheme's default.
func usableHost(addr, defaultPort string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	if port == "" || port == defaultPort {
		if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, port)
}

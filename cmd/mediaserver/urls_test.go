package main

import "testing"

// TestStartupLineSaidNotWhereToClick pins the bug where the startup line
// printed the listen addresses (rtmp=[::]:1935 http=[::]:8080) but neither
// the dashboard URL nor the server URL to give OBS, with a host one can
// use.
func TestStartupLineSaidNotWhereToClick(t *testing.T) {
	cases := []struct {
		http, rtmp        string
		dashboard, obsURL string
	}{
		{"[::]:8080", "[::]:1935", "http://localhost:8080/", "rtmp://localhost/live"},
		{"0.0.0.0:8080", "0.0.0.0:1936", "http://localhost:8080/", "rtmp://localhost:1936/live"},
		{":80", ":1935", "http://localhost/", "rtmp://localhost/live"},
		{"192.0.2.7:8080", "192.0.2.7:1935", "http://192.0.2.7:8080/", "rtmp://192.0.2.7/live"},
		{"[2001:db8::1]:8080", "[2001:db8::1]:1935", "http://[2001:db8::1]:8080/", "rtmp://[2001:db8::1]/live"},
		{"127.0.0.1:41234", "127.0.0.1:41235", "http://127.0.0.1:41234/", "rtmp://127.0.0.1:41235/live"},
	}
	for _, tc := range cases {
		dashboard, obs := clickableURLs(tc.http, tc.rtmp)
		if dashboard != tc.dashboard || obs != tc.obsURL {
			t.Errorf("clickableURLs(%q, %q) = %q, %q; want %q, %q", tc.http, tc.rtmp, dashboard, obs, tc.dashboard, tc.obsURL)
		}
	}
}

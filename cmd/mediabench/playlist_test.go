package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// appendPlaylist encodes a media playlist (the test's encoder for round
// trips).
func appendPlaylist(dst []byte, pl mediaPlaylist) []byte {
	dst = append(dst, "#EXTM3U\n#EXT-X-VERSION:3\n"...)
	dst = fmt.Appendf(dst, "#EXT-X-TARGETDURATION:%s\n", strconv.FormatFloat(pl.Target.Seconds(), 'f', -1, 64))
	dst = fmt.Appendf(dst, "#EXT-X-MEDIA-SEQUENCE:%d\n", pl.Sequence)
	if pl.Map != "" {
		dst = fmt.Appendf(dst, "#EXT-X-MAP:URI=\"%s\"\n", pl.Map)
	}
	for _, s := range pl.Segments {
		if s.Discontinuity {
			dst = append(dst, "#EXT-X-DISCONTINUITY\n"...)
		}
		if !s.ProgramDate.IsZero() {
			dst = fmt.Appendf(dst, "#EXT-X-PROGRAM-DATE-TIME:%s\n", s.ProgramDate.Format(time.RFC3339Nano))
		}
		dst = fmt.Appendf(dst, "#EXTINF:%s,\n%s\n", strconv.FormatFloat(s.Duration.Seconds(), 'f', -1, 64), s.URI)
	}
	if pl.EndList {
		dst = append(dst, "#EXT-X-ENDLIST\n"...)
	}
	return dst
}

// samePlaylist compares two playlists, durations to the microsecond (the
// text form is decimal seconds).
func samePlaylist(a, b mediaPlaylist) error {
	near := func(x, y time.Duration) bool { return (x - y).Abs() <= time.Microsecond }
	if a.Map != b.Map {
		return fmt.Errorf("init section %q vs %q", a.Map, b.Map)
	}
	if !near(a.Target, b.Target) || a.Sequence != b.Sequence || a.EndList != b.EndList || len(a.Segments) != len(b.Segments) {
		return fmt.Errorf("header %v/%d/%v/%d vs %v/%d/%v/%d", a.Target, a.Sequence, a.EndList, len(a.Segments),
			b.Target, b.Sequence, b.EndList, len(b.Segments))
	}
	for i := range a.Segments {
		x, y := a.Segments[i], b.Segments[i]
		if x.Seq != y.Seq || x.URI != y.URI || !near(x.Duration, y.Duration) || !x.ProgramDate.Equal(y.ProgramDate) ||
			x.Discontinuity != y.Discontinuity {
			return fmt.Errorf("segment %d: %+v vs %+v", i, x, y)
		}
	}
	return nil
}

func TestParsePlaylist(t *testing.T) {
	pdt := time.Date(2026, 11, 21, 13, 0, 0, 123_000_000, time.UTC)
	cases := []struct {
		name string
		text string
		want mediaPlaylist
	}{
		{"server playlist", "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:41\n#EXT-X-TARGETDURATION:2\n" +
			"#EXT-X-DISCONTINUITY-SEQUENCE:0\n#EXT-X-PROGRAM-DATE-TIME:2026-11-21T13:00:00.123Z\n#EXTINF:2.000,\n" +
			"bench/abc-41.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:1.5,\nbench/abc-42.ts\n#EXT-X-INDEPENDENT-SEGMENTS\n",
			mediaPlaylist{Target: 2 * time.Second, Sequence: 41, Segments: []hlsSegment{
				{Seq: 41, URI: "bench/abc-41.ts", Duration: 2 * time.Second, ProgramDate: pdt},
				{Seq: 42, URI: "bench/abc-42.ts", Duration: 1500 * time.Millisecond, Discontinuity: true},
			}}},
		{"ended, zone without colon, CRLF", "#EXTM3U\r\n#EXT-X-TARGETDURATION:6\r\n#EXT-X-PROGRAM-DATE-TIME:2026-11-21T14:00:00.123+0100\r\n" +
			"#EXTINF:5.5,title\r\nhttp://cdn/x.ts\r\n#EXT-X-ENDLIST\r\n",
			mediaPlaylist{Target: 6 * time.Second, EndList: true, Segments: []hlsSegment{
				{Seq: 0, URI: "http://cdn/x.ts", Duration: 5500 * time.Millisecond, ProgramDate: pdt},
			}}},
		{"no segment yet", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n", mediaPlaylist{Target: 2 * time.Second}},
		{"fMP4 with parts", "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI=\"init.mp4\"\n" +
			"#EXT-X-PART:DURATION=0.2,URI=\"p1.0.mp4\",INDEPENDENT=YES\n#EXTINF:1,\ns1.mp4\n" +
			"#EXT-X-PART:DURATION=0.2,URI=\"p2.0.mp4\"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p2.1.mp4\"\n",
			mediaPlaylist{Map: "init.mp4", Target: time.Second, Segments: []hlsSegment{{Seq: 0, URI: "s1.mp4", Duration: time.Second}}}},
	}
	for _, tc := range cases {
		got, err := parsePlaylist([]byte(tc.text))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if err := samePlaylist(got, tc.want); err != nil {
			t.Errorf("%s: parse: %v", tc.name, err)
		}
		// And back: the encoded form parses to the same playlist.
		again, err := parsePlaylist(appendPlaylist(nil, tc.want))
		if err != nil {
			t.Errorf("%s: encoded: %v", tc.name, err)
		} else if err := samePlaylist(again, tc.want); err != nil {
			t.Errorf("%s: round trip: %v", tc.name, err)
		}
	}
}

func TestParsePlaylistErrors(t *testing.T) {
	cases := map[string]string{
		"empty":                  "",
		"no header":              "#EXTINF:2,\na.ts\n",
		"uri without extinf":     "#EXTM3U\na.ts\n",
		"multivariant":           "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n",
		"negative duration":      "#EXTM3U\n#EXTINF:-1,\na.ts\n",
		"nan duration":           "#EXTM3U\n#EXTINF:NaN,\na.ts\n",
		"huge target":            "#EXTM3U\n#EXT-X-TARGETDURATION:1e9\n",
		"bad sequence":           "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:x\n",
		"sequence after segment": "#EXTM3U\n#EXTINF:2,\na.ts\n#EXT-X-MEDIA-SEQUENCE:5\n",
		"bad date":               "#EXTM3U\n#EXT-X-PROGRAM-DATE-TIME:yesterday\n",
		"map without uri":        "#EXTM3U\n#EXT-X-MAP:BYTERANGE=\"5@0\"\n",
		"too large":              "#EXTM3U\n" + strings.Repeat("#", maxPlaylistBytes),
	}
	for name, text := range cases {
		if _, err := parsePlaylist([]byte(text)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzParsePlaylist: never a panic; a playlist that parses encodes and
// parses again to the same value.
func FuzzParsePlaylist(f *testing.F) {
	f.Add([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-PROGRAM-DATE-TIME:2026-11-21T13:00:00.123Z\n#EXTINF:2.000,\na-7.ts\n"))
	f.Add([]byte("#EXTM3U\n#EXT-X-DISCONTINUITY\n#EXTINF:0.5,\nx.ts\n#EXT-X-ENDLIST\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pl, err := parsePlaylist(data)
		if err != nil {
			return
		}
		again, err := parsePlaylist(appendPlaylist(nil, pl))
		if err != nil {
			t.Fatalf("encoded playlist does not parse: %v", err)
		}
		if err := samePlaylist(pl, again); err != nil {
			t.Fatal(err)
		}
	})
}

package main

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// appleLLPlaylist is the shape of the low-latency playlist in Apple's
// "Enabling Low-Latency HLS" (complete segments, then the parts of the
// last ones, a preload hint and a rendition report).
const appleLLPlaylist = `#EXTM3U
#EXT-X-TARGETDURATION:4
#EXT-X-VERSION:6
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=12.0
#EXT-X-PART-INF:PART-TARGET=0.33334
#EXT-X-MEDIA-SEQUENCE:266
#EXT-X-MAP:URI="init.mp4"
#EXT-X-PROGRAM-DATE-TIME:2019-02-14T02:13:36.106Z
#EXTINF:4.00008,
fileSequence266.mp4
#EXTINF:4.00008,
fileSequence267.mp4
#EXT-X-PART:DURATION=0.33334,URI="filePart268.0.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.33334,URI="filePart268.1.mp4"
#EXTINF:0.66668,
fileSequence268.mp4
#EXT-X-PART:DURATION=0.33334,URI="filePart269.0.mp4",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart269.1.mp4"
#EXT-X-RENDITION-REPORT:URI="../1M/waitForMSN.php",LAST-MSN=269,LAST-PART=0
`

// appendLLPlaylist encodes pl (the test's encoder for round trips). Parts
// are written before the EXTINF of their segment, segment URIs are made up.
func appendLLPlaylist(dst []byte, pl *llPlaylist) []byte {
	sec := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }
	dst = append(dst, "#EXTM3U\n"...)
	dst = fmt.Appendf(dst, "#EXT-X-TARGETDURATION:%s\n", sec(pl.target))
	dst = fmt.Appendf(dst, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=%s,PART-HOLD-BACK=%s,CAN-SKIP-UNTIL=%s\n",
		map[bool]string{true: "YES", false: "NO"}[pl.canBlock], sec(pl.partHoldBack), sec(pl.canSkipUntil))
	dst = fmt.Appendf(dst, "#EXT-X-PART-INF:PART-TARGET=%s\n#EXT-X-MEDIA-SEQUENCE:%d\n", sec(pl.partTarget), pl.mediaSeq)
	if pl.skipped > 0 {
		dst = fmt.Appendf(dst, "#EXT-X-SKIP:SKIPPED-SEGMENTS=%d\n", pl.skipped)
	}
	if pl.mapURI != nil {
		dst = fmt.Appendf(dst, "#EXT-X-MAP:URI=\"%s\"\n", pl.mapURI)
	}
	parts := pl.parts
	first := pl.mediaSeq + pl.skipped
	for msn := first; msn <= first+pl.segments; msn++ {
		for len(parts) > 0 && parts[0].msn == msn {
			p := parts[0]
			if p.index == 0 && !p.pdt.IsZero() {
				dst = fmt.Appendf(dst, "#EXT-X-PROGRAM-DATE-TIME:%s\n", p.pdt.Format(time.RFC3339Nano))
			}
			dst = fmt.Appendf(dst, "#EXT-X-PART:DURATION=%s,URI=\"%s\"", sec(p.duration), p.uri)
			if p.independent {
				dst = append(dst, ",INDEPENDENT=YES"...)
			}
			if p.gap {
				dst = append(dst, ",GAP=YES"...)
			}
			dst = append(dst, '\n')
			parts = parts[1:]
		}
		if msn < first+pl.segments {
			dst = fmt.Appendf(dst, "#EXTINF:1,\nseg%d.mp4\n", msn)
		}
	}
	if pl.hint != nil {
		dst = fmt.Appendf(dst, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"%s\"\n", pl.hint)
	}
	if pl.endList {
		dst = append(dst, "#EXT-X-ENDLIST\n"...)
	}
	return dst
}

// sameLLPlaylist compares two playlists (durations to the microsecond).
func sameLLPlaylist(a, b *llPlaylist) error {
	near := func(x, y time.Duration) bool { return (x - y).Abs() <= time.Microsecond }
	if !near(a.target, b.target) || !near(a.partTarget, b.partTarget) || a.mediaSeq != b.mediaSeq ||
		a.skipped != b.skipped || a.segments != b.segments || a.canBlock != b.canBlock ||
		!near(a.canSkipUntil, b.canSkipUntil) || !near(a.partHoldBack, b.partHoldBack) ||
		!bytes.Equal(a.mapURI, b.mapURI) || !bytes.Equal(a.hint, b.hint) || a.endList != b.endList ||
		len(a.parts) != len(b.parts) {
		return fmt.Errorf("header\n%+v\nvs\n%+v", *a, *b)
	}
	for i := range a.parts {
		x, y := a.parts[i], b.parts[i]
		if x.msn != y.msn || x.index != y.index || !near(x.duration, y.duration) || !bytes.Equal(x.uri, y.uri) ||
			x.independent != y.independent || x.gap != y.gap || !x.pdt.Equal(y.pdt) {
			return fmt.Errorf("part %d: %+v vs %+v", i, x, y)
		}
	}
	return nil
}

func TestParseLLPlaylist(t *testing.T) {
	var pl llPlaylist
	if err := pl.parse([]byte(appleLLPlaylist)); err != nil {
		t.Fatal(err)
	}
	pdt := time.Date(2019, 2, 14, 2, 13, 36, 106_000_000, time.UTC)
	// 266 and 267 last 4.00008 s each; 268 starts after them.
	pdt268 := pdt.Add(2 * 4000080 * time.Microsecond)
	pdt269 := pdt268.Add(666680 * time.Microsecond)
	want := llPlaylist{
		target: 4 * time.Second, partTarget: 333340 * time.Microsecond, mediaSeq: 266, segments: 3,
		canBlock: true, canSkipUntil: 12 * time.Second, partHoldBack: time.Second,
		mapURI: []byte("init.mp4"), hint: []byte("filePart269.1.mp4"),
		parts: []llPart{
			{msn: 268, index: 0, duration: 333340 * time.Microsecond, uri: []byte("filePart268.0.mp4"), independent: true, pdt: pdt268},
			{msn: 268, index: 1, duration: 333340 * time.Microsecond, uri: []byte("filePart268.1.mp4"), pdt: pdt268},
			{msn: 269, index: 0, duration: 333340 * time.Microsecond, uri: []byte("filePart269.0.mp4"), independent: true, pdt: pdt269},
		},
	}
	if err := sameLLPlaylist(&pl, &want); err != nil {
		t.Fatal(err)
	}
	if last, ok := pl.lastSegment(); !ok || last != 268 {
		t.Errorf("last segment %d %v, want 268", last, ok)
	}
	if got := pl.next(partID{msn: 268, index: 1}); got != (partID{msn: 269}) {
		t.Errorf("after the last part of a complete segment: %+v, want 269.0", got)
	}
	if got := pl.next(partID{msn: 268}); got != (partID{msn: 268, index: 1}) {
		t.Errorf("after 268.0 of a complete segment: %+v, want 268.1", got)
	}
	if got := pl.next(partID{msn: 269}); got != (partID{msn: 269, index: 1}) {
		t.Errorf("after 269.0: %+v, want 269.1", got)
	}

	// A delta update, round trip through the encoder, then the same
	// parser value reused for another text.
	delta := want
	delta.skipped, delta.segments = 2, 1
	delta.parts = append([]llPart(nil), want.parts...)
	var again llPlaylist
	if err := again.parse(appendLLPlaylist(nil, &delta)); err != nil {
		t.Fatal(err)
	}
	if err := sameLLPlaylist(&again, &delta); err != nil {
		t.Errorf("delta update round trip: %v", err)
	}
	if err := pl.parse([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-ENDLIST\n")); err != nil || len(pl.parts) != 0 ||
		pl.hint != nil || !pl.endList {
		t.Errorf("reused parser: %+v, %v", pl, err)
	}
}

func TestParseLLPlaylistErrors(t *testing.T) {
	cases := map[string]string{
		"empty":               "",
		"no header":           "#EXT-X-PART:DURATION=0.2,URI=\"a.mp4\"\n",
		"part without uri":    "#EXTM3U\n#EXT-X-PART:DURATION=0.2\n",
		"part bad duration":   "#EXTM3U\n#EXT-X-PART:DURATION=x,URI=\"a.mp4\"\n",
		"unterminated quote":  "#EXTM3U\n#EXT-X-PART:DURATION=0.2,URI=\"a.mp4\n",
		"quote in uri":        "#EXTM3U\n#EXT-X-MAP:URI=a\"b\n",
		"skip after segment":  "#EXTM3U\n#EXTINF:1,\na.mp4\n#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n",
		"bad skip":            "#EXTM3U\n#EXT-X-SKIP:SKIPPED-SEGMENTS=-2\n",
		"bad part target":     "#EXTM3U\n#EXT-X-PART-INF:PART-TARGET=1e9\n",
		"bad server control":  "#EXTM3U\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=soon\n",
		"bad date":            "#EXTM3U\n#EXT-X-PROGRAM-DATE-TIME:2026-02-31T00:00:00Z\n",
		"multivariant":        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n",
		"uri without extinf":  "#EXTM3U\na.mp4\n",
		"too large":           "#EXTM3U\n" + strings.Repeat("#", maxPlaylistBytes),
		"sequence after part": "#EXTM3U\n#EXT-X-PART:DURATION=0.2,URI=\"a.mp4\"\n#EXT-X-MEDIA-SEQUENCE:3\n",
	}
	var pl llPlaylist
	for name, text := range cases {
		if err := pl.parse([]byte(text)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestParseLLPlaylistAllocs: parsing into a used llPlaylist allocates
// nothing.
func TestParseLLPlaylistAllocs(t *testing.T) {
	var pl llPlaylist
	text := []byte(appleLLPlaylist)
	allocs := testing.AllocsPerRun(100, func() {
		if err := pl.parse(text); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per playlist, want 0", allocs)
	}
}

// FuzzParseLLPlaylist: never a panic; a playlist that parses encodes and
// parses again to the same value.
func FuzzParseLLPlaylist(f *testing.F) {
	f.Add([]byte(appleLLPlaylist))
	f.Add([]byte("#EXTM3U\n#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n#EXT-X-PART:DURATION=0.2,URI=\"p.mp4\",GAP=YES\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var pl llPlaylist
		if pl.parse(data) != nil {
			return
		}
		var again llPlaylist
		if err := again.parse(appendLLPlaylist(nil, &pl)); err != nil {
			t.Fatalf("encoded playlist does not parse: %v", err)
		}
		if err := sameLLPlaylist(&pl, &again); err != nil {
			t.Fatal(err)
		}
	})
}

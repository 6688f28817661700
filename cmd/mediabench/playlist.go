package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Playlist caps.
const (
	// maxPlaylistBytes caps a playlist read off the wire.
	maxPlaylistBytes = 1 << 20
	// maxPlaylistSegments caps the segments of one playlist.
	maxPlaylistSegments = 10_000
	// maxSegmentDuration caps one EXTINF or the target duration.
	maxSegmentDuration = time.Hour
)

// hlsSegment is one segment of a media playlist.
type hlsSegment struct {
	Seq           uint64
	URI           string
	Duration      time.Duration
	ProgramDate   time.Time // zero when absent
	Discontinuity bool
}

// mediaPlaylist is the part of an HLS media playlist the viewer needs.
type mediaPlaylist struct {
	// Map is the URI of the init section (EXT-X-MAP) of fMP4 segments;
	// empty for MPEG-TS.
	Map      string
	Target   time.Duration
	Sequence uint64
	Segments []hlsSegment
	EndList  bool
}

// parsePlaylist parses a media playlist.
func parsePlaylist(b []byte) (mediaPlaylist, error) {
	if len(b) > maxPlaylistBytes {
		return mediaPlaylist{}, fmt.Errorf("playlist: %d bytes, above %d", len(b), maxPlaylistBytes)
	}
	var pl mediaPlaylist
	var cur hlsSegment
	haveInf := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxPlaylistBytes)
	first := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			if line != "#EXTM3U" {
				return mediaPlaylist{}, errors.New("playlist: no #EXTM3U")
			}
			first = false
			continue
		}
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "#") {
			if !haveInf {
				return mediaPlaylist{}, fmt.Errorf("playlist: URI %q without #EXTINF", shortText(line))
			}
			if len(pl.Segments) >= maxPlaylistSegments {
				return mediaPlaylist{}, fmt.Errorf("playlist: more than %d segments", maxPlaylistSegments)
			}
			cur.URI = line
			cur.Seq = pl.Sequence + uint64(len(pl.Segments))
			pl.Segments = append(pl.Segments, cur)
			cur, haveInf = hlsSegment{}, false
			continue
		}
		tag, value, _ := strings.Cut(line, ":")
		var err error
		switch tag {
		case "#EXT-X-TARGETDURATION":
			pl.Target, err = parseSeconds(value)
		case "#EXT-X-MEDIA-SEQUENCE":
			if len(pl.Segments) > 0 {
				return mediaPlaylist{}, errors.New("playlist: media sequence after a segment")
			}
			pl.Sequence, err = strconv.ParseUint(value, 10, 63)
		case "#EXTINF":
			d, _, _ := strings.Cut(value, ",")
			cur.Duration, err = parseSeconds(d)
			haveInf = true
		case "#EXT-X-PROGRAM-DATE-TIME":
			err = errors.New("bad date")
			// RFC 3339 and the ISO 8601 form without the colon in the zone.
			for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
				if t, perr := time.Parse(layout, value); perr == nil {
					cur.ProgramDate, err = t, nil
					break
				}
			}
		case "#EXT-X-MAP":
			var uri []byte
			uri, err = uriAttribute([]byte(value))
			pl.Map = string(uri)
		case "#EXT-X-DISCONTINUITY":
			cur.Discontinuity = true
		case "#EXT-X-ENDLIST":
			pl.EndList = true
		case "#EXT-X-STREAM-INF":
			return mediaPlaylist{}, errMasterPlaylist
		}
		if err != nil {
			return mediaPlaylist{}, fmt.Errorf("playlist: %s %q: %w", tag, shortText(value), err)
		}
	}
	if err := sc.Err(); err != nil {
		return mediaPlaylist{}, fmt.Errorf("playlist: %w", err)
	}
	if first {
		return mediaPlaylist{}, errors.New("playlist: empty")
	}
	return pl, nil
}

// parseSeconds parses a decimal number of seconds within
// [0, maxSegmentDuration].
func parseSeconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, err
	}
	if !(f >= 0 && f <= maxSegmentDuration.Seconds()) {
		return 0, fmt.Errorf("%v s out of range", f)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// shortText cuts s for an error message.
func shortText(s string) string {
	const limit = 64
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

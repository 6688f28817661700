package main

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// maxPlaylistParts caps the parts of one LL-HLS playlist.
const maxPlaylistParts = 10_000

// llPart is one EXT-X-PART of a low-latency playlist.
type llPart struct {
	// msn is the media sequence number of the segment the part belongs to,
	// index its position in that segment (from 0).
	msn   uint64
	index int
	// duration is the part's EXT-X-PART DURATION.
	duration time.Duration
	// uri points into the playlist text: valid until it is parsed again.
	uri         []byte
	independent bool
	gap         bool
	// pdt is the program date-time of the part's segment (zero when the
	// playlist gives none).
	pdt time.Time
}

// partID names a part: media sequence number and index in its segment.
type partID struct {
	msn   uint64
	index int
}

// less reports whether p comes before q.
func (p partID) less(q partID) bool {
	return p.msn < q.msn || p.msn == q.msn && p.index < q.index
}

// llPlaylist is what the LL-HLS client needs of a low-latency media
// playlist. It is parsed in place: its slices are reused and its URIs point
// into the parsed text, so parsing allocates nothing once the slices have
// grown.
type llPlaylist struct {
	target     time.Duration
	partTarget time.Duration
	// mediaSeq is EXT-X-MEDIA-SEQUENCE; skipped the segments an EXT-X-SKIP
	// left out of a delta update.
	mediaSeq uint64
	skipped  uint64
	// segments is the number of complete segments listed after the skip:
	// the last complete segment is mediaSeq + skipped + segments − 1.
	segments uint64
	canBlock bool
	// canSkipUntil is EXT-X-SERVER-CONTROL's CAN-SKIP-UNTIL (0: no delta
	// updates); partHoldBack its PART-HOLD-BACK.
	canSkipUntil time.Duration
	partHoldBack time.Duration
	mapURI       []byte
	parts        []llPart
	// hint is the URI of the EXT-X-PRELOAD-HINT of TYPE=PART (nil: none).
	hint    []byte
	endList bool
}

// lastSegment returns the media sequence number of the last complete
// segment, and false when none is listed.
func (pl *llPlaylist) lastSegment() (uint64, bool) {
	n := pl.skipped + pl.segments
	if n == 0 {
		return 0, false
	}
	return pl.mediaSeq + n - 1, true
}

// segmentComplete reports whether segment msn has its EXTINF: no part will
// be added to it.
func (pl *llPlaylist) segmentComplete(msn uint64) bool {
	last, ok := pl.lastSegment()
	return ok && msn <= last
}

// next returns the part that follows p according to the playlist: the next
// part of p's segment when it is listed or the segment is still open, else
// the first of the following segment.
func (pl *llPlaylist) next(p partID) partID {
	same := partID{msn: p.msn, index: p.index + 1}
	if pl.segmentComplete(p.msn) && pl.find(same) == nil {
		return partID{msn: p.msn + 1}
	}
	return same
}

// find returns the listed part p, or nil.
func (pl *llPlaylist) find(p partID) *llPart {
	for i := range pl.parts {
		if q := &pl.parts[i]; q.msn == p.msn && q.index == p.index {
			return q
		}
	}
	return nil
}

// lastPart returns the last listed part, or nil.
func (pl *llPlaylist) lastPart() *llPart {
	if len(pl.parts) == 0 {
		return nil
	}
	return &pl.parts[len(pl.parts)-1]
}

// parse reads a media playlist into pl, replacing what it held. b must
// stay unchanged while pl's URIs are used.
func (pl *llPlaylist) parse(b []byte) error {
	if len(b) > maxPlaylistBytes {
		return fmt.Errorf("playlist: %d bytes, above %d", len(b), maxPlaylistBytes)
	}
	parts := pl.parts[:0]
	*pl = llPlaylist{parts: parts}
	var (
		pdt     time.Time // of the segment being listed
		index   int       // of the next part in that segment
		haveInf bool
		infDur  time.Duration
		first   = true
	)
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimSpace(line)
		if first {
			if string(line) != "#EXTM3U" {
				return errors.New("playlist: no #EXTM3U")
			}
			first = false
			continue
		}
		if len(line) == 0 {
			continue
		}
		if line[0] != '#' {
			if !haveInf {
				return fmt.Errorf("playlist: URI %q without #EXTINF", shortText(string(line)))
			}
			pl.segments++
			if pl.segments > maxPlaylistSegments {
				return fmt.Errorf("playlist: more than %d segments", maxPlaylistSegments)
			}
			if !pdt.IsZero() {
				pdt = pdt.Add(infDur)
			}
			haveInf, index = false, 0
			continue
		}
		tag, value, _ := bytes.Cut(line, []byte{':'})
		var err error
		switch string(tag) {
		case "#EXT-X-TARGETDURATION":
			pl.target, err = parseSecondsBytes(value)
		case "#EXT-X-MEDIA-SEQUENCE":
			if pl.segments > 0 || len(pl.parts) > 0 {
				return errors.New("playlist: media sequence after a segment")
			}
			pl.mediaSeq, err = parseUintBytes(value)
		case "#EXT-X-PART-INF":
			pl.partTarget, err = parseSecondsBytes(attribute(value, "PART-TARGET"))
		case "#EXT-X-SERVER-CONTROL":
			pl.canBlock = string(attribute(value, "CAN-BLOCK-RELOAD")) == "YES"
			if v := attribute(value, "CAN-SKIP-UNTIL"); v != nil {
				pl.canSkipUntil, err = parseSecondsBytes(v)
			}
			if v := attribute(value, "PART-HOLD-BACK"); v != nil && err == nil {
				pl.partHoldBack, err = parseSecondsBytes(v)
			}
		case "#EXT-X-SKIP":
			if pl.segments > 0 || len(pl.parts) > 0 {
				return errors.New("playlist: EXT-X-SKIP after a segment")
			}
			pl.skipped, err = parseUintBytes(attribute(value, "SKIPPED-SEGMENTS"))
		case "#EXT-X-MAP":
			pl.mapURI, err = uriAttribute(value)
		case "#EXT-X-PROGRAM-DATE-TIME":
			pdt, err = parseDateTime(value)
		case "#EXTINF":
			d, _, _ := bytes.Cut(value, []byte{','})
			infDur, err = parseSecondsBytes(d)
			haveInf = true
		case "#EXT-X-PART":
			if len(pl.parts) >= maxPlaylistParts {
				return fmt.Errorf("playlist: more than %d parts", maxPlaylistParts)
			}
			p := llPart{msn: pl.mediaSeq + pl.skipped + pl.segments, index: index, pdt: pdt,
				independent: string(attribute(value, "INDEPENDENT")) == "YES",
				gap:         string(attribute(value, "GAP")) == "YES"}
			if p.uri, err = uriAttribute(value); err != nil {
				break
			}
			p.duration, err = parseSecondsBytes(attribute(value, "DURATION"))
			pl.parts = append(pl.parts, p)
			index++
		case "#EXT-X-PRELOAD-HINT":
			if string(attribute(value, "TYPE")) == "PART" {
				pl.hint, err = uriAttribute(value)
			}
		case "#EXT-X-ENDLIST":
			pl.endList = true
		case "#EXT-X-STREAM-INF":
			return errMasterPlaylist
		}
		if err != nil {
			return fmt.Errorf("playlist: %s %q: %w", tag, shortText(string(value)), err)
		}
	}
	if first {
		return errors.New("playlist: empty")
	}
	return nil
}

// attribute returns the value of attribute name in an attribute list
// (quotes kept), or nil.
func attribute(list []byte, name string) []byte {
	for len(list) > 0 {
		eq := bytes.IndexByte(list, '=')
		if eq < 0 {
			return nil
		}
		key := bytes.TrimSpace(list[:eq])
		rest := list[eq+1:]
		end := 0
		if len(rest) > 0 && rest[0] == '"' {
			q := bytes.IndexByte(rest[1:], '"')
			if q < 0 {
				return nil // unterminated quoted string
			}
			end = q + 2
		}
		if c := bytes.IndexByte(rest[end:], ','); c >= 0 {
			end += c
		} else {
			end = len(rest)
		}
		if string(key) == name {
			return rest[:end]
		}
		list = rest[min(end+1, len(rest)):]
	}
	return nil
}

// uriAttribute returns the URI attribute of an attribute list: present,
// not empty, without a quote inside.
func uriAttribute(list []byte) ([]byte, error) {
	uri := unquote(attribute(list, "URI"))
	if len(uri) == 0 {
		return nil, errors.New("no URI")
	}
	if bytes.IndexByte(uri, '"') >= 0 {
		return nil, errors.New("quote in URI")
	}
	return uri, nil
}

// unquote strips the quotes of a quoted-string attribute value.
func unquote(v []byte) []byte {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// parseSecondsBytes is parseSeconds for a byte slice, without allocating.
func parseSecondsBytes(b []byte) (time.Duration, error) {
	b = bytes.TrimSpace(b)
	// Decimal seconds: whole and fraction, up to nanoseconds.
	whole, frac, _ := bytes.Cut(b, []byte{'.'})
	if len(whole) == 0 && len(frac) == 0 {
		return 0, errors.New("no number")
	}
	s, err := parseUintBytes(whole)
	if err != nil || len(whole) == 0 {
		return parseSeconds(string(b)) // exponents and other rare forms
	}
	if s > uint64(maxSegmentDuration/time.Second) {
		return 0, fmt.Errorf("%d s out of range", s)
	}
	d := time.Duration(s) * time.Second
	scale := time.Duration(100_000_000)
	for _, c := range frac {
		if c < '0' || c > '9' {
			return parseSeconds(string(b))
		}
		d += time.Duration(c-'0') * scale
		scale /= 10
	}
	if d > maxSegmentDuration {
		return 0, fmt.Errorf("%v out of range", d)
	}
	return d, nil
}

// parseUintBytes parses a decimal integer of up to 63 bits.
func parseUintBytes(b []byte) (uint64, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > 18 {
		if len(b) > 18 {
			return strconv.ParseUint(string(b), 10, 63)
		}
		return 0, errors.New("no number")
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a decimal integer", shortText(string(b)))
		}
		n = n*10 + uint64(c-'0')
	}
	return n, nil
}

// parseDateTime parses an EXT-X-PROGRAM-DATE-TIME value: the common
// YYYY-MM-DDThh:mm:ss[.fff]Z form without allocating, others through
// time.Parse (RFC 3339 and the ISO 8601 zone without a colon).
func parseDateTime(b []byte) (time.Time, error) {
	b = bytes.TrimSpace(b)
	if t, ok := parseUTCDateTime(b); ok {
		return t, nil
	}
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, string(b)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("bad date")
}

// parseUTCDateTime parses YYYY-MM-DDThh:mm:ss[.fraction]Z.
func parseUTCDateTime(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[len(b)-1] != 'Z' || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 ||
		hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	nsec := 0
	rest := b[19 : len(b)-1]
	if len(rest) > 0 {
		if rest[0] != '.' || len(rest) < 2 || len(rest) > 10 {
			return time.Time{}, false
		}
		scale := 100_000_000
		for _, c := range rest[1:] {
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			nsec += int(c-'0') * scale
			scale /= 10
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // 31 February and the like
	}
	return t, true
}

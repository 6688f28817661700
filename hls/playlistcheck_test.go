package hls

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/grafov/m3u8"
)

// playlistSegment is one segment as a playlist listed it.
type playlistSegment struct {
	seq      uint64
	uri      string
	duration float64
	disc     bool
	discNum  uint64 // discontinuity sequence number the segment belongs to
	pdt      time.Time
}

// playlistChecker applies strict rules to successive reloads of one live
// media playlist: each playlist on its own (RFC 8216 plus this server's
// promises) and against the reloads before it.
type playlistChecker struct {
	seen       map[uint64]playlistSegment
	lastSeq    uint64
	lastTarget int
	loads      int
}

func newPlaylistChecker() *playlistChecker {
	return &playlistChecker{seen: make(map[uint64]playlistSegment)}
}

// parsedPlaylist is what check extracts from one playlist.
type parsedPlaylist struct {
	mediaSeq uint64
	target   int
	segments []playlistSegment
	ended    bool
}

// check validates one reload and returns its segments.
func (c *playlistChecker) check(body []byte) (parsedPlaylist, error) {
	var out parsedPlaylist
	p, typ, err := m3u8.DecodeFrom(bytes.NewReader(body), true)
	if err != nil {
		return out, fmt.Errorf("m3u8 decode: %w", err)
	}
	if typ != m3u8.MEDIA {
		return out, fmt.Errorf("playlist type %v, want media", typ)
	}
	mp := p.(*m3u8.MediaPlaylist)
	text := string(body)
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if lines[0] != "#EXTM3U" {
		return out, fmt.Errorf("first line %q", lines[0])
	}
	target := -1
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "#EXT-X-TARGETDURATION:"); ok {
			if target, err = strconv.Atoi(v); err != nil {
				return out, fmt.Errorf("EXT-X-TARGETDURATION %q is not a decimal integer", v)
			}
		}
	}
	if target < 1 {
		return out, fmt.Errorf("no EXT-X-TARGETDURATION")
	}
	if !strings.Contains(text, "\n#EXT-X-INDEPENDENT-SEGMENTS\n") {
		return out, fmt.Errorf("no EXT-X-INDEPENDENT-SEGMENTS")
	}
	n := int(mp.Count())
	if n == 0 {
		return out, fmt.Errorf("playlist without segments")
	}
	if c.loads > 0 && mp.SeqNo < c.lastSeq {
		return out, fmt.Errorf("EXT-X-MEDIA-SEQUENCE went back from %d to %d", c.lastSeq, mp.SeqNo)
	}
	if target < c.lastTarget {
		return out, fmt.Errorf("EXT-X-TARGETDURATION went down from %d to %d", c.lastTarget, target)
	}
	discNum := mp.DiscontinuitySeq
	for i := range n {
		s := mp.Segments[i]
		if s.SeqId != mp.SeqNo+uint64(i) {
			return out, fmt.Errorf("segment %d has sequence %d", i, s.SeqId)
		}
		if s.Duration <= 0 || math.Round(s.Duration) > float64(target) {
			return out, fmt.Errorf("segment %d: EXTINF %.3f rounds above target duration %d", s.SeqId, s.Duration, target)
		}
		if s.ProgramDateTime.IsZero() {
			return out, fmt.Errorf("segment %d without EXT-X-PROGRAM-DATE-TIME", s.SeqId)
		}
		if s.Discontinuity {
			discNum++
		}
		seg := playlistSegment{seq: s.SeqId, uri: s.URI, duration: s.Duration, disc: s.Discontinuity, discNum: discNum, pdt: s.ProgramDateTime}
		if prev, ok := c.seen[seg.seq]; ok {
			if prev.uri != seg.uri || prev.duration != seg.duration || prev.discNum != seg.discNum ||
				prev.disc != seg.disc || !prev.pdt.Equal(seg.pdt) {
				return out, fmt.Errorf("segment %d changed between reloads: %+v then %+v", seg.seq, prev, seg)
			}
		}
		if i > 0 {
			prev := out.segments[i-1]
			if !seg.disc && seg.pdt.Before(prev.pdt) {
				return out, fmt.Errorf("segment %d: PROGRAM-DATE-TIME goes back", seg.seq)
			}
		}
		c.seen[seg.seq] = seg
		out.segments = append(out.segments, seg)
	}
	c.lastSeq, c.lastTarget = mp.SeqNo, target
	c.loads++
	out.mediaSeq, out.target, out.ended = mp.SeqNo, target, mp.Closed
	return out, nil
}

package hls

import (
	"strconv"
	"time"
)

// Playlist versions (EXT-X-VERSION) of the MP4 variants: EXT-X-MAP in a
// media playlist needs 6, EXT-X-SKIP 9 (RFC 8216bis section 7). A
// lowlatency playlist says 9 whether or not it skips, so that a delta
// update and the full playlist agree.
const (
	versionFMP4       = 6
	versionLowLatency = 9
)

// Low-Latency HLS server control (RFC 8216bis section 4.4.3.8).
const (
	// partHoldBackParts is PART-HOLD-BACK in part targets; the RFC asks
	// for at least 2, Apple for 3.
	partHoldBackParts = 3
	// skipTargetDurations is CAN-SKIP-UNTIL in target durations; the RFC
	// asks for at least 6.
	skipTargetDurations = 6
)

// pdtLayout is how EXT-X-PROGRAM-DATE-TIME is written: UTC, milliseconds.
const pdtLayout = "2006-01-02T15:04:05.000Z07:00"

// encodeMP4 returns the fMP4 or lowlatency playlist of the segments in win
// (a small writer beside grafov/m3u8, which places neither EXT-X-PART
// before a segment's URI nor parts and hints after the last one), and for
// lowlatency the delta update that skips what CAN-SKIP-UNTIL allows (nil
// when nothing can be skipped). st.mu must be held.
func (st *streamState) encodeMP4(win []*segmentEntry) (full, delta []byte) {
	full = st.appendMP4(make([]byte, 0, 256+160*len(win)+160*len(st.pending)), win, 0)
	if st.variant != VariantLowLatency {
		return full, nil
	}
	if skip := st.skippable(win); skip > 0 {
		delta = st.appendMP4(make([]byte, 0, 256+160*(len(win)-skip)+160*len(st.pending)), win, skip)
	}
	return full, delta
}

// skipUntil is the playlist's CAN-SKIP-UNTIL. st.mu must be held.
func (st *streamState) skipUntil() time.Duration {
	return skipTargetDurations * time.Duration(st.target) * time.Second
}

// skippable returns how many segments at the start of win a delta update
// leaves out: those that end more than CAN-SKIP-UNTIL before the end of
// the playlist. st.mu must be held.
func (st *streamState) skippable(win []*segmentEntry) int {
	var after time.Duration // listed after segment i
	for _, p := range st.listedPending() {
		after += p.duration
	}
	limit := st.skipUntil()
	for i := len(win) - 1; i >= 0; i-- {
		if after >= limit {
			return i + 1
		}
		after += win[i].duration
	}
	return 0
}

// appendMP4 appends to b the playlist of win with its first skip segments
// replaced by EXT-X-SKIP. st.mu must be held.
func (st *streamState) appendMP4(b []byte, win []*segmentEntry, skip int) []byte {
	ll := st.variant == VariantLowLatency
	version := versionFMP4
	if ll {
		version = versionLowLatency
	}
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:"...)
	b = strconv.AppendInt(b, int64(version), 10)
	b = append(b, "\n#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, int64(st.target), 10)
	b = append(b, '\n')
	if ll {
		b = append(b, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL="...)
		b = appendSeconds(b, st.skipUntil())
		b = append(b, ",PART-HOLD-BACK="...)
		b = appendSeconds(b, partHoldBackParts*st.partTarget)
		b = append(b, "\n#EXT-X-PART-INF:PART-TARGET="...)
		b = appendSeconds(b, st.partTarget)
		b = append(b, '\n')
	}
	b = append(b, "#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendUint(b, win[0].seq, 10)
	b = append(b, '\n')
	if st.discSeq > 0 {
		b = append(b, "#EXT-X-DISCONTINUITY-SEQUENCE:"...)
		b = strconv.AppendUint(b, st.discSeq, 10)
		b = append(b, '\n')
	}
	if !st.dependent {
		b = append(b, "#EXT-X-INDEPENDENT-SEGMENTS\n"...)
	}
	if skip > 0 {
		b = append(b, "#EXT-X-SKIP:SKIPPED-SEGMENTS="...)
		b = strconv.AppendInt(b, int64(skip), 10)
		b = append(b, '\n')
	}
	partsFrom := len(win) // the first segment whose parts are listed
	if ll && !st.endList {
		partsFrom = max(skip, len(win)-(maxListedPartSegments-1))
	} else if ll {
		partsFrom = max(skip, len(win)-maxListedPartSegments)
	}
	lastInit := 0
	for i := skip; i < len(win); i++ {
		e := win[i]
		if e.disc {
			b = append(b, "#EXT-X-DISCONTINUITY\n"...)
		}
		if i == skip || e.init != lastInit {
			b = st.appendMap(b, e.init)
			lastInit = e.init
		}
		b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
		b = e.pdt.UTC().AppendFormat(b, pdtLayout)
		b = append(b, '\n')
		if i >= partsFrom {
			b = st.appendParts(b, e.parts)
		}
		b = append(b, "#EXTINF:"...)
		b = appendSeconds3(b, e.duration)
		b = append(b, ",\n"...)
		b = append(b, st.uriPrefix...)
		b = append(b, e.name...)
		b = append(b, '\n')
	}
	if st.endList {
		return append(b, "#EXT-X-ENDLIST\n"...)
	}
	if !ll {
		return b
	}
	if pending := st.listedPending(); len(pending) > 0 {
		if st.missing || st.pendingDisc || st.pendingInit != lastInit {
			b = append(b, "#EXT-X-DISCONTINUITY\n"...)
		}
		if st.pendingInit != lastInit {
			b = st.appendMap(b, st.pendingInit)
		}
		b = st.appendParts(b, pending)
	}
	b = append(b, `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="`...)
	b = append(b, st.uriPrefix...)
	b = append(b, partName(st.token, st.hintedPart())...)
	return append(b, "\"\n"...)
}

// appendMap appends the EXT-X-MAP tag of init generation gen (none for 0:
// no init section was made).
func (st *streamState) appendMap(b []byte, gen int) []byte {
	if gen == 0 {
		return b
	}
	b = append(b, `#EXT-X-MAP:URI="`...)
	b = append(b, st.uriPrefix...)
	b = append(b, initName(st.token, gen)...)
	return append(b, "\"\n"...)
}

// appendParts appends an EXT-X-PART tag for each of parts.
func (st *streamState) appendParts(b []byte, parts []partEntry) []byte {
	for _, p := range parts {
		b = append(b, "#EXT-X-PART:DURATION="...)
		b = appendSeconds3(b, p.duration)
		b = append(b, `,URI="`...)
		b = append(b, st.uriPrefix...)
		b = append(b, partName(st.token, p.n)...)
		b = append(b, '"')
		if p.independent {
			b = append(b, ",INDEPENDENT=YES"...)
		}
		b = append(b, '\n')
	}
	return b
}

// appendSeconds appends d in seconds, as short as it is exact.
func appendSeconds(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, d.Seconds(), 'f', -1, 64)
}

// appendSeconds3 appends d in seconds with three decimals (EXTINF and
// part durations are whole milliseconds).
func appendSeconds3(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64)
}

package hls

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/mediahttp"
	"github.com/mediaserver/mediaserver/stream"
)

// Multivariant playlist details.
const (
	// audioGroupID names the EXT-X-MEDIA audio group every variant refers
	// to. Its rendition has no URI: the audio is in each variant's
	// segments.
	audioGroupID = "audio"
	// defaultAudioName is the audio rendition's NAME when the publisher's
	// metadata names none.
	defaultAudioName = "main"
	// variantsPoll is how often a multivariant request that waits for the
	// first segments of its variants looks again.
	variantsPoll = 50 * time.Millisecond
	// multivariantCacheControl: a multivariant playlist changes when a
	// variant comes or goes; caches revalidate it (its ETag is its
	// content's).
	multivariantCacheControl = "no-cache"
)

// variantEntry is one EXT-X-STREAM-INF of a multivariant playlist.
type variantEntry struct {
	// uri is the variant's media playlist, relative to the multivariant
	// one.
	uri string
	// peak and average are BANDWIDTH and AVERAGE-BANDWIDTH, bit/s.
	peak, average int64
	width, height int
	fps           float64
	// codecs is the CODECS attribute ("" to leave it out).
	codecs string
	// audio is set when the variant carries the audio of the audio group.
	audio bool
	// independent is set when every segment of the variant starts at a
	// random access point.
	independent bool
}

// audioRendition is the EXT-X-MEDIA of the audio group.
type audioRendition struct {
	name, language string
	channels       int
}

// appendMultivariant appends the multivariant playlist of vs (at least
// one) to b: the audio group when a variant has audio, then the variants
// in order.
func appendMultivariant(b []byte, vs []variantEntry, audio audioRendition) []byte {
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:"...)
	b = strconv.AppendInt(b, versionFMP4, 10)
	b = append(b, '\n')
	independent, withAudio := true, false
	for _, v := range vs {
		independent = independent && v.independent
		withAudio = withAudio || v.audio
	}
	if independent {
		b = append(b, "#EXT-X-INDEPENDENT-SEGMENTS\n"...)
	}
	if withAudio {
		b = append(b, `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="`+audioGroupID+`",NAME="`...)
		b = appendQuotable(b, audio.name)
		b = append(b, '"')
		if audio.language != "" {
			b = append(b, `,LANGUAGE="`...)
			b = appendQuotable(b, audio.language)
			b = append(b, '"')
		}
		b = append(b, ",DEFAULT=YES,AUTOSELECT=YES"...)
		if audio.channels > 0 {
			b = append(b, `,CHANNELS="`...)
			b = strconv.AppendInt(b, int64(audio.channels), 10)
			b = append(b, '"')
		}
		b = append(b, '\n')
	}
	for _, v := range vs {
		b = append(b, "#EXT-X-STREAM-INF:BANDWIDTH="...)
		b = strconv.AppendInt(b, max(v.peak, v.average, 1), 10)
		if v.average > 0 {
			b = append(b, ",AVERAGE-BANDWIDTH="...)
			b = strconv.AppendInt(b, v.average, 10)
		}
		if v.codecs != "" {
			b = append(b, `,CODECS="`...)
			b = append(b, v.codecs...)
			b = append(b, '"')
		}
		if v.width > 0 && v.height > 0 {
			b = append(b, ",RESOLUTION="...)
			b = strconv.AppendInt(b, int64(v.width), 10)
			b = append(b, 'x')
			b = strconv.AppendInt(b, int64(v.height), 10)
		}
		if v.fps > 0 {
			b = append(b, ",FRAME-RATE="...)
			b = strconv.AppendFloat(b, v.fps, 'f', 3, 64)
		}
		if v.audio {
			b = append(b, `,AUDIO="`+audioGroupID+`"`...)
		}
		b = append(b, '\n')
		b = append(b, v.uri...)
		b = append(b, '\n')
	}
	return b
}

// appendQuotable appends s without the characters a quoted attribute
// value cannot hold (double quote, CR, LF).
func appendQuotable(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '"' && c != '\r' && c != '\n' {
			b = append(b, c)
		}
	}
	return b
}

// newVariant returns the variant of a media playlist at uri carrying the
// video rendition v (and audio a, when not nil), measured on the stream;
// when the stream's meter has no rate yet, the rates of the segments in
// st's playlist stand in.
func newVariant(uri string, v stream.Rendition, a *stream.Rendition, st *streamState) variantEntry {
	e := variantEntry{uri: uri, width: v.Width, height: v.Height, fps: v.FPS, codecs: v.CodecString}
	peak, average := v.PeakBitrate, v.Bitrate
	if a != nil {
		e.audio = true
		peak += a.PeakBitrate
		average += a.Bitrate
		if e.codecs != "" && a.CodecString != "" {
			e.codecs += "," + a.CodecString
		}
	}
	st.mu.Lock()
	e.independent = !st.dependent
	if peak == 0 || average == 0 {
		average, peak = st.windowBitrates()
	}
	st.mu.Unlock()
	e.peak, e.average = int64(math.Ceil(peak)), int64(math.Ceil(average))
	return e
}

// windowBitrates returns the average bit rate of the segments in the
// playlist and the highest of one of them. st.mu must be held.
func (st *streamState) windowBitrates() (average, peak float64) {
	var size int
	var d time.Duration
	for _, e := range st.windowEntries() {
		size += e.body.size
		d += e.duration
		if e.duration > 0 {
			peak = max(peak, float64(e.body.size*8)/e.duration.Seconds())
		}
	}
	if d > 0 {
		average = float64(size*8) / d.Seconds()
	}
	return average, peak
}

// ready reports whether st has a playlist to serve and a publisher.
func (st *streamState) ready() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.playlist != nil && st.live && !st.freed
}

// collectVariants lists the variants of a multivariant playlist; all is
// set when every one that may come is there.
type collectVariants func() (vs []variantEntry, audio audioRendition, all bool)

// serveMultivariant answers with the multivariant playlist collect
// lists, once all its variants have a segment or after one target
// duration with those that have; 404 when none has.
func (m *Manager) serveMultivariant(w http.ResponseWriter, r *http.Request, collect collectVariants) {
	deadline := time.NewTimer(m.cfg.SegmentDuration)
	defer deadline.Stop()
	poll := time.NewTicker(variantsPoll)
	defer poll.Stop()
	for {
		vs, audio, all := collect()
		if !all {
			select {
			case <-poll.C:
				continue
			case <-deadline.C:
			case <-r.Context().Done():
				return
			}
		}
		if len(vs) == 0 {
			mediahttp.Error(w, http.StatusNotFound, "stream not found")
			return
		}
		body := appendMultivariant(make([]byte, 0, 128+192*len(vs)), vs, audio)
		sum := sha256.Sum256(body)
		etag := `"mv-` + hex.EncodeToString(sum[:8]) + `"`
		if query := propagatedQuery(r.URL.RawQuery); query != "" {
			body = withURIQuery(body, query)
		}
		h := w.Header()
		h.Set("Content-Type", contentTypePlaylist)
		h.Set("Cache-Control", multivariantCacheControl)
		h.Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
		return
	}
}

// serveRenditions answers the multivariant playlist of the multitrack
// stream key, whose video tracks are ids: a variant per track whose
// rendition has a segment, each with the default audio track.
func (m *Manager) serveRenditions(w http.ResponseWriter, r *http.Request, key stream.Key, ids []uint8) {
	if _, err := m.stateFor(key); err != nil {
		mediahttp.Error(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	m.serveMultivariant(w, r, func() ([]variantEntry, audioRendition, bool) {
		audio := audioRendition{name: defaultAudioName}
		s, ok := m.hub.Lookup(key)
		if !ok || s.Ended() {
			return nil, audio, true
		}
		rs := s.Renditions()
		var a *stream.Rendition
		for i := range rs.Audio {
			if rs.Audio[i].Track == 0 {
				a = &rs.Audio[i]
				audio.channels = a.Channels
			}
		}
		audio.name, audio.language = audioNaming(s, audio.name)
		var vs []variantEntry
		all := true
		for _, v := range rs.Video {
			if !slices.Contains(ids, v.Track) {
				continue
			}
			st := m.existing(renditionStateKey(key, v.Track))
			if st == nil || !st.ready() {
				all = false
				continue
			}
			vs = append(vs, newVariant(renditionKey(key, v.Track).Name+playlistSuffix, v, a, st))
		}
		return vs, audio, all
	})
}

// renditionStateKey returns the key of the state segmenting video track
// id of key: the stream's own for track 0.
func renditionStateKey(key stream.Key, id uint8) stream.Key {
	if id == 0 {
		return key
	}
	return renditionKey(key, id)
}

// audioNaming returns the NAME and LANGUAGE of the default audio track
// of s: what audioTrackIdInfoMap in its onMetaData says, or name and no
// language.
func audioNaming(s *stream.Stream, name string) (string, string) {
	for _, f := range s.Headers().All() {
		if f.Type != flv.TagScript || !flv.IsMetadata(f.Payload) {
			continue
		}
		md, err := flv.ParseMetadata(f.Payload)
		if err != nil {
			continue
		}
		if info, ok := md.AudioTrackInfo(0); ok {
			if info.Name != "" {
				name = info.Name
			}
			return name, info.Language
		}
	}
	return name, ""
}

package api

import (
	"net/http"
)

// Track kinds.
const (
	KindVideo = "video"
	KindAudio = "audio"
)

// Keyframe alignments of a stream's video tracks (StreamInfo.KeyframeAlignment).
const (
	// AlignmentAligned: the video tracks' keyframes fall on the same
	// timestamps, so renditions can be segmented alike.
	AlignmentAligned = "aligned"
	// AlignmentUnaligned: some video track has a keyframe where another
	// has none.
	AlignmentUnaligned = "unaligned"
	// AlignmentUnknown: fewer than two video tracks, or not enough
	// keyframes seen yet.
	AlignmentUnknown = "unknown"
)

// HLS rendition states of a track.
const (
	// HLSIncluded: the track is in the MPEG-TS HLS rendition.
	HLSIncluded = "included"
	// HLSLeftOut: the track is not (its codec cannot be carried, or it is
	// not the default track); HLSReason says why.
	HLSLeftOut = "left_out"
	// HLSUnknown: HLS has not looked at the stream (yet).
	HLSUnknown = "unknown"
)

// Track describes one track of a stream, with what its decoder
// configuration tells.
type Track struct {
	// ID is the Enhanced RTMP track id (0 for the default track and for
	// streams without multitrack).
	ID int
	// Kind is KindVideo or KindAudio.
	Kind string
	// Codec is a display name ("H.265"); FourCC the codec's FourCC
	// ("hvc1"); CodecString the RFC 6381 string when known.
	Codec, FourCC, CodecString string
	// Profile and Level are display strings (video).
	Profile, Level string
	// Width, Height and BitDepth describe the picture (video; 0 when
	// unknown).
	Width, Height, BitDepth int
	// FPS is the frame rate: measured on the track's frames, or
	// signalled in the bitstream until measured (0 when unknown).
	FPS float64
	// Bitrate is the track's measured bit rate over the last seconds, in
	// bits per second; PeakBitrate the highest rate of one second in that
	// window (what HLS calls AVERAGE-BANDWIDTH and BANDWIDTH).
	Bitrate, PeakBitrate float64
	// HDR is "PQ" or "HLG" for HDR video, from the colorInfo metadata.
	HDR string
	// SampleRate (Hz) and Channels describe audio.
	SampleRate, Channels int
	// HLS is HLSIncluded, HLSLeftOut or HLSUnknown; HLSReason explains a
	// left-out track.
	HLS, HLSReason string
	// HLSPlaylist is the URL path of the media playlist of a video track
	// served as an HLS rendition of a multitrack stream (empty otherwise).
	HLSPlaylist string
}

// trackDoc is one track.
type trackDoc struct {
	ID          int     `json:"id"`
	Kind        string  `json:"kind"`
	Codec       string  `json:"codec"`
	FourCC      string  `json:"fourcc"`
	CodecString string  `json:"codec_string"`
	Profile     string  `json:"profile"`
	Level       string  `json:"level"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	BitDepth    int     `json:"bit_depth"`
	FPS         float64 `json:"fps"`
	BitrateBPS  int64   `json:"bitrate_bps"`
	PeakBPS     int64   `json:"peak_bitrate_bps"`
	HDR         string  `json:"hdr"`
	SampleRate  int     `json:"sample_rate"`
	Channels    int     `json:"channels"`
	HLS         string  `json:"hls"`
	HLSReason   string  `json:"hls_reason"`
	HLSPlaylist string  `json:"hls_playlist"`
}

// newTrackDocs converts a stream's track list (never null in JSON).
func newTrackDocs(ts []Track) []trackDoc {
	out := make([]trackDoc, 0, len(ts))
	for _, t := range ts {
		hls := t.HLS
		if hls == "" {
			hls = HLSUnknown
		}
		out = append(out, trackDoc{
			ID: t.ID, Kind: t.Kind, Codec: t.Codec, FourCC: t.FourCC, CodecString: t.CodecString,
			Profile: t.Profile, Level: t.Level, Width: t.Width, Height: t.Height, BitDepth: t.BitDepth,
			FPS: round2(t.FPS), BitrateBPS: bps(t.Bitrate), PeakBPS: bps(t.PeakBitrate), HDR: t.HDR, SampleRate: t.SampleRate, Channels: t.Channels,
			HLS: hls, HLSReason: t.HLSReason, HLSPlaylist: t.HLSPlaylist,
		})
	}
	return out
}

// nonNil returns s, or an empty slice for nil (so JSON has [] not null).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// PublisherReconnecter is implemented by a StreamSource whose publishers
// can be asked to reconnect (Enhanced RTMP
// NetConnection.Connect.ReconnectRequest).
type PublisherReconnecter interface {
	// ReconnectPublisher asks the publisher of app/name to reconnect. live
	// reports whether the stream is live; asked whether its publisher
	// declared it can reconnect and was asked.
	ReconnectPublisher(app, name string) (live, asked bool)
}

// CodeConflict: the request cannot be done in the resource's state (a
// publisher that cannot reconnect).
const CodeConflict = "conflict"

// reconnectStream serves POST /streams/{app}/{name}/reconnect: the
// publisher is asked to reconnect; it keeps streaming until it has.
func (h *handler) reconnectStream(w http.ResponseWriter, r *http.Request) {
	app, name, ok := streamParams(w, r)
	if !ok {
		return
	}
	rc, can := h.deps.Streams.(PublisherReconnecter)
	live, asked := false, false
	if can {
		live, asked = rc.ReconnectPublisher(app, name)
	} else {
		_, live = h.deps.Streams.Stream(app, name)
	}
	switch {
	case !live:
		writeError(w, http.StatusNotFound, CodeNotFound, "stream "+app+"/"+name+" is not live")
	case !asked:
		writeError(w, http.StatusConflict, CodeConflict,
			"the publisher of "+app+"/"+name+" did not declare that it can reconnect (Enhanced RTMP capsEx Reconnect)")
	default:
		h.log.Info("publisher asked to reconnect through the API", "stream", app+"/"+name, "remote", r.RemoteAddr)
		w.WriteHeader(http.StatusAccepted)
	}
}

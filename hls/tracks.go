package hls

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// The TS rendition carries one video and one audio track: track 0 of each
// kind (the default track of an Enhanced RTMP multitrack stream). Other
// tracks, and tracks whose codec MPEG-TS HLS cannot carry, are left out; a
// left-out codec is reported once (the error of its configuration) and in
// SegmenterStats, and its frames are dropped quietly.

// isDefaultSequenceStart reports whether a header frame is the sequence
// start of track 0; other configuration (other tracks, HDR metadata,
// multichannel layouts) does not change the TS rendition.
func isDefaultSequenceStart(f *stream.Frame) bool {
	if !f.IsSequenceStart() {
		return false
	}
	if !f.Multitrack {
		return true
	}
	var tracks []flv.Track
	switch f.Type {
	case flv.TagVideo:
		h, err := flv.ParseVideoTagHeader(f.Payload)
		if err != nil {
			return true // let the configuration fail and be counted
		}
		tracks = h.TrackList(f.Payload)
	case flv.TagAudio:
		h, err := flv.ParseAudioTagHeader(f.Payload)
		if err != nil {
			return true
		}
		tracks = h.TrackList(f.Payload)
	}
	_, ok := defaultTrack(tracks)
	return ok
}

// leaveOut records that a configuration was refused. An unsupported codec
// leaves its track out (and is not an invalid frame); it returns whether
// err was that, so the caller counts other failures as invalid.
func leaveOut(st *TrackStatus, left *[]byte, payload []byte, codec flv.FourCC, err error) bool {
	if !errors.Is(err, ErrUnsupportedCodec) {
		*st = TrackStatus{}
		*left = nil
		return false
	}
	*st = TrackStatus{Codec: codec, Reason: reasonOf(err)}
	*left = payload
	return true
}

// include records that a track is segmented.
func include(st *TrackStatus, left *[]byte, codec flv.FourCC) {
	*st = TrackStatus{Codec: codec, Included: true}
	*left = nil
}

// sameLeftOut reports whether payload is the configuration already left
// out (sent again: nothing to report twice).
func sameLeftOut(left, payload []byte) bool {
	return left != nil && bytes.Equal(left, payload)
}

// videoTrackZero returns the header and track 0 of a video payload.
func videoTrackZero(payload []byte) (flv.VideoTagHeader, flv.Track, bool) {
	h, err := flv.ParseVideoTagHeader(payload)
	if err != nil {
		return h, flv.Track{}, false
	}
	t, ok := defaultTrack(h.TrackList(payload))
	return h, t, ok
}

// audioTrackZero returns the header and track 0 of an audio payload.
func audioTrackZero(payload []byte) (flv.AudioTagHeader, flv.Track, bool) {
	h, err := flv.ParseAudioTagHeader(payload)
	if err != nil {
		return h, flv.Track{}, false
	}
	t, ok := defaultTrack(h.TrackList(payload))
	return h, t, ok
}

// reasonOf extracts the explanation an unsupported codec error carries
// after its sentinel, or the whole message.
func reasonOf(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, ErrUnsupportedCodec.Error()+": "); ok {
		return after
	}
	return msg
}

// leftOutFrame reports whether a coded frame of codec belongs to a track
// left out for its codec: it is dropped without an error.
func leftOutFrame(st TrackStatus, codec flv.FourCC) bool {
	return !st.Included && st.Reason != "" && st.Codec == codec
}

// leaveOutUnconfigured leaves out an audio track whose codec has no
// sequence start to refuse (legacy MP3, PCM, Speex …): the first frame
// reports it, like a refused configuration.
func leaveOutUnconfigured(st *TrackStatus, codec flv.FourCC, soundFormat uint8, ms uint32) error {
	reason := leftOutReason(codec, soundFormat, "audio")
	*st = TrackStatus{Codec: codec, Reason: reason}
	return fmt.Errorf("audio frame at %d ms (%v, sound format %d): %w: %s", ms, codec, soundFormat, ErrUnsupportedCodec, reason)
}

package flvmp4

import (
	"fmt"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/fmp4"
	"github.com/mediaserver/mediaserver/stream"
)

// SampleOf returns the coded data of the default track (track 0) that f, a
// video or audio frame, carries, and whether it is a random access point
// (a keyframe; every audio frame is one). data shares f's payload. A
// leading AV1 temporal delimiter is left out, as AV1 in ISO BMFF asks. A
// frame without such data fails with ErrNoSample; a malformed header with
// the flv package's error.
func SampleOf(f *stream.Frame) (data []byte, sync bool, err error) {
	if f.Header || (f.Packet != flv.PacketCodedFrames && f.Packet != flv.PacketCodedFramesX) {
		return nil, false, ErrNoSample
	}
	var tracks []flv.Track
	switch f.Type {
	case flv.TagVideo:
		h, err := flv.ParseVideoTagHeader(f.Payload)
		if err != nil {
			return nil, false, fmt.Errorf("video frame: %w", err)
		}
		if h.IsCommand() {
			return nil, false, ErrNoSample
		}
		tracks, sync = h.TrackList(f.Payload), h.Keyframe()
	case flv.TagAudio:
		h, err := flv.ParseAudioTagHeader(f.Payload)
		if err != nil {
			return nil, false, fmt.Errorf("audio frame: %w", err)
		}
		tracks, sync = h.TrackList(f.Payload), true
	default:
		return nil, false, ErrNoSample
	}
	for _, t := range tracks {
		if t.ID != 0 {
			continue
		}
		data = t.Data
		if t.Codec == flv.FourCCAV1 {
			data = dropTemporalDelimiter(data)
		}
		if len(data) == 0 {
			return nil, false, ErrNoSample
		}
		return data, sync, nil
	}
	return nil, false, ErrNoSample
}

// dropTemporalDelimiter returns an AV1 temporal unit without the temporal
// delimiter OBU it starts with, if it does.
func dropTemporalDelimiter(tu []byte) []byte {
	if len(tu) >= 2 && tu[0]>>3&0x0f == flv.AV1OBUTemporalDelimiter && tu[0]&0x02 != 0 && tu[1] == 0 {
		return tu[2:] // header with obu_has_size_field and a zero size
	}
	return tu
}

// Flags returns the sample flags of a sample: sync or not.
func Flags(sync bool) fmp4.SampleFlags {
	if sync {
		return fmp4.SyncSample
	}
	return fmp4.NonSyncSample
}

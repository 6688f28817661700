package flvmp4

import (
	"fmt"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/fmp4"
)

// Track returns the fMP4 track with the given ID for a codec and its decoder
// configuration as the stream carries it: the body of the track's sequence
// start, or for AC-3, E-AC-3 and MP3, which have none, the first coded frame.
// keyframe is the sample data of the track's first keyframe; only a VP9
// configuration needs it (the record has no picture size), and nil is fine
// for every other codec.
//
// Video tracks get fmp4.DefaultVideoTimescale; audio tracks their sample
// rate (AAC: the core rate, so every frame lasts 1024 ticks). The track is
// resolved (fmp4.Track.Resolve): its sample rate and channels are set.
func Track(id uint32, codec flv.FourCC, config, keyframe []byte) (fmp4.Track, error) {
	c, ok := fmp4.CodecForFourCC(uint32(codec))
	if !ok {
		return fmp4.Track{}, fmt.Errorf("codec %q: %w", codec, ErrUnsupportedCodec)
	}
	t := fmp4.Track{ID: id, Codec: c, Config: config}
	switch c {
	case fmp4.CodecAVC, fmp4.CodecHEVC, fmp4.CodecAV1, fmp4.CodecVP9:
		info, err := flv.ParseVideoConfig(codec, config)
		if err != nil {
			return fmp4.Track{}, fmt.Errorf("%s configuration: %w", codec, err)
		}
		t.Width, t.Height = info.Width, info.Height
		if t.Width == 0 || t.Height == 0 {
			w, h, ok := flv.ParseVP9FrameSize(keyframe)
			if !ok {
				return fmp4.Track{}, fmt.Errorf("%s configuration: %w", codec, ErrNeedKeyframe)
			}
			t.Width, t.Height = w, h
		}
		t.Timescale = fmp4.DefaultVideoTimescale
	case fmp4.CodecAAC:
		asc, err := flv.ParseAACConfig(config)
		if err != nil {
			return fmp4.Track{}, fmt.Errorf("AAC configuration: %w", err)
		}
		info, err := flv.ParseAudioConfig(codec, config)
		if err != nil {
			return fmp4.Track{}, fmt.Errorf("AAC configuration: %w", err)
		}
		t.SampleRate, t.Channels, t.Timescale = asc.SampleRate, info.Channels, uint32(asc.SampleRate)
	}
	r, err := t.Resolve()
	if err != nil {
		return fmp4.Track{}, fmt.Errorf("%s track: %w", codec, err)
	}
	return r, nil
}

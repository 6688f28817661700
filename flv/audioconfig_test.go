package flv

import (
	"bytes"
	"errors"
	"testing"
)

// Opus identification headers libopus wrote (ffmpeg 5.1, Ogg); ffprobe
// reported 48000 Hz and 2, 1 and 6 (5.1) channels.
const (
	opusHeadStereo = "4f707573486561640102380180bb0000000000"
	opusHeadMono   = "4f707573486561640101380180bb0000000000"
	opusHead51     = "4f707573486561640106380180bb00000000010402000401020305"
)

func TestOpusHeadBothDirections(t *testing.T) {
	cases := []struct {
		name string
		wire string
		h    OpusHead
	}{
		{"libopus stereo", opusHeadStereo, OpusHead{Version: 1, Channels: 2, PreSkip: 312, InputSampleRate: 48000}},
		{"libopus mono", opusHeadMono, OpusHead{Version: 1, Channels: 1, PreSkip: 312, InputSampleRate: 48000}},
		{"libopus 5.1, mapping family 1", opusHead51, OpusHead{Version: 1, Channels: 6, PreSkip: 312, InputSampleRate: 48000,
			MappingFamily: 1, StreamCount: 4, CoupledCount: 2, ChannelMapping: []byte{0, 4, 1, 2, 3, 5}}},
		{"negative gain, 44.1 kHz input, version 15", "4f707573486561640f02640044ac000000ff00",
			OpusHead{Version: 15, Channels: 2, PreSkip: 100, InputSampleRate: 44100, OutputGain: -256}},
		{"family 255, unused channel", "4f70757348656164 01 03 0000 00000000 0000 ff 0201 00ff01",
			OpusHead{Version: 1, Channels: 3, MappingFamily: 255, StreamCount: 2, CoupledCount: 1, ChannelMapping: []byte{0, 0xff, 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkRecord(t, unhex(t, c.wire), c.h, ParseOpusHead)
		})
	}
}

func TestOpusHeadErrors(t *testing.T) {
	cases := []struct {
		name string
		wire string
		want error
	}{
		{"short", "4f707573486561640102380180bb00000000", ErrTruncated},
		{"OpusTags", "4f7075735461677301023801 80bb0000000000", ErrInvalidConfig},
		{"version 16", "4f707573486561641002380180bb0000000000", ErrInvalidConfig},
		{"no channels", "4f707573486561640100380180bb0000000000", ErrInvalidConfig},
		{"three channels in family 0", "4f707573486561640103380180bb0000000000", ErrInvalidConfig},
		{"mapping table cut", "4f707573486561640106380180bb000000000104020004", ErrTruncated},
		{"no streams", "4f707573486561640101380180bb000000000100000000", ErrInvalidConfig},
		{"more coupled than streams", "4f707573486561640101380180bb000000000101020000", ErrInvalidConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, err := ParseOpusHead(unhex(t, c.wire)); !errors.Is(err, c.want) {
				t.Fatalf("got %+v, %v; want %v", got, err, c.want)
			}
		})
	}
	short := OpusHead{Version: 1, Channels: 3, MappingFamily: 1, StreamCount: 2, CoupledCount: 1, ChannelMapping: []byte{0}}
	if err := short.Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("validate short mapping: %v", err)
	}
	if h, err := ParseOpusHead(short.Append(nil)); err != nil || !bytes.Equal(h.ChannelMapping, []byte{0, 0xff, 0xff}) {
		t.Fatalf("padded mapping %+v, %v", h, err)
	}
}

// STREAMINFO blocks of FLAC files ffmpeg 5.1 wrote (sine, 0.2 s); ffprobe
// reported 44100 Hz stereo 16-bit and 96000 Hz 5.1 24-bit.
const (
	flacFileStereo = "664c614300000022" + flacStreamInfoStereo
	flacFile51     = "664c614300000022" + flacStreamInfo51
	// The 34-byte bodies: what ffmpeg uses as extradata and sends.
	flacStreamInfoStereo = "120012000004a30005080ac442f0000022745d105ceb212ad5d36e4f5608def3d8b7"
	flacStreamInfo51     = "2000200000127300334d17700b7000004b0015b292f653d8ccaa1e4ea43fbbdb238c"
)

func TestFLACStreamInfoBothDirections(t *testing.T) {
	stereo := FLACStreamInfo{MinBlockSize: 4608, MaxBlockSize: 4608, MinFrameSize: 1187, MaxFrameSize: 1288,
		SampleRate: 44100, Channels: 2, BitsPerSample: 16, TotalSamples: 8820,
		MD5: [16]byte(unhex(t, "5d105ceb212ad5d36e4f5608def3d8b7"))}
	surround := FLACStreamInfo{MinBlockSize: 8192, MaxBlockSize: 8192, MinFrameSize: 4723, MaxFrameSize: 13133,
		SampleRate: 96000, Channels: 6, BitsPerSample: 24, TotalSamples: 19200,
		MD5: [16]byte(unhex(t, "15b292f653d8ccaa1e4ea43fbbdb238c"))}
	extreme := FLACStreamInfo{MinBlockSize: 16, MaxBlockSize: 65535, MinFrameSize: 1<<24 - 1, SampleRate: 1<<20 - 1,
		Channels: 8, BitsPerSample: 32, TotalSamples: 1<<36 - 1}
	cases := []struct {
		name string
		body string
		s    FLACStreamInfo
	}{
		{"ffmpeg stereo 16-bit", flacStreamInfoStereo, stereo},
		{"ffmpeg 5.1 24-bit 96 kHz", flacStreamInfo51, surround},
		{"largest values", "0010ffff ffffff 000000 ffffffffffffffff 00000000000000000000000000000000", extreme},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := unhex(t, c.body)
			forms := map[string][]byte{
				"body":                 body,
				"block header":         cat(0x80, 0, 0, 34, body),
				"stream header":        cat("fLaC", 0, 0, 0, 34, body, 0x84, 0, 0, 0),
				"body with extra data": cat(body, 1, 2, 3),
			}
			for form, wire := range forms {
				got, err := ParseFLACStreamInfo(wire)
				if err != nil {
					t.Fatalf("%s: parse: %v", form, err)
				}
				if got != c.s {
					t.Fatalf("%s: parse:\n got %+v\nwant %+v", form, got, c.s)
				}
			}
			if err := c.s.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if enc := c.s.Append(nil); !bytes.Equal(enc, body) {
				t.Fatalf("append:\n got %x\nwant %x", enc, body)
			}
		})
	}
	for _, file := range []string{flacFileStereo, flacFile51} {
		if _, err := ParseFLACStreamInfo(unhex(t, file)); err != nil {
			t.Fatalf("file header: %v", err)
		}
	}
}

func TestFLACStreamInfoErrors(t *testing.T) {
	body := unhex(t, flacStreamInfoStereo)
	cases := []struct {
		name string
		wire []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"33 bytes", body[:33], ErrTruncated},
		{"marker alone", []byte("fLaC"), ErrTruncated},
		{"marker and cut block", cat("fLaC", 0, 0, 0, 34, body[:20]), ErrTruncated},
		{"first block not STREAMINFO", cat("fLaC", 4, 0, 0, 34, body), ErrInvalidConfig},
		{"3 bits per sample", cat(body[:12], body[12]&^1, body[13]&0x0f|0x20, body[14:]), ErrInvalidConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, err := ParseFLACStreamInfo(c.wire); !errors.Is(err, c.want) {
				t.Fatalf("got %+v, %v; want %v", got, err, c.want)
			}
		})
	}
	bad := FLACStreamInfo{Channels: 9, BitsPerSample: 16}
	if err := bad.Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("validate 9 channels: %v", err)
	}
}

package fmp4

import "testing"

func TestSampleDuration(t *testing.T) {
	aac := Track{Codec: CodecAAC, SampleRate: 44100, Timescale: 44100}
	opus := Track{Codec: CodecOpus, SampleRate: 48000, Timescale: 48000}
	mp3 := Track{Codec: CodecMP3, SampleRate: 44100, Timescale: 44100}
	ac3 := Track{Codec: CodecAC3, SampleRate: 48000, Timescale: 48000}
	flac := Track{Codec: CodecFLAC, SampleRate: 44100, Timescale: 44100}
	cases := []struct {
		name   string
		track  Track
		sample []byte
		want   uint32
		ok     bool
	}{
		{"AAC frame", aac, []byte{0x21}, 1024, true},
		{"AAC at a 90 kHz timescale", Track{Codec: CodecAAC, SampleRate: 48000, Timescale: 90000}, []byte{0x21}, 1920, true},
		{"Opus CELT 20 ms", opus, []byte{0xfc}, 960, true},
		{"Opus SILK 60 ms", opus, []byte{0x18}, 2880, true},
		{"Opus two 10 ms frames", opus, []byte{0xf1}, 960, true},
		{"Opus code 3, three 20 ms frames", opus, []byte{0xfb, 0x03}, 2880, true},
		{"MPEG-1 layer III", mp3, []byte{0xff, 0xfb, 0x90, 0x64}, 1152, true},
		{"MPEG-2 layer III", Track{Codec: CodecMP3, SampleRate: 22050, Timescale: 22050}, []byte{0xff, 0xf3, 0x90, 0x64}, 576, true},
		{"AC-3", ac3, []byte{0x0b, 0x77}, 1536, true},
		{"E-AC-3 six blocks", Track{Codec: CodecEAC3, SampleRate: 48000, Timescale: 48000},
			[]byte{0x0b, 0x77, 0x00, 0xff, 0x34, 0x80}, 1536, true},
		{"FLAC block size code 5", flac, []byte{0xff, 0xf8, 0x59, 0x08}, 4608, true},
		{"FLAC 8-bit block size at the header's end", flac, []byte{0xff, 0xf8, 0x69, 0x08, 0x05, 0xff}, 256, true},
		{"FLAC 16-bit block size after a 2-byte frame number", flac, []byte{0xff, 0xf8, 0x79, 0x08, 0xc2, 0x80, 0x01, 0x00}, 257, true},
		{"FLAC size cut short", flac, []byte{0xff, 0xf8, 0x79, 0x08, 0x05}, 0, false},
		{"malformed MP3", mp3, []byte{0x00, 0x00, 0x00, 0x00}, 0, false},
		{"video", Track{Codec: CodecAVC, Timescale: 90000}, []byte{0, 0, 0, 1, 0x65}, 0, false},
	}
	for _, c := range cases {
		if got, ok := SampleDuration(c.track, c.sample); got != c.want || ok != c.ok {
			t.Errorf("%s: %d %v, want %d %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

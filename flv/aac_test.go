package flv

import (
	"bytes"
	"errors"
	"testing"
)

func TestAACConfigBothDirections(t *testing.T) {
	cases := []struct {
		name    string
		wire    string // canonical encoding (what Append writes)
		trailer string // extra bytes real encoders add, ignored by the parser
		c       AACConfig
	}{
		{"ffmpeg LC 44.1k stereo", "1210", "56e500", AACConfig{ObjectType: 2, SampleRateIndex: 4, SampleRate: 44100,
			ChannelConfig: 2, Channels: 2, CoreObjectType: 2}},
		{"ffmpeg LC 48k mono", "1188", "56e500", AACConfig{ObjectType: 2, SampleRateIndex: 3, SampleRate: 48000,
			ChannelConfig: 1, Channels: 1, CoreObjectType: 2}},
		{"ffmpeg LC 48k 5.1", "11b0", "56e500", AACConfig{ObjectType: 2, SampleRateIndex: 3, SampleRate: 48000,
			ChannelConfig: 6, Channels: 6, CoreObjectType: 2}},
		{"7.1 channel config 7", "11b8", "", AACConfig{ObjectType: 2, SampleRateIndex: 3, SampleRate: 48000,
			ChannelConfig: 7, Channels: 8, CoreObjectType: 2}},
		{"main 8k config 0 (PCE)", "0d80", "", AACConfig{ObjectType: 1, SampleRateIndex: 11, SampleRate: 8000,
			ChannelConfig: 0, Channels: 0, CoreObjectType: 1}},
		{"explicit frequency index 15", "1780562210", "", AACConfig{ObjectType: 2, SampleRateIndex: 15, SampleRate: 44100,
			ChannelConfig: 2, Channels: 2, CoreObjectType: 2}},
		{"extended object type 42 (escape 31)", "f94640", "", AACConfig{ObjectType: 42, SampleRateIndex: 3, SampleRate: 48000,
			ChannelConfig: 2, Channels: 2, CoreObjectType: 42}},
		{"HE-AAC explicit SBR 24k→48k", "2b118800", "", AACConfig{ObjectType: 5, SampleRateIndex: 6, SampleRate: 24000,
			ChannelConfig: 2, Channels: 2, CoreObjectType: 2, ExtensionSampleRateIndex: 3, ExtensionSampleRate: 48000}},
		{"HE-AACv2 explicit PS", "eb098800", "", AACConfig{ObjectType: 29, SampleRateIndex: 6, SampleRate: 24000,
			ChannelConfig: 1, Channels: 1, CoreObjectType: 2, ExtensionSampleRateIndex: 3, ExtensionSampleRate: 48000}},
		{"SBR over ER BSAC", "2b11d880", "", AACConfig{ObjectType: 5, SampleRateIndex: 6, SampleRate: 24000,
			ChannelConfig: 2, Channels: 2, CoreObjectType: 22, ExtensionSampleRateIndex: 3, ExtensionSampleRate: 48000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseAACConfig(unhex(t, c.wire+c.trailer))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got != c.c {
				t.Fatalf("parse:\n got %+v\nwant %+v", got, c.c)
			}
			if err := c.c.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if enc := c.c.Append([]byte{0xee}); !bytes.Equal(enc[1:], unhex(t, c.wire)) {
				t.Fatalf("append = %x, want %s", enc[1:], c.wire)
			}
		})
	}
}

func TestAACConfigErrors(t *testing.T) {
	cases := []struct{ name, wire string }{
		{"empty", ""},
		{"one byte", "12"},
		{"object type 0", "0210"},
		{"reserved frequency index 13", "1690"},
		{"explicit frequency truncated", "1780"},
		{"explicit frequency zero", "1780000010"},
		{"escape truncated", "f8"},
		{"SBR reserved extension index", "2b16"},
		{"SBR core type 0", "2b1180"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseAACConfig(unhex(t, c.wire))
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	for _, c := range []AACConfig{
		{ObjectType: 0, SampleRateIndex: 4, SampleRate: 44100},
		{ObjectType: 31, SampleRateIndex: 4, SampleRate: 44100},
		{ObjectType: 96, SampleRateIndex: 4, SampleRate: 44100},
		{ObjectType: 2, SampleRateIndex: 4, SampleRate: 48000},
		{ObjectType: 2, SampleRateIndex: 15, SampleRate: 1 << 24},
		{ObjectType: 2, SampleRateIndex: 4, SampleRate: 44100, ChannelConfig: 16},
		{ObjectType: 5, SampleRateIndex: 4, SampleRate: 44100, CoreObjectType: 2},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", c)
		}
	}
}

func TestAACConfigADTS(t *testing.T) {
	cases := []struct {
		name       string
		asc        string
		payloadLen int
		want       string
	}{
		// Headers written by ffmpeg's ADTS muxer for the same frames.
		{"ffmpeg LC 44.1k stereo", "121056e500", 338, "fff150802b3ffc"},
		{"ffmpeg LC 48k 5.1", "11b056e500", 375, "fff14d802fdffc"},
		{"explicit 44100 maps to index 4", "1780562210", 100, "fff150800d7ffc"},
		{"HE-AAC describes the LC core", "2b118800", 10, "fff15880023ffc"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseAACConfig(unhex(t, c.asc))
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.ADTSSupported(); err != nil {
				t.Fatal(err)
			}
			got := cfg.AppendADTSHeader([]byte{0xee}, c.payloadLen)
			if !bytes.Equal(got[1:], unhex(t, c.want)) {
				t.Fatalf("ADTS = %x, want %s", got[1:], c.want)
			}
			// And back: the header's fields describe cfg.
			back := parseADTSForTest(t, got[1:])
			if back.profile != cfg.CoreObjectType-1 || aacSampleRates[back.freq] != cfg.SampleRate ||
				back.channels != cfg.ChannelConfig || back.frameLen != c.payloadLen+ADTSHeaderSize {
				t.Fatalf("ADTS fields %+v", back)
			}
		})
	}
	for _, c := range []AACConfig{
		{ObjectType: 42, CoreObjectType: 42, SampleRateIndex: 3, SampleRate: 48000, ChannelConfig: 2},
		{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 15, SampleRate: 44000, ChannelConfig: 2},
		{ObjectType: 2, CoreObjectType: 2, SampleRateIndex: 3, SampleRate: 48000, ChannelConfig: 13},
	} {
		if err := c.ADTSSupported(); err == nil {
			t.Errorf("ADTSSupported(%+v) accepted", c)
		}
	}
}

// A hand-built config without CoreObjectType still yields the right profile.
func TestAACConfigADTSWithoutCoreObjectType(t *testing.T) {
	c := AACConfig{ObjectType: 2, SampleRateIndex: 4, SampleRate: 44100, ChannelConfig: 2}
	if got := c.AppendADTSHeader(nil, 338); !bytes.Equal(got, unhex(t, "fff150802b3ffc")) {
		t.Fatalf("ADTS = %x", got)
	}
	if c.CodecString() != "mp4a.40.2" {
		t.Fatal(c.CodecString())
	}
}

type adtsFields struct {
	profile, freq, channels uint8
	frameLen                int
}

func parseADTSForTest(t *testing.T, b []byte) adtsFields {
	t.Helper()
	r := bitReader{b: b}
	if r.u(12) != 0xfff || r.u(1) != 0 || r.u(2) != 0 || r.u(1) != 1 {
		t.Fatalf("bad ADTS fixed header %x", b)
	}
	var f adtsFields
	f.profile = uint8(r.u(2))
	f.freq = uint8(r.u(4))
	r.u(1)
	f.channels = uint8(r.u(3))
	r.u(4)
	f.frameLen = int(r.u(13))
	if r.u(11) != 0x7ff || r.u(2) != 0 || r.err != nil {
		t.Fatalf("bad ADTS variable header %x", b)
	}
	return f
}

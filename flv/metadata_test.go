package flv

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/mediaserver/mediaserver/amf"
)

// ffmpegMetadata is the onMetaData tag ffmpeg 5.1 wrote for a 1280x720
// 30 fps H.264 + 44.1 kHz mono AAC FLV (an ECMA array).
const ffmpegMetadata = "02000a6f6e4d65746144617461080000000d00086475726174696f6e003fd116872b020c4a000577696474680040940000000000000006686569676874004086800000000000000d766964656f646174617261746500000000000000000000096672616d657261746500403e000000000000000c766964656f636f646563696400401c000000000000000d617564696f6461746172617465004050d88000000000000f617564696f73616d706c65726174650040e5888000000000000f617564696f73616d706c6573697a65004030000000000000000673746572656f0100000c617564696f636f64656369640040240000000000000007656e636f64657202000d4c61766635392e32372e313030000866696c6573697a650040f4c70000000000000009"

func amf0(t testing.TB, vals ...any) []byte {
	t.Helper()
	b, err := amf.Append0(nil, vals...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// typed returns m without Properties, for comparing the derived fields.
func typed(m Metadata) Metadata {
	m.Properties = nil
	return m
}

func TestParseMetadata(t *testing.T) {
	obs := amf.ECMAArray{
		{Key: "width", Value: 1920.0}, {Key: "height", Value: 1080.0}, {Key: "videocodecid", Value: 7.0},
		{Key: "videodatarate", Value: 6000.0}, {Key: "framerate", Value: 60.0}, {Key: "audiocodecid", Value: 10.0},
		{Key: "audiodatarate", Value: 160.0}, {Key: "audiosamplerate", Value: 48000.0}, {Key: "audiosamplesize", Value: 16.0},
		{Key: "audiochannels", Value: 2.0}, {Key: "stereo", Value: true}, {Key: "2.1", Value: false},
		{Key: "encoder", Value: "obs-output module (libobs version 30.0.2)"},
	}
	enhanced := amf.Object{
		{Key: "videocodecid", Value: float64(FourCCHEVC)}, {Key: "audiocodecid", Value: float64(FourCCOpus)},
		{Key: "width", Value: 3840.0}, {Key: "height", Value: 2160.0}, {Key: "framerate", Value: 29.97},
	}
	cases := []struct {
		name    string
		payload []byte
		want    Metadata
	}{
		{"ffmpeg ecma array", unhex(t, ffmpegMetadata), Metadata{Width: 1280, Height: 720, FrameRate: 30,
			AudioDataRate: 67.3828125, AudioSampleRate: 44100, Duration: 0.267,
			VideoCodec: "avc1", AudioCodec: "mp4a", VideoFourCC: FourCCAVC, AudioFourCC: FourCCAAC, Encoder: "Lavf59.27.100"}},
		{"obs @setDataFrame ecma array", amf0(t, "@setDataFrame", "onMetaData", obs), Metadata{Width: 1920, Height: 1080,
			FrameRate: 60, VideoDataRate: 6000, AudioDataRate: 160, AudioSampleRate: 48000, Stereo: true,
			VideoCodec: "avc1", AudioCodec: "mp4a", VideoFourCC: FourCCAVC, AudioFourCC: FourCCAAC,
			Encoder: "obs-output module (libobs version 30.0.2)"}},
		{"enhanced fourcc numbers in object", amf0(t, "onMetaData", enhanced), Metadata{Width: 3840, Height: 2160,
			FrameRate: 29.97, VideoCodec: "hvc1", AudioCodec: "Opus", VideoFourCC: FourCCHEVC, AudioFourCC: FourCCOpus}},
		{"codec strings and numeric strings", amf0(t, "onMetaData", amf.Object{
			{Key: "videocodecid", Value: "avc1"}, {Key: "audiocodecid", Value: " 2 "}, {Key: "width", Value: "640"},
			{Key: "fps", Value: 25.0}, {Key: "stereo", Value: "true"}}),
			Metadata{Width: 640, FrameRate: 25, Stereo: true, VideoCodec: "avc1", AudioCodec: ".mp3",
				VideoFourCC: FourCCAVC, AudioFourCC: FourCCMP3}},
		{"legacy ids without fourcc", amf0(t, "onMetaData", amf.Object{
			{Key: "videocodecid", Value: 4.0}, {Key: "audiocodecid", Value: 11.0}, {Key: "stereo", Value: 0.0}}),
			Metadata{VideoCodec: "vp6", AudioCodec: "speex"}},
		{"free-form codec names and odd numbers", amf0(t, "onMetaData", amf.Object{
			{Key: "videocodecid", Value: "H264Avc"}, {Key: "audiocodecid", Value: 2.5}, {Key: "width", Value: math.NaN()}}),
			Metadata{VideoCodec: "H264Avc", AudioCodec: "2.5"}},
		{"case-insensitive keys", amf0(t, "onMetaData", amf.Object{{Key: "Width", Value: 320.0}, {Key: "Encoder", Value: "x"}}),
			Metadata{Width: 320, Encoder: "x"}},
		{"typed object", amf0(t, "onMetaData", amf.TypedObject{Class: "Meta", Object: amf.Object{{Key: "height", Value: 90.0}}}),
			Metadata{Height: 90}},
		{"null value", amf0(t, "onMetaData", nil), Metadata{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseMetadata(c.payload)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(typed(got), c.want) {
				t.Fatalf("parse:\n got %+v\nwant %+v", typed(got), c.want)
			}
			// Encode and decode again: same properties, same fields.
			enc, err := got.Append(nil)
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			again, err := ParseMetadata(enc)
			if err != nil {
				t.Fatalf("reparse: %v", err)
			}
			enc2, err := again.Append(nil)
			if err != nil || !bytes.Equal(enc, enc2) || !reflect.DeepEqual(typed(again), c.want) {
				t.Fatalf("round trip differs: %+v", typed(again))
			}
		})
	}
}

func TestMetadataPropertiesKept(t *testing.T) {
	m, err := ParseMetadata(unhex(t, ffmpegMetadata))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Properties) != 13 || m.Properties[0].Key != "duration" || m.Properties[12].Key != "filesize" {
		t.Fatalf("properties %+v", m.Properties)
	}
	enc, err := m.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := amf.Decode0(enc)
	if err != nil || len(vals) != 2 || vals[0] != "onMetaData" {
		t.Fatalf("Append wrote %v, %v", vals, err)
	}
	if _, ok := vals[1].(amf.Object); !ok {
		t.Fatalf("Append wrote %T, want an object", vals[1])
	}
	empty, err := Metadata{}.Append(nil)
	if err != nil || !bytes.Equal(empty, amf0(t, "onMetaData", amf.Object{})) {
		t.Fatalf("empty metadata = %x, %v", empty, err)
	}
}

func TestParseMetadataErrors(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		want    error
	}{
		{"empty", nil, ErrTruncated},
		{"name only", amf0(t, "onMetaData"), ErrTruncated},
		{"set data frame only", amf0(t, "@setDataFrame"), ErrTruncated},
		{"other script", amf0(t, "onTextData", amf.Object{}), ErrNotMetadata},
		{"set data frame other", amf0(t, "@setDataFrame", "onCuePoint", amf.Object{}), ErrNotMetadata},
		{"name not a string", amf0(t, 1.0, amf.Object{}), ErrNotMetadata},
		{"value a number", amf0(t, "onMetaData", 1.0), ErrNotMetadata},
		{"truncated object", amf0(t, "onMetaData", amf.Object{{Key: "width", Value: 1.0}})[:20], amf.ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseMetadata(c.payload); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestStripSetDataFrame(t *testing.T) {
	body := amf0(t, "onMetaData", amf.Object{{Key: "width", Value: 2.0}})
	with := append(amf0(t, "@setDataFrame"), body...)
	got := StripSetDataFrame(with)
	if !bytes.Equal(got, body) {
		t.Fatalf("stripped = %x, want %x", got, body)
	}
	if &got[0] != &with[len(with)-len(body)] {
		t.Fatal("StripSetDataFrame copied")
	}
	if got := StripSetDataFrame(body); !bytes.Equal(got, body) {
		t.Fatal("payload without @setDataFrame changed")
	}
	if got := StripSetDataFrame(nil); got != nil {
		t.Fatal("nil payload changed")
	}
}

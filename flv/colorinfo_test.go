package flv

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/mediaserver/mediaserver/amf"
)

// hdr10 is the colorInfo an HDR10 (PQ, BT.2020) encoder sends.
var hdr10 = ColorInfo{
	HasConfig:            true,
	Config:               ColorConfig{BitDepth: 10, ColorPrimaries: 9, TransferCharacteristics: TransferPQ, MatrixCoefficients: 9},
	HasContentLightLevel: true,
	ContentLightLevel:    ContentLightLevel{MaxFall: 400, MaxCLL: 1000},
	HasMasteringDisplay:  true,
	MasteringDisplay: MasteringDisplay{RedX: 0.708, RedY: 0.292, GreenX: 0.17, GreenY: 0.797, BlueX: 0.131, BlueY: 0.046,
		WhitePointX: 0.3127, WhitePointY: 0.329, MaxLuminance: 1000, MinLuminance: 0.0001},
}

// amfBody encodes AMF0 values for a test.
func amfBody(t testing.TB, vals ...any) []byte {
	t.Helper()
	b, err := amf.Append0(nil, vals...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVideoMetadataBothDirections: each body decodes to the ColorInfo, and
// that ColorInfo encodes to the same body.
func TestVideoMetadataBothDirections(t *testing.T) {
	hlg := ColorInfo{HasConfig: true, Config: ColorConfig{BitDepth: 10, ColorPrimaries: 9, TransferCharacteristics: TransferHLG, MatrixCoefficients: 9}}
	cases := []struct {
		name string
		info ColorInfo
		body []byte
		hdr  string
	}{
		{"hdr10", hdr10, amfBody(t, "colorInfo", amf.Object{
			{Key: "colorConfig", Value: amf.Object{{Key: "bitDepth", Value: 10.0}, {Key: "colorPrimaries", Value: 9.0},
				{Key: "transferCharacteristics", Value: 16.0}, {Key: "matrixCoefficients", Value: 9.0}}},
			{Key: "hdrCll", Value: amf.Object{{Key: "maxFall", Value: 400.0}, {Key: "maxCLL", Value: 1000.0}}},
			{Key: "hdrMdcv", Value: amf.Object{{Key: "redX", Value: 0.708}, {Key: "redY", Value: 0.292},
				{Key: "greenX", Value: 0.17}, {Key: "greenY", Value: 0.797}, {Key: "blueX", Value: 0.131}, {Key: "blueY", Value: 0.046},
				{Key: "whitePointX", Value: 0.3127}, {Key: "whitePointY", Value: 0.329},
				{Key: "maxLuminance", Value: 1000.0}, {Key: "minLuminance", Value: 0.0001}}},
		}), "PQ"},
		{"hlg config only", hlg, amfBody(t, "colorInfo", amf.Object{
			{Key: "colorConfig", Value: amf.Object{{Key: "bitDepth", Value: 10.0}, {Key: "colorPrimaries", Value: 9.0},
				{Key: "transferCharacteristics", Value: 18.0}, {Key: "matrixCoefficients", Value: 9.0}}},
		}), "HLG"},
		{"reset with undefined", ColorInfo{Reset: true}, amfBody(t, "colorInfo", amf.Undefined{}), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok, err := ParseVideoMetadata(c.body)
			if err != nil || !ok || !reflect.DeepEqual(got, c.info) {
				t.Fatalf("parse: %+v, %v, %v; want %+v", got, ok, err, c.info)
			}
			if got.HDR() != c.hdr {
				t.Fatalf("HDR() = %q, want %q", got.HDR(), c.hdr)
			}
			enc, err := AppendVideoMetadata(nil, c.info)
			if err != nil || string(enc) != string(c.body) {
				t.Fatalf("encode: %x, %v; want %x", enc, err, c.body)
			}
		})
	}
}

// TestVideoMetadataDecodeForms covers what encoders send beside the
// canonical form: ECMA arrays, partial members, resets, other names.
func TestVideoMetadataDecodeForms(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		info ColorInfo
		ok   bool
	}{
		{"ecma array with partial config", amfBody(t, "colorInfo", amf.ECMAArray{
			{Key: "colorConfig", Value: amf.ECMAArray{{Key: "transferCharacteristics", Value: 16.0}}}}),
			ColorInfo{HasConfig: true, Config: ColorConfig{TransferCharacteristics: 16}}, true},
		{"empty object resets", amfBody(t, "colorInfo", amf.Object{}), ColorInfo{Reset: true}, true},
		{"null resets", amfBody(t, "colorInfo", nil), ColorInfo{Reset: true}, true},
		{"unknown members only reset", amfBody(t, "colorInfo", amf.Object{{Key: "future", Value: 1.0}}), ColorInfo{Reset: true}, true},
		{"other metadata first", amfBody(t, "somethingElse", 3.0, "colorInfo", amf.Object{{Key: "hdrCll", Value: amf.Object{{Key: "maxCLL", Value: 600.0}}}}),
			ColorInfo{HasContentLightLevel: true, ContentLightLevel: ContentLightLevel{MaxCLL: 600}}, true},
		{"no colorInfo", amfBody(t, "somethingElse", 3.0), ColorInfo{}, false},
		{"empty body", nil, ColorInfo{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok, err := ParseVideoMetadata(c.body)
			if err != nil || ok != c.ok || !reflect.DeepEqual(got, c.info) {
				t.Fatalf("got %+v, %v, %v; want %+v, %v", got, ok, err, c.info, c.ok)
			}
		})
	}
}

func TestVideoMetadataErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"not amf", []byte{0xff, 0x00}},
		{"name without value", amfBody(t, "colorInfo")},
		{"colorInfo is a number", amfBody(t, "colorInfo", 1.0)},
		{"truncated object", amfBody(t, "colorInfo", amf.Object{{Key: "colorConfig", Value: amf.Object{}}})[:20]},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := ParseVideoMetadata(c.body); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

// FuzzVideoMetadata: decode ok ⇒ encode ok ⇒ decode again equal.
func FuzzVideoMetadata(f *testing.F) {
	for _, c := range []ColorInfo{hdr10, {Reset: true}, {HasContentLightLevel: true}} {
		b, err := AppendVideoMetadata(nil, c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, ok, err := ParseVideoMetadata(body)
		if err != nil || !ok {
			return
		}
		enc, err := AppendVideoMetadata(nil, c)
		if err != nil {
			t.Fatalf("encode %+v: %v", c, err)
		}
		again, ok, err := ParseVideoMetadata(enc)
		if err != nil || !ok || !sameColorInfo(again, c) {
			t.Fatalf("round trip %+v → %+v, %v", c, again, err)
		}
	})
}

// sameColorInfo compares treating NaN as equal to NaN (AMF numbers may be
// NaN; NaN != NaN would fail a faithful round trip).
func sameColorInfo(a, b ColorInfo) bool {
	nan := func(c ColorInfo) ColorInfo {
		fix := func(f *float64) {
			if math.IsNaN(*f) {
				*f = -1
			}
		}
		for _, p := range []*float64{&c.Config.BitDepth, &c.Config.ColorPrimaries, &c.Config.TransferCharacteristics,
			&c.Config.MatrixCoefficients, &c.ContentLightLevel.MaxFall, &c.ContentLightLevel.MaxCLL,
			&c.MasteringDisplay.RedX, &c.MasteringDisplay.RedY, &c.MasteringDisplay.GreenX, &c.MasteringDisplay.GreenY,
			&c.MasteringDisplay.BlueX, &c.MasteringDisplay.BlueY, &c.MasteringDisplay.WhitePointX,
			&c.MasteringDisplay.WhitePointY, &c.MasteringDisplay.MaxLuminance, &c.MasteringDisplay.MinLuminance} {
			fix(p)
		}
		return c
	}
	return reflect.DeepEqual(nan(a), nan(b))
}

package fmp4_test

import (
	"testing"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/fmp4"
)

func TestCodecForFourCC(t *testing.T) {
	cases := []struct {
		fourCC flv.FourCC
		want   fmp4.Codec
	}{
		{flv.FourCCAVC, fmp4.CodecAVC}, {flv.FourCCHEVC, fmp4.CodecHEVC}, {flv.FourCCAV1, fmp4.CodecAV1},
		{flv.FourCCVP9, fmp4.CodecVP9}, {flv.FourCCAAC, fmp4.CodecAAC}, {flv.FourCCOpus, fmp4.CodecOpus},
		{flv.FourCCFLAC, fmp4.CodecFLAC}, {flv.FourCCAC3, fmp4.CodecAC3}, {flv.FourCCEAC3, fmp4.CodecEAC3},
		{flv.FourCCMP3, fmp4.CodecMP3}, {flv.FourCCVP8, 0}, {0, 0},
	}
	for _, c := range cases {
		got, ok := fmp4.CodecForFourCC(uint32(c.fourCC))
		if got != c.want || ok != (c.want != 0) {
			t.Errorf("CodecForFourCC(%q) = %v, %v; want %v", c.fourCC, got, ok, c.want)
		}
	}
}

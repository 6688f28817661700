package flv

import (
	"fmt"

	"github.com/mediaserver/mediaserver/amf"
)

// Enhanced RTMP video Metadata packets (PacketMetadata) carry AMF-encoded
// name/value pairs; the one defined so far is "colorInfo", the HDR
// description of the video that follows it.

// colorInfoName is the metadata name of the HDR color description.
const colorInfoName = "colorInfo"

// Transfer characteristics (ISO/IEC 23091-4, H.273) that mean HDR.
const (
	TransferPQ  = 16 // SMPTE ST 2084
	TransferHLG = 18 // ARIB STD-B67
)

// ColorConfig is the colorConfig member of colorInfo: bit depth and the
// H.273 code points of the video.
type ColorConfig struct {
	BitDepth                float64
	ColorPrimaries          float64
	TransferCharacteristics float64
	MatrixCoefficients      float64
}

// ContentLightLevel is the hdrCll member of colorInfo, in cd/m².
type ContentLightLevel struct {
	MaxFall, MaxCLL float64
}

// MasteringDisplay is the hdrMdcv member of colorInfo: the mastering
// display's CIE 1931 xy primaries and white point, and its luminance range
// in cd/m².
type MasteringDisplay struct {
	RedX, RedY, GreenX, GreenY, BlueX, BlueY float64
	WhitePointX, WhitePointY                 float64
	MaxLuminance, MinLuminance               float64
}

// ColorInfo is the colorInfo of a video Metadata packet. A colorInfo of
// Undefined, null or an empty object resets the color state: Reset is set
// and nothing else. A member that is absent leaves its Has flag false;
// numbers absent inside a present member are zero.
type ColorInfo struct {
	Reset bool

	HasConfig bool
	Config    ColorConfig

	HasContentLightLevel bool
	ContentLightLevel    ContentLightLevel

	HasMasteringDisplay bool
	MasteringDisplay    MasteringDisplay
}

// HDR names the HDR transfer function the configuration signals: "PQ",
// "HLG", or "" for SDR or when unknown.
func (c ColorInfo) HDR() string {
	if !c.HasConfig {
		return ""
	}
	switch c.Config.TransferCharacteristics {
	case TransferPQ:
		return "PQ"
	case TransferHLG:
		return "HLG"
	}
	return ""
}

// ParseVideoMetadata decodes the body of a video Metadata packet (the
// bytes after the video tag header): AMF0 name/value pairs. It returns the
// colorInfo it carries; ok is false when the body names no colorInfo
// (other metadata is ignored). A body that is not AMF0, or a colorInfo
// that is neither an object, ECMA array, null nor Undefined, is an error.
func ParseVideoMetadata(body []byte) (info ColorInfo, ok bool, err error) {
	dec := amf.NewDecoder0(body)
	for dec.Len() > 0 {
		name, err := dec.Next()
		if err != nil {
			return ColorInfo{}, false, fmt.Errorf("video metadata name: %w: %w", ErrInvalidConfig, err)
		}
		value, err := dec.Next()
		if err != nil {
			return ColorInfo{}, false, fmt.Errorf("video metadata value: %w: %w", ErrInvalidConfig, err)
		}
		if s, _ := name.(string); s != colorInfoName {
			continue
		}
		info, err = colorInfoFrom(value)
		return info, err == nil, err
	}
	return ColorInfo{}, false, nil
}

// colorInfoFrom reads the colorInfo value.
func colorInfoFrom(v any) (ColorInfo, error) {
	props, ok := propertiesOf(v)
	switch {
	case v == nil:
		return ColorInfo{Reset: true}, nil
	case !ok:
		if _, undefined := v.(amf.Undefined); undefined {
			return ColorInfo{Reset: true}, nil
		}
		return ColorInfo{}, fmt.Errorf("colorInfo of type %T: %w", v, ErrInvalidConfig)
	case len(props) == 0:
		return ColorInfo{Reset: true}, nil
	}
	var c ColorInfo
	if p, ok := member(props, "colorConfig"); ok {
		c.HasConfig = true
		c.Config = ColorConfig{
			BitDepth:                number(p, "bitDepth"),
			ColorPrimaries:          number(p, "colorPrimaries"),
			TransferCharacteristics: number(p, "transferCharacteristics"),
			MatrixCoefficients:      number(p, "matrixCoefficients"),
		}
	}
	if p, ok := member(props, "hdrCll"); ok {
		c.HasContentLightLevel = true
		c.ContentLightLevel = ContentLightLevel{MaxFall: number(p, "maxFall"), MaxCLL: number(p, "maxCLL")}
	}
	if p, ok := member(props, "hdrMdcv"); ok {
		c.HasMasteringDisplay = true
		c.MasteringDisplay = MasteringDisplay{
			RedX: number(p, "redX"), RedY: number(p, "redY"),
			GreenX: number(p, "greenX"), GreenY: number(p, "greenY"),
			BlueX: number(p, "blueX"), BlueY: number(p, "blueY"),
			WhitePointX: number(p, "whitePointX"), WhitePointY: number(p, "whitePointY"),
			MaxLuminance: number(p, "maxLuminance"), MinLuminance: number(p, "minLuminance"),
		}
	}
	if !c.HasConfig && !c.HasContentLightLevel && !c.HasMasteringDisplay {
		c.Reset = true // an object with none of the known members
	}
	return c, nil
}

// propertiesOf returns the pairs of an AMF0 object or ECMA array.
func propertiesOf(v any) ([]amf.Property, bool) {
	switch o := v.(type) {
	case amf.Object:
		return o, true
	case amf.ECMAArray:
		return o, true
	}
	return nil, false
}

// member returns the pairs of the object-valued property key.
func member(props []amf.Property, key string) ([]amf.Property, bool) {
	v, ok := amf.Object(props).Get(key)
	if !ok {
		return nil, false
	}
	return propertiesOf(v)
}

// number returns the numeric property key, or 0.
func number(props []amf.Property, key string) float64 {
	f, _ := amf.Object(props).Number(key)
	return f
}

// AppendVideoMetadata appends the body of a video Metadata packet carrying
// c: "colorInfo" followed by its object (Undefined for a reset).
func AppendVideoMetadata(dst []byte, c ColorInfo) ([]byte, error) {
	var value any = amf.Undefined{}
	if !c.Reset {
		obj := amf.Object{}
		if c.HasConfig {
			obj = append(obj, amf.Property{Key: "colorConfig", Value: amf.Object{
				{Key: "bitDepth", Value: c.Config.BitDepth},
				{Key: "colorPrimaries", Value: c.Config.ColorPrimaries},
				{Key: "transferCharacteristics", Value: c.Config.TransferCharacteristics},
				{Key: "matrixCoefficients", Value: c.Config.MatrixCoefficients},
			}})
		}
		if c.HasContentLightLevel {
			obj = append(obj, amf.Property{Key: "hdrCll", Value: amf.Object{
				{Key: "maxFall", Value: c.ContentLightLevel.MaxFall},
				{Key: "maxCLL", Value: c.ContentLightLevel.MaxCLL},
			}})
		}
		if c.HasMasteringDisplay {
			m := c.MasteringDisplay
			obj = append(obj, amf.Property{Key: "hdrMdcv", Value: amf.Object{
				{Key: "redX", Value: m.RedX}, {Key: "redY", Value: m.RedY},
				{Key: "greenX", Value: m.GreenX}, {Key: "greenY", Value: m.GreenY},
				{Key: "blueX", Value: m.BlueX}, {Key: "blueY", Value: m.BlueY},
				{Key: "whitePointX", Value: m.WhitePointX}, {Key: "whitePointY", Value: m.WhitePointY},
				{Key: "maxLuminance", Value: m.MaxLuminance}, {Key: "minLuminance", Value: m.MinLuminance},
			}})
		}
		value = obj
	}
	out, err := amf.Append0(dst, colorInfoName, value)
	if err != nil {
		return nil, fmt.Errorf("colorInfo: %w", err)
	}
	return out, nil
}

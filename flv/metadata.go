package flv

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/mediaserver/mediaserver/amf"
)

// Metadata is the decoded onMetaData script of a stream. The typed fields
// are read from Properties, which keeps every pair in wire order; fields a
// publisher did not send are zero.
type Metadata struct {
	Width, Height   float64
	FrameRate       float64 // "framerate" (or "fps")
	VideoDataRate   float64 // kbit/s
	AudioDataRate   float64 // kbit/s
	AudioSampleRate float64 // Hz
	Duration        float64 // seconds (files; 0 for live streams)
	Stereo          bool
	// VideoCodec and AudioCodec name the codecs: the FourCC string when the
	// codec id maps to one ("avc1", "hvc1", "mp4a", ".mp3", ...), a short
	// name for other legacy ids ("vp6", "speex", ...), or the string the
	// publisher sent.
	VideoCodec, AudioCodec string
	// VideoFourCC and AudioFourCC are the codec FourCCs (legacy ids mapped,
	// Enhanced RTMP FourCC numbers and strings taken as they are); 0 when
	// unknown.
	VideoFourCC, AudioFourCC FourCC
	// Encoder is the "encoder" string (for example "obs-output module").
	Encoder string
	// Properties holds all pairs of the metadata object or ECMA array.
	Properties amf.Object
}

// Script data names.
const (
	setDataFrame = "@setDataFrame"
	onMetaData   = "onMetaData"
)

// amf0SetDataFrame is the AMF0 encoding of the string "@setDataFrame":
// string marker, 16-bit length 13, the bytes.
const amf0SetDataFrame = "\x02\x00\x0d" + setDataFrame

// amf0OnMetaData is the AMF0 encoding of the string "onMetaData".
const amf0OnMetaData = "\x02\x00\x0a" + onMetaData

// IsMetadata reports whether a script payload is onMetaData, sent directly
// or as "@setDataFrame onMetaData", without decoding the rest of it.
func IsMetadata(payload []byte) bool {
	body := string(StripSetDataFrame(payload))
	return len(body) >= len(amf0OnMetaData) && body[:len(amf0OnMetaData)] == amf0OnMetaData
}

// StripSetDataFrame returns payload without a leading AMF0 "@setDataFrame"
// string (a sub-slice, no copy), or payload unchanged. Publishers send
// "@setDataFrame onMetaData {...}"; players expect "onMetaData {...}".
func StripSetDataFrame(payload []byte) []byte {
	if len(payload) >= len(amf0SetDataFrame) && string(payload[:len(amf0SetDataFrame)]) == amf0SetDataFrame {
		return payload[len(amf0SetDataFrame):]
	}
	return payload
}

// ParseMetadata decodes a script payload "onMetaData {...}" or
// "@setDataFrame onMetaData {...}" whose value is an object or an ECMA
// array (a typed object is accepted too; null or undefined give empty
// Properties). Other scripts fail with ErrNotMetadata.
func ParseMetadata(payload []byte) (Metadata, error) {
	dec := amf.NewDecoder0(payload)
	name, err := dec.Next()
	if err != nil {
		return Metadata{}, fmt.Errorf("metadata name: %w", eofAsTruncated(err))
	}
	if name == setDataFrame {
		if name, err = dec.Next(); err != nil {
			return Metadata{}, fmt.Errorf("metadata name: %w", eofAsTruncated(err))
		}
	}
	if name != onMetaData {
		return Metadata{}, fmt.Errorf("script %v: %w", name, ErrNotMetadata)
	}
	v, err := dec.Next()
	if err != nil {
		return Metadata{}, fmt.Errorf("onMetaData value: %w", eofAsTruncated(err))
	}
	var m Metadata
	switch o := v.(type) {
	case amf.Object:
		m.Properties = o
	case amf.ECMAArray:
		m.Properties = amf.Object(o)
	case amf.TypedObject:
		m.Properties = o.Object
	case nil, amf.Undefined:
	default:
		return Metadata{}, fmt.Errorf("onMetaData value of type %T: %w", v, ErrNotMetadata)
	}
	m.fill()
	return m, nil
}

func eofAsTruncated(err error) error {
	if errors.Is(err, io.EOF) {
		return ErrTruncated
	}
	return err
}

// fill derives the typed fields from Properties.
func (m *Metadata) fill() {
	p := m.Properties
	m.Width = metaNumber(p, "width")
	m.Height = metaNumber(p, "height")
	if m.FrameRate = metaNumber(p, "framerate"); m.FrameRate == 0 {
		m.FrameRate = metaNumber(p, "fps")
	}
	m.VideoDataRate = metaNumber(p, "videodatarate")
	m.AudioDataRate = metaNumber(p, "audiodatarate")
	m.AudioSampleRate = metaNumber(p, "audiosamplerate")
	m.Duration = metaNumber(p, "duration")
	if v, ok := metaGet(p, "stereo"); ok {
		switch x := v.(type) {
		case bool:
			m.Stereo = x
		case string:
			m.Stereo, _ = strconv.ParseBool(x)
		default:
			m.Stereo = toNumber(v) != 0
		}
	}
	if v, ok := metaGet(p, "videocodecid"); ok {
		m.VideoCodec, m.VideoFourCC = codecName(v, true)
	}
	if v, ok := metaGet(p, "audiocodecid"); ok {
		m.AudioCodec, m.AudioFourCC = codecName(v, false)
	}
	if v, ok := metaGet(p, "encoder"); ok {
		m.Encoder, _ = v.(string)
	}
}

// metaGet looks key up exactly, then case-insensitively (last match wins).
func metaGet(p amf.Object, key string) (any, bool) {
	if v, ok := p.Get(key); ok {
		return v, true
	}
	for i := len(p) - 1; i >= 0; i-- {
		if strings.EqualFold(p[i].Key, key) {
			return p[i].Value, true
		}
	}
	return nil, false
}

func metaNumber(p amf.Object, key string) float64 {
	v, _ := metaGet(p, key)
	return toNumber(v)
}

// toNumber accepts AMF0 numbers, AMF3 integers and numeric strings; NaN and
// anything else give 0.
func toNumber(v any) float64 {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int32:
		f = float64(x)
	case string:
		f, _ = strconv.ParseFloat(strings.TrimSpace(x), 64)
	}
	if math.IsNaN(f) {
		return 0
	}
	return f
}

// legacyCodecName names the legacy codec ids that have no FourCC.
func legacyCodecName(id uint32, video bool) string {
	if video {
		switch id {
		case 2:
			return "h263"
		case 3:
			return "screen"
		case 4:
			return "vp6"
		case 5:
			return "vp6a"
		case 6:
			return "screen2"
		}
		return strconv.Itoa(int(id))
	}
	switch id {
	case 0:
		return "pcm"
	case 1:
		return "adpcm"
	case 3:
		return "pcm_le"
	case 4:
		return "nellymoser16k"
	case 5:
		return "nellymoser8k"
	case 6:
		return "nellymoser"
	case 7:
		return "alaw"
	case 8:
		return "ulaw"
	case 11:
		return "speex"
	case 14:
		return "mp3_8k"
	case 15:
		return "native"
	}
	return strconv.Itoa(int(id))
}

// codecName interprets a videocodecid/audiocodecid value: a legacy id (a
// number below 16), an Enhanced RTMP FourCC number, or a string holding a
// FourCC, a number or a free-form name.
func codecName(v any, video bool) (string, FourCC) {
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case int32:
		n = float64(x)
	case string:
		s := strings.TrimSpace(x)
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			n = f
			break
		}
		if len(s) == 4 {
			return s, MakeFourCC(s)
		}
		return s, 0
	default:
		return "", 0
	}
	if n < 0 || n > math.MaxUint32 || n != math.Trunc(n) {
		return strconv.FormatFloat(n, 'g', -1, 64), 0
	}
	id := uint32(n)
	if id >= 16 {
		f := FourCC(id)
		return f.String(), f
	}
	f := LegacyAudioFourCC(uint8(id))
	if video {
		f = LegacyVideoFourCC(uint8(id))
	}
	if f != 0 {
		return f.String(), f
	}
	return legacyCodecName(id, video), 0
}

// Append appends the script payload "onMetaData" followed by Properties as
// an AMF0 object (the form Enhanced RTMP recommends writing). The typed
// fields are views of Properties and are not written on their own.
func (m Metadata) Append(dst []byte) ([]byte, error) {
	props := m.Properties
	if props == nil {
		props = amf.Object{}
	}
	out, err := amf.Append0(dst, onMetaData, props)
	if err != nil {
		return dst, fmt.Errorf("onMetaData: %w", err)
	}
	return out, nil
}

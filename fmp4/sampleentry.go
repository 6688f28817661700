package fmp4

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// Limits of the sample entry fields.
const (
	maxDimension     = 0xffff // width and height are 16-bit
	maxEntryRate     = 0xffff // the 16.16 samplerate field holds up to 65535 Hz
	maxEntryChannels = 0xffff
	defaultBitDepth  = 16
	// vpcCVersion is the VPCodecConfigurationBox version the record follows.
	vpcCVersion = 1
	// Minimum decoder configuration record sizes and their version bytes.
	minAVCConfigSize  = 7
	minHEVCConfigSize = 23
	minAV1ConfigSize  = 4
	minVPConfigSize   = 8
	configVersion1    = 1
	av1ConfigMarker   = 0x81 // marker bit and version 1
)

// newSampleEntry checks t, fills in its defaults (timescale, audio rate and
// channels) and returns its sample entry box.
func newSampleEntry(t *Track) (box, error) {
	if t.Codec.IsVideo() {
		return videoSampleEntry(t)
	}
	return audioSampleEntry(t)
}

// videoSampleEntry returns the VisualSampleEntry of t with its codec
// configuration box.
func videoSampleEntry(t *Track) (box, error) {
	if t.Width <= 0 || t.Height <= 0 || t.Width > maxDimension || t.Height > maxDimension {
		return box{}, fmt.Errorf("video size %dx%d: %w", t.Width, t.Height, ErrInvalidTrack)
	}
	if t.Timescale == 0 {
		t.Timescale = DefaultVideoTimescale
	}
	var config box
	c := bytes.Clone(t.Config) // the init section owns its copy
	switch t.Codec {
	case CodecAVC:
		if len(c) < minAVCConfigSize || c[0] != configVersion1 {
			return box{}, fmt.Errorf("avcC record of %d bytes: %w", len(c), ErrInvalidHeader)
		}
		config = box{typ: "avcC", payload: c}
	case CodecHEVC:
		if len(c) < minHEVCConfigSize || c[0] != configVersion1 {
			return box{}, fmt.Errorf("hvcC record of %d bytes: %w", len(c), ErrInvalidHeader)
		}
		config = box{typ: "hvcC", payload: c}
	case CodecAV1:
		if len(c) < minAV1ConfigSize || c[0] != av1ConfigMarker {
			return box{}, fmt.Errorf("av1C record of %d bytes: %w", len(c), ErrInvalidHeader)
		}
		config = box{typ: "av1C", payload: c}
	case CodecVP9:
		record, err := vpRecord(c)
		if err != nil {
			return box{}, err
		}
		config = box{typ: "vpcC", full: true, version: vpcCVersion, payload: record}
	}
	p := make([]byte, 0, 78)
	p = append(p, 0, 0, 0, 0, 0, 0)         // reserved
	p = binary.BigEndian.AppendUint16(p, 1) // data_reference_index
	p = append(p, make([]byte, 16)...)      // pre_defined, reserved
	p = binary.BigEndian.AppendUint16(p, uint16(t.Width))
	p = binary.BigEndian.AppendUint16(p, uint16(t.Height))
	p = binary.BigEndian.AppendUint32(p, 0x00480000) // horizresolution 72 dpi
	p = binary.BigEndian.AppendUint32(p, 0x00480000) // vertresolution 72 dpi
	p = binary.BigEndian.AppendUint32(p, 0)          // reserved
	p = binary.BigEndian.AppendUint16(p, 1)          // frame_count
	p = append(p, make([]byte, 32)...)               // compressorname
	p = binary.BigEndian.AppendUint16(p, 0x0018)     // depth
	p = binary.BigEndian.AppendUint16(p, 0xffff)     // pre_defined -1
	return box{typ: t.Codec.String(), payload: p, children: []box{config}}, nil
}

// vpRecord returns the VPCodecConfigurationRecord of c, given bare (as
// Enhanced RTMP carries it) or behind the vpcC version 1 and flags 0.
func vpRecord(c []byte) ([]byte, error) {
	sized := func(r []byte) bool {
		return len(r) >= minVPConfigSize && minVPConfigSize+int(binary.BigEndian.Uint16(r[6:8])) == len(r)
	}
	if sized(c) {
		return c, nil
	}
	if len(c) >= 4 && c[0] == vpcCVersion && c[1] == 0 && c[2] == 0 && c[3] == 0 && sized(c[4:]) {
		return c[4:], nil
	}
	return nil, fmt.Errorf("vpcC record of %d bytes: %w", len(c), ErrInvalidHeader)
}

// ES descriptor values for MPEG-4 audio in esds (ISO/IEC 14496-1 7.2.6).
const (
	tagESDescriptor           = 0x03
	tagDecoderConfig          = 0x04
	tagDecoderSpecificInfo    = 0x05
	tagSLConfig               = 0x06
	objectTypeAAC             = 0x40 // ISO/IEC 14496-3 audio
	objectTypeMPEG1Audio      = 0x6b // ISO/IEC 11172-3 (MP3 at 32–48 kHz)
	objectTypeMPEG2Audio      = 0x69 // ISO/IEC 13818-3 (MP3 at 16–24 kHz, and 2.5)
	streamTypeAudio           = 0x05<<2 | 1
	slConfigPredefinedMP4     = 0x02
	mpeg1MinSampleRate        = 32000
	decoderConfigFixedSize    = 13
	esDescriptorFixedSize     = 3
	maxDescriptorLengthLength = 4
)

// appendDescriptorHeader appends an MPEG-4 descriptor tag and its length
// in the variable-length form (7 bits a byte).
func appendDescriptorHeader(p []byte, tag byte, length int) []byte {
	p = append(p, tag)
	n := 1
	for length>>(7*n) > 0 && n < maxDescriptorLengthLength {
		n++
	}
	for i := n - 1; i > 0; i-- {
		p = append(p, byte(length>>(7*i))&0x7f|0x80)
	}
	return append(p, byte(length)&0x7f)
}

// descriptorSize returns the encoded size of a descriptor with a body of
// length bytes.
func descriptorSize(length int) int {
	return len(appendDescriptorHeader(make([]byte, 0, 1+maxDescriptorLengthLength), 0, length)) + length
}

// esdsBox returns the elementary stream descriptor box of an MPEG audio
// track: its object type and, for AAC, the AudioSpecificConfig.
func esdsBox(objectType byte, specificInfo []byte) box {
	decoderConfigLen := decoderConfigFixedSize
	if len(specificInfo) > 0 {
		decoderConfigLen += descriptorSize(len(specificInfo))
	}
	esLen := esDescriptorFixedSize + descriptorSize(decoderConfigLen) + descriptorSize(1)
	p := appendDescriptorHeader(nil, tagESDescriptor, esLen)
	p = append(p, 0, 0, 0) // ES_ID 0, no dependency, URL or OCR stream
	p = appendDescriptorHeader(p, tagDecoderConfig, decoderConfigLen)
	p = append(p, objectType, streamTypeAudio)
	p = append(p, make([]byte, 11)...) // bufferSizeDB, maxBitrate, avgBitrate: unknown
	if len(specificInfo) > 0 {
		p = appendDescriptorHeader(p, tagDecoderSpecificInfo, len(specificInfo))
		p = append(p, specificInfo...)
	}
	p = appendDescriptorHeader(p, tagSLConfig, 1)
	p = append(p, slConfigPredefinedMP4)
	return box{typ: "esds", full: true, payload: p}
}

// audioSampleEntry returns the AudioSampleEntry of t with its codec
// configuration box.
func audioSampleEntry(t *Track) (box, error) {
	var (
		config box
		params audioParams
		err    error
	)
	bits := defaultBitDepth
	switch t.Codec {
	case CodecAAC:
		if params, err = parseAACParams(t.Config); err != nil {
			return box{}, err
		}
		config = esdsBox(objectTypeAAC, t.Config)
	case CodecMP3:
		mpeg1 := true
		if len(t.Config) > 0 {
			if params, mpeg1, err = parseMPEGAudioHeader(t.Config); err != nil {
				return box{}, err
			}
		} else if t.SampleRate > 0 {
			mpeg1 = t.SampleRate >= mpeg1MinSampleRate
		}
		objectType := byte(objectTypeMPEG1Audio)
		if !mpeg1 {
			objectType = objectTypeMPEG2Audio
		}
		config = esdsBox(objectType, nil)
	case CodecOpus:
		if config, params, err = opusDOps(t.Config); err != nil {
			return box{}, err
		}
	case CodecFLAC:
		if config, params, bits, err = flacDfLa(t.Config); err != nil {
			return box{}, err
		}
	case CodecAC3, CodecEAC3:
		var h ac3Header
		if t.Codec == CodecAC3 {
			h, err = parseAC3Header(t.Config)
			config = h.dac3()
		} else {
			h, err = parseEAC3Header(t.Config)
			config = h.dec3()
		}
		if err != nil {
			return box{}, err
		}
		params = h.params
	default:
		return box{}, ErrUnsupportedCodec
	}
	if t.SampleRate == 0 {
		t.SampleRate = params.sampleRate
	}
	if t.Channels == 0 {
		t.Channels = params.channels
	}
	if t.SampleRate <= 0 || t.SampleRate > math.MaxUint32 || t.Channels <= 0 || t.Channels > maxEntryChannels {
		return box{}, fmt.Errorf("audio at %d Hz, %d channels: %w", t.SampleRate, t.Channels, ErrInvalidTrack)
	}
	if t.Timescale == 0 {
		t.Timescale = uint32(t.SampleRate)
	}
	entryRate := t.SampleRate
	if t.Codec == CodecOpus {
		entryRate = opusSampleRate
	}
	if entryRate > maxEntryRate {
		entryRate = 0 // too high for 16.16: the timescale gives it
	}
	p := make([]byte, 0, 28)
	p = append(p, 0, 0, 0, 0, 0, 0)         // reserved
	p = binary.BigEndian.AppendUint16(p, 1) // data_reference_index
	p = append(p, make([]byte, 8)...)       // reserved
	p = binary.BigEndian.AppendUint16(p, uint16(t.Channels))
	p = binary.BigEndian.AppendUint16(p, uint16(bits))
	p = binary.BigEndian.AppendUint32(p, 0) // pre_defined, reserved
	p = binary.BigEndian.AppendUint32(p, uint32(entryRate)<<16)
	return box{typ: t.Codec.String(), payload: p, children: []box{config}}, nil
}

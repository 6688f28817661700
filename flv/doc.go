// Package flv reads and writes the FLV container and the payloads RTMP carries
// inside audio and video messages.
//
// It covers the FLV file header and tags (with previous-tag-size trailers), a
// streaming Reader and Writer, the legacy audio and video tag headers of the
// Adobe FLV 10.1 specification, the Enhanced RTMP v2 extended headers (FourCC
// codecs, ModEx, multitrack), codec configuration records (AVC
// AVCDecoderConfigurationRecord and SPS, HEVC HEVCDecoderConfigurationRecord
// and SPS, AV1 AV1CodecConfigurationRecord and sequence header OBU, VP9
// VPCodecConfigurationRecord and key frame size, AAC AudioSpecificConfig and
// ADTS, Opus identification header, FLAC STREAMINFO) with codec-neutral
// summaries (ParseVideoConfig, ParseAudioConfig), AVCC ⇄ Annex-B conversion
// and onMetaData parsing.
//
// Every parser works on untrusted input: lengths read off the wire are checked
// before anything is allocated, nothing panics, and decoded values alias the
// input slice unless documented otherwise.
package flv

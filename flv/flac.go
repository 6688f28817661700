package flv

import "fmt"

// FLACStreamInfo is the FLAC STREAMINFO metadata block (RFC 9639 8.2), the
// body of an fLaC SequenceStart packet.
type FLACStreamInfo struct {
	// MinBlockSize and MaxBlockSize are in samples (16..65535).
	MinBlockSize, MaxBlockSize uint16
	// MinFrameSize and MaxFrameSize are in bytes (24 bits; 0 unknown).
	MinFrameSize, MaxFrameSize uint32
	// SampleRate is in Hz (20 bits).
	SampleRate uint32
	// Channels is 1..8.
	Channels uint8
	// BitsPerSample is 4..32.
	BitsPerSample uint8
	// TotalSamples is the stream length in samples per channel (36 bits;
	// 0 unknown, as for live streams).
	TotalSamples uint64
	// MD5 is the MD5 of the unencoded audio (zero when unknown).
	MD5 [16]byte
}

// Sizes of FLAC metadata structures.
const (
	// FLACStreamInfoSize is the size of the STREAMINFO block body.
	FLACStreamInfoSize      = 34
	flacMarker              = "fLaC"
	flacBlockHeaderSize     = 4
	flacBlockTypeStreamInfo = 0
	maxFLACTotalSamples     = 1<<36 - 1
	maxFLACFrameSize        = 1<<24 - 1
	maxFLACSampleRate       = 1<<20 - 1
)

// ParseFLACStreamInfo decodes a STREAMINFO block. It accepts the block body
// alone (34 bytes, what ffmpeg sends), the body behind its 4-byte metadata
// block header, and the whole "fLaC" stream header; bytes after the block
// (further metadata blocks) are ignored.
func ParseFLACStreamInfo(data []byte) (FLACStreamInfo, error) {
	body, err := flacStreamInfoBody(data)
	if err != nil {
		return FLACStreamInfo{}, err
	}
	r := bitReader{b: body}
	s := FLACStreamInfo{
		MinBlockSize:  uint16(r.u(16)),
		MaxBlockSize:  uint16(r.u(16)),
		MinFrameSize:  r.u(24),
		MaxFrameSize:  r.u(24),
		SampleRate:    r.u(20),
		Channels:      uint8(r.u(3)) + 1,
		BitsPerSample: uint8(r.u(5)) + 1,
	}
	s.TotalSamples = uint64(r.u(4))<<32 | uint64(r.u(32))
	copy(s.MD5[:], body[18:FLACStreamInfoSize])
	if s.BitsPerSample < 4 {
		return FLACStreamInfo{}, fmt.Errorf("FLAC %d bits per sample: %w", s.BitsPerSample, ErrInvalidConfig)
	}
	return s, nil
}

// flacStreamInfoBody locates the 34-byte STREAMINFO body in one of the
// three accepted forms.
func flacStreamInfoBody(data []byte) ([]byte, error) {
	if len(data) >= len(flacMarker) && string(data[:len(flacMarker)]) == flacMarker {
		data = data[len(flacMarker):]
		if len(data) < flacBlockHeaderSize {
			return nil, fmt.Errorf("FLAC metadata block header: %w", ErrTruncated)
		}
		if data[0]&0x7f != flacBlockTypeStreamInfo {
			return nil, fmt.Errorf("first FLAC metadata block of type %d: %w", data[0]&0x7f, ErrInvalidConfig)
		}
	}
	// A header in front: type 0 and length 34. A bare body never looks like
	// that (its minimum block size would be 0 or 32768 above a maximum of 34).
	if len(data) >= flacBlockHeaderSize+FLACStreamInfoSize && data[0]&0x7f == flacBlockTypeStreamInfo &&
		data[1] == 0 && data[2] == 0 && data[3] == FLACStreamInfoSize {
		data = data[flacBlockHeaderSize:]
	}
	if len(data) < FLACStreamInfoSize {
		return nil, fmt.Errorf("FLAC STREAMINFO of %d bytes: %w", len(data), ErrTruncated)
	}
	return data[:FLACStreamInfoSize], nil
}

// Validate reports whether Append can encode s faithfully.
func (s FLACStreamInfo) Validate() error {
	switch {
	case s.MinFrameSize > maxFLACFrameSize || s.MaxFrameSize > maxFLACFrameSize:
		return fmt.Errorf("FLAC frame sizes %d/%d: %w", s.MinFrameSize, s.MaxFrameSize, ErrInvalidConfig)
	case s.SampleRate > maxFLACSampleRate || s.Channels < 1 || s.Channels > 8:
		return fmt.Errorf("FLAC rate %d, %d channels: %w", s.SampleRate, s.Channels, ErrInvalidConfig)
	case s.BitsPerSample < 4 || s.BitsPerSample > 32 || s.TotalSamples > maxFLACTotalSamples:
		return fmt.Errorf("FLAC %d bits, %d samples: %w", s.BitsPerSample, s.TotalSamples, ErrInvalidConfig)
	}
	return nil
}

// Append appends the 34-byte STREAMINFO body (no block header); fields
// outside their ranges (see Validate) are masked.
func (s FLACStreamInfo) Append(dst []byte) []byte {
	w := bitWriter{b: dst}
	w.put(uint32(s.MinBlockSize), 16)
	w.put(uint32(s.MaxBlockSize), 16)
	w.put(s.MinFrameSize, 24)
	w.put(s.MaxFrameSize, 24)
	w.put(s.SampleRate, 20)
	w.put(uint32(s.Channels-1), 3)
	w.put(uint32(s.BitsPerSample-1), 5)
	w.put(uint32(s.TotalSamples>>32), 4)
	w.put(uint32(s.TotalSamples), 32)
	return append(w.b, s.MD5[:]...)
}

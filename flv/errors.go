package flv

import "errors"

// Sentinel errors that callers branch on. Functions wrap them with context, so
// test with errors.Is.
var (
	// ErrTruncated reports input that ends before a structure is complete.
	ErrTruncated = errors.New("flv: truncated data")
	// ErrEmpty reports an empty audio or video payload. An empty audio message
	// is the legacy RTMP "audio silence" signal; callers usually skip it.
	ErrEmpty = errors.New("flv: empty payload")
	// ErrNotFLV reports a file header without the "FLV" signature.
	ErrNotFLV = errors.New("flv: not an FLV header")
	// ErrTagTooLarge reports a tag whose data size exceeds the configured cap.
	ErrTagTooLarge = errors.New("flv: tag too large")
	// ErrEncryptedTag reports a tag with the Filter bit set (encrypted or
	// otherwise pre-processed payload), which this package cannot interpret.
	ErrEncryptedTag = errors.New("flv: filtered (encrypted) tag")
	// ErrUnknownPacketType reports a reserved or unknown packet type value.
	ErrUnknownPacketType = errors.New("flv: unknown packet type")
	// ErrInvalidMultitrack reports a malformed or unsupported multitrack header.
	ErrInvalidMultitrack = errors.New("flv: invalid multitrack header")
	// ErrInvalidModEx reports a malformed ModEx entry.
	ErrInvalidModEx = errors.New("flv: invalid ModEx data")
	// ErrInvalidHeader reports a tag header that cannot be encoded or decoded
	// as described (for example a legacy packet type the codec cannot carry).
	ErrInvalidHeader = errors.New("flv: invalid tag header")
	// ErrInvalidConfig reports a malformed codec configuration record.
	ErrInvalidConfig = errors.New("flv: invalid codec configuration")
	// ErrInvalidSPS reports a malformed H.264 or H.265 sequence parameter set.
	ErrInvalidSPS = errors.New("flv: invalid SPS")
	// ErrUnsupportedCodec reports a FourCC ParseVideoConfig or
	// ParseAudioConfig does not know.
	ErrUnsupportedCodec = errors.New("flv: unsupported codec")
	// ErrLengthSize reports a NALU length size other than 1, 2 or 4.
	ErrLengthSize = errors.New("flv: invalid NALU length size")
	// ErrNotMetadata reports a script tag that is not onMetaData.
	ErrNotMetadata = errors.New("flv: not an onMetaData script")
)

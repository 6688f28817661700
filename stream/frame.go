package stream

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/mediaserver/mediaserver/flv"
)

const (
	// maxEncodings bounds the serialisations cached per frame; further keys
	// are built on every call instead of being cached.
	maxEncodings = 8
)

// Frame is one media frame parsed once from an FLV tag body. It is immutable
// once created: every reader shares the same *Frame, and nobody may modify it
// or its Payload. Its lazily built serialisations (FLVTag, Encoded) are shared
// too. A Frame must not be copied after first use.
type Frame struct {
	// Type is the FLV tag type: flv.TagAudio, flv.TagVideo or flv.TagScript.
	Type flv.TagType
	// Time is the decoding timestamp in milliseconds.
	Time uint32
	// CompositionTime is the presentation offset (PTS-DTS) in milliseconds;
	// zero for audio and script data.
	CompositionTime int32
	// Keyframe is true for a video frame of frame type key (1) or generated
	// key (4) that carries coded frames of the default track (a
	// single-track message, or a multitrack one listing track 0): a random
	// access point.
	Keyframe bool
	// Header is true for decoder configuration: a video or audio sequence
	// start (of any track), an Enhanced RTMP video Metadata packet (HDR
	// colorInfo) or audio MultichannelConfig, or script data named
	// onMetaData (optionally behind @setDataFrame). A sequence end is not a
	// header. IsSequenceStart tells the decoder configuration records apart.
	Header bool
	// Codec is the codec FourCC (0 for script data and unmapped legacy codecs);
	// for a multitrack message, the first track's.
	Codec flv.FourCC
	// Packet is the normalised packet type of a video or audio tag
	// (flv.PacketSequenceStart, flv.PacketCodedFrames, flv.PacketMetadata …);
	// zero for script data.
	Packet flv.PacketType
	// Multitrack is set for an Enhanced RTMP multitrack message; Track is
	// then the id of its first track (0, the default track, otherwise).
	Multitrack bool
	Track      uint8
	// Payload is the FLV tag body exactly as received.
	Payload []byte

	// seqEnd marks a video/audio sequence end packet.
	seqEnd bool
	// codedKey marks a video message of coded frames whose frame type is
	// key or generated key, whatever tracks it carries (Keyframe is for the
	// default track only).
	codedKey bool
	// moreTracks lists the ids of a multitrack message's tracks after the
	// first (nil for a message of one track).
	moreTracks []uint8
	// gen is the generation of the publisher that wrote the frame (see
	// Generation).
	gen uint32

	tagOnce sync.Once
	tag     []byte

	partsOnce sync.Once
	parts     [flv.TagHeaderSize + 4]byte // tag header, then previous-tag-size

	encMu   sync.Mutex
	enc0    encoding   // the first cached serialisation (usually the only one)
	encMore []encoding // further ones, up to maxEncodings in total
	// views caches the single-track forms of a multitrack message (see
	// TrackSelection), guarded by encMu.
	views []trackView
}

// encoding is one cached serialisation of a Frame.
type encoding struct {
	key  any
	data []byte
}

// NewFrame parses the tag header of an FLV tag body once and returns the
// immutable frame. payload is retained, not copied: the caller must not
// modify it afterwards.
func NewFrame(t flv.TagType, ts uint32, payload []byte) (*Frame, error) {
	f := &Frame{Type: t, Time: ts, Payload: payload}
	switch t {
	case flv.TagVideo:
		h, err := flv.ParseVideoTagHeader(payload)
		if err != nil {
			return nil, fmt.Errorf("video tag at %d ms: %w", ts, err)
		}
		f.classifyVideo(h)
	case flv.TagAudio:
		h, err := flv.ParseAudioTagHeader(payload)
		if err != nil {
			return nil, fmt.Errorf("audio tag at %d ms: %w", ts, err)
		}
		f.classifyAudio(h)
	case flv.TagScript:
		f.Header = flv.IsMetadata(payload)
	default:
		return nil, fmt.Errorf("tag type %d at %d ms: %w", t, ts, ErrUnsupportedTag)
	}
	return f, nil
}

// withTime returns a copy of f carrying timestamp ts; the payload is shared.
// It is the hook used to rebase a publisher's timeline.
func (f *Frame) withTime(ts uint32) *Frame {
	return &Frame{
		Type:            f.Type,
		Time:            ts,
		CompositionTime: f.CompositionTime,
		Keyframe:        f.Keyframe,
		Header:          f.Header,
		Codec:           f.Codec,
		Packet:          f.Packet,
		Multitrack:      f.Multitrack,
		Track:           f.Track,
		Payload:         f.Payload,
		seqEnd:          f.seqEnd,
		codedKey:        f.codedKey,
		moreTracks:      f.moreTracks,
		gen:             f.gen,
	}
}

// withPayload returns a copy of f carrying payload p instead of its own.
func (f *Frame) withPayload(p []byte) *Frame {
	g := f.withTime(f.Time)
	g.Payload = p
	return g
}

// FLVTag returns the complete FLV tag for f: the 11-byte tag header, the
// payload and the 4-byte previous-tag-size. It is built on first use and
// shared by all callers, who must not modify it.
func (f *Frame) FLVTag() []byte {
	f.tagOnce.Do(func() {
		buf := make([]byte, 0, flv.TagHeaderSize+len(f.Payload)+4)
		f.tag = flv.AppendTag(buf, f.Type, f.Time, f.Payload)
	})
	return f.tag
}

// FLVTagParts returns the FLV tag of f in two pieces around the payload: the
// 11-byte tag header and the 4-byte previous-tag-size. Written as head,
// Payload, tail (one vectored write), they are the bytes of FLVTag without a
// copy of the payload. Built on first use and shared; callers must not
// modify them.
func (f *Frame) FLVTagParts() (head, tail []byte) {
	f.partsOnce.Do(func() {
		b := flv.AppendTagHeader(f.parts[:0], f.Type, f.Time, len(f.Payload))
		binary.BigEndian.PutUint32(f.parts[len(b):], uint32(len(b)+len(f.Payload)))
	})
	return f.parts[:flv.TagHeaderSize], f.parts[flv.TagHeaderSize:]
}

// Encoded returns the serialisation of f identified by key (a comparable
// value, for example a chunk size), calling build to produce it on first use
// and sharing the result with every later caller. build runs with the frame's
// encoding lock held, so concurrent callers wait for one build instead of
// repeating it; build must not call Encoded on the same frame. Callers must
// not modify the returned bytes.
func (f *Frame) Encoded(key any, build func(*Frame) []byte) []byte {
	f.encMu.Lock()
	defer f.encMu.Unlock()
	if f.enc0.key != nil {
		if f.enc0.key == key {
			return f.enc0.data
		}
		for i := range f.encMore {
			if f.encMore[i].key == key {
				return f.encMore[i].data
			}
		}
	}
	data := build(f)
	switch {
	case f.enc0.key == nil:
		f.enc0 = encoding{key: key, data: data}
	case len(f.encMore)+1 < maxEncodings:
		f.encMore = append(f.encMore, encoding{key: key, data: data})
	}
	return data
}

// headerKind names which slot of a Headers set a header frame occupies.
type headerKind uint8

const (
	kindNone headerKind = iota
	kindMetadata
	kindVideo
	kindAudio
)

// kind reports the Headers slot of a header frame, or kindNone.
func (f *Frame) kind() headerKind {
	if !f.Header {
		return kindNone
	}
	switch f.Type {
	case flv.TagScript:
		return kindMetadata
	case flv.TagVideo:
		return kindVideo
	case flv.TagAudio:
		return kindAudio
	}
	return kindNone
}

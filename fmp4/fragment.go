package fmp4

import (
	"encoding/binary"
	"math"
)

// SampleFlags are the sample flags of ISO/IEC 14496-12 8.8.3.1:
// is_leading, sample_depends_on, sample_is_depended_on,
// sample_has_redundancy, padding, sample_is_non_sync_sample and the
// degradation priority, in one 32-bit word.
type SampleFlags uint32

// Sample flags for the common cases. The zero value is a sync sample whose
// dependencies are not stated.
const (
	// SyncSample is a key frame (or an audio frame): it depends on no other
	// sample (sample_depends_on 2) and decoding may start at it.
	SyncSample SampleFlags = 2 << 24
	// NonSyncSample is an inter frame: it depends on others
	// (sample_depends_on 1) and is not a sync sample.
	NonSyncSample SampleFlags = 1<<24 | sampleIsNonSync
	// Disposable marks a sample no other sample depends on
	// (sample_is_depended_on 2), such as a non-reference B-frame; combine
	// it with NonSyncSample.
	Disposable SampleFlags = 2 << 22

	sampleIsNonSync SampleFlags = 1 << 16
)

// IsSync reports whether the flags mark a sync sample.
func (f SampleFlags) IsSync() bool { return f&sampleIsNonSync == 0 }

// Sample is one frame of a track fragment.
type Sample struct {
	// Duration is in the track's timescale.
	Duration uint32
	// CompositionOffset is the presentation time minus the decode time, in
	// the track's timescale; negative offsets are allowed.
	CompositionOffset int32
	// Flags say whether the sample is a sync sample.
	Flags SampleFlags
	// Data is the sample as MP4 stores it: length-prefixed NAL units for
	// H.264 and H.265 (what Enhanced RTMP carries), OBUs for AV1, the raw
	// frame for the other codecs. It is referenced, never modified. It
	// should not be empty: ffmpeg refuses a fragment with an empty sample
	// (an FLV end-of-sequence tag is not a frame).
	Data []byte
}

// TrackFragment is the run of samples of one track in a fragment.
type TrackFragment struct {
	// TrackID is the track's ID in the init section.
	TrackID uint32
	// BaseMediaDecodeTime is the decode time of the first sample in the
	// track's timescale, counted from the start of the track.
	BaseMediaDecodeTime uint64
	// Samples are the samples in decode order.
	Samples []Sample
}

// StartsWithSync reports whether the run's first sample is a sync sample,
// so a player can start decoding the track at this fragment (a segment
// starts so; an LL-HLS part is INDEPENDENT when its video run does).
func (tf *TrackFragment) StartsWithSync() bool {
	return len(tf.Samples) > 0 && tf.Samples[0].Flags.IsSync()
}

// Fragment is a media fragment: a moof box with one traf per track and the
// mdat box holding the samples, track after track. Fragments that start a
// segment begin every video run with a sync sample; LL-HLS parts need not.
type Fragment struct {
	// SequenceNumber is the mfhd sequence number; it increases from one
	// fragment of a track to the next.
	SequenceNumber uint32
	// Tracks are written in this order, in moof and in mdat.
	Tracks []TrackFragment
}

// Box sizes of a fragment.
const (
	mfhdSize          = fullBoxHeaderSize + 4
	tfhdSize          = fullBoxHeaderSize + 4 // track_ID
	tfdtSize          = fullBoxHeaderSize + 8 // version 1
	trunFixedSize     = fullBoxHeaderSize + 4 + 4
	defaultFlagsSize  = 4
	sampleFieldSize   = 4
	trunVersionSigned = 1
)

// tfhd and trun flags.
const (
	tfhdDefaultSampleFlags   = 0x000020
	tfhdDefaultBaseIsMoof    = 0x020000
	trunDataOffset           = 0x000001
	trunFirstSampleFlags     = 0x000004
	trunSampleDuration       = 0x000100
	trunSampleSize           = 0x000200
	trunSampleFlags          = 0x000400
	trunSampleCompositionOff = 0x000800
)

// runLayout is how a track run writes its flags and composition offsets:
// the fewest bytes that describe it.
type runLayout struct {
	trunFlags    uint32
	tfhdFlags    uint32
	defaultFlags SampleFlags
	dataSize     int
}

// layout chooses the layout of a run: flags shared by every sample go to
// tfhd as the default; a first sample that differs from the rest (a key
// frame opening a run of inter frames) is written as first_sample_flags;
// otherwise every sample has its flags. Composition offsets are written
// only when one is not zero.
func (tf *TrackFragment) layout() runLayout {
	l := runLayout{
		trunFlags: trunDataOffset | trunSampleDuration | trunSampleSize,
		tfhdFlags: tfhdDefaultBaseIsMoof,
	}
	samples := tf.Samples
	restUniform := true
	for i := range samples {
		l.dataSize += len(samples[i].Data)
		if samples[i].CompositionOffset != 0 {
			l.trunFlags |= trunSampleCompositionOff
		}
		if i > 1 && samples[i].Flags != samples[1].Flags {
			restUniform = false
		}
	}
	switch {
	case len(samples) == 0:
	case !restUniform:
		l.trunFlags |= trunSampleFlags
	case len(samples) == 1 || samples[0].Flags == samples[1].Flags:
		l.tfhdFlags |= tfhdDefaultSampleFlags
		l.defaultFlags = samples[len(samples)-1].Flags
	default:
		l.tfhdFlags |= tfhdDefaultSampleFlags
		l.trunFlags |= trunFirstSampleFlags
		l.defaultFlags = samples[1].Flags
	}
	return l
}

// trafSize returns the size of the run's traf box.
func (l runLayout) trafSize(samples int) int {
	n := boxHeaderSize + tfhdSize + tfdtSize + trunFixedSize
	if l.tfhdFlags&tfhdDefaultSampleFlags != 0 {
		n += defaultFlagsSize
	}
	if l.trunFlags&trunFirstSampleFlags != 0 {
		n += sampleFieldSize
	}
	perSample := 2 * sampleFieldSize
	if l.trunFlags&trunSampleFlags != 0 {
		perSample += sampleFieldSize
	}
	if l.trunFlags&trunSampleCompositionOff != 0 {
		perSample += sampleFieldSize
	}
	return n + samples*perSample
}

// sizes returns the sizes of moof and of the mdat payload.
func (f *Fragment) sizes() (moof, payload int) {
	moof = boxHeaderSize + mfhdSize
	for i := range f.Tracks {
		tf := &f.Tracks[i]
		l := tf.layout()
		moof += l.trafSize(len(tf.Samples))
		payload += l.dataSize
	}
	return moof, payload
}

// mdatHeaderSize returns the size of an mdat header for a payload.
func mdatHeaderSize(payload int) int {
	if uint64(boxHeaderSize+payload) > math.MaxUint32 {
		return largeBoxHeaderSize
	}
	return boxHeaderSize
}

// HeaderSize returns the size of the fragment without the sample data: moof
// and the mdat box header.
func (f *Fragment) HeaderSize() int {
	moof, payload := f.sizes()
	return moof + mdatHeaderSize(payload)
}

// Size returns the encoded size of the whole fragment.
func (f *Fragment) Size() int {
	moof, payload := f.sizes()
	return moof + mdatHeaderSize(payload) + payload
}

// MarshalHeaderTo writes moof and the mdat box header into b, which must
// hold HeaderSize bytes, and returns the number of bytes written. The
// samples' data, track after track, completes the fragment.
func (f *Fragment) MarshalHeaderTo(b []byte) int {
	moof, payload := f.sizes()
	mdatHeader := mdatHeaderSize(payload)
	n := putBoxHeader(b, moof, "moof")
	n += putFullBoxHeader(b[n:], mfhdSize, "mfhd", 0, 0)
	binary.BigEndian.PutUint32(b[n:], f.SequenceNumber)
	n += 4
	dataOffset := moof + mdatHeader // from the start of moof
	for i := range f.Tracks {
		tf := &f.Tracks[i]
		l := tf.layout()
		n += tf.marshalTraf(b[n:], l, dataOffset)
		dataOffset += l.dataSize
	}
	if mdatHeader == largeBoxHeaderSize {
		binary.BigEndian.PutUint32(b[n:], 1)
		copy(b[n+4:], "mdat")
		binary.BigEndian.PutUint64(b[n+8:], uint64(largeBoxHeaderSize+payload))
		return n + largeBoxHeaderSize
	}
	return n + putBoxHeader(b[n:], boxHeaderSize+payload, "mdat")
}

// marshalTraf writes the run's traf box and returns its size.
func (tf *TrackFragment) marshalTraf(b []byte, l runLayout, dataOffset int) int {
	size := l.trafSize(len(tf.Samples))
	n := putBoxHeader(b, size, "traf")
	tfhd := tfhdSize
	if l.tfhdFlags&tfhdDefaultSampleFlags != 0 {
		tfhd += defaultFlagsSize
	}
	n += putFullBoxHeader(b[n:], tfhd, "tfhd", 0, l.tfhdFlags)
	binary.BigEndian.PutUint32(b[n:], tf.TrackID)
	n += 4
	if l.tfhdFlags&tfhdDefaultSampleFlags != 0 {
		binary.BigEndian.PutUint32(b[n:], uint32(l.defaultFlags))
		n += 4
	}
	n += putFullBoxHeader(b[n:], tfdtSize, "tfdt", 1, 0)
	binary.BigEndian.PutUint64(b[n:], tf.BaseMediaDecodeTime)
	n += 8
	version := uint8(0)
	if l.trunFlags&trunSampleCompositionOff != 0 {
		version = trunVersionSigned
	}
	n += putFullBoxHeader(b[n:], size-n, "trun", version, l.trunFlags)
	binary.BigEndian.PutUint32(b[n:], uint32(len(tf.Samples)))
	binary.BigEndian.PutUint32(b[n+4:], uint32(dataOffset))
	n += 8
	if l.trunFlags&trunFirstSampleFlags != 0 {
		binary.BigEndian.PutUint32(b[n:], uint32(tf.Samples[0].Flags))
		n += 4
	}
	for i := range tf.Samples {
		s := &tf.Samples[i]
		binary.BigEndian.PutUint32(b[n:], s.Duration)
		binary.BigEndian.PutUint32(b[n+4:], uint32(len(s.Data)))
		n += 8
		if l.trunFlags&trunSampleFlags != 0 {
			binary.BigEndian.PutUint32(b[n:], uint32(s.Flags))
			n += 4
		}
		if l.trunFlags&trunSampleCompositionOff != 0 {
			binary.BigEndian.PutUint32(b[n:], uint32(s.CompositionOffset))
			n += 4
		}
	}
	return n
}

// MarshalTo writes the whole fragment, copying the samples' data, into b,
// which must hold Size bytes, and returns the number of bytes written.
func (f *Fragment) MarshalTo(b []byte) int {
	n := f.MarshalHeaderTo(b)
	for i := range f.Tracks {
		for j := range f.Tracks[i].Samples {
			n += copy(b[n:], f.Tracks[i].Samples[j].Data)
		}
	}
	return n
}

// AppendHeader appends moof and the mdat box header to dst: the fragment
// without its sample data, which the caller sends after it.
func (f *Fragment) AppendHeader(dst []byte) []byte {
	n := len(dst)
	dst = grow(dst, f.HeaderSize())
	f.MarshalHeaderTo(dst[n:])
	return dst
}

// Append appends the whole fragment, samples' data copied, to dst.
func (f *Fragment) Append(dst []byte) []byte {
	n := len(dst)
	dst = grow(dst, f.Size())
	f.MarshalTo(dst[n:])
	return dst
}

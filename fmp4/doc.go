// Package fmp4 writes fragmented MP4 (ISO/IEC 14496-12 ISO BMFF, in the
// CMAF profile of ISO/IEC 23000-19): init sections and media fragments, as
// HLS (fMP4 segments and LL-HLS parts) and recording need them.
//
// An init section (NewInit) holds ftyp and moov: one trak per track, with the
// sample entry of its codec (avc1, hvc1, av01, vp09, mp4a for AAC and MP3,
// Opus, fLaC, ac-3, ec-3) built from the decoder configuration the ingest
// carries, and mvex/trex announcing that the samples follow in fragments.
// A media fragment (Fragment) is moof (mfhd, one traf per track with tfhd,
// tfdt and trun) followed by mdat.
//
// Boxes are written MarshalTo-style: Size reports the encoded size first and
// MarshalTo writes into a buffer the caller provides. Fragment headers are
// written without allocating, and sample payloads need not be copied: a
// FragmentWriter sends a fragment as its header followed by the caller's
// payload slices in one vectored write, reusing its buffers from fragment to
// fragment.
//
// An HLS segment is several fragments (one per LL-HLS part); a part that
// many viewers fetch is kept as its header (Fragment.AppendHeader, into
// memory the segmenter owns) followed by the frames' payloads, shared with
// every other output rather than copied.
//
// The package imports only the standard library; the parsers it has (the
// AC-3, E-AC-3 and MPEG audio frame headers, the Opus identification header)
// work on untrusted input and never panic.
package fmp4

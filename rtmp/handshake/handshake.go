// Package handshake implements the RTMP handshake over any io.ReadWriter:
// the plain ("simple") handshake of the RTMP 1.0 specification and the
// HMAC-SHA256 digest ("complex") handshake that Flash Player, ffmpeg and
// librtmp-based encoders use.
//
// Every packet is read with io.ReadFull directly from the ReadWriter, never
// more than the handshake needs, so the caller can wrap the same connection
// in a buffered reader afterwards. The caller sets deadlines; a truncated
// handshake returns an error wrapping io.ErrUnexpectedEOF.
//
// Digest layout. C1 and S1 are 1536 bytes: time (4), version (4) and two
// 764-byte blocks, one carrying a 32-byte digest and the other a key. The
// digest block starts with 4 offset bytes; the digest sits at
// base+4+(sum of the 4 offset bytes)%728 where base is the block start. The
// digest is HMAC-SHA256 over the other 1504 bytes, keyed with the first 30
// bytes of the player key (C1) or the first 36 bytes of the server key (S1).
// S2 (and C2) are 1504 random bytes followed by HMAC-SHA256 of those bytes,
// keyed with HMAC-SHA256(full server (player) key, peer's C1 (S1) digest).
package handshake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// Sizes of the handshake packets.
const (
	// Version is the only RTMP version this package speaks (C0/S0).
	Version = 3
	// PacketSize is the size of C1, S1, C2 and S2.
	PacketSize = 1536
	// DigestSize is the size of an HMAC-SHA256 digest.
	DigestSize = sha256.Size
)

// DefaultServerVersion is the version field the server puts in S1 when it
// answers a digest handshake (4.5.0.1, like Flash Media Server). Clients
// such as ffmpeg only look for a server digest when the first byte is ≥ 3.
const DefaultServerVersion uint32 = 0x04050001

// DefaultClientVersion is the version field Client puts in C1 for a digest
// handshake (9.0.124.2, the Flash Player version ffmpeg announces).
const DefaultClientVersion uint32 = 0x09007c02

// Keys of the digest handshake: the public text followed by a 32-byte
// constant suffix. Digests of C1/S1 use only the text; the keys for
// S2/C2 signatures use the whole key.
const (
	keySuffix = "\xf0\xee\xc2\x4a\x80\x68\xbe\xe8\x2e\x00\xd0\xd1\x02\x9e\x7e\x57" +
		"\x6e\xec\x5d\x2d\x29\x80\x6f\xab\x93\xb8\xe6\x36\xcf\xeb\x31\xae"
	playerKeyText = "Genuine Adobe Flash Player 001"
	serverKeyText = "Genuine Adobe Flash Media Server 001"
	playerKey     = playerKeyText + keySuffix
	serverKey     = serverKeyText + keySuffix
)

// Layout of the digest blocks.
const (
	timeAndVersionSize = 8
	blockSize          = 764
	digestRange        = blockSize - 4 - DigestSize // 728 possible positions
	signatureOffset    = PacketSize - DigestSize    // S2/C2 signature position
)

// Schema says where C1/S1 carry their digest. The names follow the
// widespread convention: schema 0 puts the key block first, schema 1 the
// digest block first. (librtmp calls these offset algorithms 2 and 1.)
type Schema uint8

const (
	// SchemaNone means no digest: the plain handshake.
	SchemaNone Schema = iota
	// Schema0: time, version, key block (bytes 8..771), digest block
	// (bytes 772..1535, offset bytes at 772, digest at 776+sum%728).
	Schema0
	// Schema1: time, version, digest block (bytes 8..771, offset bytes at
	// 8, digest at 12+sum%728), key block. ffmpeg and librtmp send this one.
	Schema1
)

// String names the schema.
func (s Schema) String() string {
	switch s {
	case SchemaNone:
		return "none"
	case Schema0:
		return "schema0"
	case Schema1:
		return "schema1"
	}
	return "invalid"
}

// digestBlockStart is where the digest block starts for s.
func digestBlockStart(s Schema) int {
	if s == Schema0 {
		return timeAndVersionSize + blockSize
	}
	return timeAndVersionSize
}

// digestOffset returns the position of the 32-byte digest inside a
// 1536-byte packet p for schema s (Schema0 or Schema1).
func digestOffset(p []byte, s Schema) int {
	base := digestBlockStart(s)
	sum := int(p[base]) + int(p[base+1]) + int(p[base+2]) + int(p[base+3])
	return base + 4 + sum%digestRange
}

// packetDigest computes the digest of packet p whose digest sits at off:
// HMAC-SHA256 of every byte but the 32 at off.
func packetDigest(p []byte, off int, key string) [DigestSize]byte {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(p[:off])
	mac.Write(p[off+DigestSize:])
	var d [DigestSize]byte
	mac.Sum(d[:0])
	return d
}

// findDigest looks for a valid digest in packet p keyed with key, trying
// schema 0 then schema 1. It returns the schema and the digest position, or
// SchemaNone.
func findDigest(p []byte, key string) (Schema, int) {
	for _, s := range [...]Schema{Schema0, Schema1} {
		off := digestOffset(p, s)
		d := packetDigest(p, off, key)
		if hmac.Equal(d[:], p[off:off+DigestSize]) {
			return s, off
		}
	}
	return SchemaNone, 0
}

// peerDigest returns the schema and the digest of a C1 or S1 that announces
// a digest handshake (a non-zero version field) and carries a valid digest
// keyed with key; SchemaNone and nil otherwise (a plain handshake, or a
// digest that does not verify).
func peerDigest(p []byte, key string) (Schema, []byte) {
	if packetVersion(p) == 0 {
		return SchemaNone, nil
	}
	s, off := findDigest(p, key)
	if s == SchemaNone {
		return SchemaNone, nil
	}
	return s, p[off : off+DigestSize]
}

// imprintDigest writes into p the digest for schema s keyed with key and
// returns its position.
func imprintDigest(p []byte, s Schema, key string) int {
	off := digestOffset(p, s)
	d := packetDigest(p, off, key)
	copy(p[off:], d[:])
	return off
}

// signature computes the S2/C2 signature of packet p: HMAC-SHA256 of its
// first 1504 bytes keyed with HMAC-SHA256(key, peerDigest).
func signature(p []byte, key string, peerDigest []byte) [DigestSize]byte {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(peerDigest)
	var k [DigestSize]byte
	mac.Sum(k[:0])
	mac = hmac.New(sha256.New, k[:])
	mac.Write(p[:signatureOffset])
	var sig [DigestSize]byte
	mac.Sum(sig[:0])
	return sig
}

// sign writes the S2/C2 signature into the last 32 bytes of p.
func sign(p []byte, key string, peerDigest []byte) {
	sig := signature(p, key, peerDigest)
	copy(p[signatureOffset:], sig[:])
}

// signatureValid reports whether p ends with the right signature.
func signatureValid(p []byte, key string, peerDigest []byte) bool {
	sig := signature(p, key, peerDigest)
	return hmac.Equal(sig[:], p[signatureOffset:PacketSize])
}

// packetVersion returns the version field of a C1 or S1.
func packetVersion(p []byte) uint32 { return binary.BigEndian.Uint32(p[4:8]) }

// packetTime returns the time field of a C1 or S1.
func packetTime(p []byte) uint32 { return binary.BigEndian.Uint32(p[0:4]) }

package handshake

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
)

// ClientConfig configures the client side of the handshake.
type ClientConfig struct {
	// Schema selects the handshake: SchemaNone (default) sends a plain C1
	// (version 0); Schema0 or Schema1 sends a C1 carrying a client digest in
	// that layout and requires a valid S2 when the server answers with a
	// digest.
	Schema Schema
	// Version is C1's version field for a digest handshake.
	// Default: DefaultClientVersion.
	Version uint32
	// Time is C1's time field. Default 0.
	Time uint32
	// Rand supplies the random bytes of C1 and C2. Default: crypto/rand.
	Rand io.Reader
}

func (c ClientConfig) withDefaults() ClientConfig {
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Version == 0 {
		c.Version = DefaultClientVersion
	}
	return c
}

// ClientResult describes the server as seen during the handshake.
type ClientResult struct {
	// ServerTime and ServerVersion are S1's time and version fields.
	ServerTime    uint32
	ServerVersion uint32
	// Schema is the schema of a valid server digest in S1, SchemaNone when
	// S1 carries none.
	Schema Schema
	// SignatureValid reports, for a digest handshake, that S2 is signed
	// with the client's digest (always true when Client returns nil in that
	// case); false for a plain handshake.
	SignatureValid bool
	// EchoValid reports that S2 echoes C1 exactly, as the plain handshake
	// asks; informative only, since servers differ here.
	EchoValid bool
}

// Client performs the client side of the handshake on rw: it writes C0+C1
// in one Write, reads S0, S1 and S2, checks S1's server digest when S1
// announces one (a non-zero version), and writes C2: signed with the
// server digest in a digest handshake, an echo of S1 otherwise.
//
// With cfg.Schema set, a server that announces a digest but whose S1
// digest or S2 signature does not verify is refused with ErrInvalidDigest;
// a server answering with a plain S1 (version 0) is accepted as plain, as
// librtmp does.
func Client(rw io.ReadWriter, cfg ClientConfig) (ClientResult, error) {
	cfg = cfg.withDefaults()
	var res ClientResult
	if cfg.Schema > Schema1 {
		return res, fmt.Errorf("client schema %d: %w", cfg.Schema, ErrInvalidDigest)
	}
	c0c1 := make([]byte, 1+PacketSize)
	c0c1[0] = Version
	c1 := c0c1[1:]
	binary.BigEndian.PutUint32(c1[0:4], cfg.Time)
	if _, err := io.ReadFull(cfg.Rand, c1[timeAndVersionSize:]); err != nil {
		return res, fmt.Errorf("random C1: %w", err)
	}
	var clientDigest []byte
	if cfg.Schema != SchemaNone {
		binary.BigEndian.PutUint32(c1[4:8], cfg.Version)
		off := imprintDigest(c1, cfg.Schema, playerKeyText)
		clientDigest = c1[off : off+DigestSize]
	}
	if _, err := rw.Write(c0c1); err != nil {
		return res, fmt.Errorf("write C0C1: %w", err)
	}

	in := make([]byte, 1+2*PacketSize)
	if err := readFull(rw, in[:1], false); err != nil {
		return res, fmt.Errorf("read S0: %w", err)
	}
	if in[0] != Version {
		return res, fmt.Errorf("S0 version %d: %w", in[0], ErrUnsupportedVersion)
	}
	if err := readFull(rw, in[1:], false); err != nil {
		return res, fmt.Errorf("read S1S2: %w", err)
	}
	s1 := in[1 : 1+PacketSize]
	s2 := in[1+PacketSize:]
	res.ServerTime = packetTime(s1)
	res.ServerVersion = packetVersion(s1)
	res.EchoValid = string(s2) == string(c1)

	var serverDigest []byte
	res.Schema, serverDigest = peerDigest(s1, serverKeyText)
	if clientDigest != nil && res.ServerVersion != 0 {
		if serverDigest == nil {
			return res, fmt.Errorf("S1: no valid server digest: %w", ErrInvalidDigest)
		}
		if !signatureValid(s2, serverKey, clientDigest) {
			return res, fmt.Errorf("S2: signature mismatch: %w", ErrInvalidDigest)
		}
		res.SignatureValid = true
	}

	c2 := make([]byte, PacketSize)
	if res.SignatureValid {
		if _, err := io.ReadFull(cfg.Rand, c2[:signatureOffset]); err != nil {
			return res, fmt.Errorf("random C2: %w", err)
		}
		sign(c2, playerKey, serverDigest)
	} else {
		copy(c2, s1)
	}
	if _, err := rw.Write(c2); err != nil {
		return res, fmt.Errorf("write C2: %w", err)
	}
	return res, nil
}

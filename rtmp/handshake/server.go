package handshake

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ServerConfig configures the server side of the handshake.
type ServerConfig struct {
	// Rand supplies the random bytes of S1 and S2. Default: crypto/rand.
	// Tests pass a deterministic reader.
	Rand io.Reader
	// Version is the version field of S1 in a digest handshake.
	// Default: DefaultServerVersion. (A plain handshake always sends 0.)
	Version uint32
}

func (c ServerConfig) withDefaults() ServerConfig {
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Version == 0 {
		c.Version = DefaultServerVersion
	}
	return c
}

// ServerResult describes the client as seen during the handshake.
type ServerResult struct {
	// ClientTime and ClientVersion are C1's time and version fields.
	ClientTime    uint32
	ClientVersion uint32
	// Schema is the digest schema of C1, SchemaNone for a plain handshake.
	Schema Schema
}

// Server performs the server side of the handshake on rw: it reads C0 and
// C1, answers S0, S1 and S2 in one Write (the digest variant in the
// client's schema when C1 carries a valid client digest, the plain echo
// otherwise) and reads C2 without judging its content, since many clients
// send garbage there.
//
// A C0 other than 3 is refused with ErrUnsupportedVersion (or
// ErrEncryptionUnsupported for RTMPE's 6, 8 and 9), as nginx-rtmp and SRS
// do. A peer that closes before sending anything yields an error wrapping
// io.EOF; one that stops in the middle, io.ErrUnexpectedEOF.
func Server(rw io.ReadWriter, cfg ServerConfig) error {
	_, err := Accept(rw, cfg)
	return err
}

// Accept is Server that also reports what the client announced.
func Accept(rw io.ReadWriter, cfg ServerConfig) (ServerResult, error) {
	cfg = cfg.withDefaults()
	var res ServerResult
	// in holds C0+C1 and later C2; out holds S0+S1+S2.
	in := make([]byte, 1+PacketSize)
	if err := readFull(rw, in[:1], true); err != nil {
		return res, fmt.Errorf("read C0: %w", err)
	}
	if err := checkVersion(in[0]); err != nil {
		return res, fmt.Errorf("C0: %w", err)
	}
	if err := readFull(rw, in[1:], false); err != nil {
		return res, fmt.Errorf("read C1: %w", err)
	}
	c1 := in[1:]
	res.ClientTime = packetTime(c1)
	res.ClientVersion = packetVersion(c1)

	var clientDigest []byte
	res.Schema, clientDigest = peerDigest(c1, playerKeyText)

	out := make([]byte, 1+2*PacketSize)
	out[0] = Version
	s1 := out[1 : 1+PacketSize]
	s2 := out[1+PacketSize:]
	// S1: time 0, version, then random bytes.
	if _, err := io.ReadFull(cfg.Rand, s1[timeAndVersionSize:]); err != nil {
		return res, fmt.Errorf("random S1: %w", err)
	}
	if res.Schema == SchemaNone {
		copy(s2, c1) // plain handshake: S2 echoes C1
	} else {
		binary.BigEndian.PutUint32(s1[4:8], cfg.Version)
		imprintDigest(s1, res.Schema, serverKeyText)
		if _, err := io.ReadFull(cfg.Rand, s2[:signatureOffset]); err != nil {
			return res, fmt.Errorf("random S2: %w", err)
		}
		sign(s2, serverKey, clientDigest)
	}
	if _, err := rw.Write(out); err != nil {
		return res, fmt.Errorf("write S0S1S2: %w", err)
	}
	if err := readFull(rw, in[:PacketSize], false); err != nil {
		return res, fmt.Errorf("read C2: %w", err)
	}
	return res, nil
}

// checkVersion accepts only RTMP version 3.
func checkVersion(v byte) error {
	switch v {
	case Version:
		return nil
	case 6, 8, 9:
		return fmt.Errorf("version %d: %w", v, ErrEncryptionUnsupported)
	}
	return fmt.Errorf("version %d: %w", v, ErrUnsupportedVersion)
}

// readFull fills p from r. A stream that ends early yields an error wrapping
// io.ErrUnexpectedEOF; one that ends before the first byte of the handshake
// (first is true) keeps io.EOF, so callers can ignore idle probes.
func readFull(r io.Reader, p []byte, first bool) error {
	_, err := io.ReadFull(r, p)
	if errors.Is(err, io.EOF) && !first {
		return io.ErrUnexpectedEOF
	}
	return err
}

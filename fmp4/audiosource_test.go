package fmp4_test

import (
	"encoding/binary"
	"testing"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/fmp4"
)

// oggPackets returns the packets of a single-stream Ogg file (RFC 3533).
func oggPackets(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var packets [][]byte
	var pending []byte
	for pos := 0; pos < len(data); {
		if len(data)-pos < 27 || string(data[pos:pos+4]) != "OggS" {
			t.Fatalf("no Ogg page at %d", pos)
		}
		segments := int(data[pos+26])
		table := data[pos+27 : pos+27+segments]
		body := pos + 27 + segments
		for _, lacing := range table {
			pending = append(pending, data[body:body+int(lacing)]...)
			body += int(lacing)
			if lacing < 255 {
				packets = append(packets, pending)
				pending = nil
			}
		}
		pos = body
	}
	return packets
}

// opusMedia encodes Opus (20 ms frames) into Ogg: the first packet is the
// OpusHead, the second the comments, then the audio.
func opusMedia(t *testing.T) media {
	t.Helper()
	packets := oggPackets(t, encode(t, "clip.opus", "-map", "1:a", "-c:a", "libopus", "-frame_duration", "20", "-ac", "2", "-f", "ogg"))
	head, err := flv.ParseOpusHead(packets[0])
	if err != nil {
		t.Fatal(err)
	}
	m := media{track: fmp4.Track{ID: 2, Codec: fmp4.CodecOpus, Config: packets[0]}, timescale: flv.OpusSampleRate}
	if head.Channels != 2 {
		t.Fatalf("OpusHead of %d channels", head.Channels)
	}
	const frame = flv.OpusSampleRate / 50
	for i, p := range packets[2:] {
		m.samples = append(m.samples, timedSample{dts: uint64(i * frame), Sample: fmp4.Sample{Duration: frame, Flags: fmp4.SyncSample, Data: p}})
	}
	return m
}

// flacMedia encodes FLAC into Ogg (the FLAC mapping): the first packet
// holds "fLaC" and the STREAMINFO block, the second the comments, then one
// frame a packet.
func flacMedia(t *testing.T) media {
	t.Helper()
	packets := oggPackets(t, encode(t, "clip.oga", "-map", "1:a", "-c:a", "flac", "-f", "ogg"))
	if len(packets[0]) < 9 || string(packets[0][1:5]) != "FLAC" {
		t.Fatalf("first packet %q is not the Ogg FLAC header", packets[0])
	}
	streamInfo := packets[0][9:] // "fLaC", block header, STREAMINFO
	info, err := flv.ParseFLACStreamInfo(streamInfo)
	if err != nil {
		t.Fatal(err)
	}
	m := media{track: fmp4.Track{ID: 2, Codec: fmp4.CodecFLAC, Config: streamInfo}, timescale: clipRate}
	var ticks uint64
	headers := 1 + int(binary.BigEndian.Uint16(packets[0][7:9])) // this one and the comments
	for _, p := range packets[headers:] {
		if len(p) == 0 {
			continue
		}
		n := flacBlockSize(t, p)
		m.samples = append(m.samples, timedSample{dts: ticks, Sample: fmp4.Sample{Duration: n, Flags: fmp4.SyncSample, Data: p}})
		ticks += uint64(n)
	}
	if info.SampleRate != clipRate {
		t.Fatalf("FLAC at %d Hz", info.SampleRate)
	}
	return m
}

// flacBlockSize returns the samples of a FLAC frame.
func flacBlockSize(t *testing.T, frame []byte) uint32 {
	t.Helper()
	n, ok := fmp4.SampleDuration(fmp4.Track{Codec: fmp4.CodecFLAC, SampleRate: clipRate, Timescale: clipRate}, frame)
	if !ok {
		t.Fatalf("FLAC frame header %x", frame[:min(8, len(frame))])
	}
	return n
}

// ac3Media encodes AC-3 or E-AC-3 as raw syncframes, one a sample.
func ac3Media(t *testing.T, eac3 bool) media {
	t.Helper()
	codec, encoder, format := fmp4.CodecAC3, "ac3", "ac3"
	if eac3 {
		codec, encoder, format = fmp4.CodecEAC3, "eac3", "eac3"
	}
	stream := encode(t, "clip."+format, "-map", "1:a", "-c:a", encoder, "-b:a", "192k", "-ac", "2", "-f", format)
	m := media{track: fmp4.Track{ID: 2, Codec: codec}, timescale: clipRate}
	for pos := 0; pos < len(stream); {
		size := ac3FrameSize(t, stream[pos:], eac3)
		frame := stream[pos : pos+size]
		pos += size
		if m.track.Config == nil {
			m.track.Config = frame
		}
		m.samples = append(m.samples, timedSample{dts: uint64(len(m.samples) * 1536), Sample: fmp4.Sample{Duration: 1536, Flags: fmp4.SyncSample, Data: frame}})
	}
	return m
}

// ac3FrameSize returns the size of the syncframe at the start of b, encoded
// at 48 kHz.
func ac3FrameSize(t *testing.T, b []byte, eac3 bool) int {
	t.Helper()
	if len(b) < 6 || b[0] != 0x0b || b[1] != 0x77 {
		t.Fatalf("no AC-3 syncword: %x", b[:min(6, len(b))])
	}
	if eac3 {
		return (int(b[2]&0x07)<<8 | int(b[3]) + 1) * 2
	}
	kbps := [...]int{32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640}
	return kbps[(b[4]&0x3f)>>1] * 4 // 1536 samples at 48 kHz: 4 bytes per kbit/s
}

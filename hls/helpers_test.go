package hls

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"sort"
	"testing"

	"github.com/asticode/go-astits"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// Synthetic H.264 parameter sets (content is irrelevant to the segmenter).
var (
	testSPS = []byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10}
	testPPS = []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}
)

// avcHeaderPayload returns a legacy AVC sequence header tag body.
func avcHeaderPayload(sps, pps []byte) []byte {
	c := flv.AVCDecoderConfig{Profile: 0x64, Level: 0x1f, NALULengthSize: 4, SPS: [][]byte{sps}, PPS: [][]byte{pps}}
	return c.Append([]byte{0x17, 0x00, 0, 0, 0})
}

// avcc appends NAL units with 4-byte length prefixes.
func avcc(dst []byte, nalus ...[]byte) []byte {
	for _, n := range nalus {
		dst = append(dst, byte(len(n)>>24), byte(len(n)>>16), byte(len(n)>>8), byte(len(n)))
		dst = append(dst, n...)
	}
	return dst
}

// videoPayload returns a legacy AVC coded frame tag body.
func videoPayload(key bool, cts int32, nalus ...[]byte) []byte {
	b := byte(0x27)
	if key {
		b = 0x17
	}
	return avcc([]byte{b, 0x01, byte(cts >> 16), byte(cts >> 8), byte(cts)}, nalus...)
}

// slice returns a synthetic slice NAL unit of n bytes (IDR when key).
func slice(key bool, n int, fill byte) []byte {
	s := bytes.Repeat([]byte{fill}, max(n, 2))
	s[0] = 0x41
	if key {
		s[0] = 0x65
	}
	return s
}

// testAAC is 48 kHz stereo AAC-LC.
var testAAC = flv.AACConfig{ObjectType: 2, SampleRateIndex: 3, SampleRate: 48000, ChannelConfig: 2, Channels: 2}

// aacHeaderPayload returns a legacy AAC sequence header tag body.
func aacHeaderPayload(c flv.AACConfig) []byte { return c.Append([]byte{0xaf, 0x00}) }

// audioPayload returns a legacy AAC raw frame tag body of n bytes.
func audioPayload(n int, fill byte) []byte {
	return append([]byte{0xaf, 0x01}, bytes.Repeat([]byte{fill}, n)...)
}

// frame builds a stream.Frame or fails the test.
func frame(tb testing.TB, t flv.TagType, ts uint32, payload []byte) *stream.Frame {
	tb.Helper()
	f, err := stream.NewFrame(t, ts, payload)
	if err != nil {
		tb.Fatalf("NewFrame: %v", err)
	}
	return f
}

// source describes a synthetic A/V stream.
type source struct {
	fps        int // video frames per second; 0: no video
	gop        int // keyframe interval in frames
	audio      bool
	start      uint32 // first timestamp (ms)
	videoBytes int    // size of a non-key frame's slice
	keyBytes   int    // size of a keyframe's slice
	audioBytes int    // size of an AAC frame
	cts        int32  // composition offset of every video frame (ms)
}

// frames returns headers then interleaved media frames for d milliseconds.
func (s source) frames(tb testing.TB, ms int) []*stream.Frame {
	tb.Helper()
	var out []*stream.Frame
	if s.fps > 0 {
		out = append(out, frame(tb, flv.TagVideo, s.start, avcHeaderPayload(testSPS, testPPS)))
	}
	if s.audio {
		out = append(out, frame(tb, flv.TagAudio, s.start, aacHeaderPayload(testAAC)))
	}
	type timed struct {
		t   uint32
		seq int
		f   *stream.Frame
	}
	var media []timed
	if s.fps > 0 {
		vb, kb := max(s.videoBytes, 100), max(s.keyBytes, 400)
		for i := 0; i*1000/s.fps < ms; i++ {
			ts := s.start + uint32(i*1000/s.fps)
			key := s.gop > 0 && i%s.gop == 0
			n := vb
			if key {
				n = kb
			}
			media = append(media, timed{ts, len(media), frame(tb, flv.TagVideo, ts,
				videoPayload(key, s.cts, slice(key, n, byte(i))))})
		}
	}
	if s.audio {
		ab := max(s.audioBytes, 50)
		for k := 0; k*1024*1000/48000 < ms; k++ {
			ts := s.start + uint32(k*1024*1000/48000)
			media = append(media, timed{ts, len(media), frame(tb, flv.TagAudio, ts, audioPayload(ab, byte(k)))})
		}
	}
	sort.SliceStable(media, func(i, j int) bool {
		if media[i].t != media[j].t {
			return media[i].t < media[j].t
		}
		return media[i].seq < media[j].seq
	})
	for _, m := range media {
		out = append(out, m.f)
	}
	return out
}

// feed writes frames into s and returns the segments completed, failing on
// any error.
func feed(tb testing.TB, s *Segmenter, frames []*stream.Frame) []*Segment {
	tb.Helper()
	var segs []*Segment
	for _, f := range frames {
		seg, err := s.WriteFrame(f)
		if err != nil {
			tb.Fatalf("WriteFrame(%v at %d): %v", f.Type, f.Time, err)
		}
		if seg != nil {
			segs = append(segs, seg)
		}
	}
	return segs
}

// tsPacket is one parsed TS packet header.
type tsPacket struct {
	pid        uint16
	cc         uint8
	payload    bool
	unitStart  bool
	rai        bool
	pcr        int64 // -1 without PCR
	discontIdx bool
}

// parsePackets parses every 188-byte packet of data.
func parsePackets(tb testing.TB, data []byte) []tsPacket {
	tb.Helper()
	if len(data)%188 != 0 {
		tb.Fatalf("TS of %d bytes is not a multiple of 188", len(data))
	}
	dmx := astits.NewDemuxer(context.Background(), bytes.NewReader(data))
	var out []tsPacket
	for {
		p, err := dmx.NextPacket()
		if errors.Is(err, astits.ErrNoMorePackets) {
			break
		}
		if err != nil {
			tb.Fatalf("TS packet %d: %v", len(out), err)
		}
		tp := tsPacket{pid: p.Header.PID, cc: p.Header.ContinuityCounter, payload: p.Header.HasPayload,
			unitStart: p.Header.PayloadUnitStartIndicator, pcr: -1}
		if af := p.AdaptationField; af != nil {
			tp.rai = af.RandomAccessIndicator
			tp.discontIdx = af.DiscontinuityIndicator
			if af.HasPCR && af.PCR != nil {
				tp.pcr = af.PCR.Base
			}
		}
		out = append(out, tp)
	}
	return out
}

// pes is one demuxed PES packet.
type pes struct {
	pid      uint16
	pts, dts int64 // -1 when absent
	data     []byte
}

// demux returns the PAT, PMT and PES packets of a segment in order.
func demux(tb testing.TB, data []byte) (pat *astits.PATData, pmt *astits.PMTData, order []string, out []pes) {
	tb.Helper()
	dmx := astits.NewDemuxer(context.Background(), bytes.NewReader(data))
	for {
		d, err := dmx.NextData()
		if errors.Is(err, astits.ErrNoMorePackets) {
			break
		}
		if err != nil {
			tb.Fatalf("demux: %v", err)
		}
		switch {
		case d.PAT != nil:
			if pat == nil {
				pat = d.PAT
			}
			order = append(order, "PAT")
		case d.PMT != nil:
			if pmt == nil {
				pmt = d.PMT
			}
			order = append(order, "PMT")
		case d.PES != nil:
			p := pes{pid: d.PID, pts: -1, dts: -1, data: d.PES.Data}
			if oh := d.PES.Header.OptionalHeader; oh != nil {
				if oh.PTS != nil {
					p.pts = oh.PTS.Base
				}
				if oh.DTS != nil {
					p.dts = oh.DTS.Base
				}
			}
			out = append(out, p)
			order = append(order, "PES")
		}
	}
	return pat, pmt, order, out
}

// nalTypes lists the H.264 NAL unit types of an Annex-B access unit.
func nalTypes(au []byte) []int {
	var types []int
	_ = flv.ForEachAnnexBNALU(au, func(n []byte) error {
		types = append(types, int(n[0]&0x1f))
		return nil
	})
	return types
}

// metadataPayload encodes "onMetaData" with an AMF0 object of numbers.
func metadataPayload(props map[string]float64) []byte {
	b := []byte{0x02, 0x00, 0x0a}
	b = append(b, "onMetaData"...)
	b = append(b, 0x03)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b = append(b, byte(len(k)>>8), byte(len(k)))
		b = append(b, k...)
		b = append(b, 0x00)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(props[k]))
	}
	return append(b, 0, 0, 0x09)
}

package stream

import (
	"testing"

	"github.com/mediaserver/mediaserver/flv"
)

// exVideo builds an Enhanced RTMP video payload with flv's own writer, so
// the table below reads as header fields rather than bytes.
func exVideo(t testing.TB, h flv.VideoTagHeader, body string) []byte {
	t.Helper()
	h.Enhanced = true
	p, err := flv.AppendVideoTag(nil, h, []byte(body))
	if err != nil {
		t.Fatalf("AppendVideoTag(%+v): %v", h, err)
	}
	return p
}

// exAudio builds an Enhanced RTMP audio payload.
func exAudio(t testing.TB, h flv.AudioTagHeader, body string) []byte {
	t.Helper()
	h.Enhanced = true
	h.SoundFormat = flv.SoundFormatExHeader
	p, err := flv.AppendAudioTag(nil, h, []byte(body))
	if err != nil {
		t.Fatalf("AppendAudioTag(%+v): %v", h, err)
	}
	return p
}

// enhancedFrameCase is one Enhanced RTMP (or legacy quirk) payload and how
// NewFrame must classify it.
type enhancedFrameCase struct {
	name                     string
	typ                      flv.TagType
	payload                  []byte
	key, header, seqStart    bool
	seqEnd                   bool
	codec                    flv.FourCC
	packet                   flv.PacketType
	multitrack               bool
	track                    uint8
	cts                      int32
	slotTrack                uint8
	side                     bool
	wantDefaultSlotForHeader bool
}

func enhancedFrameCases(t testing.TB) []enhancedFrameCase {
	key, inter := flv.FrameKey, flv.FrameInter
	nano := []flv.ModEx{flv.NewTimestampOffsetNano(500000)}
	mt := func(typ flv.MultitrackType, tracks ...flv.Track) flv.VideoTagHeader {
		return flv.VideoTagHeader{FrameType: key, Multitrack: true, MultitrackType: typ, Tracks: tracks, Codec: tracks[0].Codec}
	}
	cases := []enhancedFrameCase{
		{name: "hvc1 sequence start", typ: flv.TagVideo, payload: exVideo(t, flv.VideoTagHeader{FrameType: key, Codec: flv.FourCCHEVC, PacketType: flv.PacketSequenceStart}, "hvcC"),
			header: true, seqStart: true, codec: flv.FourCCHEVC, packet: flv.PacketSequenceStart, wantDefaultSlotForHeader: true},
		{name: "hvc1 coded frames key", typ: flv.TagVideo, payload: exVideo(t, flv.VideoTagHeader{FrameType: key, Codec: flv.FourCCHEVC, PacketType: flv.PacketCodedFrames, CompositionTime: 80}, "nal"),
			key: true, codec: flv.FourCCHEVC, packet: flv.PacketCodedFrames, cts: 80},
		{name: "hvc1 coded frames X inter", typ: flv.TagVideo, payload: exVideo(t, flv.VideoTagHeader{FrameType: inter, Codec: flv.FourCCHEVC, PacketType: flv.PacketCodedFramesX}, "nal"),
			codec: flv.FourCCHEVC, packet: flv.PacketCodedFramesX},
		{name: "av01 sequence start", typ: flv.TagVideo, payload: exVideo(t, flv.VideoTagHeader{FrameType: key, Codec: flv.FourCCAV1, PacketType: flv.PacketSequenceStart}, "av1C"),
			header: true, seqStart: true, codec: flv.FourCCAV1, packet: flv.PacketSequenceStart, wantDefaultSlotForHeader: true},
		{name: "av01 coded frames key", typ: flv.TagVideo, payload: exVideo(t, flv.VideoTagHeader{FrameType: key, Codec: flv.FourCCAV1, PacketType: flv.PacketCodedFrames}, "obu"),
			key: true, codec: flv.FourCCAV1, packet: flv.PacketCodedFrames},
		{name: "vp09 coded frames X key", typ: flv.TagVideo, payload: exVideo(t, flv.VideoTagHeader{FrameType: key, Codec: flv.FourCCVP9, PacketType: flv.PacketCodedFramesX}, "vp9"),
			key: true, codec: flv.FourCCVP9, packet: flv.PacketCodedFramesX},
		{name: "avc1 enhanced key", typ: flv.TagVideo, payload: exVideo(t, flv.VideoTagHeader{FrameType: key, Codec: flv.FourCCAVC, PacketType: flv.PacketCodedFrames, CompositionTime: -2}, "nal"),
			key: true, codec: flv.FourCCAVC, packet: flv.PacketCodedFrames, cts: -2},
		{name: "av01 sequence end", typ: flv.TagVideo, payload: exVideo(t, flv.VideoTagHeader{FrameType: key, Codec: flv.FourCCAV1, PacketType: flv.PacketSequenceEnd}, ""),
			seqEnd: true, codec: flv.FourCCAV1, packet: flv.PacketSequenceEnd},
		{name: "hvc1 metadata colorInfo is a side header", typ: flv.TagVideo, payload: exVideo(t, flv.VideoTagHeader{FrameType: key, Codec: flv.FourCCHEVC, PacketType: flv.PacketMetadata}, "amf"),
			header: true, codec: flv.FourCCHEVC, packet: flv.PacketMetadata, side: true},
		{name: "modex nano offset key", typ: flv.TagVideo, payload: exVideo(t, flv.VideoTagHeader{FrameType: key, Codec: flv.FourCCAV1, PacketType: flv.PacketCodedFrames, ModEx: nano}, "obu"),
			key: true, codec: flv.FourCCAV1, packet: flv.PacketCodedFrames},
		{name: "modex before sequence start", typ: flv.TagVideo, payload: exVideo(t, flv.VideoTagHeader{FrameType: key, Codec: flv.FourCCHEVC, PacketType: flv.PacketSequenceStart, ModEx: nano}, "hvcC"),
			header: true, seqStart: true, codec: flv.FourCCHEVC, packet: flv.PacketSequenceStart, wantDefaultSlotForHeader: true},
		{name: "command frame is nothing", typ: flv.TagVideo, payload: exVideo(t, flv.VideoTagHeader{FrameType: flv.FrameCommand, PacketType: flv.PacketCodedFrames, Command: flv.VideoCommandStartSeek}, ""),
			packet: flv.PacketCodedFrames},
		{name: "multitrack one track 0 key", typ: flv.TagVideo, payload: exVideo(t, func() flv.VideoTagHeader {
			h := mt(flv.MultitrackOneTrack, flv.Track{ID: 0, Codec: flv.FourCCAV1, Data: []byte("obu")})
			h.PacketType = flv.PacketCodedFrames
			return h
		}(), ""), key: true, codec: flv.FourCCAV1, packet: flv.PacketCodedFrames, multitrack: true},
		{name: "multitrack one track 1 key is not a random access point", typ: flv.TagVideo, payload: exVideo(t, func() flv.VideoTagHeader {
			h := mt(flv.MultitrackOneTrack, flv.Track{ID: 1, Codec: flv.FourCCHEVC, Data: []byte("nal")})
			h.PacketType = flv.PacketCodedFramesX
			return h
		}(), ""), codec: flv.FourCCHEVC, packet: flv.PacketCodedFramesX, multitrack: true, track: 1},
		{name: "multitrack track 2 sequence start", typ: flv.TagVideo, payload: exVideo(t, func() flv.VideoTagHeader {
			h := mt(flv.MultitrackOneTrack, flv.Track{ID: 2, Codec: flv.FourCCHEVC, Data: []byte("hvcC")})
			h.PacketType = flv.PacketSequenceStart
			return h
		}(), ""), header: true, seqStart: true, codec: flv.FourCCHEVC, packet: flv.PacketSequenceStart, multitrack: true, track: 2, slotTrack: 2},
		{name: "multitrack many tracks with track 0 key", typ: flv.TagVideo, payload: exVideo(t, func() flv.VideoTagHeader {
			h := mt(flv.MultitrackManyTracks, flv.Track{ID: 1, Codec: flv.FourCCAV1, Data: []byte("a")}, flv.Track{ID: 0, Codec: flv.FourCCAV1, Data: []byte("b")})
			h.PacketType = flv.PacketCodedFrames
			return h
		}(), ""), key: true, codec: flv.FourCCAV1, packet: flv.PacketCodedFrames, multitrack: true, track: 1},
		{name: "multitrack many codecs", typ: flv.TagVideo, payload: exVideo(t, func() flv.VideoTagHeader {
			h := mt(flv.MultitrackManyTracksManyCodecs, flv.Track{ID: 0, Codec: flv.FourCCAVC, Data: []byte("a"), CompositionTime: 4},
				flv.Track{ID: 1, Codec: flv.FourCCVP9, Data: []byte("b")})
			h.FrameType = inter
			h.PacketType = flv.PacketCodedFrames
			return h
		}(), ""), codec: flv.FourCCAVC, packet: flv.PacketCodedFrames, multitrack: true, cts: 4},
		{name: "legacy codec id 12 is hvc1", typ: flv.TagVideo, payload: []byte{0x1c, 0x01, 0, 0, 0x10, 0, 0, 0, 1, 0x26},
			key: true, codec: flv.FourCCHEVC, packet: flv.PacketCodedFrames, cts: 16},
		{name: "legacy codec id 12 sequence header", typ: flv.TagVideo, payload: []byte{0x1c, 0x00, 0, 0, 0, 1, 2, 3},
			header: true, seqStart: true, codec: flv.FourCCHEVC, packet: flv.PacketSequenceStart, wantDefaultSlotForHeader: true},
		{name: "audio multichannel config is a side header", typ: flv.TagAudio,
			payload: exAudio(t, flv.AudioTagHeader{Codec: flv.FourCCOpus, PacketType: flv.PacketMultichannelConfig}, "\x01\x02\x00\x00\x00\x03"),
			header:  true, codec: flv.FourCCOpus, packet: flv.PacketMultichannelConfig, side: true},
		{name: "audio multitrack track 1 sequence start", typ: flv.TagAudio,
			payload: exAudio(t, flv.AudioTagHeader{Codec: flv.FourCCAAC, PacketType: flv.PacketSequenceStart, Multitrack: true,
				Tracks: []flv.Track{{ID: 1, Codec: flv.FourCCAAC, Data: []byte{0x12, 0x10}}}}, ""),
			header: true, seqStart: true, codec: flv.FourCCAAC, packet: flv.PacketSequenceStart, multitrack: true, track: 1, slotTrack: 1},
		{name: "audio sequence end", typ: flv.TagAudio, payload: exAudio(t, flv.AudioTagHeader{Codec: flv.FourCCFLAC, PacketType: flv.PacketSequenceEnd}, ""),
			seqEnd: true, codec: flv.FourCCFLAC, packet: flv.PacketSequenceEnd},
	}
	for _, c := range []flv.FourCC{flv.FourCCAAC, flv.FourCCOpus, flv.FourCCFLAC, flv.FourCCAC3, flv.FourCCEAC3, flv.FourCCMP3} {
		cases = append(cases,
			enhancedFrameCase{name: "audio " + c.String() + " sequence start", typ: flv.TagAudio,
				payload: exAudio(t, flv.AudioTagHeader{Codec: c, PacketType: flv.PacketSequenceStart}, "cfg"),
				header:  true, seqStart: true, codec: c, packet: flv.PacketSequenceStart, wantDefaultSlotForHeader: true},
			enhancedFrameCase{name: "audio " + c.String() + " coded frames with ModEx", typ: flv.TagAudio,
				payload: exAudio(t, flv.AudioTagHeader{Codec: c, PacketType: flv.PacketCodedFrames, ModEx: nano}, "raw"),
				codec:   c, packet: flv.PacketCodedFrames})
	}
	return cases
}

// TestNewFrameEnhanced classifies every Enhanced RTMP form; each payload
// comes from flv's writer and goes back through FLVTag and NewFrame
// unchanged.
func TestNewFrameEnhanced(t *testing.T) {
	for _, tc := range enhancedFrameCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFrame(tc.typ, 1234, tc.payload)
			if err != nil {
				t.Fatalf("NewFrame: %v", err)
			}
			type class struct {
				key, header, seqStart, seqEnd, multitrack bool
				codec                                     flv.FourCC
				packet                                    flv.PacketType
				track                                     uint8
				cts                                       int32
			}
			got := class{f.Keyframe, f.Header, f.IsSequenceStart(), f.seqEnd, f.Multitrack, f.Codec, f.Packet, f.Track, f.CompositionTime}
			want := class{tc.key, tc.header, tc.seqStart, tc.seqEnd, tc.multitrack, tc.codec, tc.packet, tc.track, tc.cts}
			if got != want {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
			if f.Header {
				k := f.slot()
				if k.track != tc.slotTrack || k.side != tc.side || k.isDefault() != tc.wantDefaultSlotForHeader {
					t.Fatalf("slot %+v, want track %d side %v default %v", k, tc.slotTrack, tc.side, tc.wantDefaultSlotForHeader)
				}
			}
			tag := f.FLVTag()
			again, err := NewFrame(tc.typ, 1234, tag[flv.TagHeaderSize:len(tag)-4])
			if err != nil || again.Keyframe != f.Keyframe || again.Header != f.Header || again.Track != f.Track ||
				again.Packet != f.Packet || string(again.Payload) != string(tc.payload) {
				t.Fatalf("round trip through FLVTag: %+v, %v", again, err)
			}
		})
	}
}

// TestHeadersEveryTrackReachesNewReaders pins the multitrack header set: a
// reader that joins gets the sequence start of every track (and the video
// metadata), not just the newest header of each kind.
func TestHeadersEveryTrackReachesNewReaders(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	mk := func(typ flv.TagType, payload []byte) *Frame {
		t.Helper()
		f, err := NewFrame(typ, 0, payload)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	seq := func(track uint8, cfg string) []byte {
		if track == 0 {
			return exVideo(t, flv.VideoTagHeader{FrameType: flv.FrameKey, Codec: flv.FourCCHEVC, PacketType: flv.PacketSequenceStart}, cfg)
		}
		return exVideo(t, flv.VideoTagHeader{FrameType: flv.FrameKey, Multitrack: true, PacketType: flv.PacketSequenceStart,
			Codec: flv.FourCCAV1, Tracks: []flv.Track{{ID: track, Codec: flv.FourCCAV1, Data: []byte(cfg)}}}, "")
	}
	v0 := mk(flv.TagVideo, seq(0, "hvcC-0"))
	v1 := mk(flv.TagVideo, seq(1, "av1C-1"))
	v2 := mk(flv.TagVideo, seq(2, "av1C-2"))
	color := mk(flv.TagVideo, exVideo(t, flv.VideoTagHeader{FrameType: flv.FrameKey, Codec: flv.FourCCHEVC, PacketType: flv.PacketMetadata}, "colorInfo"))
	a0 := mk(flv.TagAudio, exAudio(t, flv.AudioTagHeader{Codec: flv.FourCCAAC, PacketType: flv.PacketSequenceStart}, "\x12\x10"))
	a1 := mk(flv.TagAudio, exAudio(t, flv.AudioTagHeader{Codec: flv.FourCCOpus, PacketType: flv.PacketSequenceStart, Multitrack: true,
		Tracks: []flv.Track{{ID: 1, Codec: flv.FourCCOpus, Data: []byte("OpusHead")}}}, ""))
	key := mk(flv.TagVideo, exVideo(t, flv.VideoTagHeader{FrameType: flv.FrameKey, Codec: flv.FourCCHEVC, PacketType: flv.PacketCodedFramesX}, "idr"))
	for _, f := range []*Frame{a1, v2, v0, color, v1, a0, key} {
		p.WriteFrame(f)
	}
	h := p.Stream().Headers()
	if h.Video != v0 || h.Audio != a0 {
		t.Fatalf("default slots: video %v audio %v", h.Video, h.Audio)
	}
	assertFrames(t, h.Tracks, []*Frame{color, v1, v2, a1})

	r := p.Stream().NewReader(ReaderInfo{ID: "late"})
	defer r.Close()
	got := drainPending(t, r, 3)
	assertFrames(t, got, []*Frame{v0, a0, color, v1, v2, a1, key})

	// A new configuration of track 1 replaces that track's only; an
	// identical one is not appended again.
	v1b := mk(flv.TagVideo, seq(1, "av1C-1b"))
	p.WriteFrame(mk(flv.TagVideo, seq(2, "av1C-2")))
	p.WriteFrame(v1b)
	assertFrames(t, drainPending(t, r, 8), []*Frame{v1b})
	assertFrames(t, p.Stream().Headers().Tracks, []*Frame{color, v1b, v2, a1})
	if len(h.Tracks) != 4 || h.Tracks[1] != v1 {
		t.Fatal("a header set handed out earlier changed")
	}
}

// TestSequenceEndOfOneTrackRepeatsOnlyThatHeader: after a sequence end of
// track 1, the same configuration of track 1 is appended again (a decoder
// was told the sequence ended), while track 0's identical one is not.
func TestSequenceEndOfOneTrackRepeatsOnlyThatHeader(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	mt := func(pt flv.PacketType, id uint8, data string) *Frame {
		f, err := NewFrame(flv.TagVideo, 0, exVideo(t, flv.VideoTagHeader{FrameType: flv.FrameKey, Multitrack: true, PacketType: pt,
			Codec: flv.FourCCAV1, Tracks: []flv.Track{{ID: id, Codec: flv.FourCCAV1, Data: []byte(data)}}}, ""))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	r := p.Stream().NewReader(ReaderInfo{ID: "r"})
	defer r.Close()
	p.WriteFrame(mt(flv.PacketSequenceStart, 0, "c0"))
	p.WriteFrame(mt(flv.PacketSequenceStart, 1, "c1"))
	p.WriteFrame(mt(flv.PacketSequenceEnd, 1, ""))
	again0, again1 := mt(flv.PacketSequenceStart, 0, "c0"), mt(flv.PacketSequenceStart, 1, "c1")
	p.WriteFrame(again0)
	p.WriteFrame(again1)
	// The sequence end itself is video before any keyframe: the reader
	// leaves it out, as it does every such frame.
	got := drainPending(t, r, 8)
	if len(got) != 3 || got[2] != again1 {
		t.Fatalf("got %s, want c0, c1, c1 again", describe(got))
	}
}

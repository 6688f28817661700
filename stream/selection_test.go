package stream

import (
	"errors"
	"testing"

	"github.com/mediaserver/mediaserver/flv"
)

// multitrackSource builds the frames of a stream shaped as OBS and FFmpeg 8
// send multitrack: video track 0 as legacy AVC, tracks 1 and 2 as
// Enhanced RTMP multitrack (one track per message) avc1, audio track 0 as
// legacy AAC and track 1 as multitrack AAC.
type multitrackSource struct {
	t testing.TB
}

// video returns a video frame of track id.
func (m multitrackSource) video(id uint8, ts uint32, pt flv.PacketType, key bool, body string) *Frame {
	m.t.Helper()
	ft := flv.FrameInter
	if key {
		ft = flv.FrameKey
	}
	h := flv.VideoTagHeader{FrameType: ft, Codec: flv.FourCCAVC, PacketType: pt, LegacyCodecID: flv.VideoCodecAVC}
	if id != 0 {
		h = flv.VideoTagHeader{FrameType: ft, Enhanced: true, Codec: flv.FourCCAVC, PacketType: pt, Multitrack: true,
			Tracks: []flv.Track{{ID: id, Codec: flv.FourCCAVC, CompositionTime: 40, Data: []byte(body)}}}
		body = ""
	}
	p, err := flv.AppendVideoTag(nil, h, []byte(body))
	if err != nil {
		m.t.Fatal(err)
	}
	return m.frame(flv.TagVideo, ts, p)
}

// audio returns an audio frame of track id.
func (m multitrackSource) audio(id uint8, ts uint32, pt flv.PacketType, body string) *Frame {
	m.t.Helper()
	h := flv.AudioTagHeader{SoundFormat: flv.SoundFormatAAC, SoundRate: 3, SoundSize: 1, SoundType: 1, PacketType: pt}
	if id != 0 {
		h = flv.AudioTagHeader{SoundFormat: flv.SoundFormatExHeader, Enhanced: true, Codec: flv.FourCCAAC, PacketType: pt,
			Multitrack: true, Tracks: []flv.Track{{ID: id, Codec: flv.FourCCAAC, Data: []byte(body)}}}
		body = ""
	}
	p, err := flv.AppendAudioTag(nil, h, []byte(body))
	if err != nil {
		m.t.Fatal(err)
	}
	return m.frame(flv.TagAudio, ts, p)
}

func (m multitrackSource) frame(typ flv.TagType, ts uint32, p []byte) *Frame {
	m.t.Helper()
	f, err := NewFrame(typ, ts, p)
	if err != nil {
		m.t.Fatal(err)
	}
	return f
}

// publish writes the headers of every track, then frames frames per track
// at 40 ms, a keyframe every third, those of track 2 one frame before the
// others' (unaligned).
func (m multitrackSource) publish(p *Publisher, frames int) {
	for id := range uint8(3) {
		p.WriteFrame(m.video(id, 0, flv.PacketSequenceStart, true, "avcC-"+string('0'+id)))
	}
	for id := range uint8(2) {
		p.WriteFrame(m.audio(id, 0, flv.PacketSequenceStart, "asc-"+string('0'+id)))
	}
	for i := range frames {
		ts := uint32(i * 40)
		for id := range uint8(3) {
			key := i%3 == 0
			if id == 2 {
				key = i%3 == 2
			}
			p.WriteFrame(m.video(id, ts, flv.PacketCodedFrames, key, "v"+string('0'+id)))
		}
		for id := range uint8(2) {
			p.WriteFrame(m.audio(id, ts, flv.PacketCodedFrames, "a"+string('0'+id)))
		}
	}
}

// deliveredTrack describes a frame a single-track reader got, parsed back
// from its payload as a legacy player would.
type deliveredTrack struct {
	typ      flv.TagType
	time     uint32
	header   bool
	key      bool
	body     string
	enhanced bool
	cts      int32
}

func parseDelivered(t testing.TB, f *Frame) deliveredTrack {
	t.Helper()
	d := deliveredTrack{typ: f.Type, time: f.Time, header: f.Header}
	switch f.Type {
	case flv.TagVideo:
		h, err := flv.ParseVideoTagHeader(f.Payload)
		if err != nil || h.Multitrack {
			t.Fatalf("video at %d: multitrack %v, %v", f.Time, h.Multitrack, err)
		}
		d.key, d.enhanced, d.body = h.Keyframe(), h.Enhanced, string(f.Payload[h.HeaderLen:])
		d.cts = h.CompositionTime
	case flv.TagAudio:
		h, err := flv.ParseAudioTagHeader(f.Payload)
		if err != nil || h.Multitrack {
			t.Fatalf("audio at %d: multitrack %v, %v", f.Time, h.Multitrack, err)
		}
		d.enhanced, d.body = h.Enhanced, string(f.Payload[h.HeaderLen:])
	}
	return d
}

// TestSelectedTrackIsRewrittenAsLegacySingleTrack: a reader that selects
// video track 1 and audio track 1 of a multitrack stream gets only those,
// as legacy AVC and AAC tags (what FFmpeg 5.1 and flv.js read), with their
// configuration first and their timestamps unchanged.
func TestSelectedTrackIsRewrittenAsLegacySingleTrack(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	src := multitrackSource{t}
	src.publish(p, 6)

	sel := TrackSelection{Single: true, Video: 1, Audio: 1}
	r := p.Stream().NewReader(ReaderInfo{ID: "legacy", Tracks: sel})
	defer r.Close()
	got := drainPending(t, r, 4)
	if len(got) < 4 {
		t.Fatalf("got %s", describe(got))
	}
	var seen []deliveredTrack
	for _, f := range got {
		d := parseDelivered(t, f)
		if d.enhanced {
			t.Errorf("%v at %d is Enhanced RTMP, want legacy", d.typ, d.time)
		}
		seen = append(seen, d)
	}
	// The newest track-1 keyframe is the second GOP's, at 120 ms: the
	// headers come stamped there, then the GOP.
	if !seen[0].header || !seen[1].header || seen[0].body+seen[1].body != "avcC-1asc-1" {
		t.Fatalf("first frames %+v %+v, want the video and audio configuration of track 1", seen[0], seen[1])
	}
	if d := seen[2]; d.typ != flv.TagVideo || !d.key || d.time != 120 || d.body != "v1" {
		t.Fatalf("first media frame %+v, want the track-1 keyframe at 120", d)
	}
	for _, d := range seen[2:] {
		if d.body != "v1" && d.body != "a1" {
			t.Errorf("frame %+v of another track", d)
		}
	}
	if n := len(seen[2:]); n != 3*2 {
		t.Errorf("%d media frames, want the GOP's 3 video and 3 audio", n)
	}

	// Live frames of track 1 go on at their own timestamps.
	p.WriteFrame(src.video(2, 240, flv.PacketCodedFrames, true, "v2"))
	p.WriteFrame(src.video(1, 240, flv.PacketCodedFrames, false, "v1"))
	p.WriteFrame(src.audio(0, 240, flv.PacketCodedFrames, "a0"))
	live := drainPending(t, r, 4)
	if len(live) != 1 || parseDelivered(t, live[0]) != (deliveredTrack{typ: flv.TagVideo, time: 240, body: "v1", cts: 40}) {
		t.Fatalf("live: got %s, want track 1's frame at 240", describe(live))
	}
}

// TestSelectedTrackJoinsAtItsOwnKeyframe: the keyframes of track 2 are one
// frame before the others'; a reader of track 2 that joins after a keyframe
// of track 0 starts at the newest keyframe of track 2, before it, rather
// than waiting for the next one.
func TestSelectedTrackJoinsAtItsOwnKeyframe(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	src := multitrackSource{t}
	src.publish(p, 4)
	r := p.Stream().NewReader(ReaderInfo{ID: "t2", Tracks: TrackSelection{Single: true, Video: 2}})
	defer r.Close()
	var videos []deliveredTrack
	for _, f := range drainPending(t, r, 8) {
		if d := parseDelivered(t, f); d.typ == flv.TagVideo && !d.header {
			videos = append(videos, d)
		}
	}
	if len(videos) != 2 || !videos[0].key || videos[0].time != 80 || videos[0].body != "v2" {
		t.Fatalf("video frames %+v, want track 2 from its keyframe at 80", videos)
	}
}

// TestDefaultSelectionOfManyTracksMessage: a message carrying tracks 0, 1
// and 2 at once (ManyTracks) reaches a default-track reader as track 0
// alone; a reader of every track gets the message unchanged.
func TestDefaultSelectionOfManyTracksMessage(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	many := func(ts uint32, pt flv.PacketType) *Frame {
		h := flv.VideoTagHeader{FrameType: flv.FrameKey, Enhanced: true, Codec: flv.FourCCHEVC, PacketType: pt,
			Multitrack: true, MultitrackType: flv.MultitrackManyTracks}
		for id := range uint8(3) {
			h.Tracks = append(h.Tracks, flv.Track{ID: id, Codec: flv.FourCCHEVC, Data: []byte{'t', '0' + id}})
		}
		pl, err := flv.AppendVideoTag(nil, h, nil)
		if err != nil {
			t.Fatal(err)
		}
		f, err := NewFrame(flv.TagVideo, ts, pl)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	seqStart, key := many(0, flv.PacketSequenceStart), many(0, flv.PacketCodedFramesX)
	p.WriteFrame(seqStart)
	p.WriteFrame(key)

	all := p.Stream().NewReader(ReaderInfo{ID: "all"})
	defer all.Close()
	assertFrames(t, drainPending(t, all, 4), []*Frame{seqStart, key})

	def := p.Stream().NewReader(ReaderInfo{ID: "default", Tracks: DefaultTracks()})
	defer def.Close()
	got := drainPending(t, def, 4)
	if len(got) != 2 {
		t.Fatalf("default reader got %s", describe(got))
	}
	for i, f := range got {
		d := parseDelivered(t, f)
		if !d.enhanced || d.body != "t0" || d.header != (i == 0) {
			t.Errorf("frame %d: %+v, want Enhanced single-track hvc1 of track 0", i, d)
		}
	}
}

// TestTrackViewsAreShared: readers that select the same track get the same
// rewritten frames, built once.
func TestTrackViewsAreShared(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	src := multitrackSource{t}
	src.publish(p, 3)
	sel := TrackSelection{Single: true, Video: 1, Audio: 1}
	a := p.Stream().NewReader(ReaderInfo{ID: "a", Tracks: sel})
	defer a.Close()
	b := p.Stream().NewReader(ReaderInfo{ID: "b", Tracks: sel})
	defer b.Close()
	fa, fb := drainPending(t, a, 8), drainPending(t, b, 8)
	if len(fa) == 0 {
		t.Fatal("nothing delivered")
	}
	assertFrames(t, fb, fa)
	tag := fa[len(fa)-1].FLVTag()
	if &fb[len(fb)-1].FLVTag()[0] != &tag[0] {
		t.Error("the FLV tag of a rewritten frame was built twice")
	}
}

// TestSelectTracks is the table of track requests against a stream with
// video tracks 0, 1, 2 and audio tracks 0, 1.
func TestSelectTracks(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	multitrackSource{t}.publish(p, 3)
	s := p.Stream()
	cases := []struct {
		query string
		want  TrackSelection
		err   bool
	}{
		{query: "", want: TrackSelection{Single: true}},
		{query: "token=abc", want: TrackSelection{Single: true}},
		{query: "token=a%zz;b&track=1", want: TrackSelection{Single: true, Video: 1, Audio: 1}},
		{query: "track=1", want: TrackSelection{Single: true, Video: 1, Audio: 1}},
		{query: "track=2", want: TrackSelection{Single: true, Video: 2, Audio: 0}},
		{query: "video=2&audio=1", want: TrackSelection{Single: true, Video: 2, Audio: 1}},
		{query: "audio=1", want: TrackSelection{Single: true, Audio: 1}},
		{query: "track=0", want: TrackSelection{Single: true}},
		{query: "track=all", want: TrackSelection{}},
		{query: "track=3", err: true},
		{query: "video=3", err: true},
		{query: "audio=2", err: true},
		{query: "track=x", err: true},
		{query: "track=256", err: true},
	}
	for _, c := range cases {
		req, err := ParseTrackQuery(c.query)
		var sel TrackSelection
		if err == nil {
			sel, err = s.SelectTracks(req)
		}
		switch {
		case c.err && !errors.Is(err, ErrUnknownTrack):
			t.Errorf("%q: err %v, want ErrUnknownTrack", c.query, err)
		case !c.err && err != nil:
			t.Errorf("%q: %v", c.query, err)
		case !c.err && sel != c.want:
			t.Errorf("%q: selection %v, want %v", c.query, sel, c.want)
		}
	}
}

// BenchmarkTrackView measures the single-track form of a multitrack video
// frame of 4 KiB: "rewrite" builds it (what the first reader of a track
// pays per frame), "shared" takes the cached one (what every other reader
// pays).
func BenchmarkTrackView(b *testing.B) {
	f := multitrackSource{b}.video(1, 40, flv.PacketCodedFrames, false, string(make([]byte, 4096)))
	sel := TrackSelection{Single: true, Video: 1}
	b.Run("rewrite", func(b *testing.B) {
		b.SetBytes(int64(len(f.Payload)))
		b.ReportAllocs()
		for range b.N {
			if f.buildTrackView(1) == nil {
				b.Fatal("no view")
			}
		}
	})
	b.Run("shared", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if sel.apply(f) == nil {
				b.Fatal("no view")
			}
		}
	})
}

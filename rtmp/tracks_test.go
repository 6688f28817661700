package rtmp_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// publishTwoTracks publishes live/name on the hub: video track 0 as legacy
// AVC and track 1 as Enhanced RTMP multitrack avc1, the coded frames'
// bodies naming their track ("t0", "t1"). The publisher stays until the
// test ends.
func publishTwoTracks(t *testing.T, s *testServer, name string) {
	t.Helper()
	pub, err := s.hub.Publish(stream.Key{App: "live", Name: name}, stream.PublisherInfo{ID: "p", Protocol: stream.ProtocolRTMP})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	write := func(id uint8, pt flv.PacketType, body string) {
		h := flv.VideoTagHeader{FrameType: flv.FrameKey, LegacyCodecID: flv.VideoCodecAVC, Codec: flv.FourCCAVC, PacketType: pt}
		if id != 0 {
			h = flv.VideoTagHeader{FrameType: flv.FrameKey, Enhanced: true, Codec: flv.FourCCAVC, PacketType: pt,
				Multitrack: true, Tracks: []flv.Track{{ID: id, Codec: flv.FourCCAVC, Data: []byte(body)}}}
			body = ""
		}
		p, err := flv.AppendVideoTag(nil, h, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		f, err := stream.NewFrame(flv.TagVideo, 0, p)
		if err != nil {
			t.Fatal(err)
		}
		pub.WriteFrame(f)
	}
	write(0, flv.PacketSequenceStart, "c0")
	write(1, flv.PacketSequenceStart, "c1")
	write(0, flv.PacketCodedFrames, "t0")
	write(1, flv.PacketCodedFrames, "t1")
}

// playTracks plays name with a client declaring caps and describes the
// first want video tracks it receives, in order: the form of the message
// (legacy, enhanced, multitrack), its packet type and the track's body.
func playTracks(t *testing.T, s *testServer, name string, caps rtmp.EnhancedCaps, want int) []string {
	t.Helper()
	c, err := rtmp.Dial(context.Background(), "rtmp://"+s.addr+"/live", rtmp.ClientConfig{ConnectObject: caps.Properties()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Play(name); err != nil {
		t.Fatalf("play %s: %v", name, err)
	}
	var got []string
	for len(got) < want {
		msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		if msg.Type != chunk.TypeVideo {
			continue
		}
		h, err := flv.ParseVideoTagHeader(msg.Payload)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range h.TrackList(msg.Payload) {
			form := "legacy"
			switch {
			case h.Multitrack:
				form = "multitrack"
			case h.Enhanced:
				form = "enhanced"
			}
			got = append(got, form+" "+h.PacketType.String()+" "+string(tr.Data))
		}
	}
	return got
}

// TestRTMPPlayerTracks: a legacy RTMP player gets the default track of a
// multitrack stream, or the one its stream name asks for, as legacy AVC;
// an Enhanced RTMP player that declared multitrack support gets every
// track unchanged; a track the stream does not have is StreamNotFound.
func TestRTMPPlayerTracks(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{})
	publishTwoTracks(t, s, "mt")
	multitrack := rtmp.EnhancedCaps{Declared: true, FourCCList: []string{"avc1"}, CapsEx: rtmp.CapsExMultitrack}
	cases := []struct {
		name string
		play string
		caps rtmp.EnhancedCaps
		want []string
	}{
		{"legacy default", "mt", rtmp.EnhancedCaps{}, []string{"legacy SequenceStart c0", "legacy CodedFrames t0"}},
		{"legacy track 1", "mt?track=1", rtmp.EnhancedCaps{}, []string{"legacy SequenceStart c1", "legacy CodedFrames t1"}},
		{"enhanced without multitrack", "mt", rtmp.EnhancedCaps{Declared: true, FourCCList: []string{"avc1"}},
			[]string{"legacy SequenceStart c0", "legacy CodedFrames t0"}},
		{"multitrack", "mt", multitrack, []string{"legacy SequenceStart c0", "multitrack SequenceStart c1",
			"legacy CodedFrames t0", "multitrack CodedFrames t1"}},
		{"multitrack asking for track 1", "mt?video=1", multitrack, []string{"legacy SequenceStart c1", "legacy CodedFrames t1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := playTracks(t, s, c.play, c.caps, len(c.want))
			if strings.Join(got, ", ") != strings.Join(c.want, ", ") {
				t.Errorf("got  %v\nwant %v", got, c.want)
			}
		})
	}

	c, err := rtmp.Dial(context.Background(), "rtmp://"+s.addr+"/live", rtmp.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Play("mt?track=2"); !errors.Is(err, rtmp.ErrStatus) || !strings.Contains(err.Error(), "NetStream.Play.StreamNotFound") {
		t.Errorf("play mt?track=2: %v, want NetStream.Play.StreamNotFound", err)
	}
}

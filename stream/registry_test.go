package stream

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

type event struct {
	kind  string
	key   Key
	found bool // whether Lookup found the stream from inside the callback
}

type recordingObserver struct {
	reg    *Registry
	mu     sync.Mutex
	events []event
}

func (o *recordingObserver) StreamStarted(s *Stream) { o.record("started", s) }
func (o *recordingObserver) StreamEnded(s *Stream)   { o.record("ended", s) }

func (o *recordingObserver) record(kind string, s *Stream) {
	_, found := o.reg.Lookup(s.Key()) // must not deadlock
	o.mu.Lock()
	o.events = append(o.events, event{kind, s.Key(), found})
	o.mu.Unlock()
}

func (o *recordingObserver) list() []event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]event(nil), o.events...)
}

func TestPublishBusyAndNameFreeAfterClose(t *testing.T) {
	reg, err := NewRegistry(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := Key{App: "live", Name: "cam"}
	p1, err := reg.Publish(key, PublisherInfo{ID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Publish(key, PublisherInfo{ID: "b"}); !errors.Is(err, ErrStreamBusy) {
		t.Fatalf("second Publish = %v, want ErrStreamBusy", err)
	}
	if _, err := reg.Publish(Key{App: "other", Name: "cam"}, PublisherInfo{}); err != nil {
		t.Fatalf("same name in another app: %v", err)
	}
	s1 := p1.Stream()
	if got, ok := reg.Lookup(key); !ok || got != s1 || got.Info().ID != "a" {
		t.Fatalf("Lookup = %v, %v", got, ok)
	}
	p1.Close()
	if _, ok := reg.Lookup(key); ok {
		t.Fatal("name still taken after Close")
	}
	if _, err := reg.Get(key); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("Get = %v, want ErrStreamNotFound", err)
	}
	p2, err := reg.Publish(key, PublisherInfo{ID: "b"})
	if err != nil {
		t.Fatalf("Publish right after Close: %v", err)
	}
	p1.Close() // idempotent: must not remove the new stream
	if s, err := reg.Get(key); err != nil || s != p2.Stream() {
		t.Fatalf("Get = %v, %v; want the new stream", s, err)
	}
}

func TestObserversCalledInOrder(t *testing.T) {
	reg, err := NewRegistry(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obs := &recordingObserver{reg: reg}
	reg.AddObserver(obs)
	a, b := Key{App: "live", Name: "a"}, Key{App: "live", Name: "b"}
	pa, err := reg.Publish(a, PublisherInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Publish(b, PublisherInfo{}); err != nil {
		t.Fatal(err)
	}
	pa.Close()
	pa.Close()
	reg.Close()
	want := []event{{"started", a, true}, {"started", b, true}, {"ended", a, false}, {"ended", b, false}}
	got := obs.list()
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
}

func TestRegistryCloseEndsStreams(t *testing.T) {
	reg, err := NewRegistry(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := []Key{{"live", "b"}, {"app", "z"}, {"live", "a"}}
	var pubs []*Publisher
	for _, k := range keys {
		p, err := reg.Publish(k, PublisherInfo{})
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, p)
	}
	streams := reg.Streams()
	if len(streams) != 3 || streams[0].Key() != (Key{"app", "z"}) || streams[1].Key() != (Key{"live", "a"}) ||
		streams[2].Key().String() != "live/b" {
		t.Fatalf("Streams not sorted: %v %v %v", streams[0].Key(), streams[1].Key(), streams[2].Key())
	}
	r := pubs[0].Stream().NewReader(ReaderInfo{})
	defer r.Close()
	reg.Close()
	for _, p := range pubs {
		if !p.Stream().Ended() {
			t.Fatalf("%s not ended", p.Stream().Key())
		}
		p.WriteFrame(aud(0, 1)) // ignored
		p.Close()
	}
	if n, err := r.Read(context.Background(), make([]*Frame, 4)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("Read = %d, %v; want io.EOF", n, err)
	}
	if len(reg.Streams()) != 0 {
		t.Fatal("streams left after Close")
	}
	if _, err := reg.Publish(keys[0], PublisherInfo{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close = %v, want ErrClosed", err)
	}
	reg.Close()
}

func TestStats(t *testing.T) {
	_, p := newTestStream(t, Config{})
	s := p.Stream()
	vh, ah := vidHeader(1), audHeader(1)
	p.WriteFrame(vh)
	p.WriteFrame(ah)
	// 10 s of 30 fps video (1000 B, a keyframe every 2 s) and 50 fps audio
	// (100 B), interleaved by timestamp.
	var vi, ai int
	for vi < 300 || ai < 500 {
		vts, ats := uint32(vi*1000/30), uint32(ai*20)
		if vi < 300 && (ai >= 500 || vts <= ats) {
			if vi%60 == 0 {
				p.WriteFrame(vidKey(vts, 1000))
			} else {
				p.WriteFrame(vidInter(vts, 1000))
			}
			vi++
		} else {
			p.WriteFrame(aud(ats, 100))
			ai++
		}
	}
	p.WriteFrame(&Frame{Type: flv.TagScript, Time: 9990, Payload: []byte{0x02, 0, 1, 'x'}})
	r := s.NewReader(ReaderInfo{})
	defer r.Close()

	st := s.Stats()
	wantBytes := uint64(len(vh.Payload) + len(ah.Payload) + 300*1000 + 500*100 + 4)
	if st.BytesIn != wantBytes || st.FramesIn != 803 || st.VideoFrames != 301 || st.AudioFrames != 501 ||
		st.DataFrames != 1 || st.Keyframes != 5 {
		t.Fatalf("counters %+v", st)
	}
	if st.VideoFPS != 30 {
		t.Fatalf("VideoFPS = %v, want 30", st.VideoFPS)
	}
	if st.VideoBitrate != 30*1000*8 || st.AudioBitrate != 50*100*8 || st.Bitrate != st.VideoBitrate+st.AudioBitrate {
		t.Fatalf("bitrates video %v audio %v total %v", st.VideoBitrate, st.AudioBitrate, st.Bitrate)
	}
	if st.KeyframeInterval != 2*time.Second {
		t.Fatalf("KeyframeInterval = %v", st.KeyframeInterval)
	}
	if st.LastTimestamp != 9990 || st.LastFrameAt.IsZero() || st.Readers != 1 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
	if st.VideoCodec != flv.FourCCAVC || st.AudioCodec != flv.FourCCAAC {
		t.Fatalf("codecs %v %v", st.VideoCodec, st.AudioCodec)
	}
	if st.TimestampRegressions != 0 {
		t.Fatalf("TimestampRegressions = %d", st.TimestampRegressions)
	}
	p.WriteFrame(aud(5000, 100))
	if got := s.Stats().TimestampRegressions; got != 1 {
		t.Fatalf("TimestampRegressions = %d after a backwards audio frame, want 1", got)
	}
}

func TestStatsBeforeOneSecondReportsNoRates(t *testing.T) {
	_, p := newTestStream(t, Config{})
	for i := range 10 {
		p.WriteFrame(vidKey(uint32(i*33), 1000))
	}
	if st := p.Stream().Stats(); st.VideoFPS != 0 || st.Bitrate != 0 {
		t.Fatalf("rates before a complete second: fps %v bitrate %v", st.VideoFPS, st.Bitrate)
	}
}

func TestConfigDefaults(t *testing.T) {
	cases := []struct{ in, want Config }{
		{Config{}, Config{GOPCacheFrames: DefaultGOPCacheFrames, GOPCacheBytes: DefaultGOPCacheBytes,
			Takeover: DefaultTakeover}},
		{Config{GOPCacheFrames: -1, GOPCacheBytes: -1, MaxReaderLagBytes: -1},
			Config{GOPCacheFrames: DefaultGOPCacheFrames, GOPCacheBytes: DefaultGOPCacheBytes, Takeover: DefaultTakeover}},
		{Config{GOPCacheFrames: MaxGOPCacheFrames + 1, GOPCacheBytes: 10, MaxReaderLagBytes: 5},
			Config{GOPCacheFrames: MaxGOPCacheFrames, GOPCacheBytes: 10, MaxReaderLagBytes: 5, Takeover: DefaultTakeover}},
	}
	for _, tc := range cases {
		if got := tc.in.WithDefaults(); got != tc.want {
			t.Errorf("%+v.WithDefaults() = %+v, want %+v", tc.in, got, tc.want)
		}
		if again := tc.want.WithDefaults(); again != tc.want {
			t.Errorf("WithDefaults is not idempotent: %+v, then %+v", tc.want, again)
		}
	}
}

func TestNewRegistryRefusesAnUnknownTakeover(t *testing.T) {
	if _, err := NewRegistry(Config{Takeover: "alow"}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("NewRegistry(takeover alow) = %v, want ErrInvalidConfig", err)
	}
	if _, err := NewRegistry(DefaultConfig(), nil); err != nil {
		t.Fatalf("NewRegistry(DefaultConfig()) = %v", err)
	}
}

func TestStreamListsReaders(t *testing.T) {
	_, p := newTestStream(t, Config{})
	s := p.Stream()
	r := s.NewReader(ReaderInfo{ID: "v1", Protocol: ProtocolFLV, RemoteAddr: "10.0.0.1:5000"})
	list := s.Readers()
	if len(list) != 1 || list[0] != r || r.Info().ID != "v1" || r.Stream() != s || r.CreatedAt().IsZero() {
		t.Fatalf("Readers() = %v", list)
	}
	r.Close()
	if len(s.Readers()) != 0 {
		t.Fatal("closed reader still listed")
	}
	if s.StartTime().IsZero() || s.Ended() {
		t.Fatal("live stream state")
	}
}

// TestReaderSeesEOFWhileStreamStillLive pins the order in which a stream
// ends: a reader that got io.EOF finds the stream ended (State, Done),
// even while the rest of the ending is still under way (here held up
// where parked readers are refused).
func TestReaderSeesEOFWhileStreamStillLive(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	s := p.Stream()
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	s.deliv.startMu.Lock()
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		p.End()
	}()
	_, err := r.Read(context.Background(), make([]*Frame, 8))
	state, gone := s.State(), s.Ended()
	s.deliv.startMu.Unlock()
	<-ended
	if !errors.Is(err, io.EOF) {
		t.Fatalf("read: %v, want io.EOF", err)
	}
	if state != StateEnded || !gone {
		t.Errorf("after io.EOF: state %v, Ended %v; want ended", state, gone)
	}
}

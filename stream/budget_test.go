package stream

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"
)

// publishFrom publishes app "live", name on reg from remote.
func publishFrom(reg *Registry, name, remote string) (*Publisher, error) {
	return reg.Publish(Key{App: "live", Name: name}, PublisherInfo{ID: name, Protocol: ProtocolRTMP, RemoteAddr: remote})
}

// writeSomeGOPs writes headers and two GOPs of 1 KiB frames: 21 KiB of
// payload plus the headers.
func writeSomeGOPs(p *Publisher) {
	p.WriteFrame(vidHeader(1))
	p.WriteFrame(audHeader(1))
	writeGOPs(p, 0, 20, 10, 1024)
}

// limitOf returns the limit a publish error names, or "".
func limitOf(err error) string {
	var le *LimitError
	if errors.As(err, &le) {
		return le.Limit
	}
	return ""
}

// TestStreamChurnFromOneAddressIsBounded pins the bug where one address
// publishing and abandoning thousands of streams (each left waiting for
// its publisher within the republish window) made the registry and the
// heap grow without bound: the address gets MaxStreamsPerIP streams and
// is refused after that, and streams that end let their cached bytes go at
// once.
func TestStreamChurnFromOneAddressIsBounded(t *testing.T) {
	const perIP, cycles = 4, 1000
	reg, err := NewRegistry(Config{RepublishWindow: time.Hour, MaxStreamsPerIP: perIP}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	refused := 0
	var perStream int64
	heapBefore := liveHeap()
	for i := range cycles {
		p, err := publishFrom(reg, fmt.Sprintf("churn%d", i), fmt.Sprintf("192.0.2.7:%d", 10000+i))
		if err != nil {
			if limitOf(err) != LimitStreamsPerIP || !errors.Is(err, ErrOverBudget) {
				t.Fatalf("cycle %d: %v, want a %s refusal", i, err, LimitStreamsPerIP)
			}
			refused++
			continue
		}
		before := reg.Memory().Used()
		writeSomeGOPs(p)
		perStream = reg.Memory().Used() - before
		p.Close() // the connection dropped: the stream waits for it
	}
	if n := len(reg.Streams()); n != perIP {
		t.Fatalf("the registry holds %d streams after %d abandoned publishes from one address, want %d", n, cycles, perIP)
	}
	if refused != cycles-perIP {
		t.Fatalf("%d publishers refused, want %d", refused, cycles-perIP)
	}
	if used := reg.Memory().Used(); perStream == 0 || used != perIP*perStream {
		t.Fatalf("the caches hold %d bytes, want %d streams of %d", used, perIP, perStream)
	}
	// What the process holds stays within the budget plus a stated
	// margin: the streams' caches and 16 MiB for everything else (the
	// registry, the streams' bookkeeping, the test's own garbage). Without
	// the per-address budget the 1000 abandoned streams hold about 30 MB.
	const margin = 16 << 20
	if grew := int64(liveHeap()) - int64(heapBefore); grew > perIP*perStream+margin {
		t.Fatalf("the live heap grew by %d bytes over %d abandoned publishes, want at most %d (%d streams of %d bytes and %d)",
			grew, cycles, perIP*perStream+margin, perIP, perStream, margin)
	}
	if got := reg.LimitsHit()[LimitStreamsPerIP]; got != uint64(cycles-perIP) {
		t.Fatalf("LimitsHit[%s] = %d, want %d", LimitStreamsPerIP, got, cycles-perIP)
	}
	// Another address is not refused for it.
	if _, err := publishFrom(reg, "other", "198.51.100.1:1935"); err != nil {
		t.Fatalf("another address was refused: %v", err)
	}

	// Encoders that stop on purpose end their streams at once: every
	// cycle gets through, and an ended stream's bytes leave the budget at
	// once, without a garbage collection.
	reg2, err := NewRegistry(Config{RepublishWindow: time.Hour, MaxStreamsPerIP: perIP}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg2.Close()
	for i := range cycles {
		p, err := publishFrom(reg2, fmt.Sprintf("churn%d", i), "192.0.2.7:1935")
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		writeSomeGOPs(p)
		p.End()
		if used := reg2.Memory().Used(); used != 0 {
			t.Fatalf("cycle %d: %d bytes still accounted to an ended stream", i, used)
		}
		if cached := p.Stream().Stats().CachedBytes; cached != 0 {
			t.Fatalf("cycle %d: an ended stream without readers still caches %d bytes", i, cached)
		}
	}
	if n := len(reg2.Streams()); n != 0 {
		t.Fatalf("%d streams left after every publisher ended", n)
	}
}

// TestEndedStreamKeepsItsCacheForReaders: an ended stream keeps what its
// readers have still to drain, and lets it go when the last one closes.
func TestEndedStreamKeepsItsCacheForReaders(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	s := p.Stream()
	r := s.NewReader(ReaderInfo{ID: "slow"})
	writeSomeGOPs(p)
	p.End()
	if reg.Memory().Used() == 0 {
		t.Fatal("the cache was let go while a reader had not drained it")
	}
	got := 0
	buf := make([]*Frame, 8)
	for {
		n, err := r.Read(canceled(), buf)
		got += n
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading the ended stream: %v", err)
		}
	}
	if got == 0 {
		t.Fatal("the reader got nothing of the ended stream")
	}
	r.Close()
	if used := reg.Memory().Used(); used != 0 {
		t.Fatalf("%d bytes accounted after the last reader of the ended stream closed", used)
	}
}

// TestStreamsPerAddressCountIPv6By64: the per-address cap counts the
// publishers of one IPv6 /64 together, so a host cannot walk around it by
// changing the low 64 bits of its address.
func TestStreamsPerAddressCountIPv6By64(t *testing.T) {
	reg, err := NewRegistry(Config{MaxStreamsPerIP: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	for i, remote := range []string{"[2001:db8:5:6::1]:50000", "[2001:db8:5:6:aaaa::2]:50001"} {
		if _, err := publishFrom(reg, fmt.Sprintf("s%d", i), remote); err != nil {
			t.Fatalf("publisher %d from %s: %v", i, remote, err)
		}
	}
	_, err = publishFrom(reg, "s2", "[2001:db8:5:6:ffff:ffff:ffff:ffff]:50002")
	if limitOf(err) != LimitStreamsPerIP {
		t.Fatalf("a third publisher of the same /64: %v, want a %s refusal", err, LimitStreamsPerIP)
	}
	if _, err := publishFrom(reg, "s3", "[2001:db8:5:7::1]:50003"); err != nil {
		t.Fatalf("a publisher of the next /64 was refused: %v", err)
	}
}

// TestMaxStreamsRefusesNewKeysOnly: at MaxStreams a publisher of a new
// key is refused with the reason, while a publisher continuing a waiting
// stream is not; an ended stream frees its slot.
func TestMaxStreamsRefusesNewKeysOnly(t *testing.T) {
	reg, err := NewRegistry(Config{MaxStreams: 2, RepublishWindow: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	a, err := publishFrom(reg, "a", "192.0.2.1:1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := publishFrom(reg, "b", "192.0.2.2:1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = publishFrom(reg, "c", "192.0.2.3:1")
	if limitOf(err) != LimitStreams {
		t.Fatalf("a third stream: %v, want a %s refusal", err, LimitStreams)
	}
	var le *LimitError
	if !errors.As(err, &le) || le.Reason == "" {
		t.Fatalf("the refusal gives no reason: %v", err)
	}
	a.Close() // waits for its publisher
	if _, err := publishFrom(reg, "a", "192.0.2.1:2"); err != nil {
		t.Fatalf("the publisher coming back to a waiting stream was refused: %v", err)
	}
	b.End()
	if _, err := publishFrom(reg, "c", "192.0.2.3:1"); err != nil {
		t.Fatalf("after a stream ended: %v", err)
	}
	if got := reg.LimitsHit()[LimitStreams]; got != 1 {
		t.Fatalf("LimitsHit[%s] = %d, want 1", LimitStreams, got)
	}
}

// TestMemoryBudgetRefusesNewPublishers: while the caches hold
// MemoryBudget bytes, publishers of new keys are refused; once the bytes
// are let go they are admitted again.
func TestMemoryBudgetRefusesNewPublishers(t *testing.T) {
	reg, err := NewRegistry(Config{MemoryBudget: 16 << 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	p, err := publishFrom(reg, "big", "192.0.2.1:1")
	if err != nil {
		t.Fatal(err)
	}
	writeSomeGOPs(p) // more than 16 KiB
	_, err = publishFrom(reg, "next", "192.0.2.2:1")
	if limitOf(err) != LimitMemory {
		t.Fatalf("with the budget full: %v, want a %s refusal", err, LimitMemory)
	}
	p.End()
	if _, err := publishFrom(reg, "next", "192.0.2.2:1"); err != nil {
		t.Fatalf("after the stream holding the memory ended: %v", err)
	}
}

// TestIngestOverBitrateBudgetIsCutOff: a publisher sending more than
// MaxIngestBitrate over the window is cut off, its stream ended and the
// reason given; one sending less is not.
func TestIngestOverBitrateBudgetIsCutOff(t *testing.T) {
	cfg := Config{MaxIngestBitrate: 1_000_000, IngestBitrateWindow: 5 * time.Second}
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	reg, err := NewRegistry(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.clock = clock.Now
	defer reg.Close()
	under, err := publishFrom(reg, "under", "192.0.2.1:1")
	if err != nil {
		t.Fatal(err)
	}
	over, err := publishFrom(reg, "over", "192.0.2.2:1")
	if err != nil {
		t.Fatal(err)
	}
	// 30 s at 25 frames a second: 4 KB frames are 800 kbit/s, 8 KB frames
	// 1.6 Mbit/s.
	for i := range 30 * 25 {
		ts := uint32(i * 40)
		under.WriteFrame(vidKey(ts, 4000))
		over.WriteFrame(vidKey(ts, 8000))
		clock.advance(40 * time.Millisecond)
	}
	select {
	case <-under.Done():
		t.Fatalf("the publisher under the budget was cut off: %v", under.CutOff())
	default:
	}
	if le := under.CutOff(); le != nil {
		t.Fatalf("the publisher under the budget has a cut-off reason: %v", le)
	}
	select {
	case <-over.Done():
	default:
		t.Fatal("the publisher over the budget was not cut off")
	}
	le := over.CutOff()
	if le == nil || le.Limit != LimitIngestBitrate || le.Reason == "" {
		t.Fatalf("cut-off reason %v, want %s with a reason", le, LimitIngestBitrate)
	}
	if !over.Stream().Ended() {
		t.Fatal("the stream of the publisher cut off did not end")
	}
	if st := over.Stream().Stats(); st.BytesIn > 5*1_000_000/8 {
		t.Fatalf("the stream took %d bytes, more than a window's budget", st.BytesIn)
	}
	if got := reg.LimitsHit()[LimitIngestBitrate]; got != 1 {
		t.Fatalf("LimitsHit[%s] = %d, want 1", LimitIngestBitrate, got)
	}
	t.Logf("cut off: %v", le)
}

func TestMemoryBudgetFullAndLow(t *testing.T) {
	b := NewMemoryBudget(100)
	steps := []struct {
		add       int64
		low, full bool
	}{{74, false, false}, {1, true, false}, {25, true, true}, {-100, false, false}}
	for i, s := range steps {
		b.Add(s.add)
		if b.Low() != s.low || b.Full() != s.full {
			t.Fatalf("step %d (%d used): Low %v Full %v, want %v %v", i, b.Used(), b.Low(), b.Full(), s.low, s.full)
		}
	}
	var none *MemoryBudget
	none.Add(10)
	if none.Full() || none.Low() || none.Used() != 0 {
		t.Fatal("a nil budget counts")
	}
	if unlimited := NewMemoryBudget(0); func() bool { unlimited.Add(1 << 40); return unlimited.Full() || unlimited.Low() }() {
		t.Fatal("a budget without a limit is full")
	}
}

func TestPublishersWithoutAddressAreNotCappedPerAddress(t *testing.T) {
	reg, err := NewRegistry(Config{MaxStreamsPerIP: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	for i := range 3 {
		if _, err := publishFrom(reg, fmt.Sprintf("internal%d", i), ""); err != nil {
			t.Fatalf("publisher %d without an address: %v", i, err)
		}
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

package hls

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestConfigWithDefaultsIsIdempotent(t *testing.T) {
	for _, in := range []Config{
		{},
		{EndListDelay: -1, EndedRetention: time.Second},
		{SegmentDuration: 20 * time.Second, PlaylistLength: 3},
	} {
		once := in.WithDefaults()
		twice := once.WithDefaults()
		if !reflect.DeepEqual(once, twice) {
			t.Errorf("%+v: once %+v, twice %+v", in, once, twice)
		}
	}
	if d := (Config{EndListDelay: -1}).WithDefaults().EndListDelay; d >= 0 {
		t.Errorf("EndListDelay -1 became %v; a second WithDefaults would turn it into the default", d)
	}
}

func TestNewManagerRefusesAnOriginNoBrowserSends(t *testing.T) {
	cfg := Config{AllowedOrigins: []string{"https://player.example/"}}
	if _, err := NewManager(cfg, nil, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("NewManager with origin %q: %v, want ErrInvalidConfig", cfg.AllowedOrigins[0], err)
	}
	if !slices.Equal(cfg.WithDefaults().AllowedOrigins, cfg.AllowedOrigins) {
		t.Fatal("WithDefaults changed the allowed origins")
	}
}

func TestConfigValidateVariantAndPartDuration(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{Variant: VariantFMP4}, true},
		{Config{Variant: VariantMPEGTS}, true},
		{Config{Variant: "ts"}, false},
		{Config{PartDuration: MinPartDuration}, true},
		{Config{PartDuration: MinPartDuration - time.Millisecond}, false},
		{Config{SegmentDuration: time.Second, PartDuration: 500 * time.Millisecond}, true},
		{Config{SegmentDuration: time.Second, PartDuration: 501 * time.Millisecond}, false},
	} {
		cfg := tc.cfg.WithDefaults()
		if err := cfg.Validate(); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("variant %q, part duration %v: Validate() = %v, want ok %v", cfg.Variant, cfg.PartDuration, err, tc.ok)
		}
	}
	if cfg := (Config{}).WithDefaults(); cfg.Variant != VariantLowLatency || cfg.PartDuration != 200*time.Millisecond {
		t.Errorf("defaults: variant %q, part duration %v", cfg.Variant, cfg.PartDuration)
	}
}

func TestConfigBlockingTimeout(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want time.Duration // 0: invalid
	}{
		{Config{}, 6 * time.Second},
		{Config{SegmentDuration: 1500 * time.Millisecond}, 6 * time.Second},
		{Config{SegmentDuration: time.Second}, 3 * time.Second},
		{Config{BlockingTimeout: 500 * time.Millisecond}, 500 * time.Millisecond},
		{Config{BlockingTimeout: MaxBlockingTimeout}, MaxBlockingTimeout},
		{Config{BlockingTimeout: MaxBlockingTimeout + time.Second}, 0},
		{Config{BlockingTimeout: -time.Second}, 0},
	} {
		cfg := tc.cfg.WithDefaults()
		err := cfg.Validate()
		switch {
		case tc.want == 0 && !errors.Is(err, ErrInvalidConfig):
			t.Errorf("%+v: Validate() = %v, want ErrInvalidConfig", tc.cfg, err)
		case tc.want != 0 && (err != nil || cfg.BlockingTimeout != tc.want):
			t.Errorf("%+v: blocking timeout %v (%v), want %v", tc.cfg, cfg.BlockingTimeout, err, tc.want)
		}
	}
}

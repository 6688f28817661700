package httpflv

import (
	"errors"
	"testing"
)

func TestNewRefusesAnOriginNoBrowserSends(t *testing.T) {
	_, err := New(Config{AllowedOrigins: []string{"https://player.example/"}}, nil, nil)
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("New with origin %q: %v, want ErrInvalidConfig", "https://player.example/", err)
	}
}

func TestConfigWithDefaultsIsIdempotent(t *testing.T) {
	for _, in := range []Config{{}, {MaxBatch: MaxMaxBatch + 1, WriteTimeout: -1}} {
		once := in.WithDefaults()
		twice := once.WithDefaults()
		if once.WriteTimeout != twice.WriteTimeout || once.MaxBatch != twice.MaxBatch ||
			once.PingInterval != twice.PingInterval || once.WSReadLimit != twice.WSReadLimit ||
			once.HeaderWait != twice.HeaderWait {
			t.Errorf("%+v: once %+v, twice %+v", in, once, twice)
		}
		if once.WriteTimeout != DefaultWriteTimeout || once.MaxBatch == 0 || once.MaxBatch > MaxMaxBatch {
			t.Errorf("%+v.WithDefaults() = %+v", in, once)
		}
	}
}

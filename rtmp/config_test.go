package rtmp_test

import (
	"errors"
	"testing"

	"github.com/mediaserver/mediaserver/rtmp"
)

func TestServerConfigWithDefaultsFillsEveryZeroField(t *testing.T) {
	got := rtmp.ServerConfig{}.WithDefaults()
	if got.Addr != rtmp.DefaultAddr || got.ChunkSize != rtmp.DefaultChunkSize ||
		got.WindowAckSize != rtmp.DefaultWindowAckSize || got.HandshakeTimeout != rtmp.DefaultHandshakeTimeout ||
		got.SetupTimeout != rtmp.DefaultSetupTimeout || got.IdleTimeout != rtmp.DefaultIdleTimeout ||
		got.WriteTimeout != rtmp.DefaultWriteTimeout || got.MaxMessageSize == 0 ||
		got.MaxChunkStreams != rtmp.DefaultMaxChunkStreams || got.RefusalDelay != rtmp.DefaultRefusalDelay ||
		got.MaxConns != rtmp.DefaultMaxConns || got.MaxConnsPerIP != rtmp.DefaultMaxConnsPerIP {
		t.Fatalf("ServerConfig{}.WithDefaults() = %+v", got)
	}
	if again := got.WithDefaults(); again != got {
		t.Fatalf("WithDefaults is not idempotent: %+v, then %+v", got, again)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestNewServerRefusesAnInvalidConfig(t *testing.T) {
	for _, cfg := range []rtmp.ServerConfig{
		{ChunkSize: -1},
		{ChunkSize: 1 << 30},
		{MaxMessageSize: -1},
		{SetupTimeout: -1},
	} {
		if _, err := rtmp.NewServer(cfg, nil, nil); !errors.Is(err, rtmp.ErrInvalidConfig) {
			t.Errorf("NewServer(%+v) = %v, want ErrInvalidConfig", cfg, err)
		}
		if _, err := rtmp.NewServerConn(nil, "c", cfg, nil, nil); !errors.Is(err, rtmp.ErrInvalidConfig) {
			t.Errorf("NewServerConn(%+v) = %v, want ErrInvalidConfig", cfg, err)
		}
	}
}

package api

import (
	"errors"
	"net/http"
	"testing"
)

// newHandler is New for a configuration the test expects to be valid.
func newHandler(t *testing.T, cfg Config, deps Deps) http.Handler {
	t.Helper()
	h, err := New(cfg, deps, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestNewRefusesATokenNoClientCanSend(t *testing.T) {
	for _, token := range []string{"s3cret ", "s3c ret", "s3cret\n"} {
		if _, err := New(Config{Token: token}, Deps{}, nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("token %q: %v, want ErrInvalidConfig", token, err)
		}
	}
	if _, err := New(Config{Token: "s3cret-token"}, Deps{}, nil); err != nil {
		t.Errorf("token s3cret-token: %v", err)
	}
}

package cors

import (
	"errors"
	"testing"
)

func TestValidateAllowedOrigins(t *testing.T) {
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"*", true},
		{"https://player.example", true},
		{"http://localhost:3000", true},
		{"https://player.example/", false},
		{"https://player.example/live", false},
		{"player.example", false},
		{"https://player.example?x=1", false},
		{"", false},
	} {
		err := Policy{AllowedOrigins: []string{tc.origin}}.Validate()
		if tc.ok && err != nil {
			t.Errorf("%q: %v, want valid", tc.origin, err)
		}
		if !tc.ok && !errors.Is(err, ErrInvalidOrigin) {
			t.Errorf("%q: %v, want ErrInvalidOrigin", tc.origin, err)
		}
	}
	if err := (Policy{}).Validate(); err != nil {
		t.Errorf("no origins: %v", err)
	}
}

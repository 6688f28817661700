package keystore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestKeysSurviveReopenAndStoreOnlyHashes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := openStore(t, dir)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("data directory made before the first key: %v", err)
	}
	k, secret, err := s.Create("live", "mystream")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, SecretPrefix) || len(secret) != len(SecretPrefix)+2*secretBytes {
		t.Fatalf("secret %q: want %s and %d hex digits", secret, SecretPrefix, 2*secretBytes)
	}
	if got, ok := s.Match(secret); !ok || got.ID != k.ID || got.App != "live" || got.Name != "mystream" {
		t.Fatalf("Match(secret) = %+v, %v", got, ok)
	}
	if !s.Protects("live", "mystream") || s.Protects("live", "other") {
		t.Error("Protects does not follow the keys")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secret[len(SecretPrefix):]) {
		t.Error("the secret is written in the key file")
	}
	if fi, err := os.Stat(filepath.Join(dir, FileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}

	s2 := openStore(t, dir)
	if got, ok := s2.Match(secret); !ok || got.ID != k.ID {
		t.Fatalf("after reopening, Match(secret) = %+v, %v", got, ok)
	}
	if keys := s2.Keys(); len(keys) != 1 || keys[0].ID != k.ID || keys[0].Masked() != SecretPrefix+"…"+secret[len(secret)-4:] {
		t.Fatalf("keys after reopening: %+v", keys)
	}
}

func TestRotateAndRevoke(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	k, old, err := s.Create("live", "a")
	if err != nil {
		t.Fatal(err)
	}
	rk, secret, err := s.Rotate(k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rk.ID != k.ID || secret == old || rk.Rotated.IsZero() {
		t.Fatalf("rotate: %+v %q", rk, secret)
	}
	if _, ok := s.Match(old); ok {
		t.Error("the old secret still matches after rotation")
	}
	if got, ok := s.Match(secret); !ok || got.ID != k.ID {
		t.Error("the new secret does not match")
	}
	if _, err := s.Revoke(k.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Match(secret); ok || s.Protects("live", "a") {
		t.Error("a revoked key still works")
	}
	if _, err := s.Revoke(k.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke twice: %v", err)
	}
	if _, _, err := s.Rotate("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rotate unknown: %v", err)
	}
	if _, _, err := s.Create("live", "a/b"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("create with a bad name: %v", err)
	}
	_ = s.Close()
	if keys := openStore(t, dir).Keys(); len(keys) != 0 {
		t.Errorf("revoked key back after reopening: %+v", keys)
	}
}

func TestMatchRejectsNearMisses(t *testing.T) {
	s := openStore(t, t.TempDir())
	_, secret, err := s.Create("live", "a")
	if err != nil {
		t.Fatal(err)
	}
	for _, try := range []string{"", "a", SecretPrefix, secret[:len(secret)-1], secret + "0", strings.ToUpper(secret)} {
		if _, ok := s.Match(try); ok {
			t.Errorf("Match(%q) accepted", try)
		}
	}
}

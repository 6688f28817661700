package keystore

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mediaserver/mediaserver/stream"
)

// FileName is the name of the key database under the data directory.
const FileName = "keys.db"

// SecretPrefix starts every secret, so that an encoder's bare stream key
// is recognisable as a key (and by people reading a configuration).
const SecretPrefix = "live_"

// secretBytes is the entropy of a secret: 160 bits from crypto/rand.
const secretBytes = 20

// idBytes is the size of a key id: it names a key in the API and in logs
// and is not secret.
const idBytes = 8

// hintLength is how many trailing characters of a secret a listing shows.
const hintLength = 4

// openTimeout bounds the wait for another process's lock on the file.
const openTimeout = time.Second

// bucketName is the bucket that holds one record per key, by id.
const bucketName = "keys"

// Key describes a stream key without its secret.
type Key struct {
	// ID names the key in the API and logs; it is not secret.
	ID string `json:"id"`
	// App and Name are the stream the key publishes.
	App  string `json:"app"`
	Name string `json:"name"`
	// Hint is the secret's last characters, for telling keys apart.
	Hint string `json:"hint"`
	// Created is when the key was created; Rotated when its secret was
	// last replaced (zero if never).
	Created time.Time `json:"created"`
	Rotated time.Time `json:"rotated,omitzero"`
}

// Masked is the secret as a listing shows it: the prefix, an ellipsis and
// the hint.
func (k Key) Masked() string { return SecretPrefix + "…" + k.Hint }

// record is a key as stored: the key and the SHA-256 of its secret.
type record struct {
	Key
	Hash string `json:"sha256"`
}

// Store holds the stream keys. It is safe for concurrent use.
type Store struct {
	path string
	log  *slog.Logger

	mu     sync.RWMutex
	db     *bolt.DB // nil until the first key is created or the file exists
	byID   map[string]record
	byHash map[[sha256.Size]byte]string
	closed bool
}

// Open returns the store kept under dir, reading its keys if the file
// exists. The directory and file are created with the first key. A nil
// log discards.
func Open(dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		path: filepath.Join(dir, FileName), log: log.With("component", "keystore"),
		byID: make(map[string]record), byHash: make(map[[sha256.Size]byte]string),
	}
	if _, err := os.Stat(s.path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return s, nil
		}
		return nil, fmt.Errorf("open key store: %w", err)
	}
	if err := s.openDB(); err != nil {
		return nil, err
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketName))
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("key record: %w", err)
			}
			sum, err := hex.DecodeString(r.Hash)
			if err != nil || len(sum) != sha256.Size {
				return fmt.Errorf("key %s: bad hash", r.ID)
			}
			s.byID[r.ID] = r
			s.byHash[[sha256.Size]byte(sum)] = r.ID
			return nil
		})
	})
	if err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("read key store %s: %w", s.path, err)
	}
	s.log.Info("stream keys loaded", "keys", len(s.byID))
	return s, nil
}

// openDB opens (creating) the database file. s.mu must be held or s not
// shared yet.
func (s *Store) openDB() error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: openTimeout})
	if err != nil {
		return fmt.Errorf("open key store %s: %w", s.path, err)
	}
	s.db = db
	return nil
}

// Create makes a new key for app/name and returns it with its secret,
// which is shown this once.
func (s *Store) Create(app, name string) (Key, string, error) {
	if err := stream.CheckName(app); err != nil {
		return Key{}, "", fmt.Errorf("%w: app: %w", ErrInvalidKey, err)
	}
	if err := stream.CheckName(name); err != nil {
		return Key{}, "", fmt.Errorf("%w: name: %w", ErrInvalidKey, err)
	}
	id, err := randomHex(idBytes)
	if err != nil {
		return Key{}, "", err
	}
	secret, sum, err := newSecret()
	if err != nil {
		return Key{}, "", err
	}
	r := record{Key: Key{ID: id, App: app, Name: name, Hint: secret[len(secret)-hintLength:],
		Created: time.Now().UTC().Truncate(time.Second)}, Hash: hex.EncodeToString(sum[:])}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.put(r); err != nil {
		return Key{}, "", err
	}
	s.byID[id] = r
	s.byHash[sum] = id
	s.log.Info("stream key created", "key", id, "stream", app+"/"+name)
	return r.Key, secret, nil
}

// Rotate replaces the secret of key id and returns the new one, shown
// this once. The old secret stops working at once; a publisher that is
// live with it goes on (revoke the key to cut it off).
func (s *Store) Rotate(id string) (Key, string, error) {
	secret, sum, err := newSecret()
	if err != nil {
		return Key{}, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok {
		return Key{}, "", fmt.Errorf("rotate key %q: %w", id, ErrNotFound)
	}
	old, _ := hex.DecodeString(r.Hash)
	r.Hash, r.Hint = hex.EncodeToString(sum[:]), secret[len(secret)-hintLength:]
	r.Rotated = time.Now().UTC().Truncate(time.Second)
	if err := s.put(r); err != nil {
		return Key{}, "", err
	}
	delete(s.byHash, [sha256.Size]byte(old))
	s.byID[id] = r
	s.byHash[sum] = id
	s.log.Info("stream key rotated", "key", id, "stream", r.App+"/"+r.Name)
	return r.Key, secret, nil
}

// Revoke deletes key id and returns what it was. Its secret stops working
// at once; cutting off a live publisher is the caller's business.
func (s *Store) Revoke(id string) (Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok {
		return Key{}, fmt.Errorf("revoke key %q: %w", id, ErrNotFound)
	}
	if s.closed {
		return Key{}, fmt.Errorf("revoke key %q: %w", id, ErrClosed)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(bucketName)); b != nil {
			return b.Delete([]byte(id))
		}
		return nil
	})
	if err != nil {
		return Key{}, fmt.Errorf("revoke key %q: %w", id, err)
	}
	sum, _ := hex.DecodeString(r.Hash)
	delete(s.byHash, [sha256.Size]byte(sum))
	delete(s.byID, id)
	s.log.Info("stream key revoked", "key", id, "stream", r.App+"/"+r.Name)
	return r.Key, nil
}

// put writes r, opening the database first if needed. s.mu must be held.
func (s *Store) put(r record) error {
	if s.closed {
		return fmt.Errorf("store key %s: %w", r.ID, ErrClosed)
	}
	if s.db == nil {
		if err := s.openDB(); err != nil {
			return err
		}
	}
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store key %s: %w", r.ID, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucketName))
		if err != nil {
			return err
		}
		return b.Put([]byte(r.ID), v)
	})
	if err != nil {
		return fmt.Errorf("store key %s: %w", r.ID, err)
	}
	return nil
}

// Keys returns every key, by app, name and creation.
func (s *Store) Keys() []Key {
	s.mu.RLock()
	out := make([]Key, 0, len(s.byID))
	for _, r := range s.byID {
		out = append(out, r.Key)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Key) int {
		if c := strings.Compare(a.App, b.App); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Get returns key id.
func (s *Store) Get(id string) (Key, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.byID[id]
	return r.Key, ok
}

// Match returns the key whose secret is secret. Secrets are looked up by
// their SHA-256, so the time taken depends on the hash of what was sent,
// never on how much of a stored secret it matches; the stored hash is then
// compared in constant time.
func (s *Store) Match(secret string) (Key, bool) {
	if !strings.HasPrefix(secret, SecretPrefix) {
		return Key{}, false
	}
	sum := sha256.Sum256([]byte(secret))
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.byHash[sum]
	if !ok {
		return Key{}, false
	}
	r := s.byID[id]
	stored, _ := hex.DecodeString(r.Hash)
	if subtle.ConstantTimeCompare(stored, sum[:]) != 1 {
		return Key{}, false
	}
	return r.Key, true
}

// Protects reports whether app/name has a key: then only its secret may
// publish it.
func (s *Store) Protects(app, name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.byID {
		if r.App == app && r.Name == name {
			return true
		}
	}
	return false
}

// Close closes the database file. It is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.db == nil {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close key store: %w", err)
	}
	return nil
}

// newSecret returns a fresh secret and its SHA-256.
func newSecret() (string, [sha256.Size]byte, error) {
	h, err := randomHex(secretBytes)
	if err != nil {
		return "", [sha256.Size]byte{}, err
	}
	secret := SecretPrefix + h
	return secret, sha256.Sum256([]byte(secret)), nil
}

// randomHex returns n bytes from crypto/rand in hex.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

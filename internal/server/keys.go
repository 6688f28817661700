package server

import (
	"errors"
	"fmt"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/internal/keystore"
)

// keySource serves the API's stream key routes from the access checker's
// key store, and cuts off the publisher of a revoked key.
type keySource struct {
	s *Server
}

// Keys implements api.KeySource.
func (k keySource) Keys() []api.KeyInfo {
	all := k.s.access.Keys().Keys()
	out := make([]api.KeyInfo, 0, len(all))
	for _, key := range all {
		out = append(out, keyInfo(key))
	}
	return out
}

// CreateKey implements api.KeySource.
func (k keySource) CreateKey(app, name string) (api.KeyInfo, string, error) {
	key, secret, err := k.s.access.Keys().Create(app, name)
	if err != nil {
		return api.KeyInfo{}, "", fmt.Errorf("create stream key: %w", err)
	}
	return keyInfo(key), secret, nil
}

// RotateKey implements api.KeySource.
func (k keySource) RotateKey(id string) (api.KeyInfo, string, error) {
	key, secret, err := k.s.access.Keys().Rotate(id)
	if err != nil {
		return api.KeyInfo{}, "", keyError(err)
	}
	return keyInfo(key), secret, nil
}

// RevokeKey implements api.KeySource: the key is deleted, then every
// publisher that holds it is disconnected. A stream waiting for such a
// publisher to come back cannot be continued (republish needs the key)
// and ends when its window passes.
func (k keySource) RevokeKey(id string) (api.KeyInfo, error) {
	key, err := k.s.access.Keys().Revoke(id)
	if err != nil {
		return api.KeyInfo{}, keyError(err)
	}
	for _, st := range k.s.hub.Streams() {
		if info := st.Info(); info.KeyID == id && k.s.rtmp.Kick(info.ID) {
			k.s.log.Info("publisher of a revoked stream key disconnected", "key", id,
				"stream", st.Key().String(), "session", info.ID)
		}
	}
	return keyInfo(key), nil
}

// keyInfo describes a key for the API.
func keyInfo(k keystore.Key) api.KeyInfo {
	updated := k.Rotated
	if updated.IsZero() {
		updated = k.Created
	}
	return api.KeyInfo{ID: k.ID, App: k.App, Name: k.Name, Masked: k.Masked(), Created: k.Created, Updated: updated}
}

// keyError maps the key store's errors to the API's.
func keyError(err error) error {
	if errors.Is(err, keystore.ErrNotFound) {
		return fmt.Errorf("%w: %w", api.ErrKeyNotFound, err)
	}
	return err
}

package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/store"
)

func TestCachedKeysAskPostgresOncePerTTLAndNeverRememberAnUnknownKey(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	calls := map[string]int{}
	lookup := cachedKeys(func(_ context.Context, secret string) (store.APIKey, error) {
		calls[secret]++
		if secret == "good" {
			return store.APIKey{ID: 7, Name: "shop", Role: store.RoleIntegration}, nil
		}
		return store.APIKey{}, store.ErrNotFound
	}, 30*time.Second, func() time.Time { return now })

	for range 3 {
		k, err := lookup(context.Background(), "good")
		require.NoError(t, err)
		assert.Equal(t, int64(7), k.ID)
	}
	assert.Equal(t, 1, calls["good"], "a live key is remembered")
	for range 2 {
		_, err := lookup(context.Background(), "bad")
		assert.ErrorIs(t, err, store.ErrNotFound)
	}
	assert.Equal(t, 2, calls["bad"], "an unknown key is asked for every time")

	now = now.Add(31 * time.Second)
	_, err := lookup(context.Background(), "good")
	require.NoError(t, err)
	assert.Equal(t, 2, calls["good"], "past the TTL the key is checked again, so a revocation takes effect")
}

func TestARememberedKeyOutlivesAPostgresOutageButNotARevocation(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var down, revoked bool
	calls := 0
	lookup := cachedKeys(func(_ context.Context, secret string) (store.APIKey, error) {
		calls++
		switch {
		case down:
			return store.APIKey{}, errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
		case revoked:
			return store.APIKey{}, store.ErrNotFound
		}
		return store.APIKey{ID: 7, Role: store.RoleAgent}, nil
	}, 30*time.Second, func() time.Time { return now })
	ctx := context.Background()
	_, err := lookup(ctx, "good")
	require.NoError(t, err)

	down = true
	now = now.Add(time.Minute)
	k, err := lookup(ctx, "good")
	require.NoError(t, err, "Postgres down: the remembered key still works")
	assert.Equal(t, int64(7), k.ID)
	_, err = lookup(ctx, "good")
	require.NoError(t, err)
	assert.Equal(t, 2, calls, "served stale, it asks again only after keyRecheck")
	_, err = lookup(ctx, "never-seen")
	assert.Error(t, err, "a key never confirmed is not let in")

	now = now.Add(keyStaleFor)
	_, err = lookup(ctx, "good")
	assert.Error(t, err, "past keyStaleFor the outage is answered")

	down, revoked = false, true
	_, err = lookup(ctx, "good")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

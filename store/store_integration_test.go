//go:build integration

package store_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
)

func TestMigrateTwiceIsANoOp(t *testing.T) {
	db := stacktest.Store(t) // migrates once
	ctx := stacktest.Context(t)
	before, err := db.MigrationVersion(ctx)
	require.NoError(t, err)
	require.NoError(t, db.Migrate(ctx, stacktest.Logger(t)))
	after, err := db.MigrationVersion(ctx)
	require.NoError(t, err)
	assert.Positive(t, before)
	assert.Equal(t, before, after)
}

func TestAPIKeyIsFoundByItsSecretAndStoredOnlyAsAHash(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	key, secret, err := db.CreateAPIKey(ctx, "test-"+t.Name(), store.RoleSecurity)
	require.NoError(t, err)
	assert.Regexp(t, `^hk_[A-Za-z0-9_-]{43}$`, secret)

	found, err := db.LookupAPIKey(ctx, secret)
	require.NoError(t, err)
	assert.Equal(t, key.ID, found.ID)
	assert.Equal(t, store.RoleSecurity, found.Role)

	var stored int
	require.NoError(t, db.Pool().QueryRow(ctx,
		`SELECT count(*) FROM api_keys WHERE id = $1 AND (name = $2 OR key_prefix = $2 OR encode(key_hash, 'escape') = $2)`,
		key.ID, secret).Scan(&stored))
	assert.Zero(t, stored, "the secret itself must not be stored")
}

func TestUnknownOrRevokedKeyIsNotFound(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	_, err := db.LookupAPIKey(ctx, "hk_not-a-key")
	assert.ErrorIs(t, err, store.ErrNotFound)

	key, secret, err := db.CreateAPIKey(ctx, "revoked-"+t.Name(), store.RoleAgent)
	require.NoError(t, err)
	_, err = db.Pool().Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1`, key.ID)
	require.NoError(t, err)
	_, err = db.LookupAPIKey(ctx, secret)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestCreateAPIKeyRefusesUnknownRoleAndEmptyName(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	_, _, err := db.CreateAPIKey(ctx, "x", store.Role("root"))
	assert.ErrorContains(t, err, `unknown role "root"`)
	_, _, err = db.CreateAPIKey(ctx, " ", store.RoleAdmin)
	assert.ErrorContains(t, err, "name must not be empty")
}

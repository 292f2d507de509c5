package store

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRoleAcceptsEveryRoleAndListsThemOnError(t *testing.T) {
	for _, r := range Roles {
		got, err := ParseRole(string(r))
		require.NoError(t, err)
		assert.Equal(t, r, got)
	}
	_, err := ParseRole("superuser")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "integration, agent, account_manager, security, trust_safety, admin")
}

func TestMigrationsAreEmbedded(t *testing.T) {
	entries, err := migrations.ReadDir("migrations")
	require.NoError(t, err)
	assert.NotEmpty(t, entries)
}

package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const accountSecret = "0123456789abcdef0123456789abcdef"

func TestAccountDirectoryDefaultsToPostgres(t *testing.T) {
	cfg, err := LoadFrom(lookupFrom(nil))
	require.NoError(t, err)
	assert.Equal(t, Accounts{Directory: "postgres", ServiceKeyID: "handoff"}, cfg.Accounts)
}

func TestAccountServiceIsRead(t *testing.T) {
	cfg, err := LoadFrom(lookupFrom(map[string]string{
		"ACCOUNT_DIRECTORY":      "http",
		"ACCOUNT_SERVICE_URL":    "https://accounts.shop.example/internal",
		"ACCOUNT_SERVICE_KEY_ID": "2026-03",
		"ACCOUNT_SERVICE_SECRET": accountSecret,
	}))
	require.NoError(t, err)
	assert.Equal(t, Accounts{Directory: "http", ServiceURL: "https://accounts.shop.example/internal",
		ServiceKeyID: "2026-03", ServiceSecret: accountSecret}, cfg.Accounts)
}

func TestAccountServiceNeedsItsURLAndSecret(t *testing.T) {
	_, err := LoadFrom(lookupFrom(map[string]string{"ACCOUNT_DIRECTORY": "http"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ACCOUNT_SERVICE_URL: must be set when ACCOUNT_DIRECTORY is http")
	assert.Contains(t, err.Error(), "ACCOUNT_SERVICE_SECRET: must be set when ACCOUNT_DIRECTORY is http")
}

func TestMalformedAccountVariablesFailNamingTheVariable(t *testing.T) {
	cases := []map[string]string{
		{"ACCOUNT_DIRECTORY": "ldap"},
		{"ACCOUNT_SERVICE_URL": "accounts.internal"},
		{"ACCOUNT_SERVICE_KEY_ID": "key id"},
		{"ACCOUNT_SERVICE_KEY_ID": ""},
		{"ACCOUNT_SERVICE_SECRET": "short-secret"},
	}
	for _, env := range cases {
		_, err := LoadFrom(lookupFrom(env))
		require.Error(t, err, "%v", env)
		for name := range env {
			assert.Contains(t, err.Error(), name+":")
		}
	}
}

func TestShortAccountSecretIsNotQuoted(t *testing.T) {
	_, err := LoadFrom(lookupFrom(map[string]string{"ACCOUNT_SERVICE_SECRET": "hunter2-hunter2"}))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

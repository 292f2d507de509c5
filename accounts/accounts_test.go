package accounts

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/config"
)

func TestContactsAreNormalizedOrRefused(t *testing.T) {
	good := []struct {
		kind     ContactKind
		in, want string
	}{
		{ContactEmail, " Ada.Lovelace@Example.com ", "ada.lovelace@example.com"},
		{ContactPhone, "+33 6 12-34.56 78", "+33612345678"},
		{ContactPhone, "+1 (202) 555-0102", "+12025550102"},
	}
	for _, c := range good {
		got, err := normalizeContact(c.kind, c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got)
	}
	bad := []struct {
		kind ContactKind
		in   string
	}{
		{ContactEmail, "Ada <ada@example.com>"},
		{ContactEmail, "not-an-address"},
		{ContactEmail, ""},
		{ContactPhone, "0612345678"},
		{ContactPhone, "+0612345678"},
		{ContactPhone, "+3361234567890123"},
		{"fax", "+33612345678"},
	}
	for _, c := range bad {
		_, err := normalizeContact(c.kind, c.in)
		assert.ErrorIs(t, err, ErrInvalid, "%s %q", c.kind, c.in)
	}
}

func TestIDsThatWouldBendAURLAreRefused(t *testing.T) {
	for _, id := range []string{"", "  ", ".", "..", "acct\n1"} {
		assert.ErrorIs(t, checkID(id), ErrInvalid, "%q", id)
	}
	for _, id := range []string{"acct-1001", "a/b", "...", "ü"} {
		assert.NoError(t, checkID(id), "%q", id)
	}
}

func TestNewPicksTheConfiguredDirectory(t *testing.T) {
	d, err := New(config.Accounts{Directory: "http", ServiceURL: "https://accounts.example", ServiceKeyID: "k",
		ServiceSecret: "0123456789abcdef0123456789abcdef"}, nil, nil)
	require.NoError(t, err)
	assert.IsType(t, &HTTP{}, d)

	_, err = New(config.Accounts{Directory: "http", ServiceKeyID: "k", ServiceSecret: "s"}, nil, nil)
	assert.ErrorContains(t, err, "ACCOUNT_SERVICE_URL")
	_, err = New(config.Accounts{Directory: "http", ServiceURL: "https://accounts.example", ServiceKeyID: "k"}, nil, nil)
	assert.ErrorContains(t, err, "ACCOUNT_SERVICE_SECRET")
	_, err = New(config.Accounts{Directory: "postgres"}, nil, nil)
	assert.ErrorContains(t, err, "needs a Postgres pool")
	_, err = New(config.Accounts{Directory: "ldap"}, nil, nil)
	assert.ErrorContains(t, err, "ACCOUNT_DIRECTORY")
}

var testNow = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

func TestDemoAccountsAreValidRows(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range DemoAccounts(testNow) {
		_, err := newRow(a)
		assert.NoError(t, err, a.ID)
		assert.Regexp(t, `^acct-1\d{3}$`, a.ID)
		assert.Regexp(t, `@example\.com$`, a.Email)
		assert.False(t, seen[a.ID], "%s twice", a.ID)
		seen[a.ID] = true
	}
	assert.GreaterOrEqual(t, len(seen), 5)
}

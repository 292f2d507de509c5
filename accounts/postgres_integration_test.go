//go:build integration

package accounts_test

import (
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/accounts"
	"handoff/stacktest"
)

// directory answers the Postgres directory on the stack's migrated database.
func directory(t *testing.T) (*accounts.Postgres, *pgxpool.Pool) {
	t.Helper()
	pool := stacktest.Store(t).Pool()
	return accounts.NewPostgres(pool), pool
}

// unique answers a name no other test run uses, so runs against one
// database never see each other's accounts or request keys.
func unique(prefix string) string {
	return prefix + "-" + rand.Text()[:12]
}

// create adds an account with sessions, MFA and failed logins to act on.
func create(t *testing.T, dir *accounts.Postgres, mutate ...func(*accounts.Account)) accounts.Account {
	t.Helper()
	a := accounts.Account{ID: unique("acct-test"), Email: unique("user") + "@example.com",
		Phone: "+441632960001", MFAEnabled: true, ActiveSessions: 3, FailedLogins: 2}
	for _, m := range mutate {
		m(&a)
	}
	created, err := dir.Create(stacktest.Context(t), a)
	require.NoError(t, err)
	return created
}

func TestCreateAnswersTheStoredAccountAndRefusesATakenID(t *testing.T) {
	dir, _ := directory(t)
	ctx := stacktest.Context(t)
	a := create(t, dir)
	assert.Equal(t, accounts.StatusActive, a.Status)
	assert.Equal(t, 1, a.CredentialVersion)
	assert.Equal(t, 3, a.ActiveSessions)
	assert.WithinDuration(t, time.Now(), a.UpdatedAt, time.Minute)

	got, err := dir.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, a, got)

	_, err = dir.Create(ctx, accounts.Account{ID: a.ID, Email: "other@example.com"})
	assert.ErrorIs(t, err, accounts.ErrConflict)
}

func TestLockRevokesSessionsAndRepeatsAsANoOp(t *testing.T) {
	dir, _ := directory(t)
	ctx := stacktest.Context(t)
	a := create(t, dir)

	locked, err := dir.Lock(ctx, a.ID, "suspicious login")
	require.NoError(t, err)
	assert.Equal(t, accounts.StatusLocked, locked.Status)
	assert.Equal(t, "suspicious login", locked.LockReason)
	assert.Zero(t, locked.ActiveSessions, "a lock revokes every session")

	again, err := dir.Lock(ctx, a.ID, "suspicious login")
	require.NoError(t, err)
	assert.Equal(t, locked, again, "locking again with the same reason changes nothing, updated_at included")

	relocked, err := dir.Lock(ctx, a.ID, "chargeback fraud")
	require.NoError(t, err)
	assert.Equal(t, "chargeback fraud", relocked.LockReason, "a new reason replaces the old one")

	unlocked, err := dir.Unlock(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, accounts.StatusActive, unlocked.Status)
	assert.Empty(t, unlocked.LockReason)
	assert.Zero(t, unlocked.FailedLogins, "an unlock clears the failed logins")
	again, err = dir.Unlock(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, unlocked, again, "unlocking an active account changes nothing")
}

func TestRevokeSessionsCountsOnlyOnce(t *testing.T) {
	dir, _ := directory(t)
	ctx := stacktest.Context(t)
	a := create(t, dir)
	n, err := dir.RevokeSessions(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	n, err = dir.RevokeSessions(ctx, a.ID)
	require.NoError(t, err)
	assert.Zero(t, n, "a retry finds nothing left to revoke")
}

func TestResetCredentialsBumpsOncePerRequestKey(t *testing.T) {
	dir, _ := directory(t)
	ctx := stacktest.Context(t)
	a := create(t, dir)
	key := unique("recovery") + "/7"

	reset, err := dir.ResetCredentials(ctx, a.ID, true, key)
	require.NoError(t, err)
	assert.Equal(t, 2, reset.CredentialVersion)
	assert.Zero(t, reset.ActiveSessions)
	assert.Zero(t, reset.FailedLogins)
	assert.False(t, reset.MFAEnabled, "resetMFA turns MFA off")

	retried, err := dir.ResetCredentials(ctx, a.ID, true, key)
	require.NoError(t, err)
	assert.Equal(t, 2, retried.CredentialVersion, "a retry with the same key does not bump again")
	assert.Equal(t, reset, retried)

	other, err := dir.ResetCredentials(ctx, a.ID, false, unique("recovery"))
	require.NoError(t, err)
	assert.Equal(t, 3, other.CredentialVersion, "another key is another reset")

	_, err = dir.ResetCredentials(ctx, a.ID, false, key)
	assert.ErrorIs(t, err, accounts.ErrConflict, "the same key with other parameters is refused")
	_, err = dir.ResetCredentials(ctx, create(t, dir).ID, true, key)
	assert.ErrorIs(t, err, accounts.ErrConflict, "the same key on another account is refused")

	final, err := dir.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, final.CredentialVersion)
}

func TestResetCredentialsKeepsMFAUnlessAsked(t *testing.T) {
	dir, _ := directory(t)
	ctx := stacktest.Context(t)
	a := create(t, dir)
	reset, err := dir.ResetCredentials(ctx, a.ID, false, unique("recovery"))
	require.NoError(t, err)
	assert.True(t, reset.MFAEnabled)
	assert.Equal(t, 2, reset.CredentialVersion)
}

func TestConcurrentResetsWithOneKeyBumpOnce(t *testing.T) {
	dir, _ := directory(t)
	ctx := stacktest.Context(t)
	a := create(t, dir)
	key := unique("recovery")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = dir.ResetCredentials(ctx, a.ID, true, key)
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	got, err := dir.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, got.CredentialVersion)
}

func TestChangeContactAppliesOncePerRequestKey(t *testing.T) {
	dir, _ := directory(t)
	ctx := stacktest.Context(t)
	a := create(t, dir)
	first, second := unique("profile"), unique("profile")

	changed, err := dir.ChangeContact(ctx, a.ID, accounts.ContactEmail, "Ada.New@Example.com", first)
	require.NoError(t, err)
	assert.Equal(t, "ada.new@example.com", changed.Email)

	changed, err = dir.ChangeContact(ctx, a.ID, accounts.ContactEmail, "ada.newer@example.com", second)
	require.NoError(t, err)
	assert.Equal(t, "ada.newer@example.com", changed.Email)

	// The first request retried late must not undo the second.
	retried, err := dir.ChangeContact(ctx, a.ID, accounts.ContactEmail, "Ada.New@Example.com", first)
	require.NoError(t, err)
	assert.Equal(t, "ada.newer@example.com", retried.Email)

	phone, err := dir.ChangeContact(ctx, a.ID, accounts.ContactPhone, "+33 6 12 34 56 78", unique("profile"))
	require.NoError(t, err)
	assert.Equal(t, "+33612345678", phone.Phone)
	assert.Equal(t, "ada.newer@example.com", phone.Email)

	_, err = dir.ChangeContact(ctx, a.ID, accounts.ContactPhone, "+33699999999", first)
	assert.ErrorIs(t, err, accounts.ErrConflict)
	_, err = dir.ChangeContact(ctx, a.ID, accounts.ContactEmail, "not an address", unique("profile"))
	assert.ErrorIs(t, err, accounts.ErrInvalid)
}

func TestMergeAppliesOnceAndLocksTheFromAccount(t *testing.T) {
	dir, pool := directory(t)
	ctx := stacktest.Context(t)
	from, into, elsewhere := create(t, dir), create(t, dir), create(t, dir)
	key := unique("case") + "/9"

	require.NoError(t, dir.Merge(ctx, from.ID, into.ID, key))
	merged, err := dir.Get(ctx, from.ID)
	require.NoError(t, err)
	assert.Equal(t, accounts.StatusLocked, merged.Status)
	assert.Equal(t, "merged into "+into.ID, merged.LockReason)
	assert.Equal(t, into.ID, merged.MergedInto)
	assert.Zero(t, merged.ActiveSessions)
	kept, err := dir.Get(ctx, into.ID)
	require.NoError(t, err)
	assert.Equal(t, into, kept, "the account merged into is untouched")

	require.NoError(t, dir.Merge(ctx, from.ID, into.ID, key), "a retry succeeds")
	var merges int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM account_merges WHERE from_id = $1`, from.ID).Scan(&merges))
	assert.Equal(t, 1, merges)

	assert.ErrorIs(t, dir.Merge(ctx, from.ID, elsewhere.ID, unique("case")), accounts.ErrConflict,
		"an account merges once")
	assert.ErrorIs(t, dir.Merge(ctx, elsewhere.ID, from.ID, unique("case")), accounts.ErrConflict,
		"nothing merges into an account merged away")
	assert.ErrorIs(t, dir.Merge(ctx, from.ID, elsewhere.ID, key), accounts.ErrConflict,
		"the same key for another merge is refused")
	_, err = dir.Unlock(ctx, from.ID)
	assert.ErrorIs(t, err, accounts.ErrConflict, "a merged account stays locked")
	_, err = dir.ResetCredentials(ctx, from.ID, false, unique("recovery"))
	assert.ErrorIs(t, err, accounts.ErrConflict)

	relocked, err := dir.Lock(ctx, from.ID, "incident")
	require.NoError(t, err)
	assert.Equal(t, "merged into "+into.ID, relocked.LockReason, "a merged account keeps saying where it went")

	still, err := dir.Get(ctx, elsewhere.ID)
	require.NoError(t, err)
	assert.Equal(t, accounts.StatusActive, still.Status, "refused merges changed nothing")
}

func TestUnknownAccountIsNotFoundAndLeavesNoRequestBehind(t *testing.T) {
	dir, pool := directory(t)
	ctx := stacktest.Context(t)
	id := unique("acct-missing")
	key := unique("recovery")
	known := create(t, dir)

	_, err := dir.Get(ctx, id)
	assert.ErrorIs(t, err, accounts.ErrNotFound)
	_, err = dir.Unlock(ctx, id)
	assert.ErrorIs(t, err, accounts.ErrNotFound)
	assert.ErrorContains(t, err, "unlock account "+id)
	_, err = dir.Lock(ctx, id, "incident")
	assert.ErrorIs(t, err, accounts.ErrNotFound)
	_, err = dir.RevokeSessions(ctx, id)
	assert.ErrorIs(t, err, accounts.ErrNotFound)
	_, err = dir.ResetCredentials(ctx, id, true, key)
	assert.ErrorIs(t, err, accounts.ErrNotFound)
	_, err = dir.ChangeContact(ctx, id, accounts.ContactEmail, "x@example.com", key)
	assert.ErrorIs(t, err, accounts.ErrNotFound)
	assert.ErrorIs(t, dir.Merge(ctx, id, known.ID, key), accounts.ErrNotFound)
	assert.ErrorIs(t, dir.Merge(ctx, known.ID, id, key), accounts.ErrNotFound)
	_, err = dir.RecordFailedLogin(ctx, id)
	assert.ErrorIs(t, err, accounts.ErrNotFound)

	var stored int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM account_requests WHERE request_key = $1`, key).Scan(&stored))
	assert.Zero(t, stored, "a refused request does not use up its key")
	reset, err := dir.ResetCredentials(ctx, known.ID, true, key)
	require.NoError(t, err)
	assert.Equal(t, 2, reset.CredentialVersion)
}

func TestRecordFailedLoginCounts(t *testing.T) {
	dir, _ := directory(t)
	ctx := stacktest.Context(t)
	a := create(t, dir)
	got, err := dir.RecordFailedLogin(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, got.FailedLogins)
}

func TestSeedCreatesDemoAccountsAndResetRestoresThem(t *testing.T) {
	dir, pool := directory(t)
	ctx := stacktest.Context(t)
	now := time.Now()
	seeded, err := accounts.Seed(ctx, pool, now, true)
	require.NoError(t, err)
	demo := accounts.DemoAccounts(now)
	require.Len(t, seeded, len(demo))
	for i, a := range seeded {
		assert.Equal(t, demo[i].ID, a.ID)
		assert.Equal(t, demo[i].Email, a.Email)
		assert.Equal(t, demo[i].ActiveSessions, a.ActiveSessions)
	}

	changed, err := dir.Lock(ctx, "acct-1001", "demo lock")
	require.NoError(t, err)
	require.Equal(t, accounts.StatusLocked, changed.Status)
	require.NoError(t, dir.Merge(ctx, "acct-1005", "acct-1001", unique("demo-merge")))

	again, err := accounts.Seed(ctx, pool, now, false)
	require.NoError(t, err)
	assert.Equal(t, accounts.StatusLocked, again[0].Status, "a plain seed leaves what demos changed")

	restored, err := accounts.Seed(ctx, pool, now, true)
	require.NoError(t, err)
	assert.Equal(t, accounts.StatusActive, restored[0].Status)
	assert.Equal(t, 2, restored[0].ActiveSessions)
	assert.Equal(t, accounts.StatusActive, restored[4].Status)
	assert.Empty(t, restored[4].MergedInto, "a reset undoes the demo's merge")
}

package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DemoAccounts answers the accounts Seed puts in the directory, one per
// situation a demo case starts from, with logins placed relative to now.
func DemoAccounts(now time.Time) []Account {
	ago := func(d time.Duration) *time.Time {
		t := now.Add(-d).UTC().Truncate(time.Second)
		return &t
	}
	return []Account{
		// A healthy account with MFA, logged in on two devices.
		{ID: "acct-1001", Email: "ada.lovelace@example.com", Phone: "+441632960001", MFAEnabled: true,
			ActiveSessions: 2, LastLoginAt: ago(2 * time.Hour)},
		// A buyer who cannot log in: a run of failed logins, no MFA.
		{ID: "acct-1002", Email: "grace.hopper@example.com", Phone: "+12025550102",
			FailedLogins: 7, LastLoginAt: ago(9 * 24 * time.Hour)},
		// An account security locked after a suspicious login.
		{ID: "acct-1003", Email: "alan.turing@example.com", MFAEnabled: true, Status: StatusLocked,
			LockReason: "suspicious login from a new country", LastLoginAt: ago(26 * time.Hour)},
		// A seller with many sessions, the target of a security incident demo.
		{ID: "acct-1004", Email: "seller.katherine@example.com", Phone: "+33612345678", MFAEnabled: true,
			CredentialVersion: 3, ActiveSessions: 5, LastLoginAt: ago(10 * time.Minute)},
		// A duplicate of acct-1001 opened with an old address, for the merge demo.
		{ID: "acct-1005", Email: "ada.old@example.com", ActiveSessions: 1, LastLoginAt: ago(400 * 24 * time.Hour)},
		// A new account that never logged in.
		{ID: "acct-1006", Email: "new.customer@example.com"},
	}
}

// Seed puts DemoAccounts(now) in the Postgres directory of pool and answers
// them as stored. Accounts already there are left as demos changed them,
// unless reset, which restores them to their demo state (and undoes their
// merges); requests already applied stay applied either way.
func Seed(ctx context.Context, pool *pgxpool.Pool, now time.Time, reset bool) ([]Account, error) {
	demo := DemoAccounts(now)
	ids := make([]string, len(demo))
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for i, a := range demo {
			a, err := newRow(a)
			if err != nil {
				return fmt.Errorf("account %s: %w", a.ID, err)
			}
			ids[i] = a.ID
			if reset {
				if _, err := tx.Exec(ctx, `DELETE FROM account_merges WHERE from_id = $1`, a.ID); err != nil {
					return fmt.Errorf("account %s: %w", a.ID, err)
				}
			}
			conflict := ` ON CONFLICT (id) DO NOTHING`
			if reset {
				conflict = ` ON CONFLICT (id) DO UPDATE SET
    status = excluded.status, lock_reason = excluded.lock_reason, email = excluded.email,
    phone = excluded.phone, mfa_enabled = excluded.mfa_enabled,
    credential_version = excluded.credential_version, active_sessions = excluded.active_sessions,
    last_login_at = excluded.last_login_at, failed_logins = excluded.failed_logins, updated_at = now()`
			}
			if _, err := tx.Exec(ctx, insertAccountSQL+conflict, rowArgs(a)...); err != nil {
				return fmt.Errorf("account %s: %w", a.ID, err)
			}
		}
		return nil
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return nil, fmt.Errorf("seed demo accounts: %w (apply the migrations first: go run ./starter migrate)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("seed demo accounts: %w", err)
	}
	dir := NewPostgres(pool)
	out := make([]Account, 0, len(ids))
	for _, id := range ids {
		a, err := dir.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("seed demo accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, nil
}

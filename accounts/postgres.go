package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the Directory kept in Handoff's own database (tables accounts,
// account_requests and account_merges, migration 00005). Each method runs in
// one transaction that locks the account's row first, so concurrent calls on
// one account take turns and two attempts with the same request key never
// both act.
type Postgres struct {
	pool *pgxpool.Pool
}

var _ Directory = (*Postgres)(nil)

// NewPostgres answers the directory kept in pool's database.
func NewPostgres(pool *pgxpool.Pool) *Postgres { return &Postgres{pool: pool} }

// The operations recorded in account_requests.
const (
	opResetCredentials = "reset_credentials"
	opChangeContact    = "change_contact"
	opMerge            = "merge"
)

// selectAccountSQL reads one account with the merge it went through, if any.
const selectAccountSQL = `
SELECT a.id, a.status, a.lock_reason, a.email, a.phone, a.mfa_enabled,
       a.credential_version, a.active_sessions, a.last_login_at, a.failed_logins,
       coalesce(m.into_id, ''), a.updated_at
FROM accounts a LEFT JOIN account_merges m ON m.from_id = a.id
WHERE a.id = $1`

func scanAccount(row pgx.Row) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Status, &a.LockReason, &a.Email, &a.Phone, &a.MFAEnabled,
		&a.CredentialVersion, &a.ActiveSessions, &a.LastLoginAt, &a.FailedLogins,
		&a.MergedInto, &a.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	return a, err
}

// load reads account id inside tx, locking its row until tx ends.
func load(ctx context.Context, tx pgx.Tx, id string) (Account, error) {
	return scanAccount(tx.QueryRow(ctx, selectAccountSQL+` FOR UPDATE OF a`, id))
}

// inTx runs fn in a transaction, committed when fn returns nil.
func (p *Postgres) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, p.pool, fn)
}

// Get answers the account with id.
func (p *Postgres) Get(ctx context.Context, id string) (Account, error) {
	if err := checkID(id); err != nil {
		return Account{}, fmt.Errorf("get account: %w", err)
	}
	a, err := scanAccount(p.pool.QueryRow(ctx, selectAccountSQL, id))
	if err != nil {
		return Account{}, fmt.Errorf("get account %s: %w", id, err)
	}
	return a, nil
}

// change runs one change to account id in a single transaction: it loads
// the account, locking its row so concurrent changes take turns, and lets
// apply decide. Apply answers done when the account needs nothing (already
// in the wanted state, or a retry of a request already applied), and the
// account is answered as loaded; otherwise apply writes and the account is
// read again, so the answer shows the write. Errors read "<op> <id>: ...";
// an invalid id reads "<op>: ..." (methods that check more than the id
// check it with the rest first, in their own words).
func (p *Postgres) change(ctx context.Context, op, id string,
	apply func(ctx context.Context, tx pgx.Tx, a Account) (done bool, err error)) (Account, error) {
	if err := checkID(id); err != nil {
		return Account{}, fmt.Errorf("%s: %w", op, err)
	}
	var out Account
	err := p.inTx(ctx, func(tx pgx.Tx) error {
		a, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		done, err := apply(ctx, tx, a)
		switch {
		case err != nil:
			return err
		case done:
			out = a
			return nil
		}
		out, err = load(ctx, tx, id)
		return err
	})
	if err != nil {
		return Account{}, fmt.Errorf("%s %s: %w", op, id, err)
	}
	return out, nil
}

// mergedConflict is the refusal of a change an account merged away cannot take.
func mergedConflict(a Account) error {
	return fmt.Errorf("%w: the account was merged into %s", ErrConflict, a.MergedInto)
}

// Lock locks the account for reason and revokes its sessions (see Directory).
func (p *Postgres) Lock(ctx context.Context, id, reason string) (Account, error) {
	if err := errors.Join(checkID(id), checkReason(reason)); err != nil {
		return Account{}, fmt.Errorf("lock account %s: %w", id, err)
	}
	return p.change(ctx, "lock account", id, func(ctx context.Context, tx pgx.Tx, a Account) (bool, error) {
		if a.Status == StatusLocked && a.ActiveSessions == 0 && (a.LockReason == reason || a.MergedInto != "") {
			return true, nil
		}
		// A merged account keeps its reason: it says where the account went.
		_, err := tx.Exec(ctx, `
UPDATE accounts
SET status = 'locked', active_sessions = 0, updated_at = now(),
    lock_reason = CASE WHEN $3 THEN lock_reason ELSE $2 END
WHERE id = $1`, id, reason, a.MergedInto != "")
		return false, err
	})
}

// Unlock makes a locked account active again (see Directory).
func (p *Postgres) Unlock(ctx context.Context, id string) (Account, error) {
	return p.change(ctx, "unlock account", id, func(ctx context.Context, tx pgx.Tx, a Account) (bool, error) {
		switch {
		case a.MergedInto != "":
			return false, mergedConflict(a)
		case a.Status == StatusActive:
			return true, nil
		}
		_, err := tx.Exec(ctx, `
UPDATE accounts SET status = 'active', lock_reason = '', failed_logins = 0, updated_at = now()
WHERE id = $1`, id)
		return false, err
	})
}

// RevokeSessions ends every session of the account and answers how many there were.
// It answers a count, not the account, so it does not read the account again.
func (p *Postgres) RevokeSessions(ctx context.Context, id string) (int, error) {
	if err := checkID(id); err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	var revoked int
	err := p.inTx(ctx, func(tx pgx.Tx) error {
		a, err := load(ctx, tx, id)
		if err != nil || a.ActiveSessions == 0 {
			return err
		}
		revoked = a.ActiveSessions
		_, err = tx.Exec(ctx, `UPDATE accounts SET active_sessions = 0, updated_at = now() WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of account %s: %w", id, err)
	}
	return revoked, nil
}

// claimChange claims requestKey for a change to account a, after a is
// loaded so that retries on one account take turns. It answers done for a
// retry of a request already applied, which is answered even when the
// account has since merged away; a new request on a merged account is
// refused.
func claimChange(ctx context.Context, tx pgx.Tx, a Account, requestKey, op string, params map[string]any) (done bool, err error) {
	fresh, err := claim(ctx, tx, requestKey, op, a.ID, params)
	switch {
	case err != nil:
		return false, err
	case !fresh:
		return true, nil
	case a.MergedInto != "":
		return false, mergedConflict(a)
	}
	return false, nil
}

// ResetCredentials bumps the credential version once per requestKey (see Directory).
func (p *Postgres) ResetCredentials(ctx context.Context, id string, resetMFA bool, requestKey string) (Account, error) {
	if err := errors.Join(checkID(id), checkKey(requestKey)); err != nil {
		return Account{}, fmt.Errorf("reset credentials of account %s: %w", id, err)
	}
	return p.change(ctx, "reset credentials of account", id, func(ctx context.Context, tx pgx.Tx, a Account) (bool, error) {
		done, err := claimChange(ctx, tx, a, requestKey, opResetCredentials, map[string]any{"reset_mfa": resetMFA})
		if err != nil || done {
			return done, err
		}
		_, err = tx.Exec(ctx, `
UPDATE accounts
SET credential_version = credential_version + 1, active_sessions = 0, failed_logins = 0,
    mfa_enabled = mfa_enabled AND NOT $2, updated_at = now()
WHERE id = $1`, id, resetMFA)
		return false, err
	})
}

// ChangeContact sets the account's email or phone once per requestKey (see Directory).
func (p *Postgres) ChangeContact(ctx context.Context, id string, kind ContactKind, value, requestKey string) (Account, error) {
	normalized, err := normalizeContact(kind, value)
	if err = errors.Join(checkID(id), checkKey(requestKey), err); err != nil {
		return Account{}, fmt.Errorf("change %s of account %s: %w", kind, id, err)
	}
	op := fmt.Sprintf("change %s of account", kind)
	return p.change(ctx, op, id, func(ctx context.Context, tx pgx.Tx, a Account) (bool, error) {
		done, err := claimChange(ctx, tx, a, requestKey, opChangeContact, map[string]any{"kind": kind, "value": normalized})
		if err != nil || done {
			return done, err
		}
		// The column is chosen here, from two constants, never from input.
		column := "email"
		if kind == ContactPhone {
			column = "phone"
		}
		_, err = tx.Exec(ctx, `UPDATE accounts SET `+column+` = $2, updated_at = now() WHERE id = $1`, id, normalized)
		return false, err
	})
}

// Merge records that fromID is merged into intoID, once per requestKey (see Directory).
func (p *Postgres) Merge(ctx context.Context, fromID, intoID, requestKey string) error {
	err := errors.Join(checkID(fromID), checkID(intoID), checkKey(requestKey))
	if err == nil && fromID == intoID {
		err = fmt.Errorf("%w: an account cannot be merged into itself", ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("merge account %s into %s: %w", fromID, intoID, err)
	}
	err = p.inTx(ctx, func(tx pgx.Tx) error {
		// Lock both rows in id order, so two merges of the same pair in
		// opposite directions cannot deadlock.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM accounts WHERE id IN ($1, $2) ORDER BY id FOR UPDATE`, fromID, intoID); err != nil {
			return err
		}
		from, err := load(ctx, tx, fromID)
		if err != nil {
			return fmt.Errorf("account %s: %w", fromID, err)
		}
		into, err := load(ctx, tx, intoID)
		if err != nil {
			return fmt.Errorf("account %s: %w", intoID, err)
		}
		fresh, err := claim(ctx, tx, requestKey, opMerge, fromID, map[string]any{"into_id": intoID})
		switch {
		case err != nil || !fresh:
			return err
		case from.MergedInto != "":
			return fmt.Errorf("%w: account %s was already merged into %s", ErrConflict, fromID, from.MergedInto)
		case into.MergedInto != "":
			// Refusing this keeps merges free of chains back to themselves.
			return fmt.Errorf("%w: account %s was itself merged into %s", ErrConflict, intoID, into.MergedInto)
		}
		if _, err := tx.Exec(ctx, `
INSERT INTO account_merges (from_id, into_id, request_key) VALUES ($1, $2, $3)`,
			fromID, intoID, requestKey); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
UPDATE accounts SET status = 'locked', lock_reason = $2, active_sessions = 0, updated_at = now()
WHERE id = $1`, fromID, MergedReason(intoID))
		return err
	})
	if err != nil {
		return fmt.Errorf("merge account %s into %s: %w", fromID, intoID, err)
	}
	return nil
}

// RecordFailedLogin counts one more failed login on the account. It is not
// idempotent: it records login events as they come, for demos and tests of
// what a run of failures triggers; the marketplace counts its own.
func (p *Postgres) RecordFailedLogin(ctx context.Context, id string) (Account, error) {
	if err := checkID(id); err != nil {
		return Account{}, fmt.Errorf("record failed login: %w", err)
	}
	var out Account
	err := p.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE accounts SET failed_logins = failed_logins + 1, updated_at = now() WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		out, err = load(ctx, tx, id)
		return err
	})
	if err != nil {
		return Account{}, fmt.Errorf("record failed login of account %s: %w", id, err)
	}
	return out, nil
}

// Create adds a new account: an active one unless Status says locked (with
// a LockReason), credential version 1 unless set. It answers ErrConflict
// when the id is taken. Directories are fed by the marketplace; Create
// serves demos and tests.
func (p *Postgres) Create(ctx context.Context, a Account) (Account, error) {
	a, err := newRow(a)
	if err != nil {
		return Account{}, fmt.Errorf("create account %s: %w", a.ID, err)
	}
	_, err = p.pool.Exec(ctx, insertAccountSQL, rowArgs(a)...)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return Account{}, fmt.Errorf("create account %s: %w: the id is taken", a.ID, ErrConflict)
	}
	if err != nil {
		return Account{}, fmt.Errorf("create account %s: %w", a.ID, err)
	}
	return p.Get(ctx, a.ID)
}

const insertAccountSQL = `
INSERT INTO accounts (id, status, lock_reason, email, phone, mfa_enabled,
                      credential_version, active_sessions, last_login_at, failed_logins)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

func rowArgs(a Account) []any {
	return []any{a.ID, a.Status, a.LockReason, a.Email, a.Phone, a.MFAEnabled,
		a.CredentialVersion, a.ActiveSessions, a.LastLoginAt, a.FailedLogins}
}

// newRow checks a new account and fills its defaults.
func newRow(a Account) (Account, error) {
	if err := checkID(a.ID); err != nil {
		return a, err
	}
	email, err := normalizeContact(ContactEmail, a.Email)
	if err != nil {
		return a, err
	}
	a.Email = email
	if a.Phone != "" {
		if a.Phone, err = normalizeContact(ContactPhone, a.Phone); err != nil {
			return a, err
		}
	}
	switch a.Status {
	case "", StatusActive:
		if a.LockReason != "" {
			return a, fmt.Errorf("%w: an active account has no lock reason", ErrInvalid)
		}
		a.Status = StatusActive
	case StatusLocked:
		if err := checkReason(a.LockReason); err != nil {
			return a, err
		}
	default:
		return a, fmt.Errorf("%w: status %q is neither active nor locked", ErrInvalid, a.Status)
	}
	if a.CredentialVersion == 0 {
		a.CredentialVersion = 1
	}
	if a.CredentialVersion < 0 || a.ActiveSessions < 0 || a.FailedLogins < 0 {
		return a, fmt.Errorf("%w: negative credential version, sessions or failed logins", ErrInvalid)
	}
	return a, nil
}

// claim records requestKey for one request inside tx. It answers true when
// the key is new, so the caller acts; false when the same request was
// already applied, so the caller answers without acting; ErrConflict when
// the key was used for another request. Two attempts racing with one key
// take turns on the key's row: the second sees the first's once it commits.
func claim(ctx context.Context, tx pgx.Tx, key, op, accountID string, params map[string]any) (bool, error) {
	tag, err := tx.Exec(ctx, `
INSERT INTO account_requests (request_key, operation, account_id, params)
VALUES ($1, $2, $3, $4)
ON CONFLICT (request_key) DO NOTHING`, key, op, accountID, params)
	if err != nil {
		return false, fmt.Errorf("record request key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var same bool
	var prevOp, prevAccount string
	err = tx.QueryRow(ctx, `
SELECT operation, account_id, operation = $2 AND account_id = $3 AND params = $4
FROM account_requests WHERE request_key = $1`, key, op, accountID, params).Scan(&prevOp, &prevAccount, &same)
	if err != nil {
		return false, fmt.Errorf("read request key: %w", err)
	}
	if !same {
		return false, fmt.Errorf("%w: request key %q was used for another request (%s of account %s)",
			ErrConflict, key, prevOp, prevAccount)
	}
	return false, nil
}

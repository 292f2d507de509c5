// Package accounts is the directory of marketplace accounts that Handoff's
// activities act on: locks and unlocks, session revocation, credential
// resets, contact changes and merges.
//
// Two implementations answer the same Directory interface: Postgres keeps
// the accounts in Handoff's own database (the local stack, demos and
// tests), HTTP calls the marketplace's account service (production). New
// picks one from the configuration.
//
// Every method may be retried by a Temporal activity, so each one is safe to
// repeat: a lock of a locked account, an unlock of an active one and a
// revocation with no session left change nothing, and the methods that
// would act twice (a credential reset bumps a version, a contact change
// overwrites a newer one, a merge) take a request key and apply once per key.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"

	"handoff/workflows/accountflows"
)

// Errors the directory answers, wrapped with what was asked; test them with errors.Is.
var (
	// ErrNotFound: no account has the id.
	ErrNotFound = errors.New("account not found")
	// ErrInvalid: the request itself is malformed (an empty id or key, an
	// unknown contact kind, a malformed address); no retry can succeed.
	ErrInvalid = errors.New("invalid account request")
	// ErrConflict: the request contradicts what was done before: a request
	// key reused for another request, or an action on an account merged away.
	ErrConflict = errors.New("account request conflicts with an earlier one")
)

// Status is whether an account can be used.
type Status string

// The statuses of an account.
const (
	StatusActive Status = "active"
	StatusLocked Status = "locked"
)

// ContactKind names a contact detail ChangeContact can change.
type ContactKind string

// The contact details of an account.
const (
	ContactEmail ContactKind = "email"
	ContactPhone ContactKind = "phone"
)

// Account is a marketplace account as the directory holds it.
type Account struct {
	ID     string `json:"id"`
	Status Status `json:"status"`
	// LockReason says why a locked account is locked; empty when active.
	LockReason string `json:"lock_reason"`
	Email      string `json:"email"`
	// Phone is in E.164 form (+33612345678); empty when unknown.
	Phone      string `json:"phone"`
	MFAEnabled bool   `json:"mfa_enabled"`
	// CredentialVersion grows by one with each credential reset; sessions
	// and tokens issued under an older version are no longer valid.
	CredentialVersion int `json:"credential_version"`
	ActiveSessions    int `json:"active_sessions"`
	// LastLoginAt is nil when the account never logged in.
	LastLoginAt  *time.Time `json:"last_login_at"`
	FailedLogins int        `json:"failed_logins"`
	// MergedInto is the account this one was merged into; empty if none.
	MergedInto string    `json:"merged_into,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// State answers the account as the workflows and the API show it.
func (a Account) State() accountflows.AccountState {
	return accountflows.AccountState{
		ID: a.ID, Status: string(a.Status), LockReason: a.LockReason, Email: a.Email, Phone: a.Phone,
		MFAEnabled: a.MFAEnabled, CredentialVersion: a.CredentialVersion, ActiveSessions: a.ActiveSessions,
		LastLoginAt: a.LastLoginAt, FailedLogins: a.FailedLogins,
	}
}

// Directory acts on marketplace accounts. Every method takes the caller's
// context first and is safe to retry (see the package comment); errors wrap
// ErrNotFound, ErrInvalid or ErrConflict when the request cannot succeed,
// anything else may pass on retry.
type Directory interface {
	// Get answers the account with id.
	Get(ctx context.Context, id string) (Account, error)
	// Lock locks the account for reason and revokes all its sessions. A
	// locked account takes the new reason; one locked with the same reason
	// is left as it is. An account merged away stays locked as merged.
	Lock(ctx context.Context, id, reason string) (Account, error)
	// Unlock makes a locked account active again and clears its failed
	// logins; an active account is left as it is. An account merged away
	// cannot be unlocked (ErrConflict).
	Unlock(ctx context.Context, id string) (Account, error)
	// RevokeSessions ends every session of the account and answers how
	// many there were (0 on a retry).
	RevokeSessions(ctx context.Context, id string) (int, error)
	// ResetCredentials bumps the credential version once per requestKey,
	// revokes every session, clears failed logins and, with resetMFA,
	// turns MFA off so the owner enrols again. A retry with the same key
	// answers the account as it is now without acting again; the same key
	// with another request, or a new reset of an account merged away, is
	// refused (ErrConflict).
	ResetCredentials(ctx context.Context, id string, resetMFA bool, requestKey string) (Account, error)
	// ChangeContact sets the account's email or phone to value, once per
	// requestKey: a retry never overwrites a later change. Value is
	// normalized (a bare lower-case email, an E.164 phone); ErrConflict as
	// for ResetCredentials.
	ChangeContact(ctx context.Context, id string, kind ContactKind, value, requestKey string) (Account, error)
	// Merge records that fromID is merged into intoID, once per
	// requestKey: fromID is locked with the reason "merged into <intoID>"
	// and its sessions are revoked. An account merges once; merging into
	// an account merged away is refused (ErrConflict).
	Merge(ctx context.Context, fromID, intoID, requestKey string) error
}

// MergedReason is the lock reason of an account merged into intoID.
func MergedReason(intoID string) string { return "merged into " + intoID }

// e164 is an international phone number: a plus, then 7 to 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// checkID refuses an empty account id, and ids that would change the
// meaning of an account service URL ("." and "..") or a log line (control
// characters).
func checkID(id string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return fmt.Errorf("%w: empty account id", ErrInvalid)
	case id == "." || id == ".." || strings.IndexFunc(id, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: account id %q", ErrInvalid, id)
	}
	return nil
}

// checkKey refuses an empty request key: without one a retry would act twice.
func checkKey(key string) error {
	if strings.TrimSpace(key) == "" {
		return fmt.Errorf("%w: empty request key", ErrInvalid)
	}
	return nil
}

// checkReason refuses an empty lock reason: a lock nobody can explain
// cannot be reviewed.
func checkReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: empty lock reason", ErrInvalid)
	}
	return nil
}

// normalizeContact checks value as a contact of kind and answers it in the
// form the directory stores: a bare lower-cased email address, or an E.164
// phone number with spaces, dots, dashes and parentheses removed.
func normalizeContact(kind ContactKind, value string) (string, error) {
	value = strings.TrimSpace(value)
	switch kind {
	case ContactEmail:
		addr, err := mail.ParseAddress(value)
		if err != nil || addr.Address != value || addr.Name != "" {
			return "", fmt.Errorf("%w: %q is not a bare email address", ErrInvalid, value)
		}
		return strings.ToLower(addr.Address), nil
	case ContactPhone:
		phone := strings.Map(func(r rune) rune {
			if strings.ContainsRune(" .-()", r) {
				return -1
			}
			return r
		}, value)
		if !e164.MatchString(phone) {
			return "", fmt.Errorf("%w: %q is not an international phone number (+ and 7 to 15 digits)", ErrInvalid, value)
		}
		return phone, nil
	default:
		return "", fmt.Errorf("%w: contact kind %q is neither email nor phone", ErrInvalid, kind)
	}
}

package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"handoff/accounts"
	"handoff/evidence"
	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// Accounts acts on marketplace accounts for the account workflows: locks,
// unlocks, credential resets, contact changes and merges through the
// account directory; the record of an identity check in S3; and new cases
// opened from inside a workflow.
type Accounts struct {
	dir accounts.Directory
	// evidence stores check records the way the API stores uploads: same
	// key layout, checksum tag, encryption and retention.
	evidence *evidence.Store
	// opener opens the cases workflows ask for.
	opener cases.Opener
}

// NewAccounts answers the account activities over dir, storing check
// records in files (locked for its retention when their case's evidence is
// retained) and opening cases with opener.
func NewAccounts(dir accounts.Directory, files *evidence.Store, opener cases.Opener) *Accounts {
	return &Accounts{dir: dir, evidence: files, opener: opener}
}

// directoryError makes the directory's refusals final for Temporal: an
// unknown account or a malformed or conflicting request fails at once;
// anything else is retried.
func directoryError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, accounts.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(op+": "+err.Error(), accountflows.ErrAccountNotFound, err)
	case errors.Is(err, accounts.ErrInvalid), errors.Is(err, accounts.ErrConflict):
		return temporal.NewNonRetryableApplicationError(op+": "+err.Error(), vocab.ErrInvalidArgument, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// GetAccount answers an account (accountflows.ActivityGetAccount).
func (a *Accounts) GetAccount(ctx context.Context, id string) (accountflows.AccountState, error) {
	acct, err := a.dir.Get(ctx, id)
	if err != nil {
		return accountflows.AccountState{}, directoryError("get account "+id, err)
	}
	return acct.State(), nil
}

// LockAccount locks an account and revokes its sessions, answering how
// many sessions it ended (accountflows.ActivityLockAccount).
func (a *Accounts) LockAccount(ctx context.Context, req accountflows.AccountRequest) (accountflows.LockResult, error) {
	before, err := a.dir.Get(ctx, req.AccountID)
	if err != nil {
		return accountflows.LockResult{}, directoryError("lock account "+req.AccountID, err)
	}
	after, err := a.dir.Lock(ctx, req.AccountID, req.Reason)
	if err != nil {
		return accountflows.LockResult{}, directoryError("lock account "+req.AccountID, err)
	}
	return accountflows.LockResult{Account: after.State(), SessionsRevoked: max(before.ActiveSessions-after.ActiveSessions, 0)}, nil
}

// UnlockAccount makes a locked account active (accountflows.ActivityUnlockAccount).
func (a *Accounts) UnlockAccount(ctx context.Context, req accountflows.AccountRequest) (accountflows.AccountState, error) {
	acct, err := a.dir.Unlock(ctx, req.AccountID)
	if err != nil {
		return accountflows.AccountState{}, directoryError("unlock account "+req.AccountID, err)
	}
	return acct.State(), nil
}

// ResetCredentials gives an account new credentials once per request key
// (accountflows.ActivityResetCredentials).
func (a *Accounts) ResetCredentials(ctx context.Context, req accountflows.AccountRequest) (accountflows.AccountState, error) {
	acct, err := a.dir.ResetCredentials(ctx, req.AccountID, req.ResetMFA, req.Key)
	if err != nil {
		return accountflows.AccountState{}, directoryError("reset credentials of "+req.AccountID, err)
	}
	return acct.State(), nil
}

// ChangeContact sets an account's email or phone once per request key
// (accountflows.ActivityChangeContact).
func (a *Accounts) ChangeContact(ctx context.Context, req accountflows.AccountRequest) (accountflows.AccountState, error) {
	acct, err := a.dir.ChangeContact(ctx, req.AccountID, accounts.ContactKind(req.Contact), req.Value, req.Key)
	if err != nil {
		return accountflows.AccountState{}, directoryError("change "+req.Contact+" of "+req.AccountID, err)
	}
	return acct.State(), nil
}

// MergeAccounts merges one account into another once per request key
// (accountflows.ActivityMergeAccounts).
func (a *Accounts) MergeAccounts(ctx context.Context, req accountflows.AccountRequest) error {
	return directoryError("merge "+req.AccountID+" into "+req.IntoID, a.dir.Merge(ctx, req.AccountID, req.IntoID, req.Key))
}

// RecordIdentityCheck stores the facts an identity check relied on as a
// JSON evidence file of the case and answers its evidence record
// (accountflows.ActivityRecordCheck). The object's key and id come from the
// check's name, so a retry writes the same object.
func (a *Accounts) RecordIdentityCheck(ctx context.Context, rec accountflows.CheckRecord) (vocab.Evidence, error) {
	body, err := json.MarshalIndent(map[string]any{
		"case_id": rec.CaseID, "check": rec.Name, "recorded_at": rec.Recorded.UTC().Format(time.RFC3339), "facts": rec.Facts,
	}, "", "  ")
	if err != nil {
		return vocab.Evidence{}, temporal.NewNonRetryableApplicationError("encode identity check: "+err.Error(), vocab.ErrInvalidArgument, err)
	}
	// The id is the record's own checksum (not evidence.NewID), so a retry
	// of the activity names the same object and the same evidence.
	sum := sha256.Sum256(body)
	e := vocab.Evidence{
		ID: "E-" + strings.ToUpper(hex.EncodeToString(sum[:10])), Kind: "login_note",
		Note: "facts of identity check " + rec.Name, Retained: rec.Retain,
	}
	e.Key = evidence.Key(rec.CaseID, e.ID)
	meta := map[string]string{"case-id": rec.CaseID, "evidence-id": e.ID, "kind": e.Kind,
		"uploaded-by": vocab.SystemActor}
	// Locked in the same request when retained: a retry rewrites the same
	// bytes as a new version, and each is locked from the start.
	obj, err := a.evidence.PutBytes(ctx, e.Key, meta, "application/json", body, rec.Retain)
	if err != nil {
		return vocab.Evidence{}, fmt.Errorf("store identity check %s of case %s: %w", rec.Name, rec.CaseID, err)
	}
	e.SHA256, e.Size, e.ContentType = obj.SHA256, obj.Size, obj.ContentType
	return e, nil
}

// OpenCase opens a case from inside a workflow, once per request key
// (vocab.ActivityOpenCase). The account's owner is the customer.
func (a *Accounts) OpenCase(ctx context.Context, req vocab.OpenCaseRequest) (vocab.OpenCaseResult, error) {
	customer := req.Customer
	if customer == nil {
		acct, err := a.dir.Get(ctx, req.AccountID)
		if err != nil {
			return vocab.OpenCaseResult{}, directoryError("open case on account "+req.AccountID, err)
		}
		customer = &vocab.Customer{ID: acct.ID, Email: acct.Email, Locale: "en"}
	}
	in, err := a.opener.Open(ctx, cases.OpenRequest{
		Category: req.Category, Subject: req.Subject, Description: req.Description,
		Customer: *customer, AccountID: req.AccountID, OrderID: req.OrderID, DeliveryID: req.DeliveryID,
		Channel: req.Channel, OpenedBy: req.OpenedBy, KeepAccountOpen: req.KeepAccountOpen, Confidential: req.Confidential,
	}, vocab.Once{Key: req.Key, KeyScope: "workflow"})
	var refused *temporal.ApplicationError
	if errors.As(err, &refused) && refused.Type() == vocab.ErrInvalidArgument {
		return vocab.OpenCaseResult{}, temporal.NewNonRetryableApplicationError("open case: "+err.Error(), vocab.ErrInvalidArgument, err)
	}
	if err != nil {
		return vocab.OpenCaseResult{}, err
	}
	return vocab.OpenCaseResult{CaseID: in.ID}, nil
}

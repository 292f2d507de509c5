package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Names of the activities that act on marketplace accounts
// (activities.Accounts) and send verification codes (activities.Notifier).
const (
	ActivityGetAccount       = "GetAccount"
	ActivityLockAccount      = "LockAccount"
	ActivityUnlockAccount    = "UnlockAccount"
	ActivityResetCredentials = "ResetCredentials"
	ActivityChangeContact    = "ChangeContact"
	ActivityMergeAccounts    = "MergeAccounts"
	ActivityRecordCheck      = "RecordIdentityCheck"
	ActivityOpenCase         = "OpenCase"
	ActivitySendCode         = "SendCode"
)

// AccountState is an account as the directory answers it.
type AccountState struct {
	ID                string     `json:"id"`
	Status            string     `json:"status"`
	LockReason        string     `json:"lock_reason,omitempty"`
	Email             string     `json:"email"`
	Phone             string     `json:"phone,omitempty"`
	MFAEnabled        bool       `json:"mfa_enabled"`
	CredentialVersion int        `json:"credential_version"`
	ActiveSessions    int        `json:"active_sessions"`
	LastLoginAt       *time.Time `json:"last_login_at,omitempty"`
	FailedLogins      int        `json:"failed_logins"`
}

// Account statuses.
const (
	AccountActive = "active"
	AccountLocked = "locked"
)

// AccountRequest asks the directory for one change to an account. Key
// makes it idempotent: a retried activity with the same key changes
// nothing more.
type AccountRequest struct {
	AccountID string `json:"account_id"`
	Key       string `json:"key"`
	// Reason is why, for a lock.
	Reason string `json:"reason,omitempty"`
	// ResetMFA also turns MFA off, for a credential reset.
	ResetMFA bool `json:"reset_mfa,omitempty"`
	// Contact is email or phone and Value its new value, for a contact change.
	Contact string `json:"contact,omitempty"`
	Value   string `json:"value,omitempty"`
	// IntoID is the account the AccountID one is merged into.
	IntoID string `json:"into_id,omitempty"`
}

// LockResult is what locking an account did.
type LockResult struct {
	Account         AccountState `json:"account"`
	SessionsRevoked int          `json:"sessions_revoked"`
}

// CodeRequest asks for a one-time code sent to a contact. The code is
// derived from ID with a secret only the worker and the API hold, so a
// retried send sends the same code and the history never holds it.
type CodeRequest struct {
	// ID names this code: the workflow id and the code's number.
	ID string `json:"id"`
	// Purpose is recovery or contact_change; it picks the message.
	Purpose string `json:"purpose"`
	// Channel is email or phone (phone codes go to the marketplace
	// webhook, which owns text messages).
	Channel string `json:"channel"`
	To      string `json:"to"`
	Locale  string `json:"locale"`
	CaseID  string `json:"case_id"`
	// ValidFor is said in the message.
	ValidFor time.Duration `json:"valid_for"`
}

// CodeSent answers a sent code with the digest a verification must match.
type CodeSent struct {
	Digest string `json:"digest"`
}

// CheckRecord asks to store the facts an identity check relied on as an
// evidence file of the case.
type CheckRecord struct {
	CaseID   string            `json:"case_id"`
	Name     string            `json:"name"`
	Facts    map[string]string `json:"facts"`
	Recorded time.Time         `json:"recorded"`
	// Retain locks the record with S3 Object Lock, as the case's other evidence.
	Retain bool `json:"retain,omitempty"`
}

// OpenCaseRequest asks for a new case from inside a workflow (a security
// case after repeated failed logins or a cancelled contact change).
type OpenCaseRequest struct {
	// Key makes the open idempotent: the same key opens one case.
	Key         string   `json:"key"`
	Category    Category `json:"category"`
	Subject     string   `json:"subject"`
	Description string   `json:"description"`
	AccountID   string   `json:"account_id"`
	OpenedBy    string   `json:"opened_by"`
	Channel     string   `json:"channel"`
}

// OpenCaseResult answers the opened case's id.
type OpenCaseResult struct {
	CaseID string `json:"case_id"`
}

// accountActivityOptions are the options of directory activities: short
// attempts retried with backoff for up to a day, since a lock or a reset
// that never lands helps nobody.
func accountActivityOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        2 * time.Minute,
			NonRetryableErrorTypes: []string{ErrAccountNotFound, ErrInvalidArgument},
		},
	})
}

// within arms a timer of d and answers a function that reports whether it fired.
func within(ctx workflow.Context, d time.Duration, summary string) (fired func() bool, cancel func()) {
	tctx, cancel := workflow.WithCancel(ctx)
	done := false
	f := workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: summary})
	workflow.Go(ctx, func(gctx workflow.Context) {
		if f.Get(gctx, nil) == nil {
			done = true
		}
	})
	return func() bool { return done }, cancel
}

// ErrAccountNotFound is the error type of a directory that has no such account.
const ErrAccountNotFound = "AccountNotFound"

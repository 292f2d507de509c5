// Package accountflows is the account flows a case or the marketplace
// starts on a marketplace account: SecurityIncident (lock, review,
// decision), AccountRecovery (identity check by one-time code, reset),
// ProfileChange (email or phone change with a cool-down, merge with an
// approval) and AccountSignals (a watch that opens one security case per
// burst of suspicious signals). They report to their case with
// vocab.SignalCaseEvent. contract.go is what callers import.
package accountflows

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"handoff/workflows/vocab"
)

// Registered names of the account workflows; running ones are found by
// them, so they never change.
const (
	WorkflowSecurityIncident = "SecurityIncident"
	WorkflowAccountRecovery  = "AccountRecovery"
	WorkflowProfileChange    = "ProfileChange"
	WorkflowAccountSignals   = "AccountSignals"
)

// Workflows maps each workflow type of this area to its function, for the
// worker's registry and the replay test.
var Workflows = map[string]any{
	WorkflowSecurityIncident: SecurityIncident,
	WorkflowAccountRecovery:  AccountRecovery,
	WorkflowProfileChange:    ProfileChange,
	WorkflowAccountSignals:   AccountSignals,
}

// Timeline event kinds the account workflows report to their case.
const (
	EventAccountLocked         = "account_locked"
	EventAccountUnlocked       = "account_unlocked"
	EventSecurityDecision      = "security_decision"
	EventSecurityReviewOverdue = "security_review_overdue"
	EventRecoveryStarted       = "recovery_started"
	EventRecoveryCodeSent      = "recovery_code_sent"
	EventRecoveryCodeRejected  = "recovery_code_rejected"
	EventRecoveryLocked        = "recovery_locked"
	EventRecoveryCompleted     = "recovery_completed"
	EventRecoveryExpired       = "recovery_expired"
	EventProfileChange         = "profile_change"
)

// Notification events the account workflows ask their case to send that
// are no timeline kind.
const (
	// NoticeSecurityLock tells the customer their account was locked.
	NoticeSecurityLock = "security_lock"
	// NoticeRecoverySteps sends the customer recovery instructions.
	NoticeRecoverySteps = "recovery_steps"
)

// NotifiedEvents lists every event an account workflow asks its case to
// tell someone about (vocab.Notice): each needs its templates and routes.
var NotifiedEvents = []string{
	NoticeSecurityLock, EventAccountLocked, EventAccountUnlocked, EventRecoveryExpired, NoticeRecoverySteps,
	NoticeContactChangeRequested, NoticeContactChanged,
}

// CodePurposes lists the purposes a code is sent for; each has its message.
var CodePurposes = []string{CodePurposeRecovery, CodePurposeContactChange}

// CodeID names the one-time code of the account workflow workflowID: the
// worker derives the code it sends from it and the API the digest of a
// typed code, so both must spell it alike.
func CodeID(workflowID string) string { return workflowID + "/code" }

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

// ErrAccountNotFound is the error type of a directory that has no such account.
const ErrAccountNotFound = "AccountNotFound"

// IncidentWorkflowID is the workflow id of a case's n-th security incident.
func IncidentWorkflowID(caseID string, n int) string {
	return "incident/" + caseID + "-" + strconv.Itoa(n)
}

// Names of the SecurityIncident workflow's update and query.
const (
	// UpdateSecurityDecision takes the security team's decision.
	UpdateSecurityDecision = "decide"
	// QueryIncident answers the IncidentView.
	QueryIncident = "incident"
)

// Security decisions.
const (
	// DecisionConfirmed: the account was taken over; it stays locked and a recovery starts.
	DecisionConfirmed = "confirmed"
	// DecisionFalseAlarm: nothing happened; the account is unlocked.
	DecisionFalseAlarm = "false_alarm"
)

// Incident statuses.
const (
	IncidentLocking  = "locking"
	IncidentInReview = "in_review"
	IncidentDecided  = "decided"
)

// IncidentInput starts a security incident on a case's account.
type IncidentInput struct {
	ID        string `json:"id"`
	CaseID    string `json:"case_id"`
	AccountID string `json:"account_id"`
	// Reason is why the account is locked; it goes on the timeline.
	Reason   string `json:"reason"`
	OpenedBy string `json:"opened_by"`
	// ReviewWithin is the decision's target, 24x7.
	ReviewWithin time.Duration `json:"review_within"`
}

// DecisionInput is the security team's decision on an incident.
type DecisionInput struct {
	Actor    string `json:"actor"`
	Decision string `json:"decision"`
	Note     string `json:"note,omitempty"`
}

// IncidentView is a security incident as callers see it, and its result.
type IncidentView struct {
	ID              string     `json:"id"`
	CaseID          string     `json:"case_id"`
	AccountID       string     `json:"account_id"`
	Status          string     `json:"status"`
	Reason          string     `json:"reason"`
	LockedAt        *time.Time `json:"locked_at,omitempty"`
	SessionsRevoked int        `json:"sessions_revoked"`
	ReviewDue       time.Time  `json:"review_due"`
	Overdue         bool       `json:"overdue"`
	Decision        string     `json:"decision,omitempty"`
	DecidedBy       string     `json:"decided_by,omitempty"`
	DecidedAt       *time.Time `json:"decided_at,omitempty"`
}

// RecoveryWorkflowID is the workflow id of recovery id.
func RecoveryWorkflowID(id string) string { return "recovery/" + id }

// Names of the AccountRecovery workflow's update and query.
const (
	// UpdateVerifyCode checks a one-time code the customer typed.
	UpdateVerifyCode = "verify-code"
	// QueryRecovery answers the RecoveryView.
	QueryRecovery = "recovery"
)

// Recovery statuses.
const (
	RecoveryCheckingIdentity = "checking_identity"
	RecoveryAwaitingCode     = "awaiting_code"
	RecoveryResetting        = "resetting"
	RecoveryCompleted        = "completed"
	RecoveryExpired          = "expired"
	RecoveryLocked           = "locked"
)

// Code purposes, which pick the message a code is sent in.
const (
	CodePurposeRecovery      = "recovery"
	CodePurposeContactChange = "contact_change"
)

// RecoveryInput starts an account recovery.
type RecoveryInput struct {
	ID        string `json:"id"`
	CaseID    string `json:"case_id"`
	AccountID string `json:"account_id"`
	StartedBy string `json:"started_by"`
	// ResetMFA also turns MFA off, for a customer who lost their device.
	ResetMFA     bool          `json:"reset_mfa"`
	Locale       string        `json:"locale"`
	CodeValidFor time.Duration `json:"code_valid_for"`
	CodeAttempts int           `json:"code_attempts"`
	// RetainEvidence locks the identity check's record, for cases whose
	// evidence is retained.
	RetainEvidence bool `json:"retain_evidence,omitempty"`
}

// VerifyInput carries a typed code as its digest: the API derives it with
// the code secret, so no workflow history ever holds a code.
type VerifyInput struct {
	Actor  string `json:"actor"`
	Digest string `json:"digest"`
}

// VerifyResult answers a verification.
type VerifyResult struct {
	Verified     bool   `json:"verified"`
	AttemptsLeft int    `json:"attempts_left"`
	Status       string `json:"status"`
}

// RecoveryView is a recovery as callers see it, and its result.
type RecoveryView struct {
	ID        string    `json:"id"`
	CaseID    string    `json:"case_id"`
	AccountID string    `json:"account_id"`
	Status    string    `json:"status"`
	ResetMFA  bool      `json:"reset_mfa"`
	SentTo    string    `json:"sent_to,omitempty"`
	CodeDue   time.Time `json:"code_expires_at,omitzero"`
	Attempts  int       `json:"attempts"`
	// AttemptsLeft is how many wrong codes the recovery still takes.
	AttemptsLeft int `json:"attempts_left"`
}

// ProfileChangeWorkflowID is the workflow id of profile change id.
func ProfileChangeWorkflowID(id string) string { return "profile/" + id }

// Names of the ProfileChange workflow's updates and query. The code
// update is UpdateVerifyCode, as for recoveries.
const (
	// UpdateCancelProfileChange stops a change before it applies.
	UpdateCancelProfileChange = "cancel"
	// UpdateApproveMerge is account management's approval of a merge.
	UpdateApproveMerge = "approve"
	// QueryProfileChange answers the ProfileChangeView.
	QueryProfileChange = "profile-change"
)

// Kinds of profile change.
const (
	ProfileChangeEmail = "email"
	ProfileChangePhone = "phone"
	ProfileChangeMerge = "merge"
)

// ProfileChangeKinds lists the kinds of profile change.
var ProfileChangeKinds = []string{ProfileChangeEmail, ProfileChangePhone, ProfileChangeMerge}

// Profile change statuses.
const (
	ProfileAwaitingCode     = "awaiting_code"
	ProfileAwaitingApproval = "awaiting_approval"
	ProfileCoolingDown      = "cooling_down"
	ProfileApplied          = "applied"
	ProfileCancelled        = "cancelled"
	ProfileExpired          = "expired"
	ProfileCodeLocked       = "code_locked"
)

// Timeline kinds of profile changes.
const (
	EventProfileChangeRequested = "profile_change_requested"
	EventProfileChangeVerified  = "profile_change_verified"
	EventProfileChangeApplied   = "profile_change_applied"
	EventProfileChangeCancelled = "profile_change_cancelled"
	EventProfileChangeExpired   = "profile_change_expired"
)

// Notification events of profile changes.
const (
	NoticeContactChangeRequested = "contact_change_requested"
	NoticeContactChanged         = "contact_changed"
)

// ProfileChangeInput starts a profile change.
type ProfileChangeInput struct {
	ID          string `json:"id"`
	CaseID      string `json:"case_id"`
	AccountID   string `json:"account_id"`
	Kind        string `json:"kind"`
	RequestedBy string `json:"requested_by"`
	// Value is the new email or phone.
	Value string `json:"value,omitempty"`
	// IntoID is the account a merge goes into.
	IntoID       string        `json:"into_id,omitempty"`
	Locale       string        `json:"locale"`
	CodeValidFor time.Duration `json:"code_valid_for"`
	CodeAttempts int           `json:"code_attempts"`
	CoolDown     time.Duration `json:"cool_down"`
}

// CancelInput stops a profile change; from the old contact, it also opens
// a security case.
type CancelInput struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

// ApproveInput approves a merge.
type ApproveInput struct {
	Actor string `json:"actor"`
}

// ProfileChangeView is a profile change as callers see it, and its result.
type ProfileChangeView struct {
	ID        string `json:"id"`
	CaseID    string `json:"case_id"`
	AccountID string `json:"account_id"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	// Value is the new contact, masked.
	Value        string     `json:"value,omitempty"`
	IntoID       string     `json:"into_id,omitempty"`
	AttemptsLeft int        `json:"attempts_left,omitempty"`
	AppliesAt    *time.Time `json:"applies_at,omitempty"`
	ApprovedBy   string     `json:"approved_by,omitempty"`
	CancelledBy  string     `json:"cancelled_by,omitempty"`
	// SecurityCaseID is the case a cancellation opened.
	SecurityCaseID string `json:"security_case_id,omitempty"`
}

// SignalsWorkflowID is the workflow id watching an account's signals.
func SignalsWorkflowID(accountID string) string { return "signals/" + accountID }

// Names of the AccountSignals workflow's signal and query.
const (
	// SignalAccountSignal reports one AccountSignal.
	SignalAccountSignal = "account-signal"
	// QuerySignals answers the SignalsView.
	QuerySignals = "signals"
)

// Kinds of account signal the marketplace reports.
const (
	SignalFailedLogin           = "failed_login"
	SignalNewDevice             = "new_device"
	SignalCredentialChange      = "credential_change"
	SignalSuspiciousTransaction = "suspicious_transaction"
)

// SignalKinds lists the kinds of account signal.
var SignalKinds = []string{SignalFailedLogin, SignalNewDevice, SignalCredentialChange, SignalSuspiciousTransaction}

// AccountSignal is one suspicious thing the marketplace saw on an account.
type AccountSignal struct {
	Kind       string    `json:"kind"`
	Detail     string    `json:"detail,omitempty"`
	ReportedBy string    `json:"reported_by"`
	At         time.Time `json:"at"`
}

// SignalsInput starts the watch of an account's signals.
type SignalsInput struct {
	AccountID string `json:"account_id"`
	// Threshold signals inside Window open a security case.
	Threshold int           `json:"threshold"`
	Window    time.Duration `json:"window"`
	// Carried across continue-as-new: the cases opened so far, the burst's
	// recent signals and its case.
	Opened int             `json:"opened,omitempty"`
	Recent []AccountSignal `json:"recent,omitempty"`
	CaseID string          `json:"case_id,omitempty"`
}

// SignalsView is the watch as callers see it.
type SignalsView struct {
	AccountID string          `json:"account_id"`
	Recent    []AccountSignal `json:"recent"`
	// CaseID is the security case the current burst opened, if any.
	CaseID string `json:"case_id,omitempty"`
}

// EventAccountSignal is a signal reported on an account that already has a security case.
const EventAccountSignal = "account_signal"

// SignalsStartOptions answers the options that start the watch of
// accountID's signals with the first signal reported (signal-with-start).
func SignalsStartOptions(accountID, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID: SignalsWorkflowID(accountID), TaskQueue: taskQueue, StaticSummary: "Signals of account " + accountID,
		TypedSearchAttributes: temporal.NewSearchAttributes(vocab.AccountIDKey.ValueSet(accountID)),
	}
}

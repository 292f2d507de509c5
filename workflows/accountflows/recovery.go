package accountflows

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// AccountRecovery gives a customer their account back after checking it is
// theirs: it records the facts the check relies on as evidence, sends a
// one-time code to the registered email and waits for it. The right code
// resets the credentials (and MFA when asked), unlocks the account and
// sends recovery instructions; too many wrong codes lock the recovery and
// escalate the case to account management; a code left unused expires the
// recovery and tells the customer how to start again.
func AccountRecovery(ctx workflow.Context, in RecoveryInput) (RecoveryView, error) {
	if in.AccountID == "" || in.CaseID == "" || in.CodeAttempts < 1 || in.CodeValidFor <= 0 {
		return RecoveryView{}, vocab.InvalidArgument("recovery input: account_id, case_id, code_attempts and code_valid_for are required")
	}
	r := &recovery{in: in, code: newOneTimeCode(in.CodeAttempts), v: RecoveryView{ID: in.ID, CaseID: in.CaseID,
		AccountID: in.AccountID, Status: RecoveryCheckingIdentity, ResetMFA: in.ResetMFA, AttemptsLeft: in.CodeAttempts}}
	if err := r.setup(ctx); err != nil {
		return r.v, err
	}
	return r.run(ctx)
}

// recovery is the AccountRecovery workflow's state; the verify update
// moves its status on, run acts on where it lands.
type recovery struct {
	in   RecoveryInput
	v    RecoveryView
	code *oneTimeCode
}

func (r *recovery) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryRecovery, func() (RecoveryView, error) { return r.v, nil }); err != nil {
		return fmt.Errorf("register query %s: %w", QueryRecovery, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateVerifyCode, r.verify,
		workflow.UpdateHandlerOptions{Validator: r.validateVerify}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateVerifyCode, err)
	}
	return nil
}

// run checks the identity and sends the code, then acts on how the wait
// for it ends: the right code resets the account, the last wrong one
// escalates, no code in time expires the recovery.
func (r *recovery) run(ctx workflow.Context) (RecoveryView, error) {
	if err := r.checkIdentity(ctx); err != nil {
		return r.v, err
	}
	if err := r.awaitCode(ctx); err != nil {
		return r.v, err
	}
	switch {
	case r.v.Status == RecoveryResetting:
		if err := r.reset(ctx); err != nil {
			return r.v, err
		}
	case r.v.Status == RecoveryLocked:
		vocab.ReportToCase(ctx, r.in.CaseID, vocab.CaseEvent{Kind: EventRecoveryLocked,
			Payload:    vocab.Payload("recovery_id", r.in.ID, "attempts", strconv.Itoa(r.v.Attempts)),
			EscalateTo: vocab.TeamAccountManagement,
			Reason:     fmt.Sprintf("account recovery %s locked after %d wrong codes", r.in.ID, r.v.Attempts)})
	default: // the code expired unused
		r.v.Status = RecoveryExpired
		vocab.ReportToCase(ctx, r.in.CaseID, vocab.CaseEvent{Kind: EventRecoveryExpired,
			Payload: vocab.Payload("recovery_id", r.in.ID),
			Tell:    []vocab.Notice{{Audience: vocab.AudienceCustomer, Event: EventRecoveryExpired}}})
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return r.v, err
	}
	return r.v, nil
}

// awaitCode waits until a code is verified, the attempts run out or the
// code expires.
func (r *recovery) awaitCode(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return r.v.Status != RecoveryAwaitingCode || r.code.expired() })
}

// checkIdentity gathers the account's facts, records them as evidence of
// the check, sends the code and arms its expiry.
func (r *recovery) checkIdentity(ctx workflow.Context) error {
	var acct AccountState
	if err := workflow.ExecuteActivity(accountActivityOptions(ctx, "read account "+r.in.AccountID),
		ActivityGetAccount, r.in.AccountID).Get(ctx, &acct); err != nil {
		return fmt.Errorf("read account %s: %w", r.in.AccountID, err)
	}
	facts := map[string]string{
		"account_id": acct.ID, "status": acct.Status, "registered_email": acct.Email,
		"phone": acct.Phone, "mfa_enabled": strconv.FormatBool(acct.MFAEnabled),
		"credential_version": strconv.Itoa(acct.CredentialVersion),
		"failed_logins":      strconv.Itoa(acct.FailedLogins), "code_sent_to": acct.Email,
		"recovery_id": r.in.ID, "started_by": r.in.StartedBy,
	}
	if acct.LastLoginAt != nil {
		facts["last_login_at"] = acct.LastLoginAt.UTC().Format(time.RFC3339)
	}
	var record vocab.Evidence
	if err := workflow.ExecuteActivity(accountActivityOptions(ctx, "record the identity check"),
		ActivityRecordCheck, CheckRecord{CaseID: r.in.CaseID, Name: "identity-check-" + r.in.ID,
			Facts: facts, Recorded: workflow.Now(ctx), Retain: r.in.RetainEvidence}).Get(ctx, &record); err != nil {
		return fmt.Errorf("record identity check: %w", err)
	}
	if err := r.code.send(ctx, CodeRequest{ID: CodeID(RecoveryWorkflowID(r.in.ID)), Purpose: CodePurposeRecovery,
		Channel: "email", To: acct.Email, Locale: r.in.Locale, CaseID: r.in.CaseID, ValidFor: r.in.CodeValidFor,
	}, "send recovery code by email"); err != nil {
		return fmt.Errorf("send recovery code: %w", err)
	}
	r.v.SentTo, r.v.CodeDue, r.v.Status = MaskEmail(acct.Email), workflow.Now(ctx).Add(r.in.CodeValidFor), RecoveryAwaitingCode
	vocab.ReportToCase(ctx, r.in.CaseID, vocab.CaseEvent{Actor: r.in.StartedBy, Kind: EventRecoveryStarted,
		Payload: vocab.Payload("recovery_id", r.in.ID, "account_id", r.in.AccountID, "code_sent_to", r.v.SentTo,
			"code_expires_at", r.v.CodeDue.UTC().Format(time.RFC3339), "reset_mfa", strconv.FormatBool(r.in.ResetMFA)),
		Evidence: &record})
	// Left running once the recovery moves on: it ends with the workflow.
	r.code.arm(ctx, r.in.CodeValidFor, "recovery code expires")
	return nil
}

// verifiable refuses a code unless the recovery awaits one; whileChecking
// also takes one while the identity is being checked.
func (r *recovery) verifiable(whileChecking bool) error {
	awaiting := r.v.Status == RecoveryAwaitingCode || (whileChecking && r.v.Status == RecoveryCheckingIdentity)
	if !awaiting || r.code.expired() {
		return temporal.NewApplicationError("cannot verify: the recovery is "+r.statusNow(), vocab.ErrInvalidTransition)
	}
	return nil
}

func (r *recovery) validateVerify(in VerifyInput) error {
	// While the identity is being checked the code may already be in the
	// customer's mailbox (its email goes out before the workflow hears the
	// activity has ended): the update is taken and waits for it.
	if err := r.verifiable(true); err != nil {
		return err
	}
	return vocab.Required("code", in.Digest)
}

func (r *recovery) statusNow() string {
	if r.code.expired() && r.v.Status == RecoveryAwaitingCode {
		return RecoveryExpired
	}
	return r.v.Status
}

// verify counts an attempt and moves on when it is right or the last.
func (r *recovery) verify(ctx workflow.Context, in VerifyInput) (VerifyResult, error) {
	if err := workflow.Await(ctx, func() bool { return r.v.Status != RecoveryCheckingIdentity }); err != nil {
		return VerifyResult{}, err
	}
	if err := r.verifiable(false); err != nil {
		return VerifyResult{}, err
	}
	r.v.Attempts++
	if r.code.attempt(in.Digest) {
		r.v.Status = RecoveryResetting
		return VerifyResult{Verified: true, AttemptsLeft: r.v.AttemptsLeft, Status: r.v.Status}, nil
	}
	r.v.AttemptsLeft = r.code.left
	if r.code.spent() {
		r.v.Status = RecoveryLocked
	} else {
		vocab.ReportToCase(ctx, r.in.CaseID, vocab.CaseEvent{Actor: in.Actor, Kind: EventRecoveryCodeRejected,
			Payload: vocab.Payload("recovery_id", r.in.ID, "attempts_left", strconv.Itoa(r.v.AttemptsLeft))})
	}
	return VerifyResult{Verified: false, AttemptsLeft: r.v.AttemptsLeft, Status: r.v.Status}, nil
}

// reset gives the account back: new credentials, sessions revoked, MFA off
// when asked, unlocked; then the customer gets the recovery instructions.
func (r *recovery) reset(ctx workflow.Context) error {
	var acct AccountState
	if err := workflow.ExecuteActivity(accountActivityOptions(ctx, "reset credentials of "+r.in.AccountID),
		ActivityResetCredentials, AccountRequest{AccountID: r.in.AccountID, Key: RecoveryWorkflowID(r.in.ID) + "/reset",
			ResetMFA: r.in.ResetMFA}).Get(ctx, &acct); err != nil {
		return fmt.Errorf("reset credentials: %w", err)
	}
	if err := workflow.ExecuteActivity(accountActivityOptions(ctx, "unlock account "+r.in.AccountID),
		ActivityUnlockAccount, AccountRequest{AccountID: r.in.AccountID, Key: RecoveryWorkflowID(r.in.ID) + "/unlock"},
	).Get(ctx, &acct); err != nil {
		return fmt.Errorf("unlock account: %w", err)
	}
	r.v.Status = RecoveryCompleted
	vocab.ReportToCase(ctx, r.in.CaseID, vocab.CaseEvent{Kind: EventRecoveryCompleted,
		Payload: vocab.Payload("recovery_id", r.in.ID, "account_id", r.in.AccountID,
			"credential_version", strconv.Itoa(acct.CredentialVersion), "mfa_reset", strconv.FormatBool(r.in.ResetMFA),
			"account_status", acct.Status),
		Tell: []vocab.Notice{{Audience: vocab.AudienceCustomer, Event: NoticeRecoverySteps}}})
	return nil
}

// MaskEmail keeps an address recognisable without writing it out:
// the first letter of the local part and the domain.
func MaskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" {
		return "***"
	}
	return local[:1] + "***@" + domain
}

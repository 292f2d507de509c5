package accountflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// mergeApprovalWindow is how long a merge waits for its approval.
const mergeApprovalWindow = 7 * 24 * time.Hour

// profileChange is the ProfileChange workflow's state; the updates set
// verified, cancelled or approved, run acts on them.
type profileChange struct {
	in        ProfileChangeInput
	v         ProfileChangeView
	code      *oneTimeCode
	oldEmail  string
	cancelled *CancelInput
	approved  *ApproveInput
	verified  bool
	timedOut  bool
}

// ProfileChange changes a sensitive part of an account with the owner's
// consent. An email or phone change is verified with a code sent to the new
// contact, announced to the old email with a way to cancel, and applied
// only after a cool-down; a cancellation stops it and opens a security
// case. A merge waits for account management's approval and is applied once.
func ProfileChange(ctx workflow.Context, in ProfileChangeInput) (ProfileChangeView, error) {
	if in.AccountID == "" || in.CaseID == "" {
		return ProfileChangeView{}, vocab.InvalidArgument("profile change input: account_id and case_id are required")
	}
	p := &profileChange{in: in, code: newOneTimeCode(in.CodeAttempts), v: ProfileChangeView{ID: in.ID, CaseID: in.CaseID,
		AccountID: in.AccountID, Kind: in.Kind, IntoID: in.IntoID, AttemptsLeft: in.CodeAttempts}}
	if err := p.setup(ctx); err != nil {
		return p.v, err
	}
	return p.run(ctx)
}

// run applies a merge or a contact change, each in its own steps.
func (p *profileChange) run(ctx workflow.Context) (ProfileChangeView, error) {
	var err error
	if p.in.Kind == ProfileChangeMerge {
		err = p.merge(ctx)
	} else {
		err = p.changeContact(ctx)
	}
	if err != nil {
		return p.v, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return p.v, err
	}
	return p.v, nil
}

func (p *profileChange) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryProfileChange, func() (ProfileChangeView, error) { return p.v, nil }); err != nil {
		return fmt.Errorf("register query %s: %w", QueryProfileChange, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateVerifyCode, p.verify,
		workflow.UpdateHandlerOptions{Validator: p.validateVerify}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateVerifyCode, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancelProfileChange, p.cancelUpdate,
		workflow.UpdateHandlerOptions{Validator: p.validateCancel}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateCancelProfileChange, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateApproveMerge, p.approve,
		workflow.UpdateHandlerOptions{Validator: p.validateApprove}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateApproveMerge, err)
	}
	return nil
}

func (p *profileChange) refuse(action string) error {
	return temporal.NewApplicationError(fmt.Sprintf("cannot %s: the profile change is %s", action, p.v.Status), vocab.ErrInvalidTransition)
}

// verifiable refuses a code unless one is awaited; whileSending also takes
// one for a contact change whose code is still being sent (empty status),
// perhaps already delivered: the message goes out before the workflow
// hears the activity has ended.
func (p *profileChange) verifiable(whileSending bool) error {
	sending := whileSending && p.v.Status == "" && p.in.Kind != ProfileChangeMerge
	if (p.v.Status != ProfileAwaitingCode && !sending) || p.verified || p.timedOut || p.cancelled != nil {
		return p.refuse("verify a code")
	}
	return nil
}

func (p *profileChange) validateVerify(in VerifyInput) error {
	if err := p.verifiable(true); err != nil {
		return err
	}
	return vocab.Required("code", in.Digest)
}

// verify checks a code; the last wrong one locks the change.
func (p *profileChange) verify(ctx workflow.Context, in VerifyInput) (VerifyResult, error) {
	// Taken while the code was being sent: wait until it is.
	if err := workflow.Await(ctx, func() bool { return p.v.Status != "" }); err != nil {
		return VerifyResult{}, err
	}
	if err := p.verifiable(false); err != nil {
		return VerifyResult{}, err
	}
	if p.code.attempt(in.Digest) {
		p.verified = true
		return VerifyResult{Verified: true, AttemptsLeft: p.v.AttemptsLeft, Status: ProfileCoolingDown}, nil
	}
	p.v.AttemptsLeft = p.code.left
	if p.code.spent() {
		p.v.Status = ProfileCodeLocked
	}
	return VerifyResult{AttemptsLeft: p.v.AttemptsLeft, Status: p.v.Status}, nil
}

func (p *profileChange) validateCancel(in CancelInput) error {
	switch p.v.Status {
	case ProfileAwaitingCode, ProfileAwaitingApproval, ProfileCoolingDown:
	default:
		return p.refuse("cancel")
	}
	if p.cancelled != nil || p.timedOut {
		return p.refuse("cancel")
	}
	return vocab.Required("reason", in.Reason)
}

// cancelUpdate takes a cancellation and answers once run has carried it out.
func (p *profileChange) cancelUpdate(ctx workflow.Context, in CancelInput) (ProfileChangeView, error) {
	p.cancelled = &in
	err := workflow.Await(ctx, func() bool { return p.v.Status == ProfileCancelled })
	return p.v, err
}

func (p *profileChange) validateApprove(ApproveInput) error {
	if p.in.Kind != ProfileChangeMerge {
		return vocab.InvalidArgument("kind: only a merge is approved; an email or phone change is verified by code")
	}
	if p.v.Status != ProfileAwaitingApproval || p.approved != nil || p.cancelled != nil || p.timedOut {
		return p.refuse("approve")
	}
	return nil
}

// approve takes account management's approval of a merge and answers once
// the merge has moved on.
func (p *profileChange) approve(ctx workflow.Context, in ApproveInput) (ProfileChangeView, error) {
	p.approved = &in
	err := workflow.Await(ctx, func() bool { return p.v.Status != ProfileAwaitingApproval })
	return p.v, err
}

// changeContact verifies the new contact, warns the old one and waits
// the cool-down before applying.
func (p *profileChange) changeContact(ctx workflow.Context) error {
	in := p.in
	var acct AccountState
	if err := workflow.ExecuteActivity(accountActivityOptions(ctx, "read account "+in.AccountID),
		ActivityGetAccount, in.AccountID).Get(ctx, &acct); err != nil {
		return fmt.Errorf("read account %s: %w", in.AccountID, err)
	}
	p.oldEmail = acct.Email
	p.v.Value = maskContact(in.Kind, in.Value)
	if err := p.code.send(ctx, CodeRequest{ID: CodeID(ProfileChangeWorkflowID(in.ID)), Purpose: CodePurposeContactChange,
		Channel: in.Kind, To: in.Value, Locale: in.Locale, CaseID: in.CaseID, ValidFor: in.CodeValidFor,
	}, "send a code to the new "+in.Kind); err != nil {
		return fmt.Errorf("send contact code: %w", err)
	}
	p.v.Status = ProfileAwaitingCode
	vocab.ReportToCase(ctx, in.CaseID, vocab.CaseEvent{Actor: in.RequestedBy, Kind: EventProfileChangeRequested,
		Payload: vocab.Payload("profile_change_id", in.ID, "kind", in.Kind, "new_value", p.v.Value, "account_id", in.AccountID)})

	p.code.arm(ctx, in.CodeValidFor, "contact code expires")
	if err := workflow.Await(ctx, func() bool {
		return p.verified || p.cancelled != nil || p.v.Status == ProfileCodeLocked || p.code.expired()
	}); err != nil {
		return err
	}
	p.code.stop()
	switch {
	case p.cancelled != nil:
		p.cancel(ctx)
		return nil
	case !p.verified:
		p.timedOut = true
		if p.v.Status != ProfileCodeLocked {
			p.v.Status = ProfileExpired
		}
		vocab.ReportToCase(ctx, in.CaseID, vocab.CaseEvent{Kind: EventProfileChangeExpired,
			Payload: vocab.Payload("profile_change_id", in.ID, "status", p.v.Status)})
		return nil
	}

	at := workflow.Now(ctx).Add(in.CoolDown)
	p.v.Status, p.v.AppliesAt = ProfileCoolingDown, &at
	vocab.ReportToCase(ctx, in.CaseID, vocab.CaseEvent{Kind: EventProfileChangeVerified,
		Payload: vocab.Payload("profile_change_id", in.ID, "applies_at", at.UTC().Format(time.RFC3339)),
		Tell: []vocab.Notice{{Audience: vocab.AudienceCustomer, Event: NoticeContactChangeRequested, To: p.oldEmail,
			Detail: fmt.Sprintf("%s → %s, on %s", in.Kind, p.v.Value, at.UTC().Format("2006-01-02 15:04 MST"))}}})
	over, stop := within(ctx, in.CoolDown, "cool-down before the change applies")
	if err := workflow.Await(ctx, func() bool { return p.cancelled != nil || over() }); err != nil {
		return err
	}
	stop()
	if p.cancelled != nil {
		p.cancel(ctx)
		return nil
	}
	p.timedOut = true // nothing can stop it now
	var after AccountState
	if err := workflow.ExecuteActivity(accountActivityOptions(ctx, "change the "+in.Kind+" of "+in.AccountID),
		ActivityChangeContact, AccountRequest{AccountID: in.AccountID, Key: ProfileChangeWorkflowID(in.ID) + "/apply",
			Contact: in.Kind, Value: in.Value}).Get(ctx, &after); err != nil {
		return fmt.Errorf("apply %s change: %w", in.Kind, err)
	}
	p.v.Status = ProfileApplied
	vocab.ReportToCase(ctx, in.CaseID, vocab.CaseEvent{Kind: EventProfileChangeApplied,
		Payload: vocab.Payload("profile_change_id", in.ID, "kind", in.Kind, "new_value", p.v.Value),
		Tell:    []vocab.Notice{{Audience: vocab.AudienceCustomer, Event: NoticeContactChanged, To: after.Email, Detail: in.Kind}}})
	return nil
}

// cancel stops the change and opens a security case on the account: an
// owner who did not ask for it may have lost the account.
func (p *profileChange) cancel(ctx workflow.Context) {
	c := *p.cancelled
	p.timedOut = true
	var opened vocab.OpenCaseResult
	if p.in.Kind != ProfileChangeMerge {
		err := workflow.ExecuteActivity(accountActivityOptions(ctx, "open a security case"), vocab.ActivityOpenCase, vocab.OpenCaseRequest{
			Key: ProfileChangeWorkflowID(p.in.ID) + "/cancelled", Category: vocab.CategorySecurityAlert,
			Subject:     fmt.Sprintf("Cancelled %s change on account %s", p.in.Kind, p.in.AccountID),
			Description: fmt.Sprintf("The %s change %s of case %s was cancelled by %s: %s", p.in.Kind, p.in.ID, p.in.CaseID, c.Actor, c.Reason),
			AccountID:   p.in.AccountID, OpenedBy: c.Actor, Channel: "profile_change",
		}).Get(ctx, &opened)
		if err != nil {
			workflow.GetLogger(ctx).Error("security case not opened", "profile_change", p.in.ID, "error", err)
		}
	}
	p.v.Status, p.v.CancelledBy, p.v.SecurityCaseID = ProfileCancelled, c.Actor, opened.CaseID
	vocab.ReportToCase(ctx, p.in.CaseID, vocab.CaseEvent{Actor: c.Actor, Kind: EventProfileChangeCancelled,
		Payload: vocab.Payload("profile_change_id", p.in.ID, "reason", c.Reason, "security_case_id", opened.CaseID)})
}

// merge waits for the approval, then merges once.
func (p *profileChange) merge(ctx workflow.Context) error {
	in := p.in
	if in.IntoID == "" || in.IntoID == in.AccountID {
		return vocab.InvalidArgument("into_account_id: a merge needs another account to go into")
	}
	p.v.Status = ProfileAwaitingApproval
	vocab.ReportToCase(ctx, in.CaseID, vocab.CaseEvent{Actor: in.RequestedBy, Kind: EventProfileChangeRequested,
		Payload: vocab.Payload("profile_change_id", in.ID, "kind", in.Kind, "account_id", in.AccountID, "into_account_id", in.IntoID)})
	expired, stop := within(ctx, mergeApprovalWindow, "merge approval window")
	if err := workflow.Await(ctx, func() bool { return p.approved != nil || p.cancelled != nil || expired() }); err != nil {
		return err
	}
	stop()
	switch {
	case p.cancelled != nil:
		p.cancel(ctx)
		return nil
	case p.approved == nil:
		p.timedOut, p.v.Status = true, ProfileExpired
		vocab.ReportToCase(ctx, in.CaseID, vocab.CaseEvent{Kind: EventProfileChangeExpired,
			Payload: vocab.Payload("profile_change_id", in.ID, "status", p.v.Status)})
		return nil
	}
	if err := workflow.ExecuteActivity(accountActivityOptions(ctx, "merge "+in.AccountID+" into "+in.IntoID),
		ActivityMergeAccounts, AccountRequest{AccountID: in.AccountID, IntoID: in.IntoID,
			Key: ProfileChangeWorkflowID(in.ID) + "/merge"}).Get(ctx, nil); err != nil {
		return fmt.Errorf("merge %s into %s: %w", in.AccountID, in.IntoID, err)
	}
	p.v.Status, p.v.ApprovedBy = ProfileApplied, p.approved.Actor
	vocab.ReportToCase(ctx, in.CaseID, vocab.CaseEvent{Actor: p.approved.Actor, Kind: EventProfileChangeApplied,
		Payload: vocab.Payload("profile_change_id", in.ID, "kind", in.Kind, "account_id", in.AccountID, "into_account_id", in.IntoID)})
	return nil
}

// maskContact keeps a new contact recognisable on timelines without
// writing it out.
func maskContact(kind, value string) string {
	if kind == ProfileChangeEmail {
		return MaskEmail(value)
	}
	if len(value) <= 4 {
		return "***"
	}
	return strings.Repeat("*", len(value)-4) + value[len(value)-4:]
}

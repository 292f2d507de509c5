package workflows

import (
	"fmt"
	"slices"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Names of the SupportCase updates that start account workflows.
const (
	// UpdateLockAccount locks the case's account under a security incident.
	UpdateLockAccount = "lock-account"
	// UpdateStartRecovery starts an account recovery on the case's account.
	UpdateStartRecovery = "start-recovery"
	// UpdateRequestProfileChange starts a change of the account's email or
	// phone, or its merge into another account.
	UpdateRequestProfileChange = "request-profile-change"
)

// changeAccountFlows is the workflow.GetVersion change id under which
// security cases lock their account as they open.
const changeAccountFlows = "account-flows"

// lockOnOpen lists the categories whose account is locked the moment the
// case opens.
var lockOnOpen = []Category{CategorySecurityAlert, CategoryFraudReport}

// AccountFlow is an account workflow a case started, as the case shows it.
type AccountFlow struct {
	// ID is the flow's id (incident, recovery): its workflow id without the prefix.
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
	// Running is false once the workflow has ended.
	Running bool `json:"running"`
	// Outcome is how it ended: a decision, completed, expired, locked, failed.
	Outcome string `json:"outcome,omitempty"`
}

// LockInput asks to lock the case's account.
type LockInput struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

// RecoveryRequest asks to start a recovery of the case's account.
type RecoveryRequest struct {
	Actor    string `json:"actor"`
	ResetMFA bool   `json:"reset_mfa"`
}

// ProfileChangeRequest asks to change the case account's email or phone, or
// to merge it into another account.
type ProfileChangeRequest struct {
	Actor string `json:"actor"`
	Kind  string `json:"kind"`
	// Value is the new email or phone.
	Value string `json:"value,omitempty"`
	// IntoID is the account a merge goes into.
	IntoID string `json:"into_id,omitempty"`
}

// setupAccountFlows registers the account updates and the children's
// event signal, and locks the account of a security case that just opened.
func (c *supportCase) setupAccountFlows(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateLockAccount, c.lockAccount,
		workflow.UpdateHandlerOptions{Validator: c.validateLockAccount}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateLockAccount, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateStartRecovery, c.startRecoveryUpdate,
		workflow.UpdateHandlerOptions{Validator: c.validateStartRecovery}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateStartRecovery, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRequestProfileChange, c.requestProfileChange,
		workflow.UpdateHandlerOptions{Validator: c.validateProfileChange}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateRequestProfileChange, err)
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, SignalCaseEvent)
		for {
			var ev CaseEvent
			ch.Receive(ctx, &ev)
			c.onCaseEvent(ctx, ev)
		}
	})
	if c.in.AccountID != "" && slices.Contains(lockOnOpen, c.in.Category) &&
		c.has(ctx, changeAccountFlows) {
		c.startIncident(ctx, c.in.OpenedBy, "reported in case "+c.in.ID+": "+c.in.Subject)
	}
	return nil
}

func (c *supportCase) validateLockAccount(in LockInput) error {
	if err := c.allow("lock the account", activeStatuses...); err != nil {
		return err
	}
	if c.view.AccountID == "" {
		return invalidArgument("account_id: the case names no account to lock")
	}
	if c.view.Incident != nil && c.view.Incident.Running {
		return temporal.NewApplicationError("cannot lock the account: incident "+c.view.Incident.ID+
			" already holds it locked, awaiting its decision", ErrInvalidTransition)
	}
	return required("reason", in.Reason)
}

// lockAccount starts a security incident that locks the account.
func (c *supportCase) lockAccount(ctx workflow.Context, in LockInput) (CaseView, error) {
	c.startIncident(ctx, in.Actor, in.Reason)
	return c.result(), nil
}

func (c *supportCase) validateStartRecovery(in RecoveryRequest) error {
	if err := c.allow("start a recovery", activeStatuses...); err != nil {
		return err
	}
	if c.view.AccountID == "" {
		return invalidArgument("account_id: the case names no account to recover")
	}
	if c.view.Recovery != nil && c.view.Recovery.Running {
		return temporal.NewApplicationError("cannot start a recovery: recovery "+c.view.Recovery.ID+
			" is still running", ErrInvalidTransition)
	}
	return nil
}

func (c *supportCase) startRecoveryUpdate(ctx workflow.Context, in RecoveryRequest) (CaseView, error) {
	c.startRecovery(ctx, in.Actor, in.ResetMFA)
	return c.result(), nil
}

func (c *supportCase) validateProfileChange(in ProfileChangeRequest) error {
	if err := c.allow("change the profile", activeStatuses...); err != nil {
		return err
	}
	if c.view.AccountID == "" {
		return invalidArgument("account_id: the case names no account to change")
	}
	if c.view.ProfileChange != nil && c.view.ProfileChange.Running {
		return temporal.NewApplicationError("cannot change the profile: profile change "+c.view.ProfileChange.ID+
			" is still running", ErrInvalidTransition)
	}
	switch in.Kind {
	case ProfileChangeEmail:
		if !strings.Contains(in.Value, "@") {
			return invalidArgument("value: want the new email address")
		}
	case ProfileChangePhone:
		if !strings.HasPrefix(in.Value, "+") || len(in.Value) < 8 {
			return invalidArgument("value: want the new phone number in E.164 form (+33612345678)")
		}
	case ProfileChangeMerge:
		if in.IntoID == "" || in.IntoID == c.view.AccountID {
			return invalidArgument("into_account_id: want another account to merge into")
		}
	default:
		return invalidArgument(fmt.Sprintf("kind: want email, phone or merge, got %q", in.Kind))
	}
	return nil
}

// requestProfileChange starts the case's next profile change as a child.
func (c *supportCase) requestProfileChange(ctx workflow.Context, in ProfileChangeRequest) (CaseView, error) {
	c.profileChanges++
	id := c.in.ID + "-" + fmt.Sprint(c.profileChanges)
	pol := c.in.Accounts.WithDefaults()
	child := ProfileChangeInput{
		ID: id, CaseID: c.in.ID, AccountID: c.view.AccountID, Kind: in.Kind, RequestedBy: in.Actor,
		Value: in.Value, IntoID: in.IntoID, Locale: c.in.Customer.Locale,
		CodeValidFor: pol.CodeValidFor, CodeAttempts: pol.CodeAttempts, CoolDown: pol.ContactCoolDown,
	}
	flow := &AccountFlow{ID: id, WorkflowID: ProfileChangeWorkflowID(id), Running: true}
	c.view.ProfileChange = flow
	c.runChild(ctx, flow, "Profile change ("+in.Kind+") of "+c.view.AccountID, ProfileChange, child,
		func(ctx workflow.Context, f workflow.ChildWorkflowFuture) string {
			var out ProfileChangeView
			if err := f.Get(ctx, &out); err != nil {
				return "failed"
			}
			return out.Status
		})
	return c.result(), nil
}

// startIncident starts the case's next security incident as a child and,
// when it ends confirmed, a recovery of the account.
func (c *supportCase) startIncident(ctx workflow.Context, actor, reason string) {
	c.incidents++
	id := c.in.ID + "-" + fmt.Sprint(c.incidents)
	in := IncidentInput{
		ID: id, CaseID: c.in.ID, AccountID: c.view.AccountID, Reason: reason, OpenedBy: actor,
		ReviewWithin: c.in.Accounts.WithDefaults().SecurityReview,
	}
	flow := &AccountFlow{ID: id, WorkflowID: IncidentWorkflowID(c.in.ID, c.incidents), Running: true}
	c.view.Incident = flow
	c.runChild(ctx, flow, "Security incident on account "+c.view.AccountID, SecurityIncident, in,
		func(ctx workflow.Context, f workflow.ChildWorkflowFuture) string {
			var out IncidentView
			if err := f.Get(ctx, &out); err != nil {
				return "failed"
			}
			if out.Decision == DecisionConfirmed && (c.view.Recovery == nil || !c.view.Recovery.Running) {
				c.startRecovery(ctx, out.DecidedBy, true)
			}
			return out.Decision
		})
}

// startRecovery starts the case's next account recovery as a child.
func (c *supportCase) startRecovery(ctx workflow.Context, actor string, resetMFA bool) {
	c.recoveries++
	id := c.in.ID + "-" + fmt.Sprint(c.recoveries)
	pol := c.in.Accounts.WithDefaults()
	in := RecoveryInput{
		ID: id, CaseID: c.in.ID, AccountID: c.view.AccountID, StartedBy: actor, ResetMFA: resetMFA,
		Locale: c.in.Customer.Locale, CodeValidFor: pol.CodeValidFor, CodeAttempts: pol.CodeAttempts,
		RetainEvidence: slices.Contains(RetainedCategories, c.in.Category),
	}
	flow := &AccountFlow{ID: id, WorkflowID: RecoveryWorkflowID(id), Running: true}
	c.view.Recovery = flow
	c.runChild(ctx, flow, "Account recovery of "+c.view.AccountID, AccountRecovery, in,
		func(ctx workflow.Context, f workflow.ChildWorkflowFuture) string {
			var out RecoveryView
			if err := f.Get(ctx, &out); err != nil {
				return "failed"
			}
			return out.Status
		})
}

// runChild starts a child workflow in the background and keeps the case
// open until it ends; done answers the flow's outcome.
func (c *supportCase) runChild(ctx workflow.Context, flow *AccountFlow, summary string, fn, in any,
	done func(workflow.Context, workflow.ChildWorkflowFuture) string) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:    flow.WorkflowID,
		StaticSummary: summary,
		// A child outlives nothing: the case waits for it before it ends.
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(AccountIDKey.ValueSet(c.view.AccountID)),
	})
	c.pending++
	c.changed(ctx)
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() { c.pending--; c.version++ }()
		f := workflow.ExecuteChildWorkflow(cctx, fn, in)
		outcome := done(gctx, f)
		flow.Running, flow.Outcome = false, outcome
		c.changed(gctx)
	})
}

package cases

// The account flows a case starts (security incidents, recoveries, profile
// changes, as children) and what it does when any workflow reports to it
// with the case-event signal.

import (
	"fmt"
	"slices"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/accountflows"
	"handoff/workflows/vocab"
)

// changeAccountFlows is the workflow.GetVersion change id under which
// security cases lock their account as they open.
const changeAccountFlows = "account-flows"

// lockOnOpen lists the categories whose account is locked the moment the
// case opens.
var lockOnOpen = []vocab.Category{vocab.CategorySecurityAlert, vocab.CategoryFraudReport}

// lockIfReported locks the account of a security case that just opened.
func (c *supportCase) lockIfReported(ctx workflow.Context) {
	if c.in.AccountID != "" && slices.Contains(lockOnOpen, c.in.Category) && !c.in.KeepAccountOpen &&
		c.has(ctx, changeAccountFlows) {
		c.startIncident(ctx, c.in.OpenedBy, "reported in case "+c.in.ID+": "+c.in.Subject)
	}
}

func (c *supportCase) validateLockAccount(in LockInput) error {
	if err := c.allow("lock the account", activeStatuses...); err != nil {
		return err
	}
	if c.view.AccountID == "" {
		return vocab.InvalidArgument("account_id: the case names no account to lock")
	}
	if c.view.Incident != nil && c.view.Incident.Running {
		return temporal.NewApplicationError("cannot lock the account: incident "+c.view.Incident.ID+
			" already holds it locked, awaiting its decision", vocab.ErrInvalidTransition)
	}
	return vocab.Required("reason", in.Reason)
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
		return vocab.InvalidArgument("account_id: the case names no account to recover")
	}
	if c.view.Recovery != nil && c.view.Recovery.Running {
		return temporal.NewApplicationError("cannot start a recovery: recovery "+c.view.Recovery.ID+
			" is still running", vocab.ErrInvalidTransition)
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
		return vocab.InvalidArgument("account_id: the case names no account to change")
	}
	if c.view.ProfileChange != nil && c.view.ProfileChange.Running {
		return temporal.NewApplicationError("cannot change the profile: profile change "+c.view.ProfileChange.ID+
			" is still running", vocab.ErrInvalidTransition)
	}
	switch in.Kind {
	case accountflows.ProfileChangeEmail:
		if !strings.Contains(in.Value, "@") {
			return vocab.InvalidArgument("value: want the new email address")
		}
	case accountflows.ProfileChangePhone:
		if !strings.HasPrefix(in.Value, "+") || len(in.Value) < 8 {
			return vocab.InvalidArgument("value: want the new phone number in E.164 form (+33612345678)")
		}
	case accountflows.ProfileChangeMerge:
		if in.IntoID == "" || in.IntoID == c.view.AccountID {
			return vocab.InvalidArgument("into_account_id: want another account to merge into")
		}
	default:
		return vocab.InvalidArgument(fmt.Sprintf("kind: want email, phone or merge, got %q", in.Kind))
	}
	return nil
}

// requestProfileChange starts the case's next profile change as a child.
func (c *supportCase) requestProfileChange(ctx workflow.Context, in ProfileChangeRequest) (CaseView, error) {
	c.profileChanges++
	id := c.in.ID + "-" + fmt.Sprint(c.profileChanges)
	pol := c.in.Accounts.WithDefaults()
	child := accountflows.ProfileChangeInput{
		ID: id, CaseID: c.in.ID, AccountID: c.view.AccountID, Kind: in.Kind, RequestedBy: in.Actor,
		Value: in.Value, IntoID: in.IntoID, Locale: c.in.Customer.Locale,
		CodeValidFor: pol.CodeValidFor, CodeAttempts: pol.CodeAttempts, CoolDown: pol.ContactCoolDown,
	}
	flow := &AccountFlow{ID: id, WorkflowID: accountflows.ProfileChangeWorkflowID(id), Running: true}
	c.view.ProfileChange = flow
	c.runChild(ctx, flow, "Profile change ("+in.Kind+") of "+c.view.AccountID, accountflows.WorkflowProfileChange, child,
		func(ctx workflow.Context, f workflow.ChildWorkflowFuture) string {
			var out accountflows.ProfileChangeView
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
	in := accountflows.IncidentInput{
		ID: id, CaseID: c.in.ID, AccountID: c.view.AccountID, Reason: reason, OpenedBy: actor,
		ReviewWithin: c.in.Accounts.WithDefaults().SecurityReview,
	}
	flow := &AccountFlow{ID: id, WorkflowID: accountflows.IncidentWorkflowID(c.in.ID, c.incidents), Running: true}
	c.view.Incident = flow
	c.runChild(ctx, flow, "Security incident on account "+c.view.AccountID, accountflows.WorkflowSecurityIncident, in,
		func(ctx workflow.Context, f workflow.ChildWorkflowFuture) string {
			var out accountflows.IncidentView
			if err := f.Get(ctx, &out); err != nil {
				return "failed"
			}
			if out.Decision == accountflows.DecisionConfirmed && (c.view.Recovery == nil || !c.view.Recovery.Running) {
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
	in := accountflows.RecoveryInput{
		ID: id, CaseID: c.in.ID, AccountID: c.view.AccountID, StartedBy: actor, ResetMFA: resetMFA,
		Locale: c.in.Customer.Locale, CodeValidFor: pol.CodeValidFor, CodeAttempts: pol.CodeAttempts,
		RetainEvidence: slices.Contains(vocab.RetainedCategories, c.in.Category),
	}
	flow := &AccountFlow{ID: id, WorkflowID: accountflows.RecoveryWorkflowID(id), Running: true}
	c.view.Recovery = flow
	c.runChild(ctx, flow, "Account recovery of "+c.view.AccountID, accountflows.WorkflowAccountRecovery, in,
		func(ctx workflow.Context, f workflow.ChildWorkflowFuture) string {
			var out accountflows.RecoveryView
			if err := f.Get(ctx, &out); err != nil {
				return "failed"
			}
			return out.Status
		})
}

// runChild starts a child workflow in the background and keeps the case
// open until it ends; done answers the flow's outcome.
func (c *supportCase) runChild(ctx workflow.Context, flow *AccountFlow, summary, workflowType string, in any,
	done func(workflow.Context, workflow.ChildWorkflowFuture) string) {
	c.runChildWith(ctx, flow, workflow.ChildWorkflowOptions{
		WorkflowID:    flow.WorkflowID,
		StaticSummary: summary,
		// A child outlives nothing: the case waits for it before it ends.
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(vocab.AccountIDKey.ValueSet(c.view.AccountID)),
	}, workflowType, in, done)
}

// runChildWith is runChild under the child's own options.
func (c *supportCase) runChildWith(ctx workflow.Context, flow *AccountFlow, opts workflow.ChildWorkflowOptions, workflowType string, in any,
	done func(workflow.Context, workflow.ChildWorkflowFuture) string) {
	cctx := workflow.WithChildOptions(ctx, opts)
	c.pending++
	c.changed(ctx)
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() { c.pending--; c.version++ }()
		f := workflow.ExecuteChildWorkflow(cctx, workflowType, in)
		outcome := done(gctx, f)
		flow.Running, flow.Outcome = false, outcome
		c.changed(gctx)
	})
}

// onCaseEvent records a reported event on the timeline and does what it
// asks: attach its evidence, tell whom it names, escalate.
func (c *supportCase) onCaseEvent(ctx workflow.Context, ev vocab.CaseEvent) {
	c.settleOverdue(ctx)
	actor := ev.Actor
	if actor == "" {
		actor = vocab.SystemActor
	}
	if ev.Evidence != nil && !c.hasEvidence(ev.Evidence.SHA256) {
		e := *ev.Evidence
		e.UploadedBy = actor
		c.attachEvidence(ctx, actor, e)
	}
	c.record(ctx, actor, ev.Kind, ev.Payload)
	c.changed(ctx)
	for _, n := range ev.Tell {
		c.notifyTo(ctx, n.Event, n.Audience, n.Detail, n.To)
	}
	if ev.EscalateTo != "" && c.view.Status != StatusResolved && c.view.Status != StatusClosed {
		_, _ = c.escalate(ctx, EscalateInput{Actor: actor, Team: ev.EscalateTo, Reason: ev.Reason})
	}
	if ev.Kind == accountflows.EventRecoveryCompleted {
		c.tellDelivery(ctx, vocab.LinkedCaseOutcome{CaseID: c.in.ID, Outcome: vocab.OutcomeRecovered, Actor: actor,
			Detail: "account recovery " + ev.Payload["recovery_id"] + " completed"})
	}
}

// tellDelivery reports o to the delivery the case is linked to, if any, in
// the background; the case does not end before the delivery has heard it.
func (c *supportCase) tellDelivery(ctx workflow.Context, o vocab.LinkedCaseOutcome) {
	if c.in.DeliveryID == "" {
		return
	}
	c.pending++
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() { c.pending--; c.version++ }()
		vocab.ReportToDelivery(gctx, c.in.DeliveryID, o)
	})
}

package accountflows

import (
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// SecurityIncident locks a reported account at once, revoking its
// sessions, and holds it locked until the security team decides: a false
// alarm unlocks it, a confirmed takeover leaves it locked for a recovery.
// A decision not taken within the review target escalates the case, once.
func SecurityIncident(ctx workflow.Context, in IncidentInput) (IncidentView, error) {
	if in.AccountID == "" || in.CaseID == "" {
		return IncidentView{}, vocab.InvalidArgument("account_id and case_id: an incident needs both")
	}
	i := &incident{in: in, v: IncidentView{ID: in.ID, CaseID: in.CaseID, AccountID: in.AccountID,
		Status: IncidentLocking, Reason: in.Reason, ReviewDue: workflow.Now(ctx).Add(in.ReviewWithin)}}
	if err := i.setup(ctx); err != nil {
		return i.v, err
	}
	return i.run(ctx)
}

// incident is the SecurityIncident workflow's state; the decision update
// sets decision, run carries it out.
type incident struct {
	in       IncidentInput
	v        IncidentView
	decision *DecisionInput
}

func (i *incident) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryIncident, func() (IncidentView, error) { return i.v, nil }); err != nil {
		return fmt.Errorf("register query %s: %w", QueryIncident, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSecurityDecision, i.decide,
		workflow.UpdateHandlerOptions{Validator: i.validateDecide}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateSecurityDecision, err)
	}
	return nil
}

// run locks the account, waits for the decision (escalating once when the
// review is overdue) and carries it out.
func (i *incident) run(ctx workflow.Context) (IncidentView, error) {
	if err := i.lock(ctx); err != nil {
		return i.v, err
	}
	if err := i.awaitDecision(ctx); err != nil {
		return i.v, err
	}
	if err := i.carryOut(ctx); err != nil {
		return i.v, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return i.v, err
	}
	return i.v, nil
}

func (i *incident) validateDecide(d DecisionInput) error {
	switch {
	case i.decision != nil:
		return temporal.NewApplicationError("cannot decide: the incident was already decided ("+i.decision.Decision+")", vocab.ErrInvalidTransition)
	case d.Decision != DecisionConfirmed && d.Decision != DecisionFalseAlarm:
		return vocab.InvalidArgument(fmt.Sprintf("decision: want confirmed or false_alarm, got %q", d.Decision))
	}
	return nil
}

// decide takes the security team's decision and answers once run has
// carried it out.
func (i *incident) decide(ctx workflow.Context, d DecisionInput) (IncidentView, error) {
	i.decision = &d
	if err := workflow.Await(ctx, func() bool { return i.v.Status == IncidentDecided }); err != nil {
		return i.v, err
	}
	return i.v, nil
}

// lock locks the account, revoking its sessions, and tells the case.
func (i *incident) lock(ctx workflow.Context) error {
	var locked LockResult
	lctx := accountActivityOptions(ctx, "lock account "+i.in.AccountID+" and revoke its sessions")
	if err := workflow.ExecuteActivity(lctx, ActivityLockAccount, AccountRequest{
		AccountID: i.in.AccountID, Key: i.in.ID + "/lock", Reason: i.in.Reason,
	}).Get(ctx, &locked); err != nil {
		return fmt.Errorf("lock account %s: %w", i.in.AccountID, err)
	}
	now := workflow.Now(ctx)
	i.v.LockedAt, i.v.SessionsRevoked, i.v.Status = &now, locked.SessionsRevoked, IncidentInReview
	vocab.ReportToCase(ctx, i.in.CaseID, vocab.CaseEvent{
		Actor: i.in.OpenedBy, Kind: EventAccountLocked,
		Payload: vocab.Payload("incident_id", i.in.ID, "account_id", i.in.AccountID, "reason", i.in.Reason,
			"sessions_revoked", strconv.Itoa(locked.SessionsRevoked), "review_due", i.v.ReviewDue.UTC().Format(time.RFC3339)),
		Tell: []vocab.Notice{
			{Audience: vocab.AudienceCustomer, Event: NoticeSecurityLock, Detail: i.in.Reason},
			{Audience: vocab.AudienceTeam, Event: EventAccountLocked, Detail: i.in.Reason},
		},
	})
	return nil
}

// awaitDecision waits for the decision under the review target: one timer,
// cancelled by the decision; past it the case escalates to security, once.
func (i *incident) awaitDecision(ctx workflow.Context) error {
	overdue, stopReview := within(ctx, i.v.ReviewDue.Sub(workflow.Now(ctx)), "security review due")
	for i.decision == nil {
		if err := workflow.Await(ctx, func() bool { return i.decision != nil || (overdue() && !i.v.Overdue) }); err != nil {
			return err
		}
		if overdue() && !i.v.Overdue && i.decision == nil {
			i.v.Overdue = true
			vocab.ReportToCase(ctx, i.in.CaseID, vocab.CaseEvent{
				Kind: EventSecurityReviewOverdue, Payload: vocab.Payload("incident_id", i.in.ID, "due", i.v.ReviewDue.UTC().Format(time.RFC3339)),
				EscalateTo: vocab.TeamSecurity, Reason: "security review of the account lock is overdue",
			})
		}
	}
	stopReview()
	return nil
}

// carryOut records the decision on the case; a false alarm unlocks the
// account and tells the customer, a confirmed takeover leaves it locked
// (the case starts a recovery when the incident ends).
func (i *incident) carryOut(ctx workflow.Context) error {
	d := *i.decision
	decided := workflow.Now(ctx)
	i.v.Decision, i.v.DecidedBy, i.v.DecidedAt = d.Decision, d.Actor, &decided
	ev := vocab.CaseEvent{Actor: d.Actor, Kind: EventSecurityDecision,
		Payload: vocab.Payload("incident_id", i.in.ID, "decision", d.Decision, "note", d.Note)}
	if d.Decision == DecisionFalseAlarm {
		uctx := accountActivityOptions(ctx, "unlock account "+i.in.AccountID)
		if err := workflow.ExecuteActivity(uctx, ActivityUnlockAccount, AccountRequest{
			AccountID: i.in.AccountID, Key: i.in.ID + "/unlock",
		}).Get(ctx, nil); err != nil {
			return fmt.Errorf("unlock account %s: %w", i.in.AccountID, err)
		}
		ev.Payload["account_status"] = AccountActive
		ev.Tell = []vocab.Notice{{Audience: vocab.AudienceCustomer, Event: EventAccountUnlocked, Detail: d.Note}}
	}
	vocab.ReportToCase(ctx, i.in.CaseID, ev)
	i.v.Status = IncidentDecided
	return nil
}

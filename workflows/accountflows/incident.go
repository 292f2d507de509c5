package accountflows

import (
	"fmt"
	"handoff/workflows/vocab"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// SecurityIncident locks a reported account at once, revoking its
// sessions, and holds it locked until the security team decides: a false
// alarm unlocks it, a confirmed takeover leaves it locked for a recovery.
// A decision not taken within the review target escalates the case, once.
func SecurityIncident(ctx workflow.Context, in IncidentInput) (IncidentView, error) {
	if in.AccountID == "" || in.CaseID == "" {
		return IncidentView{}, vocab.InvalidArgument("account_id and case_id: an incident needs both")
	}
	v := IncidentView{ID: in.ID, CaseID: in.CaseID, AccountID: in.AccountID, Status: IncidentLocking,
		Reason: in.Reason, ReviewDue: workflow.Now(ctx).Add(in.ReviewWithin)}
	var decision *DecisionInput
	if err := workflow.SetQueryHandler(ctx, QueryIncident, func() (IncidentView, error) { return v, nil }); err != nil {
		return v, fmt.Errorf("register query %s: %w", QueryIncident, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSecurityDecision,
		func(ctx workflow.Context, d DecisionInput) (IncidentView, error) {
			decision = &d
			// Answer once the decision has been carried out.
			if err := workflow.Await(ctx, func() bool { return v.Status == IncidentDecided }); err != nil {
				return v, err
			}
			return v, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(d DecisionInput) error {
			switch {
			case decision != nil:
				return temporal.NewApplicationError("cannot decide: the incident was already decided ("+decision.Decision+")", vocab.ErrInvalidTransition)
			case d.Decision != DecisionConfirmed && d.Decision != DecisionFalseAlarm:
				return vocab.InvalidArgument(fmt.Sprintf("decision: want confirmed or false_alarm, got %q", d.Decision))
			}
			return nil
		}}); err != nil {
		return v, fmt.Errorf("register update %s: %w", UpdateSecurityDecision, err)
	}

	var locked LockResult
	lctx := accountActivityOptions(ctx, "lock account "+in.AccountID+" and revoke its sessions")
	if err := workflow.ExecuteActivity(lctx, ActivityLockAccount, AccountRequest{
		AccountID: in.AccountID, Key: in.ID + "/lock", Reason: in.Reason,
	}).Get(ctx, &locked); err != nil {
		return v, fmt.Errorf("lock account %s: %w", in.AccountID, err)
	}
	now := workflow.Now(ctx)
	v.LockedAt, v.SessionsRevoked, v.Status = &now, locked.SessionsRevoked, IncidentInReview
	vocab.ReportToCase(ctx, in.CaseID, vocab.CaseEvent{
		Actor: in.OpenedBy, Kind: EventAccountLocked,
		Payload: vocab.Payload("incident_id", in.ID, "account_id", in.AccountID, "reason", in.Reason,
			"sessions_revoked", strconv.Itoa(locked.SessionsRevoked), "review_due", v.ReviewDue.UTC().Format(time.RFC3339)),
		Tell: []vocab.Notice{
			{Audience: vocab.AudienceCustomer, Event: NoticeSecurityLock, Detail: in.Reason},
			{Audience: vocab.AudienceTeam, Event: EventAccountLocked, Detail: in.Reason},
		},
	})

	// The review target: one timer, cancelled by the decision.
	overdue, stopReview := within(ctx, v.ReviewDue.Sub(workflow.Now(ctx)), "security review due")
	for decision == nil {
		if err := workflow.Await(ctx, func() bool { return decision != nil || (overdue() && !v.Overdue) }); err != nil {
			return v, err
		}
		if overdue() && !v.Overdue && decision == nil {
			v.Overdue = true
			vocab.ReportToCase(ctx, in.CaseID, vocab.CaseEvent{
				Kind: EventSecurityReviewOverdue, Payload: vocab.Payload("incident_id", in.ID, "due", v.ReviewDue.UTC().Format(time.RFC3339)),
				EscalateTo: vocab.TeamSecurity, Reason: "security review of the account lock is overdue",
			})
		}
	}
	stopReview()

	d := *decision
	decided := workflow.Now(ctx)
	v.Decision, v.DecidedBy, v.DecidedAt = d.Decision, d.Actor, &decided
	ev := vocab.CaseEvent{Actor: d.Actor, Kind: EventSecurityDecision,
		Payload: vocab.Payload("incident_id", in.ID, "decision", d.Decision, "note", d.Note)}
	if d.Decision == DecisionFalseAlarm {
		uctx := accountActivityOptions(ctx, "unlock account "+in.AccountID)
		if err := workflow.ExecuteActivity(uctx, ActivityUnlockAccount, AccountRequest{
			AccountID: in.AccountID, Key: in.ID + "/unlock",
		}).Get(ctx, nil); err != nil {
			return v, fmt.Errorf("unlock account %s: %w", in.AccountID, err)
		}
		ev.Payload["account_status"] = AccountActive
		ev.Tell = []vocab.Notice{{Audience: vocab.AudienceCustomer, Event: EventAccountUnlocked, Detail: d.Note}}
	}
	vocab.ReportToCase(ctx, in.CaseID, ev)
	v.Status = IncidentDecided
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return v, err
	}
	return v, nil
}

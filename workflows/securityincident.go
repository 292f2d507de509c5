package workflows

import (
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

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

// SecurityIncident locks a reported account at once, revoking its
// sessions, and holds it locked until the security team decides: a false
// alarm unlocks it, a confirmed takeover leaves it locked for a recovery.
// A decision not taken within the review target escalates the case, once.
func SecurityIncident(ctx workflow.Context, in IncidentInput) (IncidentView, error) {
	if in.AccountID == "" || in.CaseID == "" {
		return IncidentView{}, invalidArgument("account_id and case_id: an incident needs both")
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
				return temporal.NewApplicationError("cannot decide: the incident was already decided ("+decision.Decision+")", ErrInvalidTransition)
			case d.Decision != DecisionConfirmed && d.Decision != DecisionFalseAlarm:
				return invalidArgument(fmt.Sprintf("decision: want confirmed or false_alarm, got %q", d.Decision))
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
	reportToCase(ctx, in.CaseID, CaseEvent{
		Actor: in.OpenedBy, Kind: EventAccountLocked,
		Payload: payload("incident_id", in.ID, "account_id", in.AccountID, "reason", in.Reason,
			"sessions_revoked", strconv.Itoa(locked.SessionsRevoked), "review_due", v.ReviewDue.UTC().Format(time.RFC3339)),
		Tell: []Notice{
			{Audience: audienceCustomer, Event: NoticeSecurityLock, Detail: in.Reason},
			{Audience: audienceTeam, Event: EventAccountLocked, Detail: in.Reason},
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
			reportToCase(ctx, in.CaseID, CaseEvent{
				Kind: EventSecurityReviewOverdue, Payload: payload("incident_id", in.ID, "due", v.ReviewDue.UTC().Format(time.RFC3339)),
				EscalateTo: TeamSecurity, Reason: "security review of the account lock is overdue",
			})
		}
	}
	stopReview()

	d := *decision
	decided := workflow.Now(ctx)
	v.Decision, v.DecidedBy, v.DecidedAt = d.Decision, d.Actor, &decided
	ev := CaseEvent{Actor: d.Actor, Kind: EventSecurityDecision,
		Payload: payload("incident_id", in.ID, "decision", d.Decision, "note", d.Note)}
	if d.Decision == DecisionFalseAlarm {
		uctx := accountActivityOptions(ctx, "unlock account "+in.AccountID)
		if err := workflow.ExecuteActivity(uctx, ActivityUnlockAccount, AccountRequest{
			AccountID: in.AccountID, Key: in.ID + "/unlock",
		}).Get(ctx, nil); err != nil {
			return v, fmt.Errorf("unlock account %s: %w", in.AccountID, err)
		}
		ev.Payload["account_status"] = AccountActive
		ev.Tell = []Notice{{Audience: audienceCustomer, Event: EventAccountUnlocked, Detail: d.Note}}
	}
	reportToCase(ctx, in.CaseID, ev)
	v.Status = IncidentDecided
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return v, err
	}
	return v, nil
}

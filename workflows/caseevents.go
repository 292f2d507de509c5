package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// SignalCaseEvent is how a case's child workflows (security incident,
// account recovery, profile change) report what they did: the case records
// it on its timeline, tells whom it names, and escalates when asked.
const SignalCaseEvent = "case-event"

// Timeline event kinds reported by the account workflows.
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

// Notification events the account workflows send that are no timeline kind.
const (
	// NoticeSecurityLock tells the customer their account was locked.
	NoticeSecurityLock = "security_lock"
	// NoticeRecoverySteps sends the customer recovery instructions.
	NoticeRecoverySteps = "recovery_steps"
)

// CaseEvent is one thing a child workflow did to the case's account.
type CaseEvent struct {
	Actor   string            `json:"actor"`
	Kind    string            `json:"kind"`
	Payload map[string]string `json:"payload,omitempty"`
	// Tell lists who hears about it and with which notification.
	Tell []Notice `json:"tell,omitempty"`
	// EscalateTo, when set, escalates the case to that team (one level up
	// when it already owns the case), with Reason; the handoff context is
	// not asked of the system.
	EscalateTo Team   `json:"escalate_to,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// Evidence, when set, is a file the child stored (a record of an
	// identity check) to attach to the case.
	Evidence *Evidence `json:"evidence,omitempty"`
}

// Notice asks the case to tell an audience (customer or team) about an event.
type Notice struct {
	Audience string `json:"audience"`
	Event    string `json:"event"`
	Detail   string `json:"detail,omitempty"`
	// To, when set, overrides the customer's address.
	To string `json:"to,omitempty"`
}

// reportToCase signals a child's event to the case it belongs to. A case
// that has ended cannot hear it; the child goes on (its own history keeps
// what happened).
func reportToCase(ctx workflow.Context, caseID string, ev CaseEvent) {
	err := workflow.SignalExternalWorkflow(ctx, CaseWorkflowID(caseID), "", SignalCaseEvent, ev).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("case did not hear the event", "case", caseID, "kind", ev.Kind, "error", err)
	}
}

// onCaseEvent records a child's event on the timeline and does what it asks.
func (c *supportCase) onCaseEvent(ctx workflow.Context, ev CaseEvent) {
	actor := ev.Actor
	if actor == "" {
		actor = SystemActor
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
}

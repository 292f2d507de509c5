package vocab

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// CaseWorkflowID is the workflow id of case id. Every area that reports to
// a case signals it there; workflows/cases answers it as its ID helper.
func CaseWorkflowID(id string) string { return "case/" + id }

// SignalCaseEvent is how other workflows (a case's security incident,
// account recovery, profile change; an account's signal watch) report what
// they did to a case: the case records it on its timeline, tells whom it
// names, and escalates when asked.
const SignalCaseEvent = "case-event"

// CaseEvent is one thing another workflow did that a case should know.
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
	// Evidence, when set, is a file the reporter stored (a record of an
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

// ReportToCase signals ev to the case caseID. A case that has ended cannot
// hear it; the reporter goes on (its own history keeps what happened).
func ReportToCase(ctx workflow.Context, caseID string, ev CaseEvent) {
	err := workflow.SignalExternalWorkflow(ctx, CaseWorkflowID(caseID), "", SignalCaseEvent, ev).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("case did not hear the event", "case", caseID, "kind", ev.Kind, "error", err)
	}
}

// Payload builds an event's payload from key, value pairs, leaving out
// empty values.
func Payload(kv ...string) map[string]string {
	p := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			p[kv[i]] = kv[i+1]
		}
	}
	return p
}

// Event is one entry of a timeline: a case's or a delivery's.
type Event struct {
	Seq     int               `json:"seq"`
	Actor   string            `json:"actor"`
	Kind    string            `json:"kind"`
	At      time.Time         `json:"at"`
	Payload map[string]string `json:"payload,omitempty"`
}

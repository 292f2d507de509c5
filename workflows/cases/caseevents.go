package cases

import (
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// onCaseEvent records a child's event on the timeline and does what it asks.
func (c *supportCase) onCaseEvent(ctx workflow.Context, ev vocab.CaseEvent) {
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
}

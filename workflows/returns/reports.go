package returns

import (
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// What the return tells its case: every step, in the order it took them,
// with whom the case should tell and when it should escalate. The case
// does the telling (its notifications, its routes, its templates) and the
// escalating (its team, its SLA); the return only asks.

// ask adds a request to the case to an event reported to it.
type ask func(*vocab.CaseEvent)

// tellBuyer asks the case to tell the buyer about event, with detail.
func tellBuyer(event, detail string) ask {
	return func(ev *vocab.CaseEvent) {
		ev.Tell = append(ev.Tell, vocab.Notice{Audience: vocab.AudienceCustomer, Event: event, Detail: detail})
	}
}

// escalate asks the case to escalate to trust and safety, saying why.
func escalate(reason string) ask {
	return func(ev *vocab.CaseEvent) {
		ev.EscalateTo, ev.Reason = vocab.TeamTrustSafety, reason
	}
}

// report queues timeline event e for the case; its payload names the
// return (see step), so the case's timeline says which return took it.
// Once the buyer's data is erased the case is asked to tell them nothing.
func (r *itemReturn) report(e vocab.Event, asks ...ask) {
	ev := vocab.CaseEvent{Actor: e.Actor, Kind: e.Kind, Payload: e.Payload}
	for _, a := range asks {
		a(&ev)
	}
	if len(r.erasures) > 0 {
		ev.Tell = vocab.WithoutCustomer(ev.Tell)
	}
	r.outbox = append(r.outbox, ev)
}

// sendReports signals the queued events to the case one at a time, so the
// case hears them in the order they happened whichever handler queued them.
// A case that cannot hear one is logged by vocab.ReportToCase; the
// return's own timeline keeps it.
func (r *itemReturn) sendReports(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return len(r.outbox) > 0 }); err != nil {
			return
		}
		vocab.ReportToCase(ctx, r.in.CaseID, r.outbox[0])
		r.outbox = r.outbox[1:]
	}
}

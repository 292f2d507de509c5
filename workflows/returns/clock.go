package returns

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// The deadlines a return acts on by itself: the buyer's reminder and the
// ship-by deadline, the parcel's arrival, the seller's inspection.

// deadlineKind is what happens when a deadline passes.
type deadlineKind int

const (
	deadlineReminder deadlineKind = iota + 1
	deadlineShipBy
	deadlineArriveBy
	deadlineInspectBy
)

// deadline is the next moment the return must act by itself.
type deadline struct {
	at   time.Time
	kind deadlineKind
}

// summary names what is due, as the Web UI shows the timer.
func (dl deadline) summary() string {
	at := stamp(dl.at)
	switch dl.kind {
	case deadlineReminder:
		return "remind the buyer to ship " + at
	case deadlineShipBy:
		return "ship by " + at
	case deadlineArriveBy:
		return "parcel arrives by " + at
	default:
		return "inspect by " + at
	}
}

// nextDeadline answers the earliest moment the return must act by itself.
func (r *itemReturn) nextDeadline() (deadline, bool) {
	v := r.view
	switch v.Status {
	case StatusLabelSent:
		if remind := r.in.Policy.ReminderBefore; remind > 0 && !r.reminderSent {
			return deadline{at: v.ShipBy.Add(-remind), kind: deadlineReminder}, true
		}
		return deadline{at: *v.ShipBy, kind: deadlineShipBy}, true
	case StatusShipped:
		if !r.arrivalEscalated {
			return deadline{at: *v.ArriveBy, kind: deadlineArriveBy}, true
		}
	case StatusReceived:
		return deadline{at: *v.InspectBy, kind: deadlineInspectBy}, true
	}
	return deadline{}, false
}

// onDeadline does what dl asks for; run has checked it is due.
func (r *itemReturn) onDeadline(ctx workflow.Context, dl deadline) {
	switch dl.kind {
	case deadlineReminder:
		r.reminderSent = true
		shipBy := stamp(*r.view.ShipBy)
		r.step(ctx, vocab.SystemActor, EventReminder, vocab.Payload("ship_by", rfc3339(*r.view.ShipBy)),
			tellBuyer(EventReminder, shipBy))
	case deadlineShipBy:
		shipBy := stamp(*r.view.ShipBy)
		r.view.Status, r.view.StatusReason = StatusNotShipped, "not shipped by "+shipBy
		r.step(ctx, vocab.SystemActor, EventNotShipped, vocab.Payload("ship_by", rfc3339(*r.view.ShipBy)),
			tellBuyer(EventNotShipped, shipBy))
	case deadlineArriveBy:
		r.arrivalEscalated = true
		r.step(ctx, vocab.SystemActor, EventArrivalOverdue, vocab.Payload("tracking_number", r.view.TrackingNumber,
			"shipped_at", rfc3339(*r.view.ShippedAt), "arrive_by", rfc3339(*r.view.ArriveBy)),
			escalate("return "+r.in.ID+" (order "+r.in.OrderID+"), shipped "+stamp(*r.view.ShippedAt)+
				", has not reached the seller by "+stamp(*r.view.ArriveBy)+": follow up parcel "+r.view.TrackingNumber+" with the carrier"))
	case deadlineInspectBy:
		r.inspectByPolicy(ctx)
	}
}

// deadlineTimer is the one timer a return keeps, re-armed only when the
// next deadline moves.
type deadlineTimer struct {
	vocab.Timer
	deadline deadline
}

func (t *deadlineTimer) arm(ctx workflow.Context, next deadline, ok bool) {
	if t.Armed() && ok && next == t.deadline {
		return
	}
	if !ok {
		t.Stop()
		return
	}
	t.deadline = next
	t.Start(ctx, next.at.Sub(workflow.Now(ctx)), next.summary())
}

package returns

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// Return follows one returned item from the request to the refund. An
// ineligible return (outside the window, a final-sale item, an unknown
// reason) ends at once and the buyer is told why. Otherwise it sends the
// buyer a prepaid label, reminds them before the ship-by deadline and ends
// unshipped past it; follows the parcel, escalating the case once when it
// is late; waits for the seller's inspection, deciding by policy when none
// comes in time; asks trust and safety to approve a refund above the
// limit; and refunds the buyer, waiting for the provider's settlement when
// it answers pending. Every step is on its timeline and reported to its case.
func Return(ctx workflow.Context, in Input) (View, error) {
	if err := in.Validate(); err != nil {
		return View{}, err
	}
	r := newReturn(ctx, in)
	if err := r.setup(ctx); err != nil {
		return r.view, err
	}
	return r.run(ctx)
}

// itemReturn is the workflow's state; handlers and signals change it, run
// waits on it and does the work each status calls for.
type itemReturn struct {
	in       Input
	view     View
	timeline []vocab.Event
	// openedAt is when the buyer asked: the window and ship-by start there.
	openedAt time.Time
	// labelAsked and refundAsked say the activity was called, so run calls
	// each once.
	labelAsked, refundAsked bool
	// reminderSent and arrivalEscalated say a one-time deadline was acted on.
	reminderSent, arrivalEscalated bool
	// tracking and payments wait, oldest first, to be acted on in run's
	// loop; seen* hold the event ids acted on, for deduplication.
	tracking     []vocab.TrackingEvent
	payments     []vocab.PaymentResult
	seenTracking map[string]bool
	seenPayments map[string]bool
	// outbox holds the events not yet reported to the case, oldest first.
	outbox []vocab.CaseEvent
	// version grows with every change so run wakes up and re-arms its timer.
	version int
	// projects is false for returns that began before the read model
	// existed; projectedSeq is the newest event written to it.
	projects     bool
	projectedSeq int
	timer        deadlineTimer
	attrs        attributes
	// erasures lists the erasures of the buyer's data already carried out
	// (eraseBuyer); after one the buyer is told nothing more.
	erasures []string
}

// Actors of what the return hears from outside systems.
const (
	carrierActor  = "integration:carrier"
	paymentsActor = "integration:payments"
)

func newReturn(ctx workflow.Context, in Input) *itemReturn {
	now := workflow.Now(ctx)
	opened := in.OpenedAt
	if opened.IsZero() {
		opened = now
	}
	r := &itemReturn{in: in, openedAt: opened, seenTracking: map[string]bool{}, seenPayments: map[string]bool{}}
	r.view = View{
		ID: in.ID, CaseID: in.CaseID, OrderID: in.OrderID, Buyer: in.Buyer, SellerID: in.SellerID, Item: in.Item,
		Paid: in.Paid, Reason: in.Reason, Status: StatusRequested, WindowEndsAt: in.DeliveredAt.Add(in.Policy.Window),
		CreatedAt: now, UpdatedAt: now,
	}
	r.timeline = []vocab.Event{{Seq: 1, Actor: "customer:" + in.Buyer.ID, Kind: EventRequested, At: now, Payload: vocab.Payload(
		"return_id", in.ID, "order_id", in.OrderID, "sku", in.Item.SKU, "reason", in.Reason, "paid", in.Paid.String(),
		"opened_at", rfc3339(opened), "window_ends_at", rfc3339(r.view.WindowEndsAt))}}
	r.view.LastSeq = 1
	r.attrs = attributes{status: string(StatusRequested)}
	return r
}

func (r *itemReturn) setup(ctx workflow.Context) error {
	r.projects = workflow.GetVersion(ctx, changeReadModel, workflow.DefaultVersion, 1) >= 1
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateInspect, r.inspect, r.validateInspect},
		{UpdateApproveRefund, r.approveRefund, r.validateApproveRefund},
		{UpdateCancel, r.cancel, r.validateCancel},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler,
			workflow.UpdateHandlerOptions{Validator: h.validator}); err != nil {
			return fmt.Errorf("register update %s: %w", h.name, err)
		}
	}
	if err := workflow.SetQueryHandler(ctx, QueryReturn, func() (View, error) {
		return r.fullView(), nil
	}); err != nil {
		return fmt.Errorf("register query %s: %w", QueryReturn, err)
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, SignalTracking)
		for {
			var ev vocab.TrackingEvent
			ch.Receive(ctx, &ev)
			r.tracking = append(r.tracking, ev)
			r.version++
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, SignalPaymentResult)
		for {
			var p vocab.PaymentResult
			ch.Receive(ctx, &p)
			r.payments = append(r.payments, p)
			r.version++
		}
	})
	workflow.Go(ctx, r.sendReports)
	workflow.Go(ctx, func(ctx workflow.Context) { vocab.TakeErasures(ctx, r.eraseBuyer) })
	if r.projects {
		workflow.Go(ctx, r.project)
	}
	r.changed(ctx)
	return nil
}

// run reports the request, then does what each status calls for and acts
// on what arrives and on the next deadline until the return ends and the
// case has heard everything.
func (r *itemReturn) run(ctx workflow.Context) (View, error) {
	r.report(r.timeline[0])
	if workflow.GetVersion(ctx, changeFraudSignals, workflow.DefaultVersion, 1) >= 1 {
		workflow.Go(ctx, r.reportRefundRequest)
	}
	if why := r.ineligibility(); why != "" {
		r.refuseAsIneligible(ctx, why)
	}
	for !r.ended() {
		switch {
		case r.view.Status == StatusRequested && !r.labelAsked:
			r.sendLabel(ctx)
		case r.view.Status == StatusRefunding && !r.refundAsked:
			r.refund(ctx)
		}
		r.takeTracking(ctx)
		r.takePayments(ctx)
		if r.ended() {
			break
		}
		if err := r.awaitNext(ctx); err != nil {
			return r.view, err
		}
	}
	r.timer.arm(ctx, deadline{}, false)
	if err := workflow.Await(ctx, func() bool { return r.idle(ctx) }); err != nil {
		return r.view, fmt.Errorf("wait for return %s's reports and updates: %w", r.in.ID, err)
	}
	return r.fullView(), nil
}

// awaitNext waits for what the status waits on (the buyer's shipment, the
// parcel, the seller's inspection, trust and safety's approval, the
// provider's settlement) or its deadline: it acts on a deadline that is
// due, else arms the one timer and waits until an update or a signal
// changes something or the timer fires.
func (r *itemReturn) awaitNext(ctx workflow.Context) error {
	next, ok := r.nextDeadline()
	if ok && !next.at.After(workflow.Now(ctx)) {
		r.onDeadline(ctx, next)
		return nil
	}
	r.timer.arm(ctx, next, ok)
	seen := r.version
	if err := workflow.Await(ctx, func() bool { return r.version != seen || r.timer.Fired }); err != nil {
		return fmt.Errorf("wait on return %s: %w", r.in.ID, err)
	}
	r.timer.Fired = false
	return nil
}

// ended reports that the return is in a final status.
func (r *itemReturn) ended() bool { return slices.Contains(FinalStatuses, r.view.Status) }

// idle reports that the case and the read model have every event and no
// update is still being handled.
func (r *itemReturn) idle(ctx workflow.Context) bool {
	return len(r.outbox) == 0 && r.caughtUp() && workflow.AllHandlersFinished(ctx)
}

// record appends an event to the timeline and bumps the version.
func (r *itemReturn) record(ctx workflow.Context, actor, kind string, payload map[string]string) vocab.Event {
	now := workflow.Now(ctx)
	e := vocab.Event{Seq: len(r.timeline) + 1, Actor: actor, Kind: kind, At: now, Payload: payload}
	r.timeline = append(r.timeline, e)
	r.view.LastSeq = e.Seq
	r.view.UpdatedAt = now
	r.version++
	return e
}

// step records a step the return took (its state already changed), its
// payload naming the return, publishes the new state and reports the step
// to the case, with asks saying whom the case tells and whether it escalates.
func (r *itemReturn) step(ctx workflow.Context, actor, kind string, payload map[string]string, asks ...ask) {
	if payload == nil {
		payload = map[string]string{}
	}
	payload["return_id"] = r.in.ID
	e := r.record(ctx, actor, kind, payload)
	r.changed(ctx)
	r.report(e, asks...)
}

// changed publishes the new state: what happens next, the deadline waited
// on, the search attributes (one upsert carrying every changed key) and the
// Web UI's details.
func (r *itemReturn) changed(ctx workflow.Context) {
	r.view.RespondBy = r.respondBy()
	r.view.NextAction = r.nextAction()
	next := r.attributes()
	if updates := r.attrs.diff(next); len(updates) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
			workflow.GetLogger(ctx).Error("search attributes not updated", "error", err)
		}
	}
	r.attrs = next
	workflow.SetCurrentDetails(ctx, r.details())
	r.version++
}

// respondBy answers the deadline the return waits on a party for: the
// buyer's ship-by, the parcel's arrival (until it is overdue), the
// seller's inspection; nil when it waits on none.
func (r *itemReturn) respondBy() *time.Time {
	switch r.view.Status {
	case StatusLabelSent:
		return r.view.ShipBy
	case StatusShipped:
		if !r.arrivalEscalated {
			return r.view.ArriveBy
		}
	case StatusReceived:
		return r.view.InspectBy
	}
	return nil
}

// nextAction says what happens next, and who acts.
func (r *itemReturn) nextAction() string {
	v := r.view
	switch v.Status {
	case StatusRequested:
		if v.StatusReason != "" {
			return "trust_safety arranges the return by hand or cancels it: " + v.StatusReason
		}
		return "the carrier makes the prepaid return label"
	case StatusLabelSent:
		return "the buyer ships the item with the prepaid label by " + stamp(*v.ShipBy) + "; the return ends unshipped then"
	case StatusShipped:
		if r.arrivalEscalated {
			return "trust_safety follows up the late parcel " + v.TrackingNumber + "; the return waits for it"
		}
		return "the carrier delivers parcel " + v.TrackingNumber + " to the seller by " + stamp(*v.ArriveBy)
	case StatusReceived:
		return "the seller inspects the item by " + stamp(*v.InspectBy) + "; no inspection then decides " + string(r.in.Policy.OnNoInspection)
	case StatusAwaitingApproval:
		return "trust_safety approves or denies the refund of " + v.Amount.String()
	case StatusRefunding:
		return "the payment provider refunds " + v.Amount.String()
	default:
		if v.StatusReason != "" {
			return "nothing: the return is " + string(v.Status) + " (" + v.StatusReason + ")"
		}
		return "nothing: the return is " + string(v.Status)
	}
}

// details is the Markdown the Web UI shows.
func (r *itemReturn) details() string {
	v := r.view
	lines := []string{
		fmt.Sprintf("**%s** · %s (%s) · %s · paid %s", v.Status, v.Item.Name, v.Item.SKU, v.Reason, v.Paid),
		"Next: " + v.NextAction,
		fmt.Sprintf("Order %s · buyer %s · seller %s · case %s", v.OrderID, v.Buyer.ID, v.SellerID, v.CaseID),
	}
	if v.TrackingNumber != "" {
		lines = append(lines, "Tracking "+v.TrackingNumber)
	}
	if i := v.Inspection; i != nil {
		by := i.Actor
		if i.ByPolicy {
			by = "policy"
		}
		lines = append(lines, fmt.Sprintf("Inspected by %s: %s %s", by, i.Outcome, i.Reason))
	}
	if v.Refund != nil {
		lines = append(lines, fmt.Sprintf("Refund %s: %s %s", v.Refund.ID, v.Refund.Status, v.Amount))
	}
	return strings.Join(lines, "\n\n")
}

// fullView answers the return with its timeline, as the query gives it.
func (r *itemReturn) fullView() View {
	v := r.result()
	v.Timeline = slices.Clone(r.timeline)
	return v
}

// result answers the view an update returns: the return without its timeline.
func (r *itemReturn) result() View {
	v := r.view
	v.Timeline = nil
	return v
}

// stamp writes a time for people and the Web UI.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// rfc3339 writes a time in a payload.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

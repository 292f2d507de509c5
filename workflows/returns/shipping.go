package returns

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// The way the item travels back: whether it may, the prepaid label, and
// the carrier's tracking events that move the return from label_sent to
// shipped to received.

// ineligibility answers why the return is not allowed, or "" when it is.
func (r *itemReturn) ineligibility() string {
	switch {
	case !r.in.Item.Returnable:
		return fmt.Sprintf("%s cannot be returned (final sale)", r.in.Item.Name)
	case !slices.Contains(Reasons, r.in.Reason):
		return fmt.Sprintf("%q is not a reason a return is accepted for", r.in.Reason)
	case r.openedAt.After(r.view.WindowEndsAt):
		return "the return window closed " + stamp(r.view.WindowEndsAt)
	}
	return ""
}

// refuseAsIneligible ends the return and has the case tell the buyer why.
func (r *itemReturn) refuseAsIneligible(ctx workflow.Context, why string) {
	r.view.Status, r.view.StatusReason = StatusIneligible, why
	r.step(ctx, vocab.SystemActor, EventIneligible, vocab.Payload("why", why), tellBuyer(EventIneligible, why))
}

// commerceOptions are the options of the carrier and payment activities:
// short attempts retried for a day, except what the provider refused for
// good, which no retry makes pass.
func commerceOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        2 * time.Minute,
			NonRetryableErrorTypes: []string{vocab.ErrTypePaymentRefused, vocab.ErrInvalidArgument},
		},
	})
}

// sendLabel asks the carrier for the prepaid label (idempotent on the
// return's label key) and has the case send it to the buyer. A label the
// carrier refuses, or that cannot be made within the activity's day of
// retries, leaves the return requested and escalates the case to trust
// and safety, who arrange the return by hand or cancel it.
func (r *itemReturn) sendLabel(ctx workflow.Context) {
	r.labelAsked = true
	req := vocab.LabelRequest{Key: LabelKey(r.in.ID), ReturnID: r.in.ID, From: r.in.From, To: r.in.To, WeightGrams: r.in.WeightGrams}
	var label vocab.Label
	err := workflow.ExecuteActivity(commerceOptions(ctx, "create the return label"), vocab.ActivityCreateReturnLabel, req).Get(ctx, &label)
	if r.view.Status != StatusRequested {
		// Cancelled while the label was being made: it is kept for the
		// record, nobody is sent it.
		if err == nil {
			r.view.Label = &label
		}
		return
	}
	if err != nil {
		why, refused := failure(err)
		r.view.StatusReason = "no return label: " + why
		r.step(ctx, vocab.SystemActor, EventLabelFailed, vocab.Payload("error", why, "refused", strconv.FormatBool(refused)),
			escalate(fmt.Sprintf("the carrier made no return label for return %s (order %s): %s", r.in.ID, r.in.OrderID, why)))
		return
	}
	shipBy := r.openedAt.Add(r.in.Policy.ShipWithin)
	r.view.Status, r.view.StatusReason = StatusLabelSent, ""
	r.view.Label, r.view.TrackingNumber, r.view.ShipBy = &label, label.TrackingNumber, &shipBy
	r.step(ctx, vocab.SystemActor, EventLabelSent, vocab.Payload("label_id", label.ID, "tracking_number", label.TrackingNumber,
		"label_url", label.URL, "ship_by", rfc3339(shipBy)),
		tellBuyer(NoticeLabel, label.URL+"\n"+label.TrackingNumber))
}

// failure answers what an activity error says and whether the provider
// refused for good (vocab.ErrTypePaymentRefused).
func failure(err error) (why string, refused bool) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message(), appErr.Type() == vocab.ErrTypePaymentRefused
	}
	return err.Error(), false
}

// takeTracking acts on the tracking events that arrived, oldest first.
func (r *itemReturn) takeTracking(ctx workflow.Context) {
	for len(r.tracking) > 0 && !r.ended() {
		ev := r.tracking[0]
		r.tracking = r.tracking[1:]
		r.onTracking(ctx, ev)
	}
}

// onTracking moves the return on by a carrier event about its parcel: a
// shipped or in-transit scan ships it, a delivery receives it (and ships
// it first when no earlier scan came). An event seen before, or about
// another parcel, changes nothing.
func (r *itemReturn) onTracking(ctx workflow.Context, ev vocab.TrackingEvent) {
	if ev.ID != "" && r.seenTracking[ev.ID] {
		return
	}
	if r.view.Label == nil || ev.TrackingNumber != r.view.TrackingNumber {
		workflow.GetLogger(ctx).Info("tracking event for another parcel ignored", "return", r.in.ID,
			"event", ev.ID, "tracking_number", ev.TrackingNumber)
		return
	}
	if ev.ID != "" {
		r.seenTracking[ev.ID] = true
	}
	at := r.carrierTime(ctx, ev.At)
	switch ev.Kind {
	case vocab.TrackingShipped, vocab.TrackingInTransit:
		switch r.view.Status {
		case StatusLabelSent:
			r.ship(ctx, ev, at)
		case StatusShipped:
			if ev.Kind != vocab.TrackingInTransit {
				return // a second shipping scan says nothing new
			}
			r.record(ctx, carrierActor, EventInTransit, vocab.Payload("tracking_event", ev.ID, "scan", ev.Kind, "at", rfc3339(at)))
			r.changed(ctx)
		}
	case vocab.TrackingDelivered:
		if r.view.Status == StatusLabelSent {
			r.ship(ctx, ev, at)
		}
		if r.view.Status == StatusShipped {
			r.receive(ctx, ev, at)
		}
	}
}

// carrierTime answers when the carrier says an event happened, or now
// when it says nothing or a time still to come.
func (r *itemReturn) carrierTime(ctx workflow.Context, at time.Time) time.Time {
	now := workflow.Now(ctx)
	if at.IsZero() || at.After(now) {
		return now
	}
	return at
}

// ship records the parcel on its way; it should arrive within the
// policy's ArriveWithin.
func (r *itemReturn) ship(ctx workflow.Context, ev vocab.TrackingEvent, at time.Time) {
	arriveBy := at.Add(r.in.Policy.ArriveWithin)
	r.view.Status, r.view.ShippedAt, r.view.ArriveBy = StatusShipped, &at, &arriveBy
	r.step(ctx, carrierActor, EventShipped, vocab.Payload("tracking_number", ev.TrackingNumber, "tracking_event", ev.ID,
		"scan", ev.Kind, "shipped_at", rfc3339(at), "arrive_by", rfc3339(arriveBy)))
}

// receive records the parcel delivered to the seller, whose inspection is
// due within the policy's InspectWithin.
func (r *itemReturn) receive(ctx workflow.Context, ev vocab.TrackingEvent, at time.Time) {
	inspectBy := at.Add(r.in.Policy.InspectWithin)
	r.view.Status, r.view.ReceivedAt, r.view.InspectBy = StatusReceived, &at, &inspectBy
	r.step(ctx, carrierActor, EventReceived, vocab.Payload("tracking_number", ev.TrackingNumber, "tracking_event", ev.ID,
		"received_at", rfc3339(at), "inspect_by", rfc3339(inspectBy)))
}

package disputes

import (
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// What the dispute tells its case and hears from outside: the case events
// in timeline order, the notices they carry, and the payment results.

// open holds the seller's funds, records the opening with the seller's
// deadline and tells the seller (through the marketplace) what they must
// do by when. A hold the provider refuses is recorded and the dispute goes
// on with nothing held.
func (d *dispute) open(ctx workflow.Context) {
	d.holdFunds(ctx)
	due := d.view.SellerDueAt
	f := d.view.Funds
	holdID := ""
	if f.Hold != nil {
		holdID = f.Hold.ID
	}
	actor := d.in.OpenedBy
	if actor == "" {
		actor = vocab.SystemActor
	}
	d.opened = true
	d.record(ctx, actor, EventOpened, vocab.CaseEvent{Tell: []vocab.Notice{d.toSeller(
		"dispute " + d.in.ID + " on order " + d.in.OrderID + " for " + d.in.Amount.String() + " (" + d.in.Reason + "). " +
			"Answer by " + d.local(due) + ": accept, offer a partial refund or contest. " + d.onSilence())}},
		"order_id", d.in.OrderID, "buyer_id", d.in.Buyer.ID, "seller_id", d.in.SellerID, "seller_region", d.in.SellerRegion,
		"amount", d.in.Amount.String(), "reason", d.in.Reason, "description", d.in.Description,
		"evidence", strconv.Itoa(len(d.in.Evidence)), "delivery_id", d.in.DeliveryID,
		"respond_by", due.UTC().Format(timeLayout), "respond_by_local", d.local(due),
		"hold", f.HoldState, "hold_id", holdID, "hold_error", f.HoldError)
	d.changed(ctx)
}

// onSilence says what happens when the seller does not answer in time.
func (d *dispute) onSilence() string {
	if d.in.Policy.DecideForBuyerOnSilence {
		return "Without an answer the marketplace refunds the buyer in full."
	}
	return "Without an answer trust & safety decides."
}

// toSeller is a notice for the seller: the case tells its customer
// audience, whose route for NoticeSeller is the marketplace webhook only,
// and the detail names the seller so the marketplace passes it on.
func (d *dispute) toSeller(detail string) vocab.Notice {
	return vocab.Notice{Audience: vocab.AudienceCustomer, Event: NoticeSeller, Detail: "seller " + d.in.SellerID + ": " + detail}
}

// toBuyer is a notice for the buyer, the case's customer.
func toBuyer(event, detail string) vocab.Notice {
	return vocab.Notice{Audience: vocab.AudienceCustomer, Event: event, Detail: detail}
}

// toTeam is a notice for trust & safety, the team of a dispute case.
func toTeam(event, detail string) vocab.Notice {
	return vocab.Notice{Audience: vocab.AudienceTeam, Event: event, Detail: detail}
}

// tellCase signals the recorded case events to the case, one at a time
// and in timeline order, whichever handler or step recorded them; nothing
// waits on it but the dispute's end.
func (d *dispute) tellCase(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return len(d.outbox) > 0 }); err != nil {
			return
		}
		vocab.ReportToCase(ctx, d.in.CaseID, d.outbox[0])
		d.outbox = d.outbox[1:]
	}
}

// takePaymentResults keeps every payment result that arrives, once per
// provider event id, for awaitSettlement; a result may arrive before the
// activity that started its movement has answered.
func (d *dispute) takePaymentResults(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SignalPaymentResult)
	for {
		var r vocab.PaymentResult
		ch.Receive(ctx, &r)
		if r.EventID != "" {
			if d.seen[r.EventID] {
				continue
			}
			d.seen[r.EventID] = true
		}
		d.results = append(d.results, r)
	}
}

// resolvedText tells the buyer and the seller what a decision did with the
// money, and until when it may be appealed.
func (d *dispute) resolvedText(dec Decision, refundedNow vocab.Money, until *time.Time) string {
	parts := []string{"Outcome: " + dec.Outcome, "refunded now " + refundedNow.String(), "refunded in all " + d.view.Funds.Refunded.String()}
	if dec.Reason != "" {
		parts = append(parts, "reason: "+dec.Reason)
	}
	s := strings.Join(parts, " · ")
	if until != nil {
		return s + ". Either party may appeal once until " + stamp(*until) + "."
	}
	return s + ". This decision is final."
}

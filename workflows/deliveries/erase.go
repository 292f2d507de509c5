package deliveries

import (
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// drainErasures carries out the erasures that arrived but were not taken,
// before the run hands over to the next.
func (d *delivery) drainErasures(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, vocab.SignalEraseCustomer)
	for {
		var req vocab.EraseCustomer
		if !ch.ReceiveAsync(&req) {
			return
		}
		d.eraseBuyer(ctx, req)
	}
}

// eraseBuyer drops the buyer's name and email, the recovery contacts, the
// latest communication's
// summary and the free text of the timeline from the delivery's state, and
// records who asked; the account, order and seller ids stay. An erasure of
// another customer, or one already on the timeline, changes nothing.
func (d *delivery) eraseBuyer(ctx workflow.Context, req vocab.EraseCustomer) {
	if req.CustomerID != d.view.Buyer.ID {
		return
	}
	for _, e := range d.timeline {
		if e.Kind == vocab.EventDataErased && e.Payload["erasure_id"] == req.ErasureID {
			return
		}
	}
	d.in.Buyer = d.in.Buyer.Erased()
	d.view.Buyer = d.view.Buyer.Erased()
	d.in.RecoveryPath.Email, d.in.RecoveryPath.Phone = "", ""
	d.view.Handoff.RecoveryPath.Email, d.view.Handoff.RecoveryPath.Phone = "", ""
	if c := d.view.Handoff.LatestCommunication; c != nil && c.Summary != "" {
		erased := *c
		erased.Summary = vocab.ErasedText
		d.view.Handoff.LatestCommunication = &erased
	}
	for i := range d.timeline {
		d.timeline[i].Payload = vocab.ErasePayload(d.timeline[i].Payload)
		d.timeline[i].Actor = vocab.EraseActor(d.timeline[i].Actor)
	}
	d.record(ctx, req.RequestedBy, vocab.EventDataErased, vocab.Payload("erasure_id", req.ErasureID))
	d.changed(ctx)
}

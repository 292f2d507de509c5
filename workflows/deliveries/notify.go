package deliveries

import (
	"fmt"
	"strconv"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// notify tells the buyer about the newest timeline event in the background
// (through vocab.SendNotification, tried in the workflow task first); a
// delivery that fails past its retry budget is recorded on the timeline and
// never fails the delivery. A buyer whose data was erased has no address
// left and is not written to.
func (d *delivery) notify(ctx workflow.Context, event, detail string) {
	if d.view.Buyer.IsErased() {
		return
	}
	cause := ""
	if d.causeIDs {
		cause = vocab.CauseOf(ctx)
	}
	n := d.notification(cause, event, detail)
	d.pending++
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() { d.pending--; d.version++ }()
		if err := vocab.SendNotification(gctx, n, true); err != nil {
			// What the failure's record tells is caused by it.
			gctx = vocab.CausedBy(gctx, "failed/"+n.ID)
			d.record(gctx, vocab.SystemActor, EventNotifyFailed, vocab.Payload("notification", n.ID, "event", event, "error", err.Error()))
			d.changed(gctx)
		}
	})
}

// notificationID answers the id of the buyer's notification of event:
// under cause, <delivery workflow>/<cause>/<event>/customer (a second one
// of the same cause and event ends in /2, and so on); without one,
// <delivery workflow>/<timeline number>/customer, so build it when the
// event is recorded.
func (d *delivery) notificationID(cause, event string) string {
	if cause == "" {
		return DeliveryWorkflowID(d.view.ID) + "/" + strconv.Itoa(d.view.LastSeq) + "/" + vocab.AudienceCustomer
	}
	id := DeliveryWorkflowID(d.view.ID) + "/" + cause + "/" + event + "/" + vocab.AudienceCustomer
	return d.issued.Name(id)
}

// notification is what tells the buyer about the newest timeline event, as
// the delivery now is, named after cause (notificationID).
func (d *delivery) notification(cause, event, detail string) vocab.Notification {
	v := d.view
	return vocab.Notification{
		ID:       d.notificationID(cause, event),
		Event:    event,
		Audience: vocab.AudienceCustomer,
		Detail:   detail,
		Case: vocab.NotificationCase{
			ID: v.ID, Subject: fmt.Sprintf("Account delivery %s (%s)", v.ID, v.Product), Category: vocab.CategoryAccountDeliveryIssue,
			Status: string(v.Status), Customer: v.Buyer,
		},
		Delivery: &vocab.NotificationDelivery{
			ID: v.ID, AccountID: v.Handoff.AccountID, OrderID: v.Handoff.OrderID, SellerID: v.SellerID, Product: v.Product,
			Status: string(v.Status), RecoveryInstructions: v.Handoff.RecoveryPath.Instructions,
			ConfirmBy: v.ConfirmBy, WarrantyEndsAt: v.WarrantyEndsAt,
		},
	}
}

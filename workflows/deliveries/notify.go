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
	n := d.notification(event, detail)
	d.pending++
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() { d.pending--; d.version++ }()
		if err := vocab.SendNotification(gctx, n, true); err != nil {
			d.record(gctx, vocab.SystemActor, EventNotifyFailed, vocab.Payload("notification", n.ID, "event", event, "error", err.Error()))
			d.changed(gctx)
		}
	})
}

// notification is what tells the buyer about the newest timeline event;
// its id names that event, so build it when the event is recorded.
func (d *delivery) notification(event, detail string) vocab.Notification {
	v := d.view
	return vocab.Notification{
		ID:       DeliveryWorkflowID(v.ID) + "/" + strconv.Itoa(v.LastSeq) + "/" + vocab.AudienceCustomer,
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

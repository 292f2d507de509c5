package sellers

import (
	"strconv"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// changeCauseIDs is the workflow.GetVersion change id under which a
// seller's notification id names what caused it (the step's deadline, the
// check's end) instead of its event's timeline number: a workflow task
// tried again after a worker died in it may record another event first,
// and under numbered ids the notification would go out a second time
// under another id. A cause is the same in every try of the task. Both
// seller workflows ask it once, at the start of each run.
const changeCauseIDs = "notification-ids-from-causes"

// causeIDs reports whether this run names notifications after their
// causes (changeCauseIDs); call it at the start of a run only.
func causeIDs(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeCauseIDs, workflow.DefaultVersion, 1) >= 1
}

// sellerNotificationID answers the id of the seller's notification of
// event on workflowID: <workflow id>/<cause>/<event>/customer, or, without
// a cause (runs before changeCauseIDs), <workflow id>/<seq>/customer, seq
// being the event's timeline number.
func sellerNotificationID(workflowID, cause string, seq int, event string) string {
	if cause == "" {
		return workflowID + "/" + strconv.Itoa(seq) + "/" + vocab.AudienceCustomer
	}
	return workflowID + "/" + cause + "/" + event + "/" + vocab.AudienceCustomer
}

// sellerNotification is a message to the seller about event, under id
// (sellerNotificationID): the seller is the customer, and the
// notification's case is the seller's account (no case exists for most of
// these messages), so the id delivers it once.
func sellerNotification(id string, sellerID string, seller vocab.Customer, status string, event, detail string) vocab.Notification {
	seller.ID = sellerID
	return vocab.Notification{
		ID:       id,
		Event:    event,
		Audience: vocab.AudienceCustomer,
		Detail:   detail,
		Case: vocab.NotificationCase{
			ID: sellerID, Subject: "Your seller account " + sellerID, Category: vocab.CategorySellerOnboarding,
			Status: status, Team: vocab.TeamTrustSafety, Customer: seller,
		},
	}
}

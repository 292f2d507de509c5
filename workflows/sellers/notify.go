package sellers

import (
	"strconv"

	"handoff/workflows/vocab"
)

// sellerNotification is a message to the seller about the event of
// sequence seq of workflowID's timeline: the seller is the customer, and
// the notification's case is the seller's account (no case exists for
// most of these messages), so the id names the event and delivers once.
func sellerNotification(workflowID string, sellerID string, seller vocab.Customer, status string, seq int, event, detail string) vocab.Notification {
	seller.ID = sellerID
	return vocab.Notification{
		ID:       workflowID + "/" + strconv.Itoa(seq) + "/" + vocab.AudienceCustomer,
		Event:    event,
		Audience: vocab.AudienceCustomer,
		Detail:   detail,
		Case: vocab.NotificationCase{
			ID: sellerID, Subject: "Your seller account " + sellerID, Category: vocab.CategorySellerOnboarding,
			Status: status, Team: vocab.TeamTrustSafety, Customer: seller,
		},
	}
}

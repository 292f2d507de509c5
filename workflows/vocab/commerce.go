package vocab

import (
	"fmt"
	"time"
)

// Money is an amount in minor units (cents; yen for JPY) of an ISO 4217
// currency in upper case, as the payment adapter moves it; never a float.
type Money struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"currency"`
}

// String answers "12.50 EUR" for two-decimal currencies and "1250 JPY"
// for the others, as messages and summaries show amounts.
func (m Money) String() string {
	switch m.Currency {
	case "JPY", "KRW", "VND", "CLP", "ISK":
		return fmt.Sprintf("%d %s", m.Minor, m.Currency)
	}
	sign := ""
	minor := m.Minor
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, minor/100, minor%100, m.Currency)
}

// Names of the money and shipping activities the return and dispute
// workflows call (activities.Commerce), shared so both rooms name them alike.
const (
	// ActivityRefund refunds a buyer, or credits their balance (RefundRequest).
	ActivityRefund = "Refund"
	// ActivityHoldFunds holds a seller's funds for an order (HoldRequest).
	ActivityHoldFunds = "HoldFunds"
	// ActivityReleaseFunds releases a hold to the seller (ReleaseRequest).
	ActivityReleaseFunds = "ReleaseFunds"
	// ActivityCreateReturnLabel makes a prepaid return label (LabelRequest).
	ActivityCreateReturnLabel = "CreateReturnLabel"
)

// ErrTypePaymentRefused is the application error type of a money movement
// or label the provider refused for good (insufficient funds, a hold
// already released, a bad address): no retry makes it pass, so the
// workflow compensates or asks a person.
const ErrTypePaymentRefused = "PaymentRefused"

// RefundRequest pays a buyer back: to their payment method, or as store
// credit on their marketplace balance.
type RefundRequest struct {
	// Key is the idempotency key, the same on every retry ("return/<id>/refund").
	Key     string `json:"key"`
	OrderID string `json:"order_id"`
	BuyerID string `json:"buyer_id"`
	Amount  Money  `json:"amount"`
	Reason  string `json:"reason"`
	// StoreCredit credits the buyer's balance instead of refunding.
	StoreCredit bool `json:"store_credit,omitempty"`
}

// HoldRequest holds a seller's funds for an order.
type HoldRequest struct {
	Key      string `json:"key"`
	SellerID string `json:"seller_id"`
	OrderID  string `json:"order_id"`
	Amount   Money  `json:"amount"`
	Reason   string `json:"reason"`
}

// ReleaseRequest releases a hold, all of it, to the seller.
type ReleaseRequest struct {
	Key    string `json:"key"`
	HoldID string `json:"hold_id"`
	Reason string `json:"reason,omitempty"`
}

// Movement statuses as the workflows see them.
const (
	MovementPending   = "pending"
	MovementSucceeded = "succeeded"
	MovementFailed    = "failed"
	MovementHeld      = "held"
	MovementReleased  = "released"
)

// Movement is a money movement as the provider recorded it.
type Movement struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
	Amount Money  `json:"amount"`
}

// Address is a postal address (country: ISO 3166-1 alpha-2).
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Region     string `json:"region,omitempty"`
	Country    string `json:"country"`
}

// LabelRequest asks the carrier for a prepaid return label.
type LabelRequest struct {
	Key         string  `json:"key"`
	ReturnID    string  `json:"return_id"`
	From        Address `json:"from"`
	To          Address `json:"to"`
	WeightGrams int     `json:"weight_grams"`
}

// Label is a prepaid return label.
type Label struct {
	ID             string `json:"id"`
	TrackingNumber string `json:"tracking_number"`
	URL            string `json:"url"`
}

// Signals the API sends from the inbound webhooks, deduplicated by event id
// in the workflow that takes them.
const (
	// SignalTracking takes a carrier tracking event (TrackingEvent) to the
	// return of its label.
	SignalTracking = "tracking"
	// SignalPaymentResult takes the settlement of a pending movement
	// (PaymentResult) to the workflow whose key it carries.
	SignalPaymentResult = "payment-result"
)

// Tracking event kinds (the carrier's).
const (
	TrackingShipped   = "shipped"
	TrackingInTransit = "in_transit"
	TrackingDelivered = "delivered"
)

// TrackingEvent is one carrier event about a return's parcel.
type TrackingEvent struct {
	// ID is the carrier's event id; a second event with a seen id changes nothing.
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	TrackingNumber string    `json:"tracking_number"`
	At             time.Time `json:"at"`
}

// PaymentResult settles a movement a provider first answered pending.
type PaymentResult struct {
	// EventID is the provider's event id, for deduplication.
	EventID    string `json:"event_id"`
	MovementID string `json:"movement_id"`
	// Key is the idempotency key of the movement's request.
	Key    string `json:"key"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// ReturnWorkflowID is the workflow id of return id; DisputeWorkflowID of dispute id.
func ReturnWorkflowID(id string) string { return "return/" + id }

// DisputeWorkflowID is the workflow id of dispute id.
func DisputeWorkflowID(id string) string { return "dispute/" + id }

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

// ActivityHoldPayouts stops a seller's payouts until the hold is released
// (PayoutHoldRequest, answered as a Movement of kind payout_hold); the
// release is ActivityReleaseFunds with the hold's id.
const ActivityHoldPayouts = "HoldPayouts"

// MovementPayoutHold is the movement kind of a payout hold.
const MovementPayoutHold = "payout_hold"

// PayoutHoldRequest holds every payout of a seller: none is paid until the
// hold is released. Key is the idempotency key ("verification/<id>/hold").
type PayoutHoldRequest struct {
	Key      string `json:"key"`
	SellerID string `json:"seller_id"`
	Reason   string `json:"reason"`
}

// Why a seller's payouts are held (PayoutHold.Reason).
const (
	// HoldReasonVerification: the seller's identity is not verified yet.
	HoldReasonVerification = "verification"
	// HoldReasonFraudReview: a fraud review of the seller is under way.
	HoldReasonFraudReview = "fraud_review"
)

// States of a payout hold (PayoutHold.State).
const (
	PayoutHoldPending  = "pending"
	PayoutHoldHeld     = "held"
	PayoutHoldReleased = "released"
	// PayoutHoldRefused: the provider refused the hold; nothing is held.
	PayoutHoldRefused = "refused"
)

// PayoutHold is a hold on a seller's payouts as the workflow that placed
// it keeps it, and as the read model shows it: why, since and until when,
// and what became of it. Its owner takes the release and extend updates.
type PayoutHold struct {
	// Key is the hold's idempotency key; it names the hold before the
	// provider answers an id.
	Key      string `json:"key"`
	ID       string `json:"id,omitempty"`
	SellerID string `json:"seller_id"`
	Reason   string `json:"reason"`
	// Detail says what the hold waits for, for people.
	Detail string `json:"detail,omitempty"`
	// Owner is the workflow id that placed the hold and releases it.
	Owner    string    `json:"owner"`
	State    string    `json:"state"`
	PlacedAt time.Time `json:"placed_at"`
	// Until is when the hold ends by itself unless extended; nil holds
	// until its owner decides (a verification, a fraud decision).
	Until *time.Time `json:"until,omitempty"`
	// CaseID is the case that reviews the hold, when there is one.
	CaseID        string     `json:"case_id,omitempty"`
	ReleasedAt    *time.Time `json:"released_at,omitempty"`
	ReleasedBy    string     `json:"released_by,omitempty"`
	ReleaseReason string     `json:"release_reason,omitempty"`
	// Error is why the provider refused the hold or its release.
	Error string `json:"error,omitempty"`
}

// Names of the updates a payout hold's owner takes from trust_safety.
const (
	// UpdateReleaseHold releases a hold now (HoldChange; Until unused).
	UpdateReleaseHold = "release-hold"
	// UpdateExtendHold moves a hold's end to HoldChange.Until.
	UpdateExtendHold = "extend-hold"
)

// HoldChange is trust_safety's release or extension of a payout hold.
type HoldChange struct {
	Actor  string `json:"actor"`
	HoldID string `json:"hold_id"`
	Reason string `json:"reason"`
	// Until is the new end of an extended hold.
	Until time.Time `json:"until,omitzero"`
	// CaseID is the seller_payment case the change was asked from; it
	// hears of it.
	CaseID string `json:"case_id,omitempty"`
}

// ActivityProjectPayoutHold writes a payout hold to the read model
// (activities.Projection.ProjectPayoutHold); writing it twice changes nothing.
const ActivityProjectPayoutHold = "ProjectPayoutHold"

// SellerWorkflowID is the workflow id of seller id's onboarding.
func SellerWorkflowID(id string) string { return "seller/" + id }

// VerificationWorkflowID is the workflow id of seller id's identity check.
func VerificationWorkflowID(id string) string { return "verification/" + id }

// FraudWatchWorkflowID is the workflow id of the fraud watch of a party
// (party is buyer or seller).
func FraudWatchWorkflowID(party, id string) string { return "fraud/" + party + "-" + id }

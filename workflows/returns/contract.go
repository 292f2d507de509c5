// Package returns is the buyer's return: the Return workflow follows one
// item a buyer sends back, from the request to the refund. It checks the
// return is allowed, sends a prepaid label, follows the parcel by the
// carrier's tracking events, waits for the seller's inspection (deciding by
// policy when none comes), asks trust and safety to approve a large refund,
// and refunds the buyer or credits their balance. It runs as a child of the
// return_request or defective_item case that asked for it and reports every
// step to that case, which tells the buyer and escalates. contract.go is
// what callers import; the other files are the workflow.
package returns

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// WorkflowType is the registered name of the Return workflow; running
// returns are found by it, so it never changes.
const WorkflowType = "Return"

// Workflows maps each workflow type of this area to its function, for the
// worker's registry and the replay test.
var Workflows = map[string]any{WorkflowType: Return}

// WorkflowID is the workflow id of return id ("return/<id>").
func WorkflowID(id string) string { return vocab.ReturnWorkflowID(id) }

// Names of the Return workflow's updates and query. Its signals are the
// shared vocab.SignalTracking and vocab.SignalPaymentResult.
const (
	// UpdateInspect is the seller's inspection of the received item
	// (InspectInput).
	UpdateInspect = "inspect"
	// UpdateApproveRefund is trust and safety's answer to a refund above
	// the approval limit (ApprovalInput).
	UpdateApproveRefund = "approve-refund"
	// UpdateCancel ends a return before the item is shipped (CancelInput).
	UpdateCancel = "cancel"

	// SignalTracking takes a carrier event about the parcel (vocab.TrackingEvent).
	SignalTracking = vocab.SignalTracking
	// SignalPaymentResult takes the settlement of a pending refund
	// (vocab.PaymentResult).
	SignalPaymentResult = vocab.SignalPaymentResult

	// QueryReturn answers the View with its timeline.
	QueryReturn = "return"
)

// Names of the activities Return calls besides the shared vocab ones.
const (
	// ActivityProjectReturn writes a return's read model to Postgres
	// (activities.Projection.ProjectReturn).
	ActivityProjectReturn = "ProjectReturn"
)

// Status is where a return is.
type Status string

// The statuses of a return. Moves: requested → label_sent → shipped →
// received → (awaiting_approval →) refunding → refunded. Ends early:
// ineligible (at once), cancelled (before shipping), not_shipped (the
// ship-by deadline passed), rejected (by the seller's inspection or a
// denied approval), refund_failed (the payment provider refused).
const (
	StatusRequested        Status = "requested"
	StatusLabelSent        Status = "label_sent"
	StatusShipped          Status = "shipped"
	StatusReceived         Status = "received"
	StatusAwaitingApproval Status = "awaiting_approval"
	StatusRefunding        Status = "refunding"
	StatusRefunded         Status = "refunded"
	StatusRejected         Status = "rejected"
	StatusNotShipped       Status = "not_shipped"
	StatusIneligible       Status = "ineligible"
	StatusCancelled        Status = "cancelled"
	StatusRefundFailed     Status = "refund_failed"
)

// Statuses lists every status, the live ones in the order of a return's
// life, then the ends.
var Statuses = []Status{
	StatusRequested, StatusLabelSent, StatusShipped, StatusReceived, StatusAwaitingApproval, StatusRefunding,
	StatusRefunded, StatusRejected, StatusNotShipped, StatusIneligible, StatusCancelled, StatusRefundFailed,
}

// FinalStatuses lists the statuses a return ends in.
var FinalStatuses = []Status{
	StatusRefunded, StatusRejected, StatusNotShipped, StatusIneligible, StatusCancelled, StatusRefundFailed,
}

// Why a buyer returns an item.
const (
	ReasonDamaged        = "damaged"
	ReasonDefective      = "defective"
	ReasonNotAsDescribed = "not_as_described"
	ReasonWrongItem      = "wrong_item"
	ReasonChangedMind    = "changed_mind"
)

// Reasons lists every reason a return is accepted for.
var Reasons = []string{ReasonDamaged, ReasonDefective, ReasonNotAsDescribed, ReasonWrongItem, ReasonChangedMind}

// Outcome is what an inspection decides.
type Outcome string

// The outcomes of an inspection.
const (
	// OutcomeRefundFull refunds what the buyer paid.
	OutcomeRefundFull Outcome = "refund_full"
	// OutcomeRefundPartial refunds part of it; it needs an amount and a reason.
	OutcomeRefundPartial Outcome = "refund_partial"
	// OutcomeStoreCredit credits what the buyer paid to their marketplace balance.
	OutcomeStoreCredit Outcome = "store_credit"
	// OutcomeReject refunds nothing; it needs a reason.
	OutcomeReject Outcome = "reject"
)

// Outcomes lists every outcome of an inspection.
var Outcomes = []Outcome{OutcomeRefundFull, OutcomeRefundPartial, OutcomeStoreCredit, OutcomeReject}

// Timeline event kinds of a return. Each but EventInTransit is also
// reported to the case under the same kind, so the case's timeline shows
// every step of its return.
const (
	EventRequested  = "return_requested"
	EventIneligible = "return_ineligible"
	EventLabelSent  = "return_label_sent"
	// EventLabelFailed: the carrier refused the label; the case is
	// escalated and the return stays requested.
	EventLabelFailed = "return_label_failed"
	EventReminder    = "return_reminder"
	EventShipped     = "return_shipped"
	// EventInTransit is a carrier scan on the way, on the return's own
	// timeline only.
	EventInTransit  = "return_in_transit"
	EventNotShipped = "return_not_shipped"
	// EventArrivalOverdue: the parcel has not arrived within the policy's
	// ArriveWithin of shipping; the case is escalated, the return waits on.
	EventArrivalOverdue = "return_arrival_overdue"
	EventReceived       = "return_received"
	EventInspected      = "return_inspected"
	// EventApprovalRequested: the refund is above the approval limit.
	EventApprovalRequested = "return_approval_requested"
	EventApproved          = "return_refund_approved"
	EventDenied            = "return_refund_denied"
	// EventRefundPending: the payment provider took the refund and settles
	// it later (a payment-result signal).
	EventRefundPending = "return_refund_pending"
	EventRefunded      = "return_refunded"
	EventRefundFailed  = "return_refund_failed"
	EventRejected      = "return_rejected"
	EventCancelled     = "return_cancelled"
)

// CaseEvents lists every kind a return reports to its case (vocab.CaseEvent.Kind).
var CaseEvents = []string{
	EventRequested, EventIneligible, EventLabelSent, EventLabelFailed, EventReminder, EventShipped,
	EventNotShipped, EventArrivalOverdue, EventReceived, EventInspected, EventApprovalRequested,
	EventApproved, EventDenied, EventRefundPending, EventRefunded, EventRefundFailed, EventRejected,
	EventCancelled,
}

// Notification events a return asks its case to send the buyer
// (vocab.Notice.Event) that are not one of its timeline kinds.
const (
	// NoticeLabel sends the prepaid label; Detail is its URL, then its
	// tracking number, on two lines.
	NoticeLabel = "return_label"
	// NoticeCredited says the amount (Detail) was credited to the buyer's
	// balance as store credit.
	NoticeCredited = "return_credited"
)

// NotifiedEvents lists every event a return asks its case to tell the
// buyer about: each needs its templates and its routes. Their Detail:
// return_label the label's URL and tracking number; return_reminder and
// return_not_shipped the ship-by time; return_refunded and return_credited
// the amount; return_rejected the seller's or trust and safety's reason;
// return_ineligible why the return is not allowed.
var NotifiedEvents = []string{
	NoticeLabel, EventReminder, EventNotShipped, EventRefunded, NoticeCredited, EventRejected, EventIneligible,
}

// Policy is the return policy in force when the return was asked for. It
// is copied into the Input at start, so a policy change never changes a
// running return or its replay.
type Policy struct {
	// Window is how long after delivery a return may be asked for.
	Window time.Duration `json:"window"`
	// ShipWithin is how long after the request the buyer has to ship it.
	ShipWithin time.Duration `json:"ship_within"`
	// ReminderBefore is how long before the ship-by deadline the buyer is
	// reminded, once (0: no reminder).
	ReminderBefore time.Duration `json:"reminder_before"`
	// InspectWithin is how long after the parcel arrives the seller has to
	// inspect it.
	InspectWithin time.Duration `json:"inspect_within"`
	// ApprovalAbove is the largest refund that needs no approval: a refund
	// strictly above it waits for trust and safety. Zero Minor: never.
	ApprovalAbove vocab.Money `json:"approval_above"`
	// OnNoInspection is the outcome when the seller does not inspect in
	// time (refund_full, store_credit or reject).
	OnNoInspection Outcome `json:"on_no_inspection"`
	// ArriveWithin is how long after shipping the parcel should arrive;
	// past it the case is escalated to trust and safety once and the return
	// keeps waiting.
	ArriveWithin time.Duration `json:"arrive_within"`
}

// DefaultPolicy answers the marketplace's standard return policy: 30 days
// to ask, 14 to ship with a reminder 3 days before, 48 hours to inspect,
// a full refund when the seller does not, no approval limit, and 21 days
// for the parcel to arrive.
func DefaultPolicy() Policy {
	return Policy{
		Window:         30 * 24 * time.Hour,
		ShipWithin:     14 * 24 * time.Hour,
		ReminderBefore: 3 * 24 * time.Hour,
		InspectWithin:  48 * time.Hour,
		OnNoInspection: OutcomeRefundFull,
		ArriveWithin:   21 * 24 * time.Hour,
	}
}

// PolicyFrom answers the policy of a return whose order was paid in
// currency, from the policy file's return terms.
func PolicyFrom(t sla.ReturnTerms, currency string) Policy {
	p := Policy{
		Window: t.Window, ShipWithin: t.ShipWithin, ReminderBefore: t.ReminderBefore, InspectWithin: t.InspectWithin,
		OnNoInspection: Outcome(t.OnNoInspection), ArriveWithin: t.ArriveWithin,
	}
	if t.ApprovalAboveMinor > 0 {
		p.ApprovalAbove = vocab.Money{Minor: t.ApprovalAboveMinor, Currency: currency}
	}
	return p
}

// Item is the item returned.
type Item struct {
	SKU  string `json:"sku"`
	Name string `json:"name"`
	// Returnable is false for items sold as final sale (digital goods,
	// hygiene products).
	Returnable bool `json:"returnable"`
}

// Input starts a return. The case fills it from the order and copies the
// policy in.
type Input struct {
	ID string `json:"id"`
	// CaseID is the case the return reports to.
	CaseID   string         `json:"case_id"`
	OrderID  string         `json:"order_id"`
	Buyer    vocab.Customer `json:"buyer"`
	SellerID string         `json:"seller_id"`
	Item     Item           `json:"item"`
	// Paid is what the buyer paid for the item: the most a refund gives back.
	Paid        vocab.Money `json:"paid"`
	DeliveredAt time.Time   `json:"delivered_at"`
	// Reason is one of Reasons; Description is the buyer's own words.
	Reason      string `json:"reason"`
	Description string `json:"description,omitempty"`
	// From is the buyer's address, To the seller's return address.
	From        vocab.Address `json:"from"`
	To          vocab.Address `json:"to"`
	WeightGrams int           `json:"weight_grams"`
	Policy      Policy        `json:"policy"`
	// OpenedAt is when the buyer asked; zero takes the workflow's start.
	OpenedAt time.Time `json:"opened_at,omitzero"`
}

// InspectInput is the seller's inspection of the received item.
type InspectInput struct {
	Actor   string  `json:"actor"`
	Outcome Outcome `json:"outcome"`
	// Amount is the refund of a refund_partial, 1 minor unit up to what was
	// paid, in its currency; the other outcomes take none.
	Amount vocab.Money `json:"amount,omitzero"`
	// Reason is required for refund_partial and reject.
	Reason string `json:"reason,omitempty"`
}

// ApprovalInput is trust and safety's answer to a refund above the limit.
type ApprovalInput struct {
	Actor   string `json:"actor"`
	Approve bool   `json:"approve"`
	// Reason is required to deny; the buyer is told it.
	Reason string `json:"reason,omitempty"`
}

// CancelInput ends a return before the item is shipped, by the buyer or an agent.
type CancelInput struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
}

// Inspection is what decided the return's outcome: the seller's
// inspection, or the policy when none came in time (Actor vocab.SystemActor,
// ByPolicy true).
type Inspection struct {
	Actor    string      `json:"actor"`
	Outcome  Outcome     `json:"outcome"`
	Amount   vocab.Money `json:"amount,omitzero"`
	Reason   string      `json:"reason,omitempty"`
	ByPolicy bool        `json:"by_policy,omitempty"`
	At       time.Time   `json:"at"`
}

// Approval is trust and safety's answer to a refund above the limit.
type Approval struct {
	Actor   string    `json:"actor"`
	Approve bool      `json:"approve"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

// View is the return as the API, the case's agents and operators see it.
type View struct {
	ID       string         `json:"id"`
	CaseID   string         `json:"case_id"`
	OrderID  string         `json:"order_id"`
	Buyer    vocab.Customer `json:"buyer"`
	SellerID string         `json:"seller_id"`
	Item     Item           `json:"item"`
	Paid     vocab.Money    `json:"paid"`
	Reason   string         `json:"reason"`
	Status   Status         `json:"status"`
	// StatusReason says why a return ended where it did (ineligible,
	// rejected, cancelled, refund_failed, not_shipped), or why the label
	// could not be made.
	StatusReason string `json:"status_reason,omitempty"`
	// NextAction says what happens next, and who acts.
	NextAction string `json:"next_action"`

	Label          *vocab.Label `json:"label,omitempty"`
	TrackingNumber string       `json:"tracking_number,omitempty"`

	// WindowEndsAt is the last moment a return could be asked for.
	WindowEndsAt time.Time `json:"window_ends_at"`
	// ShipBy, ArriveBy and InspectBy are the deadlines of the buyer, the
	// parcel and the seller; RespondBy is the one the return waits on now
	// (the RespondBy search attribute), nil when it waits on no deadline.
	ShipBy     *time.Time `json:"ship_by,omitempty"`
	ArriveBy   *time.Time `json:"arrive_by,omitempty"`
	InspectBy  *time.Time `json:"inspect_by,omitempty"`
	RespondBy  *time.Time `json:"respond_by,omitempty"`
	ShippedAt  *time.Time `json:"shipped_at,omitempty"`
	ReceivedAt *time.Time `json:"received_at,omitempty"`

	Inspection *Inspection `json:"inspection,omitempty"`
	// Outcome and Amount are what the return gives back once inspected:
	// Amount is zero for a rejection.
	Outcome     Outcome     `json:"outcome,omitempty"`
	Amount      vocab.Money `json:"amount,omitzero"`
	StoreCredit bool        `json:"store_credit,omitempty"`
	Approval    *Approval   `json:"approval,omitempty"`
	// Refund is the money movement as the provider last answered it.
	Refund *vocab.Movement `json:"refund,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// LastSeq is the sequence number of the newest timeline event.
	LastSeq int `json:"last_seq"`
	// Timeline is filled by the query and the workflow's result; update
	// results leave it out.
	Timeline []vocab.Event `json:"timeline,omitempty"`
}

// ProjectionInput is what the workflow hands the read model after a change:
// the return (without its timeline) and the events since the last
// projection. Writing it twice changes nothing.
type ProjectionInput struct {
	Return View          `json:"return"`
	Events []vocab.Event `json:"events"`
}

// LabelKey is the carrier's idempotency key of return id's label.
func LabelKey(id string) string { return WorkflowID(id) + "/label" }

// RefundKey is the payment provider's idempotency key of return id's
// refund; a payment-result signal for it carries the same key.
func RefundKey(id string) string { return WorkflowID(id) + "/refund" }

// ChildOptions answers the options the case starts in's return with: its
// id, the task queue, a summary naming the return and the order, and the
// initial search attributes. The return outlives its case (ABANDON): a
// refund under way finishes even if the case closes first.
func ChildOptions(in Input, taskQueue string) workflow.ChildWorkflowOptions {
	return workflow.ChildWorkflowOptions{
		WorkflowID:            WorkflowID(in.ID),
		TaskQueue:             taskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         fmt.Sprintf("Return %s · order %s", in.ID, in.OrderID),
		StaticDetails: fmt.Sprintf("**%s** (%s), %s, paid %s, buyer %s, seller %s, case %s",
			in.Item.Name, in.Item.SKU, in.Reason, in.Paid, in.Buyer.ID, in.SellerID, in.CaseID),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			vocab.ReturnStatusKey.ValueSet([]string{string(StatusRequested)}), vocab.SellerIDKey.ValueSet(in.SellerID),
			vocab.OrderIDKey.ValueSet(in.OrderID), vocab.CustomerIDKey.ValueSet(in.Buyer.ID)),
	}
}

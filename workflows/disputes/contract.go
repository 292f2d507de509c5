// Package disputes is the buyer–seller dispute: the Dispute workflow holds
// the seller's funds for a disputed order, gives the seller a deadline in
// business days of their region to accept, offer a partial refund or
// contest, lets the buyer take or leave an offer, brings in trust & safety
// when the parties do not settle (or decides for the buyer when the seller
// stays silent), moves the money so it never sits in two places, and takes
// one appeal within the appeal window. It is a child of a dispute support
// case and reports every step to it (vocab.ReportToCase). contract.go is
// what callers import; the other files are the workflow.
package disputes

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// WorkflowType is the registered name of Dispute; running disputes are
// found by it, so it never changes.
const WorkflowType = "Dispute"

// Workflows maps each workflow type of this area to its function, for the
// worker's registry and the replay test.
var Workflows = map[string]any{WorkflowType: Dispute}

// WorkflowID is the workflow id of dispute id.
func WorkflowID(id string) string { return vocab.DisputeWorkflowID(id) }

// Names of the Dispute workflow's updates, signal and query.
const (
	// UpdateSellerRespond is the seller's answer (SellerResponse), taken
	// until the seller's deadline.
	UpdateSellerRespond = "seller-respond"
	// UpdateBuyerAnswer is the buyer's answer to the seller's partial
	// offer (BuyerAnswer), taken until the offer's deadline.
	UpdateBuyerAnswer = "buyer-answer"
	// UpdateDecide is trust & safety's decision on a dispute under review
	// (DecideInput).
	UpdateDecide = "decide"
	// UpdateAppeal is the buyer's or the seller's appeal of a decision
	// (AppealInput), once in a dispute's life and within the appeal window.
	UpdateAppeal = "appeal"

	// SignalPaymentResult settles a refund or release the provider first
	// answered pending (vocab.PaymentResult, deduplicated by EventID).
	SignalPaymentResult = vocab.SignalPaymentResult

	// QueryDispute answers the View with its timeline.
	QueryDispute = "dispute"
)

// Names of the activities Dispute calls besides the shared vocab ones.
const (
	// ActivityProjectDispute writes a dispute's read model to Postgres
	// (activities.Projection.ProjectDispute).
	ActivityProjectDispute = "ProjectDispute"
)

// Status is where a dispute is.
type Status string

// The statuses of a dispute. Moves: awaiting_seller → executing (the
// seller accepts, or stays silent and the policy decides for the buyer),
// → awaiting_buyer (a partial offer) or → under_review (a contest, or
// silence without a decision by policy); awaiting_buyer → executing (offer
// accepted) or → under_review (declined or unanswered); under_review →
// executing (decided); executing → resolved, or → execution_failed when
// the money could not be moved; resolved → appealed → under_review once,
// or → closed when the appeal window ends (at once after a final decision).
const (
	StatusAwaitingSeller  Status = "awaiting_seller"
	StatusAwaitingBuyer   Status = "awaiting_buyer"
	StatusUnderReview     Status = "under_review"
	StatusExecuting       Status = "executing"
	StatusResolved        Status = "resolved"
	StatusAppealed        Status = "appealed"
	StatusClosed          Status = "closed"
	StatusExecutionFailed Status = "execution_failed"
)

// Statuses lists every status in the order of a dispute's life.
var Statuses = []Status{StatusAwaitingSeller, StatusAwaitingBuyer, StatusUnderReview, StatusExecuting,
	StatusResolved, StatusAppealed, StatusClosed, StatusExecutionFailed}

// Why a buyer disputes an order.
const (
	// ReasonNotReceived: the item or account never arrived.
	ReasonNotReceived = "not_received"
	// ReasonNotAsDescribed: what arrived is not what was sold.
	ReasonNotAsDescribed = "not_as_described"
	// ReasonAccountTakenBack: the seller took a delivered account back.
	ReasonAccountTakenBack = "account_taken_back"
	// ReasonUnauthorised: the buyer did not make the purchase.
	ReasonUnauthorised = "unauthorised"
)

// Reasons lists every reason.
var Reasons = []string{ReasonNotReceived, ReasonNotAsDescribed, ReasonAccountTakenBack, ReasonUnauthorised}

// Who acts on a dispute. Actors ("seller:s-1", "trust_safety:tess") say
// who exactly; the party says in which role.
const (
	PartyBuyer       = "buyer"
	PartySeller      = "seller"
	PartyTrustSafety = "trust_safety"
	// PartySystem is the policy acting by itself (vocab.SystemActor).
	PartySystem = vocab.SystemActor
)

// What the seller answers (SellerResponse.Kind).
const (
	// RespondAccept refunds the buyer in full.
	RespondAccept = "accept"
	// RespondOfferPartial offers the buyer part of the amount.
	RespondOfferPartial = "offer_partial"
	// RespondContest disputes the claim with a statement and evidence.
	RespondContest = "contest"
)

// What the buyer answers to an offer (BuyerAnswer.Answer).
const (
	AnswerAcceptOffer  = "accept_offer"
	AnswerDeclineOffer = "decline_offer"
)

// Outcomes of a decision (Decision.Outcome).
const (
	// OutcomeRefundFull refunds the whole amount; the hold stays held to
	// cover it.
	OutcomeRefundFull = "refund_full"
	// OutcomeRefundPartial refunds part of the amount, then releases the
	// hold to the seller.
	OutcomeRefundPartial = "refund_partial"
	// OutcomeReleaseToSeller finds for the seller: the hold is released.
	OutcomeReleaseToSeller = "release_to_seller"
	// OutcomeDeny refuses the buyer's claim: the hold is released.
	OutcomeDeny = "deny"
)

// Outcomes lists every outcome trust & safety may decide.
var Outcomes = []string{OutcomeRefundFull, OutcomeRefundPartial, OutcomeReleaseToSeller, OutcomeDeny}

// Timeline event kinds of a dispute; each is also reported to the case
// with the same kind and payload (the payload adds dispute_id).
const (
	// EventOpened carries the hold's outcome (hold, hold_id or
	// hold_error) and the seller's deadline (respond_by).
	EventOpened          = "dispute_opened"
	EventSellerAccepted  = "dispute_seller_accepted"
	EventOfferMade       = "dispute_offer_made"
	EventOfferAccepted   = "dispute_offer_accepted"
	EventOfferDeclined   = "dispute_offer_declined"
	EventOfferExpired    = "dispute_offer_expired"
	EventContested       = "dispute_contested"
	EventSellerLate      = "dispute_seller_late"
	EventReviewStarted   = "dispute_review_started"
	EventReviewOverdue   = "dispute_review_overdue"
	EventDecision        = "dispute_decision"
	EventRefundPending   = "dispute_refund_pending"
	EventRefunded        = "dispute_refunded"
	EventHoldKept        = "dispute_hold_kept"
	EventFundsReleased   = "dispute_funds_released"
	EventExecutionFailed = "dispute_execution_failed"
	EventResolved        = "dispute_resolved"
	EventAppealed        = "dispute_appealed"
	EventClosed          = "dispute_closed"
)

// Notifications a dispute asks its case to send (vocab.Notice). The case's
// customer is the buyer.
const (
	// NoticeSeller tells the seller what the dispute needs of them or did
	// (opened with its deadline, the deadline passed, decided, appealed).
	// The seller is no audience of the case: the notice goes to the
	// customer audience and its route names only the marketplace_webhook
	// channel (no email reaches the buyer), and its Detail starts with
	// "seller <id>" so the marketplace passes it to that seller; the same
	// facts (seller_id, respond_by) are in the case event's payload.
	NoticeSeller = "dispute_seller_notice"
	// NoticeSellerLate tells the buyer the seller did not answer in time
	// and the marketplace stepped in.
	NoticeSellerLate = EventSellerLate
	// NoticeOffer tells the buyer the seller's partial offer and until
	// when they may take it.
	NoticeOffer = "dispute_offer"
	// NoticeDecided tells the buyer the outcome and the amount refunded.
	NoticeDecided = "dispute_decided"
	// NoticeAppealOpen tells the buyer an appeal (theirs or the seller's)
	// reopened the review.
	NoticeAppealOpen = "dispute_appeal_open"
	// NoticeReviewNeeded tells trust & safety (the team audience) a
	// dispute awaits its decision, when no escalation already said so.
	NoticeReviewNeeded = "dispute_review_needed"
)

// NotifiedEvents lists every event a dispute asks its case to tell
// someone about: each needs its templates and its routes.
var NotifiedEvents = []string{NoticeSeller, NoticeSellerLate, NoticeOffer, NoticeDecided, NoticeAppealOpen, NoticeReviewNeeded}

// Policy holds a dispute's windows. It is copied into the input when the
// dispute starts (never read from a file in the workflow), so a policy
// change never moves a running dispute's deadlines.
type Policy struct {
	// RespondBusinessDays is the seller's time to answer, in business days
	// of SellerCalendar, from the opening.
	RespondBusinessDays int `json:"respond_business_days"`
	// RespondWithin, when set, is the seller's time to answer as a plain
	// duration instead of business days: for demos and tests on the real
	// stack, which cannot wait a business day.
	RespondWithin time.Duration `json:"respond_within,omitempty"`
	// SellerCalendar is the business calendar of the seller's region.
	SellerCalendar sla.Calendar `json:"seller_calendar"`
	// DecideForBuyerOnSilence refunds the buyer in full when the seller
	// does not answer in time; else trust & safety reviews.
	DecideForBuyerOnSilence bool `json:"decide_for_buyer_on_silence"`
	// OfferAnswerWithin is the buyer's time to answer a partial offer;
	// silence declines it.
	OfferAnswerWithin time.Duration `json:"offer_answer_within"`
	// ReviewWithin is trust & safety's time to decide; past it the case
	// escalates one level, once per review.
	ReviewWithin time.Duration `json:"review_within"`
	// AppealWindow is how long after a decision either party may appeal.
	AppealWindow time.Duration `json:"appeal_window"`
}

// DefaultPolicy answers the usual marketplace windows for a seller of
// calendar cal: three business days to answer, for the buyer on silence,
// 72 hours for an offer, five days of review, 30 days to appeal.
func DefaultPolicy(cal sla.Calendar) Policy {
	return Policy{
		RespondBusinessDays: 3, SellerCalendar: cal, DecideForBuyerOnSilence: true,
		OfferAnswerWithin: 72 * time.Hour, ReviewWithin: 5 * 24 * time.Hour, AppealWindow: 30 * 24 * time.Hour,
	}
}

// PolicyFrom answers the policy of a dispute whose seller works by
// calendar cal, from the policy file's dispute terms.
func PolicyFrom(t sla.DisputeTerms, cal sla.Calendar) Policy {
	return Policy{
		RespondBusinessDays: t.RespondBusinessDays, RespondWithin: t.RespondWithin, SellerCalendar: cal,
		DecideForBuyerOnSilence: t.DecideForBuyerOnSilence, OfferAnswerWithin: t.OfferAnswerWithin,
		ReviewWithin: t.ReviewWithin, AppealWindow: t.AppealWindow,
	}
}

// Input starts a dispute. The case fills it when it starts the child.
type Input struct {
	ID     string `json:"id"`
	CaseID string `json:"case_id"`
	// OpenedBy is the actor who opened the dispute (the buyer, an agent).
	OpenedBy string         `json:"opened_by,omitempty"`
	OrderID  string         `json:"order_id"`
	Buyer    vocab.Customer `json:"buyer"`
	SellerID string         `json:"seller_id"`
	// SellerRegion names the seller's region, whose calendar is in Policy.
	SellerRegion string `json:"seller_region"`
	// Amount is what the buyer disputes; the hold is of it.
	Amount      vocab.Money `json:"amount"`
	Reason      string      `json:"reason"`
	Description string      `json:"description"`
	// Evidence are the buyer's files, already stored and on the case.
	Evidence []vocab.Evidence `json:"evidence,omitempty"`
	// DeliveryID is the account delivery disputed, when there is one.
	DeliveryID string `json:"delivery_id,omitempty"`
	Policy     Policy `json:"policy"`
	// OpenedAt starts the seller's business days; the start options'
	// RespondBy is computed from it, so it is set by the starter.
	OpenedAt time.Time `json:"opened_at"`
}

// SellerResponse is the seller's answer: accept, offer_partial with
// Amount, or contest with Statement and the ids of the evidence files
// (already stored on the case) that support it.
type SellerResponse struct {
	Actor       string      `json:"actor"`
	Kind        string      `json:"kind"`
	Amount      vocab.Money `json:"amount,omitzero"`
	Statement   string      `json:"statement,omitempty"`
	EvidenceIDs []string    `json:"evidence_ids,omitempty"`
}

// BuyerAnswer is the buyer's answer to a partial offer.
type BuyerAnswer struct {
	Actor  string `json:"actor"`
	Answer string `json:"answer"`
}

// DecideInput is trust & safety's decision: an outcome of Outcomes, the
// amount for refund_partial, and why.
type DecideInput struct {
	Actor   string      `json:"actor"`
	Outcome string      `json:"outcome"`
	Amount  vocab.Money `json:"amount,omitzero"`
	Reason  string      `json:"reason"`
}

// AppealInput is an appeal of the latest decision by the buyer or the seller.
type AppealInput struct {
	Actor string `json:"actor"`
	// Party is buyer or seller.
	Party  string `json:"party"`
	Reason string `json:"reason"`
}

// Offer is the seller's partial offer and what became of it.
type Offer struct {
	Amount   vocab.Money `json:"amount"`
	By       string      `json:"by"`
	At       time.Time   `json:"at"`
	AnswerBy time.Time   `json:"answer_by"`
	// Answer is accepted, declined or expired once known.
	Answer string `json:"answer,omitempty"`
}

// Decision is one decision on a dispute: by the seller accepting, the
// parties agreeing on an offer, the policy on the seller's silence, or
// trust & safety.
type Decision struct {
	// N counts a dispute's decisions from 1; it names the refund's key.
	N       int    `json:"n"`
	Outcome string `json:"outcome"`
	// Amount is what the decision grants the buyer in all: the whole
	// amount, the partial amount, or zero.
	Amount vocab.Money `json:"amount"`
	Reason string      `json:"reason"`
	// Party is who decided in which role: seller, buyer (an accepted
	// offer), system (the policy) or trust_safety.
	Party string    `json:"party"`
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
	// Final is true for the decision after an appeal: it takes no appeal.
	Final bool `json:"final"`
}

// Appeal is the appeal a dispute took.
type Appeal struct {
	Party  string    `json:"party"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// States of the seller's hold (Funds.HoldState).
const (
	// HoldPending: the hold is being placed.
	HoldPending = "pending"
	// HoldHeld: the seller's funds are held.
	HoldHeld = "held"
	// HoldKept: still held, to cover a full refund the buyer received.
	HoldKept = "kept"
	// HoldReleased: released to the seller.
	HoldReleased = "released"
	// HoldNone: the provider refused the hold; nothing is held.
	HoldNone = "none"
)

// Funds are the money movements of a dispute, as the provider answered them.
type Funds struct {
	Hold      *vocab.Movement `json:"hold,omitempty"`
	HoldState string          `json:"hold_state"`
	// HoldError is why the hold was refused.
	HoldError string           `json:"hold_error,omitempty"`
	Refunds   []vocab.Movement `json:"refunds"`
	// Refunded is the total refunded to the buyer so far.
	Refunded vocab.Money     `json:"refunded"`
	Release  *vocab.Movement `json:"release,omitempty"`
}

// AwaitingEitherParty is View.Awaiting while the appeal window is open:
// the buyer or the seller may appeal.
const AwaitingEitherParty = "buyer_or_seller"

// View is a dispute as the API and operators see it, and its result.
type View struct {
	ID         string      `json:"id"`
	CaseID     string      `json:"case_id"`
	OrderID    string      `json:"order_id"`
	BuyerID    string      `json:"buyer_id"`
	SellerID   string      `json:"seller_id"`
	DeliveryID string      `json:"delivery_id,omitempty"`
	Amount     vocab.Money `json:"amount"`
	Reason     string      `json:"reason"`
	Status     Status      `json:"status"`
	// Awaiting is the party the dispute waits on (seller, buyer,
	// trust_safety, or buyer_or_seller for an appeal), empty when none;
	// RespondBy is when they must act.
	Awaiting  string     `json:"awaiting,omitempty"`
	RespondBy *time.Time `json:"respond_by,omitempty"`
	// SellerDueAt is the seller's deadline, in business days of their region.
	SellerDueAt    time.Time       `json:"seller_due_at"`
	SellerResponse *SellerResponse `json:"seller_response,omitempty"`
	Offer          *Offer          `json:"offer,omitempty"`
	// ReviewDue is when trust & safety must decide the review under way;
	// ReviewOverdue says the case was escalated for it.
	ReviewDue     *time.Time `json:"review_due,omitempty"`
	ReviewOverdue bool       `json:"review_overdue,omitempty"`
	// Decision is the latest decision; Decisions all of them, oldest first.
	Decision  *Decision  `json:"decision,omitempty"`
	Decisions []Decision `json:"decisions"`
	Funds     Funds      `json:"funds"`
	// AppealsUsed counts appeals (at most one); AppealUntil is the end of
	// the open appeal window.
	AppealsUsed int        `json:"appeals_used"`
	Appeal      *Appeal    `json:"appeal,omitempty"`
	AppealUntil *time.Time `json:"appeal_until,omitempty"`
	// Failure says which money movement failed, in execution_failed.
	Failure   string    `json:"failure,omitempty"`
	OpenedAt  time.Time `json:"opened_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// LastSeq is the sequence number of the newest timeline event.
	LastSeq int `json:"last_seq"`
	// Timeline is filled by the query and the result; update results
	// leave it out.
	Timeline []vocab.Event `json:"timeline,omitempty"`
}

// ProjectionInput is what the workflow hands the read model after a change:
// the dispute (without its timeline) and the events since the last
// projection. Writing it twice changes nothing.
type ProjectionInput struct {
	Dispute View          `json:"dispute"`
	Events  []vocab.Event `json:"events"`
}

// ChildOptions answers the options a case starts dispute in with: its id,
// the task queue, a summary naming dispute, order and reason, and the
// initial search attributes (awaiting the seller, who must answer by the
// seller's deadline). The dispute is abandoned, not cancelled, when its
// case closes: money it moves and an appeal window it keeps open outlive
// the case's own life. A dispute id is never reused.
func ChildOptions(in Input, taskQueue string) workflow.ChildWorkflowOptions {
	attrs := []temporal.SearchAttributeUpdate{
		vocab.DisputeStatusKey.ValueSet([]string{string(StatusAwaitingSeller)}),
		vocab.SellerIDKey.ValueSet(in.SellerID), vocab.OrderIDKey.ValueSet(in.OrderID),
		vocab.CustomerIDKey.ValueSet(in.Buyer.ID),
	}
	if due, err := in.SellerRespondBy(); err == nil {
		attrs = append(attrs, vocab.RespondByKey.ValueSet(attributeTime(due)))
	}
	return workflow.ChildWorkflowOptions{
		WorkflowID:            WorkflowID(in.ID),
		TaskQueue:             taskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         fmt.Sprintf("Dispute %s · order %s · %s", in.ID, in.OrderID, in.Reason),
		TypedSearchAttributes: temporal.NewSearchAttributes(attrs...),
	}
}

// SellerRespondBy answers the seller's deadline: RespondBusinessDays
// business days of the seller's calendar after OpenedAt, or RespondWithin
// after it when the policy sets that.
func (in Input) SellerRespondBy() (time.Time, error) {
	if in.Policy.RespondWithin > 0 {
		return in.OpenedAt.Add(in.Policy.RespondWithin), nil
	}
	due, err := in.Policy.SellerCalendar.AddBusinessDays(in.OpenedAt, in.Policy.RespondBusinessDays)
	if err != nil {
		return time.Time{}, fmt.Errorf("seller deadline of dispute %s: %w", in.ID, err)
	}
	return due, nil
}

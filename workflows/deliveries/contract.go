// Package deliveries is the account delivery: the AccountDelivery workflow
// follows one marketplace account handed to a buyer from ready to retired,
// keeps its handoff record (which account, which order, when it was
// delivered, the recovery path, the allowed use, the latest communication
// with the buyer), its evidence, its confirmation window and its warranty,
// and opens the cases its problems need. contract.go is what callers
// import; the other files are the workflow.
package deliveries

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"handoff/workflows/vocab"
)

// WorkflowType is the registered name of AccountDelivery; running
// deliveries are found by it, so it never changes.
const WorkflowType = "AccountDelivery"

// Workflows maps each workflow type of this area to its function, for the
// worker's registry and the replay test.
var Workflows = map[string]any{WorkflowType: AccountDelivery}

// DeliveryWorkflowID is the workflow id of delivery id.
func DeliveryWorkflowID(id string) string { return vocab.DeliveryWorkflowID(id) }

// Names of the AccountDelivery workflow's updates, signals and query.
const (
	// UpdateDeliver hands the account over; it needs delivery evidence.
	UpdateDeliver = "deliver"
	// UpdateConfirm is the buyer's confirmation that the account works.
	UpdateConfirm = "confirm"
	// UpdateReportProblem is a problem the buyer reports; it opens a case.
	UpdateReportProblem = "report-problem"
	// UpdateWaitOnBuyer says the buyer must act (change the password, add MFA).
	UpdateWaitOnBuyer = "wait-on-buyer"
	// UpdateExtendWarranty lengthens the warranty.
	UpdateExtendWarranty = "extend-warranty"
	// UpdateRetire ends the delivery early.
	UpdateRetire = "retire"
	// UpdateAddEvidence records a file already stored in S3 on the delivery.
	UpdateAddEvidence = "add-evidence"

	// SignalLinkedCase takes the outcome of a case the delivery opened.
	SignalLinkedCase = vocab.SignalLinkedCase
	// SignalAccountSignal takes a suspicious signal on the delivered
	// account (a login or a recovery attempt from the seller's side).
	SignalAccountSignal = "account-signal"

	// QueryDelivery answers the DeliveryView with its timeline.
	QueryDelivery = "delivery"
)

// Names of the activities AccountDelivery calls besides vocab.ActivityNotify
// and vocab.ActivityOpenCase.
const (
	// ActivityProjectDelivery writes a delivery's read model to Postgres
	// (activities.Projection.ProjectDelivery).
	ActivityProjectDelivery = "ProjectDelivery"
)

// Status is where a delivery is.
type Status string

// The statuses of a delivery. Moves: ready → delivered; delivered →
// waiting_customer (the buyer must act) and back on the buyer's
// confirmation; any live status → under_review (a problem report, a
// suspicious signal); under_review → recovered (an account recovery
// completed) or → delivered (resolved without one); any → retired.
const (
	StatusReady           Status = "ready"
	StatusDelivered       Status = "delivered"
	StatusWaitingCustomer Status = "waiting_customer"
	StatusUnderReview     Status = "under_review"
	StatusRecovered       Status = "recovered"
	StatusRetired         Status = "retired"
)

// Statuses lists every status in the order of a delivery's life.
var Statuses = []Status{StatusReady, StatusDelivered, StatusWaitingCustomer, StatusUnderReview, StatusRecovered, StatusRetired}

// Timeline event kinds of a delivery. The ones in NotifiedEvents are also
// the notifications the buyer gets.
const (
	EventStarted            = "delivery_started"
	EventEvidenceAdded      = "evidence_added"
	EventDelivered          = "account_delivered"
	EventWaitingOnBuyer     = "waiting_on_buyer"
	EventReminder           = "delivery_reminder"
	EventConfirmed          = "delivery_confirmed"
	EventConfirmedByDefault = "delivery_confirmed_by_default"
	EventProblemReported    = "delivery_problem_received"
	EventAccountSignal      = "account_signal"
	EventCaseLinked         = "case_linked"
	EventReviewResolved     = "review_resolved"
	// EventDisputed records a dispute opened about the delivery by a case.
	EventDisputed         = "disputed"
	EventRecovered        = "delivery_recovered"
	EventWarrantyExtended = "warranty_extended"
	EventWarrantyEnding   = "warranty_ending"
	EventRetired          = "delivery_retired"
	EventNotifyFailed     = "notification_failed"
)

// NotifiedEvents lists every event a delivery tells the buyer about (and,
// for a problem report, the seller through the marketplace webhook): each
// needs its templates and its routes.
var NotifiedEvents = []string{
	EventDelivered, EventReminder, EventConfirmedByDefault, EventProblemReported,
	EventRecovered, EventWarrantyEnding, EventRetired,
}

// Why a delivery linked a case.
const (
	LinkProblemReport = "problem_report"
	LinkSellerSignal  = "seller_signal"
	// LinkDispute is a case that opened a dispute about the delivery.
	LinkDispute = "dispute"
)

// RecoveryPath is how the delivered account is recovered if it is lost:
// what the buyer holds and who can reset it.
type RecoveryPath struct {
	// Email and Phone are the recovery contacts on file at the platform.
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	// BackupCodesHeld says the buyer was given the account's backup codes.
	BackupCodesHeld bool `json:"backup_codes_held,omitempty"`
	// ResetBy is who can reset the account at the platform: buyer, seller,
	// marketplace or platform.
	ResetBy string `json:"reset_by"`
	// Instructions tell the buyer how to secure and recover the account;
	// they go out with the delivery email.
	Instructions string `json:"instructions,omitempty"`
}

// ResetByValues lists who can reset an account.
var ResetByValues = []string{"buyer", "seller", "marketplace", "platform"}

// DeliveryInput starts a delivery. The windows are copied from the policy
// at start (a policy change never changes a running delivery), and the
// state a continue-as-new carries is in Carried.
type DeliveryInput struct {
	ID        string         `json:"id"`
	AccountID string         `json:"account_id"`
	OrderID   string         `json:"order_id"`
	Buyer     vocab.Customer `json:"buyer"`
	SellerID  string         `json:"seller_id"`
	// Product is the product or platform (a game, a service); it picks the
	// warranty.
	Product string `json:"product"`
	// AllowedUse is what the buyer may do with the account.
	AllowedUse   string       `json:"allowed_use"`
	RecoveryPath RecoveryPath `json:"recovery_path"`
	Region       string       `json:"region"`
	StartedBy    string       `json:"started_by"`
	// StartedAt is when the API started it; zero takes the workflow's start.
	StartedAt time.Time `json:"started_at,omitzero"`
	// ConfirmationWindow, Warranty and WarrantyNotice are the policy's,
	// Warranty the product's or the request's.
	ConfirmationWindow time.Duration `json:"confirmation_window"`
	Warranty           time.Duration `json:"warranty"`
	WarrantyNotice     time.Duration `json:"warranty_notice"`
	// ContinueAfter bounds the timeline events one run records before it
	// continues as new (0: only when the server suggests it); tests set it
	// low.
	ContinueAfter int `json:"continue_after,omitempty"`
	// Revision is the DeliveryRevision the delivery started under (NewInput
	// sets it): the changes it behaves by without a version marker. Zero
	// asks workflow.GetVersion.
	Revision int `json:"revision,omitempty"`
	// Carried is the state of the run before a continue-as-new.
	Carried *Carried `json:"carried,omitempty"`
}

// Carried is what a delivery carries into its next run.
type Carried struct {
	View     DeliveryView  `json:"view"`
	Timeline []vocab.Event `json:"timeline"`
	// Flags of what the delivery has already done by itself.
	ReminderSent bool   `json:"reminder_sent,omitempty"`
	NoticeSent   bool   `json:"notice_sent,omitempty"`
	WaitReason   string `json:"wait_reason,omitempty"`
	// Signals and case outcomes taken from the channels but not yet acted on.
	Signals   []AccountSignal           `json:"signals,omitempty"`
	Outcomes  []vocab.LinkedCaseOutcome `json:"outcomes,omitempty"`
	Projected int                       `json:"projected,omitempty"`
	// OutcomesTaken and SignalsTaken count the linked-case outcomes and
	// the account signals acted on in every run so far: the nth names
	// what it tells (changeCauseIDs).
	OutcomesTaken int `json:"outcomes_taken,omitempty"`
	SignalsTaken  int `json:"signals_taken,omitempty"`
}

// ActorInput carries an action whose only field is who (and a note).
type ActorInput struct {
	Actor string `json:"actor"`
	Note  string `json:"note,omitempty"`
}

// ProblemInput is a problem the buyer reports.
type ProblemInput struct {
	Actor       string `json:"actor"`
	Description string `json:"description"`
}

// ReasonInput carries an action whose field is why: wait on the buyer, retire.
type ReasonInput struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

// ExtendInput lengthens the warranty by By.
type ExtendInput struct {
	Actor  string        `json:"actor"`
	By     time.Duration `json:"by"`
	Reason string        `json:"reason"`
}

// AccountSignal is a suspicious thing seen on the delivered account.
type AccountSignal struct {
	Kind       string    `json:"kind"`
	Detail     string    `json:"detail,omitempty"`
	ReportedBy string    `json:"reported_by"`
	At         time.Time `json:"at"`
}

// Communication is one message to or from the buyer.
type Communication struct {
	At time.Time `json:"at"`
	// Direction is to_buyer or from_buyer.
	Direction string `json:"direction"`
	Kind      string `json:"kind"`
	Summary   string `json:"summary,omitempty"`
}

// HandoffRecord answers what support must know of a delivery without
// asking another team. Missing names what is not known yet (delivered_at
// before the delivery, latest_communication before any message).
type HandoffRecord struct {
	AccountID           string         `json:"account_id"`
	OrderID             string         `json:"order_id"`
	DeliveredAt         *time.Time     `json:"delivered_at"`
	RecoveryPath        RecoveryPath   `json:"recovery_path"`
	AllowedUse          string         `json:"allowed_use"`
	LatestCommunication *Communication `json:"latest_communication"`
	Missing             []string       `json:"missing"`
}

// LinkedCase is a case the delivery opened, as the delivery knows it.
type LinkedCase struct {
	CaseID string `json:"case_id"`
	// Reason is problem_report or seller_signal.
	Reason string `json:"reason"`
	Open   bool   `json:"open"`
	// Outcome is what the case reported: resolved, recovered.
	Outcome string `json:"outcome,omitempty"`
}

// DeliveryView is the delivery as the API and operators see it.
type DeliveryView struct {
	ID      string         `json:"id"`
	Status  Status         `json:"status"`
	Handoff HandoffRecord  `json:"handoff"`
	Buyer   vocab.Customer `json:"buyer"`
	// NextAction says what happens next, and who acts.
	NextAction string `json:"next_action"`
	SellerID   string `json:"seller_id"`
	Product    string `json:"product"`
	Region     string `json:"region"`
	// ConfirmBy is when the delivery is confirmed by default, while the
	// buyer may still confirm or report a problem.
	ConfirmBy   *time.Time `json:"confirm_by,omitempty"`
	Confirmed   bool       `json:"confirmed"`
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
	// ConfirmedBy is the buyer's actor, or system for a confirmation by default.
	ConfirmedBy    string           `json:"confirmed_by,omitempty"`
	WarrantyEndsAt *time.Time       `json:"warranty_ends_at,omitempty"`
	Evidence       []vocab.Evidence `json:"evidence"`
	LinkedCases    []LinkedCase     `json:"linked_cases"`
	RetiredAt      *time.Time       `json:"retired_at,omitempty"`
	RetireReason   string           `json:"retire_reason,omitempty"`
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`
	// LastSeq is the sequence number of the newest timeline event.
	LastSeq int `json:"last_seq"`
	// Timeline is filled by the query; update results leave it out.
	Timeline []vocab.Event `json:"timeline,omitempty"`
}

// ProjectionInput is what the workflow hands the read model after a change:
// the delivery (without its timeline) and the events since the last
// projection. Writing it twice changes nothing.
type ProjectionInput struct {
	Delivery DeliveryView  `json:"delivery"`
	Events   []vocab.Event `json:"events"`
}

// DeliveryStartOptions answers the options that start in's workflow: its id, the
// task queue, a summary naming account, order and buyer, and the initial
// search attributes.
func DeliveryStartOptions(in DeliveryInput, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:            DeliveryWorkflowID(in.ID),
		TaskQueue:     taskQueue,
		StaticSummary: fmt.Sprintf("Delivery %s · account %s · order %s · buyer %s", in.ID, in.AccountID, in.OrderID, in.Buyer.ID),
		StaticDetails: fmt.Sprintf("**%s** (%s) for buyer %s from seller %s, allowed use: %s", in.Product, in.Region, in.Buyer.ID, in.SellerID, in.AllowedUse),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			vocab.DeliveryStatusKey.ValueSet(string(StatusReady)), vocab.AccountIDKey.ValueSet(in.AccountID),
			vocab.OrderIDKey.ValueSet(in.OrderID), vocab.SellerIDKey.ValueSet(in.SellerID),
			vocab.CustomerIDKey.ValueSet(in.Buyer.ID)),
	}
}

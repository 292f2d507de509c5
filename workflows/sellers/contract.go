// Package sellers is a marketplace seller's way in: SellerOnboarding
// (seller/<id>) keeps the seller's checklist, whose steps and deadlines
// come from policy, reminds a seller whose step stalls and then opens one
// seller_onboarding case for trust_safety; it starts SellerVerification
// (verification/<id>), which holds the seller's payouts through the
// payment adapter, runs the identity check (KYC) through the verification
// adapter, has trust_safety review what the provider doubts under a review
// deadline, and releases the hold once when the seller passes. A failed
// check closes selling and tells the seller why. contract.go is what
// callers import; the other files are the workflows.
package sellers

import (
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// Registered names of the seller workflows; running ones are found by
// them, so they never change.
const (
	WorkflowSellerOnboarding   = "SellerOnboarding"
	WorkflowSellerVerification = "SellerVerification"
)

// Workflows maps each workflow type of this area to its function, for the
// worker's registry and the replay test.
var Workflows = map[string]any{
	WorkflowSellerOnboarding:   SellerOnboarding,
	WorkflowSellerVerification: SellerVerification,
}

// OnboardingWorkflowID is the workflow id of seller id's onboarding.
func OnboardingWorkflowID(id string) string { return vocab.SellerWorkflowID(id) }

// VerificationWorkflowID is the workflow id of seller id's identity check.
func VerificationWorkflowID(id string) string { return vocab.VerificationWorkflowID(id) }

// KindIdentityDocument is the evidence kind of a seller's documents.
const KindIdentityDocument = "identity_document"

// The steps of a seller's checklist, in the order a seller usually takes them.
const (
	StepAccountCreated    = "account_created"
	StepIdentityVerified  = "identity_verified"
	StepPayoutVerified    = "payout_verified"
	StepFirstListing      = "first_listing"
	StepFirstOrderShipped = "first_order_shipped"
)

// Steps lists every step a policy may name.
var Steps = []string{StepAccountCreated, StepIdentityVerified, StepPayoutVerified, StepFirstListing, StepFirstOrderShipped}

// Kinds of the marketplace's seller events (SellerEvent.Kind), each of
// which completes one step. identity_verified completes from the
// verification, never from an event.
const (
	EventKindAccountCreated        = "account_created"
	EventKindPayoutDetailsVerified = "payout_details_verified"
	EventKindListingPublished      = "listing_published"
	EventKindOrderShipped          = "order_shipped"
)

// StepOfEvent maps a seller event kind to the step it completes.
var StepOfEvent = map[string]string{
	EventKindAccountCreated:        StepAccountCreated,
	EventKindPayoutDetailsVerified: StepPayoutVerified,
	EventKindListingPublished:      StepFirstListing,
	EventKindOrderShipped:          StepFirstOrderShipped,
}

// EventKinds lists every seller event kind, for validation and documents.
var EventKinds = []string{EventKindAccountCreated, EventKindPayoutDetailsVerified, EventKindListingPublished, EventKindOrderShipped}

// Names of the SellerOnboarding workflow's signals and query.
const (
	// SignalSellerEvent takes a marketplace event about the seller
	// (SellerEvent), deduplicated by its id.
	SignalSellerEvent = "seller-event"
	// SignalVerification is how the verification tells its onboarding
	// where the identity check is (VerificationStatus).
	SignalVerification = "verification"
	// SignalStanding suspends or reinstates the seller (Standing): a fraud
	// decision, trust_safety.
	SignalStanding = "standing"
	// UpdateAddDocument records a document the API stored in S3 under
	// Object Lock (vocab.EvidenceInput → vocab.EvidenceResult); the first
	// one starts an identity check that was waiting for documents.
	UpdateAddDocument = "add-document"
	// QuerySeller answers the SellerView with its timeline.
	QuerySeller = "seller"
)

// Names of the SellerVerification workflow's signal, update and query;
// it also takes vocab.UpdateReleaseHold and vocab.UpdateExtendHold for its
// payout hold.
const (
	// SignalCheckDecided takes the provider's decision webhook (CheckResult).
	SignalCheckDecided = "check-decided"
	// UpdateDecide is trust_safety's decision on a check that needs review
	// (VerificationDecision).
	UpdateDecide = "decide"
	// QueryVerification answers the VerificationView with its timeline.
	QueryVerification = "verification"
)

// Names of the activities the seller workflows call besides the shared
// vocab ones (activities.Verification, activities.Projection).
const (
	// ActivityStartIdentityCheck starts the identity check (IdentityCheckRequest → CheckResult).
	ActivityStartIdentityCheck = "StartIdentityCheck"
	// ActivityGetIdentityCheck reads a check back by id (string → CheckResult).
	ActivityGetIdentityCheck = "GetIdentityCheck"
	// ActivityProjectSeller writes the seller's read model (SellerProjection).
	ActivityProjectSeller = "ProjectSeller"
)

// Seller statuses (SellerView.Status).
const (
	// SellerStatusOnboarding: steps are still open.
	SellerStatusOnboarding = "onboarding"
	// SellerStatusActive: every step is done; the seller sells and is paid.
	SellerStatusActive = "active"
	// SellerStatusSuspended: trust_safety or a fraud decision stopped the seller.
	SellerStatusSuspended = "suspended"
	// SellerStatusClosed: the identity check failed; the seller may not sell.
	SellerStatusClosed = "closed"
)

// Step statuses (Step.Status).
const (
	StepPending = "pending"
	// StepOverdue: its deadline passed; the seller was reminded.
	StepOverdue = "overdue"
	// StepStalled: still not done after the reminder; trust_safety has a case.
	StepStalled = "stalled"
	StepDone    = "done"
)

// Verification statuses (VerificationView.Status, SellerView.Verification.Status).
const (
	// VerificationHolding: the payouts are being held before the check.
	VerificationHolding = "holding"
	// VerificationChecking: the provider has the check and has not decided.
	VerificationChecking = "checking"
	// VerificationNeedsReview: the provider doubts; trust_safety decides.
	VerificationNeedsReview = "needs_review"
	VerificationPassed      = "passed"
	VerificationFailed      = "failed"
)

// FirstVerificationStatus is where a seller's identity check starts:
// holding the payouts when the policy holds them, else at the provider.
func FirstVerificationStatus(holdPayouts bool) string {
	if holdPayouts {
		return VerificationHolding
	}
	return VerificationChecking
}

// VerificationStatuses lists every verification status, in order.
var VerificationStatuses = []string{VerificationHolding, VerificationChecking, VerificationNeedsReview, VerificationPassed, VerificationFailed}

// Outcomes of trust_safety's review (VerificationDecision.Outcome).
const (
	DecisionPass = "pass"
	DecisionFail = "fail"
)

// Timeline event kinds of the seller workflows; those reported to a case
// carry the same kind and payload (with seller_id).
const (
	EventOnboardingStarted    = "seller_onboarding_started"
	EventStepDone             = "seller_step_done"
	EventStepOverdue          = "seller_step_overdue"
	EventStepStalled          = "seller_step_stalled"
	EventCaseOpened           = "seller_case_opened"
	EventDocumentAdded        = "seller_document_added"
	EventDocumentsAwaited     = "seller_documents_awaited"
	EventOnboarded            = "seller_onboarded"
	EventVerification         = "seller_verification"
	EventSuspended            = "seller_suspended"
	EventReinstated           = "seller_reinstated"
	EventClosed               = "seller_closed"
	EventPayoutsHeld          = "seller_payouts_held"
	EventPayoutsReleased      = "seller_payouts_released"
	EventHoldExtended         = "seller_hold_extended"
	EventHoldFailed           = "seller_hold_failed"
	EventCheckStarted         = "seller_check_started"
	EventCheckDecided         = "seller_check_decided"
	EventReviewStarted        = "seller_review_started"
	EventReviewOverdue        = "seller_review_overdue"
	EventVerificationDecision = "seller_verification_decision"
)

// Notifications the seller workflows send the seller (audience customer,
// the seller as the customer) or ask a case to send.
const (
	// NoticeStepReminder reminds the seller of an overdue step (Detail names it).
	NoticeStepReminder = "seller_step_reminder"
	// NoticeVerified tells the seller they are verified and their payouts flow.
	NoticeVerified = "seller_verified"
	// NoticeVerificationFailed tells the seller selling is closed, and why (Detail).
	NoticeVerificationFailed = "seller_verification_failed"
)

// NotifiedEvents lists every event a seller workflow tells someone about:
// each needs its templates and routes.
var NotifiedEvents = []string{NoticeStepReminder, NoticeVerified, NoticeVerificationFailed}

// StepPolicy is one step of the checklist: it is due Due after the
// onboarding starts; then the seller is reminded, and EscalateAfter later
// a still open step opens (or joins) the seller's onboarding case.
type StepPolicy struct {
	Name          string        `json:"name"`
	Due           time.Duration `json:"due"`
	EscalateAfter time.Duration `json:"escalate_after"`
}

// VerificationPolicy holds the identity check's windows.
type VerificationPolicy struct {
	// HoldPayouts holds the seller's payouts until the check passes.
	HoldPayouts bool `json:"hold_payouts"`
	// PollEvery is how long the check waits for the provider's decision
	// webhook before asking the provider itself, and again after that.
	PollEvery time.Duration `json:"poll_every"`
	// ReviewWithin is trust_safety's time to decide a check that needs
	// review; past it the review case escalates, once.
	ReviewWithin time.Duration `json:"review_within"`
}

// Policy is a seller's onboarding policy, copied into the input when the
// onboarding starts, so a policy change never moves a running seller's
// deadlines.
type Policy struct {
	Steps        []StepPolicy       `json:"steps"`
	Verification VerificationPolicy `json:"verification"`
}

// Identity is what the seller declared for the identity check.
type Identity struct {
	// LegalName is the person's or company's name on the documents.
	LegalName string `json:"legal_name"`
	// Country is ISO 3166-1 alpha-2 in upper case.
	Country string `json:"country"`
	// DocumentIDs are the evidence ids of the uploaded documents; without
	// any, the check waits for the first one (UpdateAddDocument).
	DocumentIDs        []string `json:"document_ids"`
	PayoutAccountLast4 string   `json:"payout_account_last4,omitempty"`
}

// OnboardingInput starts a seller's onboarding. The seller is the
// customer of the seller's cases and notifications.
type OnboardingInput struct {
	SellerID string         `json:"seller_id"`
	Seller   vocab.Customer `json:"seller"`
	Region   string         `json:"region"`
	Identity Identity       `json:"identity"`
	Policy   Policy         `json:"policy"`
	// StartedAt starts every step's deadline; set by the starter.
	StartedAt time.Time `json:"started_at"`
	StartedBy string    `json:"started_by,omitempty"`
	// Carried is the state a continued run carries on with; nil on the
	// first run.
	Carried *OnboardingCarry `json:"carried,omitempty"`
}

// OnboardingCarry is what a run of SellerOnboarding hands the next one.
type OnboardingCarry struct {
	View     SellerView    `json:"view"`
	Timeline []vocab.Event `json:"timeline"`
	SeenIDs  []string      `json:"seen_ids"`
	// CheckStarted says the identity check runs; DocumentIDs are the
	// documents it was (or will be) started with.
	CheckStarted bool     `json:"check_started"`
	DocumentIDs  []string `json:"document_ids,omitempty"`
}

// SellerEvent is one marketplace event about a seller.
type SellerEvent struct {
	// ID is the marketplace's event id; a seen id changes nothing.
	ID     string    `json:"id"`
	Kind   string    `json:"kind"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
}

// VerificationStatus is what the verification tells its onboarding.
type VerificationStatus struct {
	Status  string   `json:"status"`
	CheckID string   `json:"check_id,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
	// CaseID is the review case, while there is one.
	CaseID string    `json:"case_id,omitempty"`
	Actor  string    `json:"actor"`
	At     time.Time `json:"at"`
}

// Standing suspends (Suspend) or reinstates a seller.
type Standing struct {
	Suspend bool   `json:"suspend"`
	Actor   string `json:"actor"`
	Reason  string `json:"reason"`
	// CaseID is the case that decided it (a fraud report), if any.
	CaseID string `json:"case_id,omitempty"`
}

// Step is one step of a seller's checklist as it stands.
type Step struct {
	Name   string     `json:"name"`
	Status string     `json:"status"`
	DueAt  time.Time  `json:"due_at"`
	DoneAt *time.Time `json:"done_at,omitempty"`
	// RemindedAt and StalledAt are when the seller was reminded and when
	// trust_safety's case was asked, once each.
	RemindedAt *time.Time `json:"reminded_at,omitempty"`
	StalledAt  *time.Time `json:"stalled_at,omitempty"`
	// EscalateAt is when a still open step stalls.
	EscalateAt time.Time `json:"escalate_at"`
}

// SellerView is a seller as the API and operators see it, and the
// onboarding's result.
type SellerView struct {
	SellerID string `json:"seller_id"`
	Region   string `json:"region"`
	Status   string `json:"status"`
	// Reason is why a seller is suspended or closed.
	Reason       string             `json:"reason,omitempty"`
	Steps        []Step             `json:"steps"`
	Verification VerificationStatus `json:"verification"`
	// CaseID is the seller's onboarding case, once a step stalled.
	CaseID string `json:"case_id,omitempty"`
	// Documents are the seller's identity documents, each under Object Lock.
	Documents []vocab.Evidence `json:"documents,omitempty"`
	StartedAt time.Time        `json:"started_at"`
	UpdatedAt time.Time        `json:"updated_at"`
	LastSeq   int              `json:"last_seq"`
	// Timeline is filled by the query and the result.
	Timeline []vocab.Event `json:"timeline,omitempty"`
}

// SellerProjection is what the onboarding hands the read model after a
// change: the seller (without its timeline) and the events since the last
// projection. Writing it twice changes nothing.
type SellerProjection struct {
	Seller SellerView    `json:"seller"`
	Events []vocab.Event `json:"events"`
}

// VerificationInput starts a seller's identity check; the onboarding fills it.
type VerificationInput struct {
	SellerID string             `json:"seller_id"`
	Seller   vocab.Customer     `json:"seller"`
	Identity Identity           `json:"identity"`
	Policy   VerificationPolicy `json:"policy"`
	// OnboardingID is the workflow id that hears the check's statuses.
	OnboardingID string `json:"onboarding_id"`
}

// IdentityCheckRequest asks the provider to check a seller, once per Key.
type IdentityCheckRequest struct {
	Key      string   `json:"key"`
	SellerID string   `json:"seller_id"`
	Identity Identity `json:"identity"`
}

// CheckResult is an identity check as the provider answers it (passed,
// failed, pending or needs_review: verification.Status*).
type CheckResult struct {
	ID        string    `json:"id"`
	SellerID  string    `json:"seller_id"`
	Status    string    `json:"status"`
	Reasons   []string  `json:"reasons,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
}

// The provider's check statuses, as CheckResult.Status carries them.
const (
	CheckPending     = "pending"
	CheckPassed      = "passed"
	CheckFailed      = "failed"
	CheckNeedsReview = "needs_review"
)

// VerificationDecision is trust_safety's decision on a check under review.
type VerificationDecision struct {
	Actor   string    `json:"actor"`
	Outcome string    `json:"outcome"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at,omitzero"`
}

// VerificationView is a seller's identity check as trust_safety sees it,
// and the verification's result.
type VerificationView struct {
	SellerID string   `json:"seller_id"`
	Status   string   `json:"status"`
	CheckID  string   `json:"check_id,omitempty"`
	Reasons  []string `json:"reasons,omitempty"`
	// Hold is the payout hold, when the policy holds payouts.
	Hold *vocab.PayoutHold `json:"hold,omitempty"`
	// CaseID is the review case; ReviewDue when trust_safety must decide.
	CaseID        string                `json:"case_id,omitempty"`
	ReviewDue     *time.Time            `json:"review_due,omitempty"`
	ReviewOverdue bool                  `json:"review_overdue,omitempty"`
	Decision      *VerificationDecision `json:"decision,omitempty"`
	StartedAt     time.Time             `json:"started_at"`
	UpdatedAt     time.Time             `json:"updated_at"`
	LastSeq       int                   `json:"last_seq"`
	Timeline      []vocab.Event         `json:"timeline,omitempty"`
}

// Validate names every missing or malformed field of a new onboarding at once.
func (in OnboardingInput) Validate() error {
	var problems []string
	if strings.TrimSpace(in.SellerID) == "" {
		problems = append(problems, "seller_id: must not be empty")
	}
	if !strings.Contains(in.Seller.Email, "@") {
		problems = append(problems, "seller.email: must be an email address")
	}
	if in.Seller.Locale != "en" && in.Seller.Locale != "fr" {
		problems = append(problems, fmt.Sprintf("seller.locale: want en or fr, got %q", in.Seller.Locale))
	}
	if strings.TrimSpace(in.Identity.LegalName) == "" {
		problems = append(problems, "identity.legal_name: must not be empty")
	}
	if c := in.Identity.Country; len(c) != 2 || strings.ToUpper(c) != c {
		problems = append(problems, fmt.Sprintf("identity.country: want an ISO 3166-1 alpha-2 code in upper case, got %q", c))
	}
	if len(in.Policy.Steps) == 0 {
		problems = append(problems, "policy.steps: a checklist needs at least one step")
	}
	for i, s := range in.Policy.Steps {
		if !contains(Steps, s.Name) {
			problems = append(problems, fmt.Sprintf("policy.steps[%d].name: unknown step %q", i, s.Name))
		}
		if s.Due <= 0 || s.EscalateAfter <= 0 {
			problems = append(problems, fmt.Sprintf("policy.steps[%d]: due and escalate_after must be positive", i))
		}
	}
	if in.StartedAt.IsZero() {
		problems = append(problems, "started_at: must be set")
	}
	if len(problems) > 0 {
		return vocab.InvalidArgument(strings.Join(problems, "; "))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// StartOptions answers the options the API starts seller in's onboarding
// with: its id, the task queue, a summary, and the search attributes the
// Web UI filters by. A seller's id is never reused.
func StartOptions(in OnboardingInput, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                    OnboardingWorkflowID(in.SellerID),
		TaskQueue:             taskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         fmt.Sprintf("Seller %s · region %s · onboarding", in.SellerID, in.Region),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			vocab.SellerIDKey.ValueSet(in.SellerID),
			vocab.VerificationStatusKey.ValueSet([]string{FirstVerificationStatus(in.Policy.Verification.HoldPayouts)}),
		),
	}
}

// childOptions answers the options the onboarding starts its verification with.
func childOptions(in VerificationInput, taskQueue string) workflow.ChildWorkflowOptions {
	return workflow.ChildWorkflowOptions{
		WorkflowID:            VerificationWorkflowID(in.SellerID),
		TaskQueue:             taskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         fmt.Sprintf("Identity check of seller %s", in.SellerID),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			vocab.SellerIDKey.ValueSet(in.SellerID),
			vocab.VerificationStatusKey.ValueSet([]string{FirstVerificationStatus(in.Policy.HoldPayouts)}),
			vocab.PayoutHoldKey.ValueSet(in.Policy.HoldPayouts),
		),
	}
}

// PolicyFrom answers a seller's onboarding policy from the policy file's
// sellers section.
func PolicyFrom(t sla.SellerTerms) Policy {
	p := Policy{Verification: VerificationPolicy{HoldPayouts: t.HoldPayoutsUntilVerified,
		PollEvery: t.VerificationPollEvery, ReviewWithin: t.VerificationReviewWithin}}
	for _, s := range t.Steps {
		p.Steps = append(p.Steps, StepPolicy{Name: s.Step, Due: s.Due, EscalateAfter: s.EscalateAfter})
	}
	return p
}

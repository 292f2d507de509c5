package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/api/serviceerror"

	"handoff/evidence"
	"handoff/store"
	"handoff/workflows/sellers"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// Sellers: the marketplace starts a seller's onboarding (seller/<id>,
// which starts the identity check verification/<id>); trust & safety and
// support read the seller from the read model; trust & safety decides a
// check under review (a Workflow Update of verification/<id>) and
// releases or extends a hold on the seller's payouts (a Workflow Update
// of the workflow that placed it: the verification, or the fraud watch).

// registerSellers adds the sellers' operations, each made by op as
// register makes every other one.
func (s *server) registerSellers(api huma.API, op func(id, method, path, summary string, status int) huma.Operation) {
	start := op("start-seller-onboarding", http.MethodPost, "/v1/sellers", "Start a seller's onboarding", 201)
	start.Description = startSellerDoc + " " + start.Description
	huma.Register(api, start, s.startSellerOnboarding)
	huma.Register(api, op("get-seller", http.MethodGet, "/v1/sellers/{id}",
		"Read a seller: checklist, verification, payout holds, open cases, dispute and refund rates", 200), s.getSeller)
	huma.Register(api, op("decide-seller-verification", http.MethodPost, "/v1/sellers/{id}/verification/decision",
		"Decide a seller's identity check under review", 200), s.decideSellerVerification)
	huma.Register(api, op("release-payout-hold", http.MethodPost, "/v1/sellers/{id}/holds/{hold_id}/release",
		"Release a hold on the seller's payouts", 200), s.releasePayoutHold)
	huma.Register(api, op("extend-payout-hold", http.MethodPost, "/v1/sellers/{id}/holds/{hold_id}/extend",
		"Move the end of a hold on the seller's payouts later", 200), s.extendPayoutHold)
	registerUpload(api, op("upload-seller-document", http.MethodPost, "/v1/sellers/{id}/documents",
		"Upload a seller's identity document (multipart, kind identity_document)", 201), s.uploadSellerDocument)
	huma.Register(api, op("change-seller-standing", http.MethodPost, "/v1/sellers/{id}/standing",
		"Suspend a seller, or reinstate a suspended one", 202), s.changeSellerStanding)
}

type uploadSellerDocumentInput struct {
	SellerIDParam
	UploadStream
}

// uploadSellerDocument stores an identity document in S3 under Object Lock
// (it is what the identity check and any later dispute of it rest on) and
// records it on the seller's onboarding; a seller who came without
// documents is checked once the first arrives.
func (s *server) uploadSellerDocument(ctx context.Context, in *uploadSellerDocumentInput) (*evidenceOutput, error) {
	boundary, err := in.boundary(s.evidence.MaxBytes())
	if err != nil {
		return nil, err
	}
	return s.storeEvidence(ctx, in.body, boundary, in.contentLength, evidenceOwner{
		meta: "seller-id", id: in.ID, key: evidence.SellerKey, update: sellers.UpdateAddDocument,
		workflowID: sellers.OnboardingWorkflowID(in.ID), retained: true,
		fail: func(ctx context.Context, id string, err error) error {
			return s.flowError(ctx, sellers.OnboardingWorkflowID(id), "onboarding of seller "+id, err)
		},
	})
}

// standingInput suspends or reinstates a seller.
type standingInput struct {
	SellerIDParam
	Body struct {
		Suspend bool   `json:"suspend" doc:"true suspends the seller; false reinstates a suspended one (to onboarding or active, as its checklist stands)."`
		Reason  string `json:"reason" minLength:"1" maxLength:"2000"`
		CaseID  string `json:"case_id,omitempty" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"The case that decided it, if any."`
	}
}

type standingOutput struct {
	Status int
	Body   struct {
		SellerID string `json:"seller_id"`
		Suspend  bool   `json:"suspend"`
	}
}

// changeSellerStanding hands trust_safety's suspension or reinstatement
// to the seller's onboarding, which records it (202: GET the seller to
// see it). It does not lock or unlock the seller's marketplace account:
// that is security's, on a case.
func (s *server) changeSellerStanding(ctx context.Context, in *standingInput) (*standingOutput, error) {
	if err := checkBodyText(in.Body); err != nil {
		return nil, err
	}
	id := sellers.OnboardingWorkflowID(in.ID)
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	err := s.temporal.SignalWorkflow(ctx, id, "", sellers.SignalStanding, sellers.Standing{
		Suspend: in.Body.Suspend, Actor: callerFrom(ctx).actor(), Reason: in.Body.Reason, CaseID: in.Body.CaseID})
	if err != nil {
		return nil, s.flowError(ctx, id, "onboarding of seller "+in.ID, err)
	}
	out := &standingOutput{Status: http.StatusAccepted}
	out.Body.SellerID, out.Body.Suspend = in.ID, in.Body.Suspend
	return out, nil
}

// sellersPolicy answers the onboarding policy new sellers start under:
// the sellers section of the SLA policy file (the shipped defaults when it
// has none).
func (s *server) sellersPolicy() sellers.Policy {
	if s.book == nil {
		return sellers.PolicyFrom(sla.DefaultSellerTerms)
	}
	return sellers.PolicyFrom(s.book.Sellers())
}

// startSellerDoc says where the onboarding's policy comes from.
const startSellerDoc = "Starts a seller's onboarding, once per seller id: the same id again answers the seller as it is (200) " +
	"and starts nothing. The checklist's steps and deadlines and the identity check's windows come from the sellers section " +
	"of the SLA policy file (shipped: account_created within 1h, identity_verified and payout_verified within 72h, " +
	"first_listing within 168h, first_order_shipped within 720h, a reminder at each deadline and trust_safety's case 48h " +
	"later; payouts held until the check passes, the provider asked every hour when its decision is late, 48h for " +
	"trust_safety to review a doubtful check) and are copied into the onboarding when it starts."

type (
	// sellerLocaleName is a language a seller is written to in.
	sellerLocaleName string
	// sellerDecisionName is trust & safety's decision on a check under review.
	sellerDecisionName string
)

// Schema lists every locale.
func (sellerLocaleName) Schema(huma.Registry) *huma.Schema { return enumSchema(vocab.Locales) }

// Schema lists the two decisions.
func (sellerDecisionName) Schema(huma.Registry) *huma.Schema {
	return enumSchema([]string{sellers.DecisionPass, sellers.DecisionFail})
}

type sellerContactBody struct {
	Email  string           `json:"email" format:"email" maxLength:"254"`
	Name   string           `json:"name,omitempty" maxLength:"200"`
	Locale sellerLocaleName `json:"locale" doc:"The language the seller is written to in."`
}

type sellerIdentityBody struct {
	LegalName          string   `json:"legal_name" minLength:"1" maxLength:"300" doc:"The person's or company's name as the documents show it."`
	Country            string   `json:"country" pattern:"^[A-Z]{2}$" doc:"Where the seller is registered, ISO 3166-1 alpha-2 in upper case: FR."`
	DocumentIDs        []string `json:"document_ids,omitempty" maxItems:"20" doc:"The evidence ids of documents already uploaded elsewhere (ID card, registration extract); without any, the identity check waits for the first POST /v1/sellers/{id}/documents."`
	PayoutAccountLast4 string   `json:"payout_account_last4,omitempty" pattern:"^[0-9]{4}$" doc:"The last four digits of the payout account."`
}

type startSellerBody struct {
	SellerID string             `json:"seller_id" minLength:"1" maxLength:"100" pattern:"^[A-Za-z0-9_-]+$" doc:"The marketplace's seller id: the seller's cases take it as their customer id."`
	Seller   sellerContactBody  `json:"seller"`
	Region   string             `json:"region" minLength:"1" maxLength:"50" doc:"The seller's region."`
	Identity sellerIdentityBody `json:"identity" doc:"What the identity check checks."`
}

type startSellerInput struct {
	Body startSellerBody
}

// SellerIDParam is a seller id in a path.
type SellerIDParam struct {
	ID string `path:"id" minLength:"1" maxLength:"100" pattern:"^[A-Za-z0-9_-]+$" doc:"The seller id."`
}

// sellerView is a seller as the API answers it: the onboarding's view
// from the read model with the holds on the seller's payouts, the cases
// that concern the seller and the seller's dispute and refund record.
type sellerView struct {
	sellers.SellerView
	Holds     []vocab.PayoutHold `json:"holds" doc:"Every hold on the seller's payouts, the newest placed first: why, until when, in what state."`
	OpenCases []store.SellerCase `json:"open_cases" doc:"Open cases whose customer is the seller, or that hold a dispute or a return against the seller."`
	Rates     store.SellerRates  `json:"rates" doc:"dispute_loss_rate is disputes_lost / disputes; refund_rate is returns_refunded / returns; null without any."`
}

type sellerOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     sellerView
}

// startSellerOnboarding starts a seller's onboarding under the sellers
// policy, once per seller id.
func (s *server) startSellerOnboarding(ctx context.Context, in *startSellerInput) (*sellerOutput, error) {
	if err := checkBodyText(in.Body); err != nil {
		return nil, err
	}
	b := in.Body
	for i, id := range b.Identity.DocumentIDs {
		if strings.TrimSpace(id) == "" {
			return nil, newProblem(http.StatusUnprocessableEntity, "some fields are missing or invalid",
				fieldProblem{Field: "identity.document_ids[" + strconv.Itoa(i) + "]", Message: "must not be empty"})
		}
	}
	onboarding := sellers.OnboardingInput{
		SellerID: b.SellerID, Region: b.Region,
		Seller: vocab.Customer{ID: b.SellerID, Email: b.Seller.Email, Name: b.Seller.Name, Locale: string(b.Seller.Locale)},
		Identity: sellers.Identity{LegalName: b.Identity.LegalName, Country: b.Identity.Country,
			DocumentIDs: b.Identity.DocumentIDs, PayoutAccountLast4: b.Identity.PayoutAccountLast4},
		Policy: s.sellersPolicy(), StartedAt: time.Now().UTC(), StartedBy: callerFrom(ctx).actor(),
	}
	if err := onboarding.Validate(); err != nil {
		return nil, s.caseError(ctx, "", err)
	}
	location := "/v1/sellers/" + b.SellerID
	workflowID := sellers.OnboardingWorkflowID(b.SellerID)
	// A seller's id is never reused: an onboarding that ever ran answers
	// as the seller now is, whatever this request says.
	_, err := s.temporal.DescribeWorkflowExecution(ctx, workflowID, "")
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		v, err := s.existingSeller(ctx, b.SellerID)
		if err != nil {
			return nil, err
		}
		return &sellerOutput{Status: http.StatusOK, Location: location, Body: v}, nil
	case !errors.As(err, &notFound):
		return nil, s.caseError(ctx, "", err)
	}
	if _, err := vocab.StartOnce(ctx, s.temporal, sellers.StartOptions(onboarding, s.taskQueue),
		sellers.WorkflowSellerOnboarding, onboarding); err != nil {
		return nil, s.caseError(ctx, "", err)
	}
	// A new seller: its first state is known from its input, so the start
	// is one round trip and no query; a concurrent start of the same
	// seller, which started nothing, answers the same.
	v, err := s.withHolds(ctx, initialSellerView(onboarding))
	if err != nil {
		return nil, err
	}
	return &sellerOutput{Status: http.StatusCreated, Location: location, Body: v}, nil
}

// initialSellerView answers the seller as its onboarding starts: every
// step pending, due its policy's time after the start, and the identity
// check about to hold the payouts (or to start, when none are held).
func initialSellerView(in sellers.OnboardingInput) sellers.SellerView {
	steps := make([]sellers.Step, len(in.Policy.Steps))
	for i, p := range in.Policy.Steps {
		due := in.StartedAt.Add(p.Due)
		steps[i] = sellers.Step{Name: p.Name, Status: sellers.StepPending, DueAt: due, EscalateAt: due.Add(p.EscalateAfter)}
	}
	status := sellers.VerificationChecking
	if in.Policy.Verification.HoldPayouts {
		status = sellers.VerificationHolding
	}
	return sellers.SellerView{
		SellerID: in.SellerID, Region: in.Region, Status: sellers.SellerStatusOnboarding, Steps: steps,
		Verification: sellers.VerificationStatus{Status: status, Actor: vocab.SystemActor, At: in.StartedAt},
		StartedAt:    in.StartedAt, UpdatedAt: in.StartedAt,
	}
}

// existingSeller answers a seller whose onboarding exists: from the read
// model, else (not projected yet) from its running workflow.
func (s *server) existingSeller(ctx context.Context, id string) (sellerView, error) {
	v, err := s.readSeller(ctx, id)
	var p *problem
	if !errors.As(err, &p) || p.Status != http.StatusNotFound {
		return v, err
	}
	var view sellers.SellerView
	if err := s.queryRunning(ctx, sellers.OnboardingWorkflowID(id), sellers.QuerySeller, &view); err != nil {
		if errors.Is(err, errNotRunning) {
			return sellerView{}, newProblem(http.StatusConflict, "the onboarding of seller "+id+" has ended and left no record")
		}
		return sellerView{}, s.caseError(ctx, "", err)
	}
	view.Timeline = nil
	return s.withHolds(ctx, view)
}

// getSeller answers a seller from the read model, with its timeline.
func (s *server) getSeller(ctx context.Context, in *SellerIDParam) (*sellerOutput, error) {
	v, err := s.readSeller(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if v.Timeline, err = s.store.SellerTimeline(ctx, in.ID); err != nil {
		return nil, s.sellerStoreError(ctx, in.ID, err)
	}
	return &sellerOutput{Status: http.StatusOK, Body: v}, nil
}

// readSeller answers seller id from the read model with its holds, open
// cases and rates; 404 when it is not there.
func (s *server) readSeller(ctx context.Context, id string) (sellerView, error) {
	rec, err := s.store.Seller(ctx, id)
	if err != nil {
		return sellerView{}, s.sellerStoreError(ctx, id, err)
	}
	return s.withRecords(ctx, rec.View, rec.Holds)
}

// withHolds answers view with the seller's holds, open cases and rates
// from the read model, for a seller the read model may not have yet.
func (s *server) withHolds(ctx context.Context, view sellers.SellerView) (sellerView, error) {
	holds, err := s.store.PayoutHolds(ctx, view.SellerID)
	if err != nil {
		return sellerView{}, s.caseError(ctx, "", err)
	}
	return s.withRecords(ctx, view, holds)
}

// withRecords answers view with holds and the seller's open cases and
// rates from the read model.
func (s *server) withRecords(ctx context.Context, view sellers.SellerView, holds []vocab.PayoutHold) (sellerView, error) {
	v := sellerView{SellerView: view, Holds: holds}
	var err error
	if v.OpenCases, err = s.store.SellerOpenCases(ctx, view.SellerID); err != nil {
		return v, s.sellerStoreError(ctx, view.SellerID, err)
	}
	if v.Rates, err = s.store.SellerRates(ctx, view.SellerID); err != nil {
		return v, s.sellerStoreError(ctx, view.SellerID, err)
	}
	v.Holds, v.OpenCases, v.Steps = orEmpty(v.Holds), orEmpty(v.OpenCases), orEmpty(v.Steps)
	return v, nil
}

// sellerStoreError maps what the read model answered about seller id.
func (s *server) sellerStoreError(ctx context.Context, id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return newProblem(http.StatusNotFound, "no seller "+id)
	}
	return s.caseError(ctx, "", err)
}

// orEmpty answers list, or an empty one for nil: lists are [] in JSON, never null.
func orEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

type sellerDecisionInput struct {
	SellerIDParam
	IdempotencyParam
	Body struct {
		Outcome sellerDecisionName `json:"outcome" doc:"pass verifies the seller and releases the verification's hold; fail closes selling and tells the seller the reason."`
		Reason  string             `json:"reason" minLength:"1" maxLength:"2000"`
	}
}

// verificationView is a seller's identity check as the API answers it.
type verificationView struct {
	sellers.VerificationView
}

type verificationOutput struct {
	Body verificationView
}

// decideSellerVerification is trust & safety's decision on an identity
// check the provider doubted; the verification refuses it (409) when no
// check awaits a review.
func (s *server) decideSellerVerification(ctx context.Context, in *sellerDecisionInput) (*verificationOutput, error) {
	v, err := actOnFlow[verificationView](ctx, s, sellers.VerificationWorkflowID(in.ID), sellers.UpdateDecide,
		in.IdempotencyKey, "verification of seller "+in.ID, sellers.VerificationDecision{
			Actor: callerFrom(ctx).actor(), Outcome: string(in.Body.Outcome), Reason: in.Body.Reason})
	return &verificationOutput{Body: v}, err
}

// HoldPathParams name a payout hold of a seller in a path.
type HoldPathParams struct {
	ID     string `path:"id" minLength:"1" maxLength:"100" pattern:"^[A-Za-z0-9_-]+$" doc:"The seller id."`
	HoldID string `path:"hold_id" minLength:"1" maxLength:"200" doc:"The payment provider's id of the hold, or its key."`
}

// holdChangeBody is what releasing and extending a hold both take.
type holdChangeBody struct {
	Reason string `json:"reason" minLength:"1" maxLength:"2000"`
	CaseID string `json:"case_id,omitempty" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"The seller_payment case the change was asked from; it hears of it."`
}

type releaseHoldInput struct {
	HoldPathParams
	IdempotencyParam
	Body holdChangeBody
}

type extendHoldInput struct {
	HoldPathParams
	IdempotencyParam
	Body struct {
		Reason string    `json:"reason" minLength:"1" maxLength:"2000"`
		CaseID string    `json:"case_id,omitempty" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"The seller_payment case the change was asked from; it hears of it."`
		Until  time.Time `json:"until" doc:"The hold's new end: later than now and than its current end, at most a year away."`
	}
}

// maxHoldExtension bounds how far away a hold's new end may be.
const maxHoldExtension = 366 * 24 * time.Hour

// holdView is a payout hold as the API answers it.
type holdView struct {
	vocab.PayoutHold
}

type holdOutput struct {
	Body holdView
}

// releasePayoutHold releases a hold on a seller's payouts through the
// workflow that placed it.
func (s *server) releasePayoutHold(ctx context.Context, in *releaseHoldInput) (*holdOutput, error) {
	return s.changeHold(ctx, in.HoldPathParams, in.IdempotencyKey, vocab.UpdateReleaseHold, in.Body, time.Time{})
}

// extendPayoutHold moves the end of a hold on a seller's payouts later,
// through the workflow that placed it.
func (s *server) extendPayoutHold(ctx context.Context, in *extendHoldInput) (*holdOutput, error) {
	now := time.Now()
	until := in.Body.Until.UTC()
	switch {
	case !until.After(now):
		return nil, newProblem(http.StatusUnprocessableEntity, "the new end of the hold is not in the future",
			fieldProblem{Field: "until", Message: "must be in the future"})
	case until.After(now.Add(maxHoldExtension)):
		return nil, newProblem(http.StatusUnprocessableEntity, "the new end of the hold is too far away",
			fieldProblem{Field: "until", Message: "must be at most a year away"})
	}
	return s.changeHold(ctx, in.HoldPathParams, in.IdempotencyKey, vocab.UpdateExtendHold,
		holdChangeBody{Reason: in.Body.Reason, CaseID: in.Body.CaseID}, until)
}

// changeHold runs update name (a release, or an extension to until) on
// the owner of the hold the path names, found in the read model, under
// the caller's Idempotency-Key, and answers the hold as the owner now has
// it. Every refusal comes before the update.
func (s *server) changeHold(ctx context.Context, path HoldPathParams, key, name string, b holdChangeBody, until time.Time) (*holdOutput, error) {
	if err := checkBodyText(b); err != nil {
		return nil, err
	}
	if why := cleanText(path.HoldID); why != "" {
		return nil, newProblem(http.StatusUnprocessableEntity, "the hold id cannot name a hold",
			fieldProblem{Field: "hold_id", Message: why})
	}
	if b.CaseID != "" {
		if err := s.checkSellerPaymentCase(ctx, b.CaseID); err != nil {
			return nil, err
		}
	}
	h, err := s.store.PayoutHold(ctx, path.ID, path.HoldID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, newProblem(http.StatusNotFound, "no payout hold "+path.HoldID+" of seller "+path.ID)
	}
	if err != nil {
		return nil, s.caseError(ctx, "", err)
	}
	switch h.State {
	case vocab.PayoutHoldReleased:
		return nil, newProblem(http.StatusConflict, "the hold is released already")
	case vocab.PayoutHoldRefused:
		return nil, newProblem(http.StatusConflict, "the payment provider refused this hold: nothing is held")
	}
	if !until.IsZero() && h.Until != nil && !until.After(*h.Until) {
		return nil, newProblem(http.StatusUnprocessableEntity, "the new end of the hold does not extend it",
			fieldProblem{Field: "until", Message: "must be later than the hold's current end, " + h.Until.Format(time.RFC3339)})
	}
	holdID := h.ID
	if holdID == "" { // the provider has not answered an id yet: the key names it
		holdID = h.Key
	}
	change := vocab.HoldChange{Actor: callerFrom(ctx).actor(), HoldID: holdID, Reason: b.Reason, Until: until, CaseID: b.CaseID}
	var answer json.RawMessage
	if err := s.runUpdate(ctx, h.Owner, name, scopedKey(ctx, key), change, &answer); err != nil {
		return nil, s.flowError(ctx, h.Owner, "owner "+h.Owner+" of hold "+path.HoldID, err)
	}
	if changed, ok := holdOfAnswer(answer, h.Key); ok {
		return &holdOutput{Body: holdView{changed}}, nil
	}
	// The owner answered something else: the read model has the hold as
	// the owner last projected it.
	if h, err = s.store.PayoutHold(ctx, path.ID, h.Key); err != nil {
		return nil, s.caseError(ctx, "", err)
	}
	return &holdOutput{Body: holdView{h}}, nil
}

// holdOfAnswer finds the hold key in an owner's answer to a hold change:
// the hold itself, or a view holding it as "hold" (the verification's).
func holdOfAnswer(answer json.RawMessage, key string) (vocab.PayoutHold, bool) {
	var h vocab.PayoutHold
	if json.Unmarshal(answer, &h) == nil && h.Key == key {
		return h, true
	}
	var wrapped struct {
		Hold *vocab.PayoutHold `json:"hold"`
	}
	if json.Unmarshal(answer, &wrapped) == nil && wrapped.Hold != nil && wrapped.Hold.Key == key {
		return *wrapped.Hold, true
	}
	return vocab.PayoutHold{}, false
}

// checkSellerPaymentCase refuses (422 on case_id) a case that is not a
// seller_payment case of the read model.
func (s *server) checkSellerPaymentCase(ctx context.Context, id string) error {
	c, err := s.store.GetCase(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return newProblem(http.StatusUnprocessableEntity, "no case "+id,
			fieldProblem{Field: "case_id", Message: "names no case"})
	case err != nil:
		return s.caseError(ctx, "", err)
	case c.Category != vocab.CategorySellerPayment:
		return newProblem(http.StatusUnprocessableEntity, "case "+id+" is no seller_payment case",
			fieldProblem{Field: "case_id", Message: "must be a seller_payment case, not " + string(c.Category)})
	}
	return nil
}

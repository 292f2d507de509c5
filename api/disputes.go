package main

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"handoff/workflows/cases"
	"handoff/workflows/disputes"
)

// Disputes: a dispute case opens a buyer–seller dispute (a Workflow Update
// of the case, which starts dispute/<id> as its child); the seller answers
// and the buyer takes or leaves an offer through the marketplace, trust &
// safety decides, either party appeals once. Each action is a Workflow
// Update of dispute/<id>, answered with the dispute's view.

type (
	// disputeReasonName is why a buyer disputes an order, from the
	// workflow's own list.
	disputeReasonName string
	// disputeOutcomeName is what trust & safety may decide, from the
	// workflow's own list.
	disputeOutcomeName string
)

// Schema lists every dispute reason.
func (disputeReasonName) Schema(huma.Registry) *huma.Schema { return enumSchema(disputes.Reasons) }

// Schema lists every outcome of a decision.
func (disputeOutcomeName) Schema(huma.Registry) *huma.Schema { return enumSchema(disputes.Outcomes) }

type openDisputeBody struct {
	OrderID      string            `json:"order_id,omitempty" maxLength:"100" doc:"The disputed order; absent takes the case's."`
	SellerID     string            `json:"seller_id" minLength:"1" maxLength:"100"`
	SellerRegion string            `json:"seller_region" minLength:"1" maxLength:"50" doc:"The seller's region."`
	Amount       moneyBody         `json:"amount" doc:"What the buyer disputes: the seller's funds are held for it."`
	Reason       disputeReasonName `json:"reason"`
	Description  string            `json:"description" minLength:"1" maxLength:"20000" doc:"The buyer's claim."`
}

type openDisputeInput struct {
	CaseIDParam
	IdempotencyParam
	Body openDisputeBody
}

type disputeStartBody struct {
	CaseID  string            `json:"case_id"`
	Dispute cases.AccountFlow `json:"dispute"`
}

type disputeStartOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     disputeStartBody
}

// openDisputeDoc says where the dispute's windows and calendar come from.
const openDisputeDoc = "Opens a dispute on a dispute case: the case fills the dispute's id, the buyer (its customer), " +
	"its delivery, its evidence files and, when order_id is absent, the order. " +
	"The windows are the disputes section of the SLA policy file (by default 3 business days for the seller, " +
	"a full refund when they stay silent, 72 hours for the buyer to answer an offer, 5 days of review, 30 days to appeal), " +
	"and the seller's business days count on the calendar the file names for seller_region (else its default calendar), " +
	"copied into the dispute when it opens."

// openDispute opens a dispute on a case under the policy file's dispute
// terms and the seller region's calendar.
func (s *server) openDispute(ctx context.Context, in *openDisputeInput) (*disputeStartOutput, error) {
	if err := checkBodyText(in.Body); err != nil {
		return nil, err
	}
	cal, err := s.book.SellerCalendar(in.Body.SellerRegion, time.Now())
	if err != nil {
		return nil, s.caseError(ctx, "", err)
	}
	b := in.Body
	c := callerFrom(ctx)
	out, err := s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateOpenDispute, cases.DisputeRequest{
		Actor: c.actor(), ActorTeam: c.team(), Dispute: disputes.Input{
			OrderID: b.OrderID, SellerID: b.SellerID, SellerRegion: b.SellerRegion, Amount: b.Amount.money(),
			Reason: string(b.Reason), Description: b.Description, Policy: disputes.PolicyFrom(s.book.Disputes(), cal),
		}})
	if err != nil {
		return nil, err
	}
	d := out.Body.Dispute
	if d == nil { // the case answered without one: cannot happen after an opened dispute
		return nil, newProblem(http.StatusServiceUnavailable, "the dispute did not open; retry with the same Idempotency-Key")
	}
	return &disputeStartOutput{Status: http.StatusCreated, Location: "/v1/disputes/" + d.ID,
		Body: disputeStartBody{CaseID: in.ID, Dispute: *d}}, nil
}

// DisputeIDParam is a dispute id in a path.
type DisputeIDParam struct {
	ID string `path:"id" minLength:"1" maxLength:"80" pattern:"^[A-Za-z0-9_-]+$" doc:"The dispute id."`
}

// disputeView is a dispute as the API answers it: its own name in the
// document, beside the return's view.
type disputeView struct {
	disputes.View
}

type disputeOutput struct {
	Body disputeView
}

// getDispute answers a dispute, with its timeline, as its workflow sees it.
func (s *server) getDispute(ctx context.Context, in *DisputeIDParam) (*disputeOutput, error) {
	v, err := readFlow[disputeView](ctx, s, disputes.WorkflowID(in.ID), disputes.QueryDispute, "dispute "+in.ID)
	return &disputeOutput{Body: v}, err
}

// actOnDispute runs an update on dispute id under the caller's
// Idempotency-Key and answers the dispute as it now is.
func (s *server) actOnDispute(ctx context.Context, id, key, name string, arg any) (*disputeOutput, error) {
	v, err := actOnFlow[disputeView](ctx, s, disputes.WorkflowID(id), name, key, "dispute "+id, arg)
	return &disputeOutput{Body: v}, err
}

type sellerResponseInput struct {
	DisputeIDParam
	IdempotencyParam
	Body struct {
		Kind        string     `json:"kind" enum:"accept,offer_partial,contest" doc:"accept refunds the buyer in full; offer_partial offers them amount; contest sends the dispute to trust & safety with the statement."`
		Amount      *moneyBody `json:"amount,omitempty" doc:"The partial offer, less than the disputed amount, in its currency; for offer_partial."`
		Statement   string     `json:"statement,omitempty" maxLength:"20000" doc:"The seller's side; required to contest."`
		EvidenceIDs []string   `json:"evidence_ids,omitempty" maxItems:"50" doc:"The case's evidence files that support a contest."`
	}
}

// respondToDispute is the seller's answer, relayed by the marketplace,
// taken until the seller's deadline.
func (s *server) respondToDispute(ctx context.Context, in *sellerResponseInput) (*disputeOutput, error) {
	return s.actOnDispute(ctx, in.ID, in.IdempotencyKey, disputes.UpdateSellerRespond, disputes.SellerResponse{
		Actor: callerFrom(ctx).actor(), Kind: in.Body.Kind, Amount: moneyOf(in.Body.Amount),
		Statement: in.Body.Statement, EvidenceIDs: in.Body.EvidenceIDs})
}

type buyerAnswerInput struct {
	DisputeIDParam
	IdempotencyParam
	Body struct {
		Answer string `json:"answer" enum:"accept_offer,decline_offer" doc:"Declining sends the dispute to trust & safety."`
	}
}

// answerDisputeOffer is the buyer's answer to the seller's partial offer,
// taken until the offer's deadline.
func (s *server) answerDisputeOffer(ctx context.Context, in *buyerAnswerInput) (*disputeOutput, error) {
	return s.actOnDispute(ctx, in.ID, in.IdempotencyKey, disputes.UpdateBuyerAnswer, disputes.BuyerAnswer{
		Actor: callerFrom(ctx).actor(), Answer: in.Body.Answer})
}

type decideDisputeInput struct {
	DisputeIDParam
	IdempotencyParam
	Body struct {
		Outcome disputeOutcomeName `json:"outcome"`
		Amount  *moneyBody         `json:"amount,omitempty" doc:"The refund of a refund_partial, up to the disputed amount, in its currency."`
		Reason  string             `json:"reason" minLength:"1" maxLength:"2000"`
	}
}

// decideDispute is trust & safety's decision on a dispute under review.
func (s *server) decideDispute(ctx context.Context, in *decideDisputeInput) (*disputeOutput, error) {
	return s.actOnDispute(ctx, in.ID, in.IdempotencyKey, disputes.UpdateDecide, disputes.DecideInput{
		Actor: callerFrom(ctx).actor(), Outcome: string(in.Body.Outcome), Amount: moneyOf(in.Body.Amount),
		Reason: in.Body.Reason})
}

type appealDisputeInput struct {
	DisputeIDParam
	IdempotencyParam
	Body struct {
		Party  string `json:"party" enum:"buyer,seller" doc:"Who appeals."`
		Reason string `json:"reason" minLength:"1" maxLength:"2000"`
	}
}

// appealDispute takes the one appeal of a dispute's life, within the
// appeal window of its latest decision.
func (s *server) appealDispute(ctx context.Context, in *appealDisputeInput) (*disputeOutput, error) {
	return s.actOnDispute(ctx, in.ID, in.IdempotencyKey, disputes.UpdateAppeal, disputes.AppealInput{
		Actor: callerFrom(ctx).actor(), Party: in.Body.Party, Reason: in.Body.Reason})
}

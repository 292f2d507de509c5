package main

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"handoff/workflows/cases"
	"handoff/workflows/returns"
	"handoff/workflows/vocab"
)

// Returns: a return_request or defective_item case starts the return of an
// item (a Workflow Update of the case, which starts return/<id> as its
// child); the seller inspects it through the marketplace, trust & safety
// approves a large refund, the buyer or an agent cancels it before it
// ships. Each action is a Workflow Update of return/<id>, answered with
// the return's view.

type (
	// returnReasonName is why a buyer returns an item, from the
	// workflow's own list.
	returnReasonName string
	// returnOutcomeName is what an inspection decides, from the
	// workflow's own list.
	returnOutcomeName string
)

// Schema lists every return reason.
func (returnReasonName) Schema(huma.Registry) *huma.Schema { return enumSchema(returns.Reasons) }

// Schema lists every inspection outcome.
func (returnOutcomeName) Schema(huma.Registry) *huma.Schema { return enumSchema(returns.Outcomes) }

// moneyBody is an amount as a request sends it: minor units of an ISO 4217
// currency, never a float.
type moneyBody struct {
	Minor    int64  `json:"minor" minimum:"1" doc:"In minor units: cents, or yen for JPY."`
	Currency string `json:"currency" pattern:"^[A-Z]{3}$" doc:"ISO 4217, upper case: EUR."`
}

func (m moneyBody) money() vocab.Money { return vocab.Money{Minor: m.Minor, Currency: m.Currency} }

// moneyOf answers m's amount, or none when m is absent.
func moneyOf(m *moneyBody) vocab.Money {
	if m == nil {
		return vocab.Money{}
	}
	return m.money()
}

// addressBody is a postal address a label is made for.
type addressBody struct {
	Name       string `json:"name" minLength:"1" maxLength:"200"`
	Line1      string `json:"line1" minLength:"1" maxLength:"200"`
	Line2      string `json:"line2,omitempty" maxLength:"200"`
	City       string `json:"city" minLength:"1" maxLength:"100"`
	PostalCode string `json:"postal_code" minLength:"1" maxLength:"20"`
	Region     string `json:"region,omitempty" maxLength:"100"`
	Country    string `json:"country" pattern:"^[A-Z]{2}$" doc:"ISO 3166-1 alpha-2, upper case: FR."`
}

func (a addressBody) address() vocab.Address {
	return vocab.Address{Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City, PostalCode: a.PostalCode,
		Region: a.Region, Country: a.Country}
}

type returnItemBody struct {
	SKU        string `json:"sku" minLength:"1" maxLength:"100"`
	Name       string `json:"name" minLength:"1" maxLength:"200"`
	Returnable bool   `json:"returnable" doc:"False for an item sold as final sale: the return then ends ineligible and the buyer is told why."`
}

type startReturnBody struct {
	OrderID     string           `json:"order_id,omitempty" maxLength:"100" doc:"The order the item was bought in; absent takes the case's."`
	SellerID    string           `json:"seller_id" minLength:"1" maxLength:"100"`
	Item        returnItemBody   `json:"item"`
	Paid        moneyBody        `json:"paid" doc:"What the buyer paid for the item: the most a refund gives back."`
	DeliveredAt time.Time        `json:"delivered_at" doc:"When the item was delivered: the return window counts from it."`
	Reason      returnReasonName `json:"reason"`
	Description string           `json:"description,omitempty" maxLength:"20000" doc:"The buyer's own words."`
	From        addressBody      `json:"from" doc:"The buyer's address, where the parcel leaves from."`
	To          addressBody      `json:"to" doc:"The seller's return address."`
	WeightGrams int              `json:"weight_grams" minimum:"1" maximum:"1000000"`
}

type startReturnInput struct {
	CaseIDParam
	IdempotencyParam
	Body startReturnBody
}

type returnStartBody struct {
	CaseID string            `json:"case_id"`
	Return cases.AccountFlow `json:"return"`
}

type returnStartOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     returnStartBody
}

// startReturnDoc says where the return's policy comes from.
const startReturnDoc = "Starts the return of an item on a return_request or defective_item case: the case fills the return's id, " +
	"the buyer (its customer) and, when order_id is absent, the order. " +
	"The policy is the returns section of the SLA policy file (by default 30 days after delivery to ask, 14 to ship " +
	"with a reminder 3 days before, 21 for the parcel to arrive, 48 hours for the seller to inspect and a full refund " +
	"when they do not, trust_safety's approval above 500.00 in the order's currency), copied into the return when it starts."

// startReturn starts a return on a case under the policy file's return terms.
func (s *server) startReturn(ctx context.Context, in *startReturnInput) (*returnStartOutput, error) {
	if err := checkBodyText(in.Body); err != nil {
		return nil, err
	}
	b := in.Body
	c := callerFrom(ctx)
	out, err := s.act(ctx, in.ID, in.IdempotencyKey, cases.UpdateStartReturn, cases.ReturnRequest{
		Actor: c.actor(), ActorTeam: c.team(), Return: returns.Input{
			OrderID: b.OrderID, SellerID: b.SellerID,
			Item: returns.Item{SKU: b.Item.SKU, Name: b.Item.Name, Returnable: b.Item.Returnable},
			Paid: b.Paid.money(), DeliveredAt: b.DeliveredAt.UTC(), Reason: string(b.Reason), Description: b.Description,
			From: b.From.address(), To: b.To.address(), WeightGrams: b.WeightGrams,
			Policy: returns.PolicyFrom(s.book.Returns(), b.Paid.Currency),
		}})
	if err != nil {
		return nil, err
	}
	r := out.Body.Return
	if r == nil { // the case answered without one: cannot happen after a started return
		return nil, newProblem(http.StatusServiceUnavailable, "the return did not start; retry with the same Idempotency-Key")
	}
	return &returnStartOutput{Status: http.StatusCreated, Location: "/v1/returns/" + r.ID,
		Body: returnStartBody{CaseID: in.ID, Return: *r}}, nil
}

// ReturnIDParam is a return id in a path.
type ReturnIDParam struct {
	ID string `path:"id" minLength:"1" maxLength:"80" pattern:"^[A-Za-z0-9_-]+$" doc:"The return id."`
}

// returnView is a return as the API answers it: its own name in the
// document, beside the dispute's view.
type returnView struct {
	returns.View
}

type returnOutput struct {
	Body returnView
}

// getReturn answers a return, with its timeline, as its workflow sees it.
func (s *server) getReturn(ctx context.Context, in *ReturnIDParam) (*returnOutput, error) {
	v, err := readFlow[returnView](ctx, s, returns.WorkflowID(in.ID), returns.QueryReturn, "return "+in.ID)
	return &returnOutput{Body: v}, err
}

// actOnReturn runs an update on return id under the caller's
// Idempotency-Key and answers the return as it now is.
func (s *server) actOnReturn(ctx context.Context, id, key, name string, arg any) (*returnOutput, error) {
	v, err := actOnFlow[returnView](ctx, s, returns.WorkflowID(id), name, key, "return "+id, arg)
	return &returnOutput{Body: v}, err
}

// readFlow answers the view a child workflow of a case (a return, a
// dispute) answers to query; what names it in errors.
func readFlow[V any](ctx context.Context, s *server, workflowID, query, what string) (V, error) {
	var v V
	if err := s.queryFlow(ctx, workflowID, query, &v); err != nil {
		return v, s.flowError(ctx, workflowID, what, err)
	}
	return v, nil
}

// actOnFlow runs update name on a child workflow of a case under the
// caller's Idempotency-Key key and answers its view as it now is.
func actOnFlow[V any](ctx context.Context, s *server, workflowID, name, key, what string, arg any) (V, error) {
	var v V
	if err := checkBodyText(arg); err != nil {
		return v, err
	}
	if err := s.runUpdate(ctx, workflowID, name, scopedKey(ctx, key), arg, &v); err != nil {
		return v, s.flowError(ctx, workflowID, what, err)
	}
	return v, nil
}

type inspectReturnInput struct {
	ReturnIDParam
	IdempotencyParam
	Body struct {
		Outcome returnOutcomeName `json:"outcome"`
		Amount  *moneyBody        `json:"amount,omitempty" doc:"The refund of a refund_partial, up to what was paid, in its currency; the other outcomes take none."`
		Reason  string            `json:"reason,omitempty" maxLength:"2000" doc:"Required for refund_partial and reject; a rejection's is told to the buyer."`
	}
}

// inspectReturn is the seller's inspection of the received item, relayed
// by the marketplace; the return refuses it (409) before the item arrives.
func (s *server) inspectReturn(ctx context.Context, in *inspectReturnInput) (*returnOutput, error) {
	return s.actOnReturn(ctx, in.ID, in.IdempotencyKey, returns.UpdateInspect, returns.InspectInput{
		Actor: callerFrom(ctx).actor(), Outcome: returns.Outcome(in.Body.Outcome), Amount: moneyOf(in.Body.Amount),
		Reason: in.Body.Reason})
}

type approveReturnInput struct {
	ReturnIDParam
	IdempotencyParam
	Body struct {
		Approve bool   `json:"approve" doc:"True lets the refund be paid; false rejects the return."`
		Reason  string `json:"reason,omitempty" maxLength:"2000" doc:"Required to deny; the buyer is told it."`
	}
}

// approveReturnRefund is trust & safety's answer to a refund above the
// approval limit; the return refuses it (409) when no refund awaits one.
func (s *server) approveReturnRefund(ctx context.Context, in *approveReturnInput) (*returnOutput, error) {
	return s.actOnReturn(ctx, in.ID, in.IdempotencyKey, returns.UpdateApproveRefund, returns.ApprovalInput{
		Actor: callerFrom(ctx).actor(), Approve: in.Body.Approve, Reason: in.Body.Reason})
}

type cancelReturnInput struct {
	ReturnIDParam
	IdempotencyParam
	Body struct {
		Reason string `json:"reason,omitempty" maxLength:"2000"`
	}
}

// cancelReturn ends a return before its item is shipped.
func (s *server) cancelReturn(ctx context.Context, in *cancelReturnInput) (*returnOutput, error) {
	return s.actOnReturn(ctx, in.ID, in.IdempotencyKey, returns.UpdateCancel, returns.CancelInput{
		Actor: callerFrom(ctx).actor(), Reason: in.Body.Reason})
}

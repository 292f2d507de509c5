package main

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"handoff/workflows/fraud"
	"handoff/workflows/sla"
)

// Fraud watch: the marketplace reports what buyers and sellers do (a
// signal-with-start of fraud/<party>-<id>, which keeps rolling windows and
// opens one fraud_report case per burst, holding a seller's payouts);
// trust & safety reads a watch and decides its open burst (a Workflow
// Update of the watch, answered once carried out).

type (
	// behaviourKindName is a kind of behaviour, from the workflow's own list.
	behaviourKindName string
	// fraudPartyName is buyer or seller.
	fraudPartyName string
	// fraudOutcomeName is what a fraud decision does with the hold.
	fraudOutcomeName string
)

// Schema lists every kind of behaviour.
func (behaviourKindName) Schema(huma.Registry) *huma.Schema { return enumSchema(fraud.Kinds) }

// Schema lists the parties a watch is kept on.
func (fraudPartyName) Schema(huma.Registry) *huma.Schema { return enumSchema(fraud.Parties) }

// Schema lists every outcome of a fraud decision.
func (fraudOutcomeName) Schema(huma.Registry) *huma.Schema { return enumSchema(fraud.Outcomes) }

// registerFraud adds the fraud watch's operations; op builds an operation
// as register does (its roles from access).
func (s *server) registerFraud(api huma.API, op func(id, method, path, summary string, status int) huma.Operation) {
	report := op("report-behaviour", http.MethodPost, "/v1/behaviour-signals", "Report a buyer's or seller's behaviour to their fraud watch", http.StatusAccepted)
	report.Description = reportBehaviourDoc + " " + report.Description
	huma.Register(api, report, s.reportBehaviour)
	huma.Register(api, op("get-fraud-watch", http.MethodGet, "/v1/fraud/{party}/{id}", "Read a party's fraud watch", http.StatusOK), s.getFraudWatch)
	huma.Register(api, op("decide-fraud-review", http.MethodPost, "/v1/fraud/{party}/{id}/decision", "Decide the fraud review of a party's open burst", http.StatusOK), s.decideFraudReview)
}

// reportBehaviourDoc says what the watch does with a signal and where its
// rules come from.
const reportBehaviourDoc = "Counts the behaviour in the party's fraud watch, starting it when the party has none. " +
	"When a rule fires (by default 3 disputes lost or 3 chargebacks within 30 days, 5 refund requests within 7 days, " +
	"3 account signals within a day, or a new payout destination followed by a large payout within 48 hours) " +
	"the watch opens one fraud_report case for the burst and, for a seller, holds their payouts for 14 days " +
	"while trust & safety reviews it (72 hours). A repeated id is counted once."

type behaviourBody struct {
	Party   fraudPartyName    `json:"party"`
	PartyID string            `json:"party_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_.-]+$" doc:"The marketplace account id of the buyer or seller."`
	Kind    behaviourKindName `json:"kind"`
	ID      string            `json:"id" minLength:"1" maxLength:"200" doc:"The marketplace's id of what it saw; a repeated id is counted once."`
	At      *time.Time        `json:"at,omitempty" doc:"When it happened; now when absent or in the future."`
	Detail  string            `json:"detail,omitempty" maxLength:"2000" doc:"What was seen: the order, the dispute, the new payout account's last digits."`
	Amount  *moneyBody        `json:"amount,omitempty" doc:"The money concerned (a refund, a payout), when there is one."`
}

type behaviourInput struct {
	Body behaviourBody
}

type behaviourAccepted struct {
	Party   string `json:"party"`
	PartyID string `json:"party_id"`
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	// Watch is the workflow that counts the party's behaviour.
	Watch string `json:"watch" doc:"The workflow id of the party's fraud watch."`
}

type behaviourOutput struct {
	Status int
	Body   behaviourAccepted
}

// reportBehaviour hands the behaviour to the party's watch under the
// shipped fraud policy, which the watch copies when it starts.
func (s *server) reportBehaviour(ctx context.Context, in *behaviourInput) (*behaviourOutput, error) {
	if err := checkBodyText(in.Body); err != nil {
		return nil, err
	}
	b := in.Body
	sig := fraud.Behaviour{ID: b.ID, Kind: string(b.Kind), Detail: b.Detail, Amount: moneyOf(b.Amount),
		ReportedBy: callerFrom(ctx).actor()}
	if b.At != nil {
		sig.At = b.At.UTC()
	}
	r := fraud.Report{Party: string(b.Party), PartyID: b.PartyID, Behaviour: sig}
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	id, err := fraud.SignalWithStart(ctx, s.temporal, s.taskQueue, s.fraudPolicy(), r)
	if err != nil {
		return nil, s.flowError(ctx, id, "fraud watch of "+r.Party+" "+r.PartyID, err)
	}
	return &behaviourOutput{Status: http.StatusAccepted, Body: behaviourAccepted{
		Party: r.Party, PartyID: r.PartyID, Kind: sig.Kind, ID: sig.ID, Watch: id}}, nil
}

// FraudPartyParam names a party's fraud watch in a path.
type FraudPartyParam struct {
	Party string `path:"party" enum:"buyer,seller" doc:"Whose watch: a buyer's or a seller's."`
	ID    string `path:"id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_.-]+$" doc:"The marketplace account id of the buyer or seller."`
}

func (p FraudPartyParam) workflowID() string { return fraud.WorkflowID(p.Party, p.ID) }

func (p FraudPartyParam) what() string { return "fraud watch of " + p.Party + " " + p.ID }

// fraudView is a watch as the API answers it: its own name in the document.
type fraudView struct {
	fraud.View
}

type fraudOutput struct {
	Body fraudView
}

// getFraudWatch answers a watch, with its rule counts and timeline, as its
// workflow sees it.
func (s *server) getFraudWatch(ctx context.Context, in *FraudPartyParam) (*fraudOutput, error) {
	v, err := readFlow[fraudView](ctx, s, in.workflowID(), fraud.QueryWatch, in.what())
	return &fraudOutput{Body: v}, err
}

type decideFraudInput struct {
	FraudPartyParam
	IdempotencyParam
	Body struct {
		Outcome fraudOutcomeName `json:"outcome" doc:"release clears the party and releases a held payout hold; keep keeps it until someone releases it."`
		Suspend bool             `json:"suspend,omitempty" doc:"Also lock the party's account and, for a seller, suspend their selling."`
		Reason  string           `json:"reason" minLength:"1" maxLength:"2000"`
	}
}

// decideFraudReview is trust & safety's decision on the watch's open
// burst; the watch refuses it (409) when no burst awaits one.
func (s *server) decideFraudReview(ctx context.Context, in *decideFraudInput) (*fraudOutput, error) {
	v, err := actOnFlow[fraudView](ctx, s, in.workflowID(), fraud.UpdateDecide, in.IdempotencyKey, in.what(), fraud.Decision{
		Actor: callerFrom(ctx).actor(), Outcome: string(in.Body.Outcome), Suspend: in.Body.Suspend, Reason: in.Body.Reason})
	return &fraudOutput{Body: v}, err
}

// fraudPolicy answers the rules new watches start under: the fraud
// section of the SLA policy file (the shipped defaults when it has none).
func (s *server) fraudPolicy() fraud.Policy {
	if s.book == nil {
		return fraud.PolicyFrom(sla.DefaultFraudTerms)
	}
	return fraud.PolicyFrom(s.book.Fraud())
}

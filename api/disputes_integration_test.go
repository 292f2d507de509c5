//go:build integration

package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/disputes"
	"handoff/workflows/vocab"
)

// validDisputeBody is an open-dispute body the dispute takes, for an
// order of its own.
func validDisputeBody() openDisputeBody {
	return openDisputeBody{
		OrderID: "ord-" + unique(), SellerID: "seller-" + unique(), SellerRegion: "eu",
		Amount: moneyBody{Minor: 2500, Currency: "EUR"}, Reason: disputes.ReasonNotAsDescribed,
		Description: "The account was not the one advertised.",
	}
}

// disputeCase opens a dispute case as the marketplace for order.
func (s *caseStack) disputeCase(t *testing.T, order string) string {
	t.Helper()
	body := newCaseBody(vocab.CategoryDispute)
	body.OrderID = order
	return s.open(t, store.RoleIntegration, body).ID
}

// openDispute opens a dispute on case caseID as role, requires 201 and
// answers it; the dispute's workflow is terminated when t ends.
func (s *caseStack) openDispute(t *testing.T, role store.Role, caseID string, body openDisputeBody) disputeStartBody {
	t.Helper()
	r := s.as(t, role, http.MethodPost, "/v1/cases/"+caseID+"/disputes", body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r)
	var out disputeStartBody
	require.NoError(t, json.Unmarshal(r.Body, &out))
	require.Equal(t, "/v1/disputes/"+out.Dispute.ID, r.Header.Get("Location"))
	s.terminateFlowAtEnd(t, out.Dispute.WorkflowID)
	return out
}

// disputeOf decodes a dispute's view, requiring status.
func disputeOf(t *testing.T, r reply, status int) disputes.View {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r)
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	var v disputes.View
	require.NoError(t, json.Unmarshal(r.Body, &v))
	return v
}

// awaitDispute reads the dispute as admin until ok, and answers it.
func (s *caseStack) awaitDispute(t *testing.T, id string, ok func(disputes.View) bool) disputes.View {
	t.Helper()
	var v disputes.View
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		r, err := sendRequest(stacktest.Context(t), s.base, s.keys[store.RoleAdmin].Secret, http.MethodGet, "/v1/disputes/"+id, nil)
		require.NoError(ct, err)
		require.Equal(ct, http.StatusOK, r.Status, "%s", r)
		require.NoError(ct, json.Unmarshal(r.Body, &v))
		assert.True(ct, ok(v), "dispute %s is %s", id, v.Status)
	}, 30*time.Second, 100*time.Millisecond)
	return v
}

// awaitingSeller is a dispute whose opening is recorded: the seller's
// funds are held and the seller may answer.
func awaitingSeller(v disputes.View) bool {
	return v.Status == disputes.StatusAwaitingSeller &&
		slices.ContainsFunc(v.Timeline, func(e vocab.Event) bool { return e.Kind == disputes.EventOpened })
}

func TestDisputeTheSellerAcceptsRefundsTheBuyerOnceOverHTTP(t *testing.T) {
	s := newCaseStack(t)
	order := "ord-" + unique()
	caseID := s.disputeCase(t, order)
	body := validDisputeBody()
	body.OrderID = "" // the case's

	started := s.openDispute(t, store.RoleIntegration, caseID, body)
	assert.Equal(t, caseID, started.CaseID)
	assert.True(t, started.Dispute.Running)
	id := started.Dispute.ID
	if c := s.get(t, caseID); assert.NotNil(t, c.Dispute, "the case shows its dispute") {
		assert.Equal(t, id, c.Dispute.ID)
	}

	v := s.awaitDispute(t, id, awaitingSeller)
	assert.Equal(t, order, v.OrderID, "the dispute takes the case's order")
	assert.Equal(t, disputes.PartySeller, v.Awaiting)
	require.NotNil(t, v.RespondBy, "the seller has a deadline")
	assert.True(t, v.SellerDueAt.Equal(*v.RespondBy), "respond_by is the seller's deadline")
	assert.True(t, v.RespondBy.After(time.Now()))
	assert.Equal(t, disputes.HoldHeld, v.Funds.HoldState)

	// Trust & safety decides, support does not; nothing is decided to appeal.
	p := problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/disputes/"+id+"/decision",
		map[string]string{"outcome": "deny", "reason": "no proof"}), http.StatusForbidden)
	assert.Equal(t, "the agent role may not decide dispute", p.Detail)
	p = problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/disputes/"+id+"/appeal",
		map[string]string{"party": "seller", "reason": "unfair"}), http.StatusConflict)
	assert.Contains(t, p.Detail, "awaiting_seller")
	p = problemOf(t, s.as(t, store.RoleTrustSafety, http.MethodPost, "/v1/disputes/"+id+"/decision",
		map[string]string{"outcome": "deny", "reason": "no proof"}), http.StatusConflict)
	assert.Contains(t, p.Detail, "awaiting_seller")
	p = problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/disputes/"+id+"/seller-response",
		map[string]any{"kind": "offer_partial", "amount": map[string]any{"minor": 2500, "currency": "EUR"}}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"amount"}, fieldsOfProblem(p), "an offer is less than the disputed amount: %+v", p)
	now := disputeOf(t, s.as(t, store.RoleAdmin, http.MethodGet, "/v1/disputes/"+id, nil), http.StatusOK)
	assert.Equal(t, v.LastSeq, now.LastSeq, "a refused request changed the dispute")

	accepted := disputeOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/disputes/"+id+"/seller-response",
		map[string]string{"kind": "accept"}), http.StatusOK)
	require.NotNil(t, accepted.SellerResponse)
	assert.Equal(t, disputes.RespondAccept, accepted.SellerResponse.Kind)
	assert.Equal(t, s.actor(store.RoleIntegration), accepted.SellerResponse.Actor)

	resolved := s.awaitDispute(t, id, func(v disputes.View) bool { return v.Status == disputes.StatusResolved })
	require.NotNil(t, resolved.Decision)
	assert.Equal(t, disputes.OutcomeRefundFull, resolved.Decision.Outcome)
	assert.Equal(t, vocab.Money{Minor: 2500, Currency: "EUR"}, resolved.Funds.Refunded)

	ledger, err := stacktest.PaymentsLedger(stacktest.Context(t), s.cfg, order)
	require.NoError(t, err)
	var refunds []stacktest.LedgerMovement
	for _, m := range ledger {
		if m.Kind == "refund" {
			refunds = append(refunds, m)
		}
	}
	require.Len(t, refunds, 1, "exactly one refund for the order: %+v", ledger)
	assert.Equal(t, int64(2500), refunds[0].Amount.Minor)
}

func TestDisputeRefusalsAreProblemsThatChangeNothing(t *testing.T) {
	s := newCaseStack(t)

	// A login_failure case opens no dispute.
	other := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	p := problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/cases/"+other.ID+"/disputes", validDisputeBody()),
		http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"category"}, fieldsOfProblem(p), "%+v", p)
	s.requireUnchanged(t, other)

	caseID := s.disputeCase(t, "ord-"+unique())
	before := s.get(t, caseID)
	bad := validDisputeBody()
	bad.Reason = "buyers_remorse"
	p = problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/cases/"+caseID+"/disputes", bad), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"reason"}, fieldsOfProblem(p), "%+v", p)
	// A dispute case belongs to trust & safety: tier-1 support may open a
	// dispute only on a case handed to it, as for every case action.
	p = problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+caseID+"/disputes", validDisputeBody()), http.StatusForbidden)
	assert.Contains(t, p.Detail, "trust_safety")
	problemOf(t, s.as(t, store.RoleSecurity, http.MethodPost, "/v1/cases/"+caseID+"/disputes", validDisputeBody()), http.StatusForbidden)
	s.requireUnchanged(t, before)
	assert.Nil(t, s.get(t, caseID).Dispute)

	// Unknown disputes are 404.
	p = problemOf(t, s.as(t, store.RoleAdmin, http.MethodGet, "/v1/disputes/NONE-D1", nil), http.StatusNotFound)
	assert.Equal(t, "no dispute NONE-D1", p.Detail)
	problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/disputes/NONE-D1/seller-response",
		map[string]string{"kind": "accept"}), http.StatusNotFound)

	id := s.openDispute(t, store.RoleTrustSafety, caseID, validDisputeBody()).Dispute.ID
	v := s.awaitDispute(t, id, awaitingSeller)
	p = problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/disputes/"+id+"/appeal",
		map[string]string{"party": "buyer", "reason": "unfair"}), http.StatusConflict)
	assert.Contains(t, p.Detail, "awaiting_seller")
	p = problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/disputes/"+id+"/buyer-answer",
		map[string]string{"answer": "accept_offer"}), http.StatusConflict)
	assert.Contains(t, p.Detail, "awaiting_seller")
	p = problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/disputes/"+id+"/seller-response",
		map[string]string{"kind": "shrug"}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"kind"}, fieldsOfProblem(p))
	problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/disputes/"+id+"/seller-response",
		map[string]string{"kind": "accept"}), http.StatusForbidden)
	now := disputeOf(t, s.as(t, store.RoleAdmin, http.MethodGet, "/v1/disputes/"+id, nil), http.StatusOK)
	assert.Equal(t, v.LastSeq, now.LastSeq, "a refused request changed the dispute")
	assert.Equal(t, disputes.StatusAwaitingSeller, now.Status)

	// A second dispute while one runs is refused by the case.
	p = problemOf(t, s.as(t, store.RoleTrustSafety, http.MethodPost, "/v1/cases/"+caseID+"/disputes", validDisputeBody()), http.StatusConflict)
	assert.Contains(t, p.Detail, id)
}

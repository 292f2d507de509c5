//go:build integration

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/returns"
	"handoff/workflows/vocab"
)

// validReturnBody is a start-return body the return takes: a returnable
// item delivered three days ago, for an order of its own.
func validReturnBody() startReturnBody {
	return startReturnBody{
		OrderID: "ord-" + unique(), SellerID: "seller-" + unique(),
		Item:        returnItemBody{SKU: "HS-1", Name: "Headset", Returnable: true},
		Paid:        moneyBody{Minor: 4999, Currency: "EUR"},
		DeliveredAt: time.Now().Add(-72 * time.Hour).UTC(),
		Reason:      returns.ReasonDamaged, Description: "It arrived cracked.",
		From:        addressBody{Name: "Ada", Line1: "1 rue de la Paix", City: "Paris", PostalCode: "75002", Country: "FR"},
		To:          addressBody{Name: "Shop", Line1: "2 Hauptstrasse", City: "Berlin", PostalCode: "10115", Country: "DE"},
		WeightGrams: 800,
	}
}

// returnCase opens a return_request case as the marketplace for order.
func (s *caseStack) returnCase(t *testing.T, order string) string {
	t.Helper()
	body := newCaseBody(vocab.CategoryReturnRequest)
	body.OrderID = order
	return s.open(t, store.RoleIntegration, body).ID
}

// startReturn starts a return on case caseID as role, requires 201 and
// answers it; the return's workflow is terminated when t ends.
func (s *caseStack) startReturn(t *testing.T, role store.Role, caseID string, body startReturnBody, header ...string) returnStartBody {
	t.Helper()
	r := s.as(t, role, http.MethodPost, "/v1/cases/"+caseID+"/returns", body, header...)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r)
	var out returnStartBody
	require.NoError(t, json.Unmarshal(r.Body, &out))
	require.Equal(t, "/v1/returns/"+out.Return.ID, r.Header.Get("Location"))
	s.terminateFlowAtEnd(t, out.Return.WorkflowID)
	return out
}

// terminateFlowAtEnd ends a workflow a case started when t ends, unless it
// has ended: its task queue has no worker after the test.
func (s *caseStack) terminateFlowAtEnd(t *testing.T, workflowID string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.tc.TerminateWorkflow(ctx, workflowID, "", "test over")
	})
}

// returnOf decodes a return's view, requiring status.
func returnOf(t *testing.T, r reply, status int) returns.View {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r)
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	var v returns.View
	require.NoError(t, json.Unmarshal(r.Body, &v))
	return v
}

// awaitReturn reads the return as admin until ok, and answers it.
func (s *caseStack) awaitReturn(t *testing.T, id string, ok func(returns.View) bool) returns.View {
	t.Helper()
	var v returns.View
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		r, err := sendRequest(stacktest.Context(t), s.base, s.keys[store.RoleAdmin].Secret, http.MethodGet, "/v1/returns/"+id, nil)
		require.NoError(ct, err)
		require.Equal(ct, http.StatusOK, r.Status, "%s", r)
		require.NoError(ct, json.Unmarshal(r.Body, &v))
		assert.True(ct, ok(v), "return %s is %s", id, v.Status)
	}, 30*time.Second, 100*time.Millisecond)
	return v
}

// track hands the return a carrier event, as the carrier's webhook does.
func (s *caseStack) track(t *testing.T, id, eventID, kind, trackingNumber string) {
	t.Helper()
	require.NoError(t, s.tc.SignalWorkflow(stacktest.Context(t), returns.WorkflowID(id), "", vocab.SignalTracking,
		vocab.TrackingEvent{ID: eventID, Kind: kind, TrackingNumber: trackingNumber, At: time.Now()}))
}

func TestReturnGoesFromLabelToOneRefundOverHTTP(t *testing.T) {
	s := newCaseStack(t)
	order := "ord-" + unique()
	caseID := s.returnCase(t, order)
	body := validReturnBody()
	body.OrderID = "" // the case's

	started := s.startReturn(t, store.RoleAgent, caseID, body, "Idempotency-Key", "start-"+order)
	replayed := s.startReturn(t, store.RoleAgent, caseID, body, "Idempotency-Key", "start-"+order)
	assert.Equal(t, started, replayed, "a retry with the same Idempotency-Key starts no second return")
	assert.Equal(t, caseID, started.CaseID)
	assert.True(t, started.Return.Running)
	assert.Equal(t, returns.WorkflowID(started.Return.ID), started.Return.WorkflowID)
	id := started.Return.ID
	if c := s.get(t, caseID); assert.NotNil(t, c.Return, "the case shows its return") {
		assert.Equal(t, id, c.Return.ID)
	}

	v := s.awaitReturn(t, id, func(v returns.View) bool { return v.Status == returns.StatusLabelSent })
	assert.Equal(t, order, v.OrderID, "the return takes the case's order")
	assert.Equal(t, caseID, v.CaseID)
	require.NotEmpty(t, v.TrackingNumber)
	require.NotNil(t, v.Label)
	assert.NotEmpty(t, v.Timeline, "a read has the timeline")

	s.track(t, id, "evt-shipped-"+order, vocab.TrackingShipped, v.TrackingNumber)
	s.awaitReturn(t, id, func(v returns.View) bool { return v.Status == returns.StatusShipped })
	s.track(t, id, "evt-delivered-"+order, vocab.TrackingDelivered, v.TrackingNumber)
	received := s.awaitReturn(t, id, func(v returns.View) bool { return v.Status == returns.StatusReceived })

	// Support does not inspect for the seller.
	p := problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/returns/"+id+"/inspection",
		map[string]string{"outcome": "refund_full"}), http.StatusForbidden)
	assert.Equal(t, "the agent role may not inspect return", p.Detail)

	inspected := returnOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/returns/"+id+"/inspection",
		map[string]string{"outcome": "refund_full"}), http.StatusOK)
	assert.Equal(t, received.LastSeq+1, inspected.LastSeq, "the refused inspection left no trace")
	assert.Equal(t, returns.OutcomeRefundFull, inspected.Outcome)
	assert.Equal(t, vocab.Money{Minor: 4999, Currency: "EUR"}, inspected.Amount)
	require.NotNil(t, inspected.Inspection)
	assert.Equal(t, s.actor(store.RoleIntegration), inspected.Inspection.Actor)
	assert.Empty(t, inspected.Timeline, "an update's answer leaves the timeline out")

	refunded := s.awaitReturn(t, id, func(v returns.View) bool { return v.Status == returns.StatusRefunded })
	require.NotNil(t, refunded.Refund)
	assert.Equal(t, vocab.Money{Minor: 4999, Currency: "EUR"}, refunded.Refund.Amount)

	ledger, err := stacktest.PaymentsLedger(stacktest.Context(t), s.cfg, order)
	require.NoError(t, err)
	require.Len(t, ledger, 1, "exactly one movement for the order: %+v", ledger)
	assert.Equal(t, "refund", ledger[0].Kind)
	assert.Equal(t, int64(4999), ledger[0].Amount.Minor)
	assert.Equal(t, returns.RefundKey(id), ledger[0].IdempotencyKey)

	// The case hears its return ended.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		c := s.get(t, caseID)
		require.NotNil(ct, c.Return)
		assert.False(ct, c.Return.Running)
		assert.Equal(ct, string(returns.StatusRefunded), c.Return.Outcome)
	}, 30*time.Second, 200*time.Millisecond)
}

func TestReturnRefusalsAreProblemsThatChangeNothing(t *testing.T) {
	s := newCaseStack(t)

	// A login_failure case starts no return.
	other := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	p := problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+other.ID+"/returns", validReturnBody()),
		http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"category"}, fieldsOfProblem(p), "%+v", p)
	s.requireUnchanged(t, other)

	caseID := s.returnCase(t, "ord-"+unique())
	before := s.get(t, caseID)
	bad := validReturnBody()
	bad.Reason = "broken"
	p = problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+caseID+"/returns", bad), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"reason"}, fieldsOfProblem(p), "%+v", p)
	bad = validReturnBody()
	bad.From.Country = "France"
	p = problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+caseID+"/returns", bad), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"from.country"}, fieldsOfProblem(p), "%+v", p)
	p = problemOf(t, s.as(t, store.RoleSecurity, http.MethodPost, "/v1/cases/"+caseID+"/returns", validReturnBody()), http.StatusForbidden)
	assert.Equal(t, "the security role may not start return", p.Detail)
	s.requireUnchanged(t, before)
	assert.Nil(t, s.get(t, caseID).Return)

	id := s.startReturn(t, store.RoleIntegration, caseID, validReturnBody()).Return.ID
	labelled := s.awaitReturn(t, id, func(v returns.View) bool { return v.Status == returns.StatusLabelSent })

	// Nothing awaits an approval; the seller inspects only what arrived.
	p = problemOf(t, s.as(t, store.RoleTrustSafety, http.MethodPost, "/v1/returns/"+id+"/approval",
		map[string]bool{"approve": true}), http.StatusConflict)
	assert.Contains(t, p.Detail, "label_sent")
	p = problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/returns/"+id+"/inspection",
		map[string]string{"outcome": "refund_full"}), http.StatusConflict)
	assert.Contains(t, p.Detail, "label_sent")
	p = problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/returns/"+id+"/inspection",
		map[string]string{"outcome": "keep_it"}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"outcome"}, fieldsOfProblem(p))
	problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/returns/"+id+"/approval", map[string]bool{"approve": true}), http.StatusForbidden)
	now := returnOf(t, s.as(t, store.RoleAdmin, http.MethodGet, "/v1/returns/"+id, nil), http.StatusOK)
	assert.Equal(t, labelled.LastSeq, now.LastSeq, "a refused request changed the return")
	assert.Equal(t, returns.StatusLabelSent, now.Status)

	// A second return while one runs is refused by the case.
	p = problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+caseID+"/returns", validReturnBody()), http.StatusConflict)
	assert.Contains(t, p.Detail, id)

	// Unknown returns are 404.
	p = problemOf(t, s.as(t, store.RoleAdmin, http.MethodGet, "/v1/returns/NONE-R1", nil), http.StatusNotFound)
	assert.Equal(t, "no return NONE-R1", p.Detail)
	problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/returns/NONE-R1/cancel", map[string]string{}), http.StatusNotFound)

	// The buyer changes their mind before shipping; a cancelled return has ended.
	cancelled := returnOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/returns/"+id+"/cancel",
		map[string]string{"reason": "changed my mind"}), http.StatusOK)
	assert.Equal(t, returns.StatusCancelled, cancelled.Status)
	problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/returns/"+id+"/cancel", map[string]string{}), http.StatusConflict)
	assert.Equal(t, returns.StatusCancelled, returnOf(t, s.as(t, store.RoleAdmin, http.MethodGet, "/v1/returns/"+id, nil), http.StatusOK).Status,
		"an ended return is still read")
}

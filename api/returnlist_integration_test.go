//go:build integration

package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/disputes"
	"handoff/workflows/returns"
)

// listPage sends GET path?query as role and decodes its 200 body into out.
func (s *caseStack) listPage(t *testing.T, ct require.TestingT, role store.Role, path string, query url.Values, out any) {
	r, err := sendRequest(stacktest.Context(t), s.base, s.keys[role].Secret, http.MethodGet, path+"?"+query.Encode(), nil)
	require.NoError(ct, err)
	require.Equal(ct, http.StatusOK, r.Status, "%s", r)
	require.NoError(ct, json.Unmarshal(r.Body, out))
}

// listedReturns answers the ids and statuses GET /v1/returns lists for query.
func (s *caseStack) listedReturns(t *testing.T, ct require.TestingT, role store.Role, query url.Values) map[string]returns.Status {
	var page struct {
		Returns []returns.View `json:"returns"`
	}
	s.listPage(t, ct, role, "/v1/returns", query, &page)
	out := map[string]returns.Status{}
	for _, v := range page.Returns {
		out[v.ID] = v.Status
	}
	return out
}

// listedDisputes answers the ids and statuses GET /v1/disputes lists for query.
func (s *caseStack) listedDisputes(t *testing.T, ct require.TestingT, role store.Role, query url.Values) map[string]disputes.Status {
	var page struct {
		Disputes []disputes.View `json:"disputes"`
	}
	s.listPage(t, ct, role, "/v1/disputes", query, &page)
	out := map[string]disputes.Status{}
	for _, v := range page.Disputes {
		out[v.ID] = v.Status
	}
	return out
}

func TestAStartedReturnIsListedForItsSellerOnceProjected(t *testing.T) {
	s := newCaseStack(t)
	order := "ord-" + unique()
	caseID := s.returnCase(t, order)
	body := validReturnBody()
	body.OrderID = "" // the case's
	id := s.startReturn(t, store.RoleIntegration, caseID, body).Return.ID
	s.awaitReturn(t, id, func(v returns.View) bool { return v.Status == returns.StatusLabelSent })

	// The read model follows the workflow: poll until it has the label.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		listed := s.listedReturns(t, ct, store.RoleAgent, url.Values{"seller_id": {body.SellerID}})
		assert.Equal(ct, map[string]returns.Status{id: returns.StatusLabelSent}, listed)
	}, 30*time.Second, 100*time.Millisecond)

	for name, q := range map[string]url.Values{
		"its case":             {"case_id": {caseID}},
		"its order and status": {"order_id": {order}, "status": {string(returns.StatusLabelSent)}},
	} {
		assert.Contains(t, s.listedReturns(t, t, store.RoleIntegration, q), id, "listed by %s", name)
	}
	for name, q := range map[string]url.Values{
		"another seller":  {"seller_id": {"seller-" + unique()}},
		"another status":  {"seller_id": {body.SellerID}, "status": {string(returns.StatusRefunded)}},
		"another buyer":   {"seller_id": {body.SellerID}, "customer_id": {"cust-" + unique()}},
		"another case id": {"case_id": {"C-" + unique()}},
	} {
		assert.Empty(t, s.listedReturns(t, t, store.RoleAdmin, q), "filtered by %s", name)
	}

	p := problemOf(t, s.as(t, store.RoleAgent, http.MethodGet, "/v1/returns?status=lost", nil), http.StatusUnprocessableEntity)
	assert.Contains(t, fieldsOfProblem(p), "status")
}

func TestAnOpenedDisputeIsListedForItsSellerOnceProjected(t *testing.T) {
	s := newCaseStack(t)
	order := "ord-" + unique()
	caseID := s.disputeCase(t, order)
	body := validDisputeBody()
	body.OrderID = "" // the case's
	id := s.openDispute(t, store.RoleIntegration, caseID, body).Dispute.ID
	s.awaitDispute(t, id, awaitingSeller)

	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		listed := s.listedDisputes(t, ct, store.RoleAgent, url.Values{"seller_id": {body.SellerID}})
		assert.Equal(ct, map[string]disputes.Status{id: disputes.StatusAwaitingSeller}, listed)
	}, 30*time.Second, 100*time.Millisecond)

	assert.Contains(t, s.listedDisputes(t, t, store.RoleIntegration, url.Values{"case_id": {caseID}, "order_id": {order}}), id)
	for name, q := range map[string]url.Values{
		"another seller": {"seller_id": {"seller-" + unique()}},
		"another status": {"seller_id": {body.SellerID}, "status": {string(disputes.StatusClosed)}},
	} {
		assert.Empty(t, s.listedDisputes(t, t, store.RoleAdmin, q), "filtered by %s", name)
	}

	p := problemOf(t, s.as(t, store.RoleAgent, http.MethodGet, "/v1/disputes?status=lost", nil), http.StatusUnprocessableEntity)
	assert.Contains(t, fieldsOfProblem(p), "status")
}

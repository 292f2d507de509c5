//go:build integration

package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/deploy/paymentsim"
	"handoff/payments"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/sellers"
	"handoff/workflows/vocab"
)

// These tests read seller_payment cases through an API whose payment
// provider is a stand-in of the test's own, in process, on the stack's
// Postgres: it keeps its ledger in the same tables as the stack's
// stand-in, which the worker moves the money through, so it answers the
// same movements whichever build the stack runs.

// withPayments starts a second API on the stack's task queue whose payment
// provider is at paymentsURL, and answers its base URL.
func (s *caseStack) withPayments(t *testing.T, paymentsURL string) string {
	t.Helper()
	cfg := s.cfg
	cfg.Commerce.PaymentsURL = paymentsURL
	return startAPI(t, cfg)
}

// startPaymentsSim serves a payments stand-in on the stack's Postgres,
// under the stack's payments secret, and answers its URL.
func (s *caseStack) startPaymentsSim(t *testing.T) string {
	t.Helper()
	sim, err := paymentsim.New(stacktest.Context(t), s.db.Pool(), s.cfg.Commerce.PaymentsSecret,
		paymentsim.Options{KeyID: s.cfg.Commerce.PaymentsKeyID, Logger: stacktest.Logger(t)})
	require.NoError(t, err)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return srv.URL
}

// verifiedSeller starts a seller whose check passes at once and answers
// its id once the provider's ledger and Handoff's read model both have
// its verification hold released.
func (s *caseStack) verifiedSeller(t *testing.T) (string, sellerLedger) {
	t.Helper()
	id := s.startSellerFlow(t, "Grace Hopper SAS")
	l := s.awaitLedger(t, id, "one payout hold released once", releasedOnce)
	s.awaitSellerView(t, id, "verified, its hold released", func(v sellerView) bool {
		return v.Verification.Status == sellers.VerificationPassed && verificationHeld(v, vocab.PayoutHoldReleased)
	})
	return id, l
}

// openSellerPaymentCase opens a seller_payment case of seller id through
// the API at base, as the marketplace does for the seller.
func (s *caseStack) openSellerPaymentCase(t *testing.T, base, id string) string {
	t.Helper()
	body := newCaseBody(vocab.CategorySellerPayment)
	body.Subject = "Where is my payout " + id
	body.Customer.ID, body.Customer.Email = id, id+"@example.com"
	v := s.openOn(t, base, store.RoleIntegration, body)
	require.Equal(t, vocab.CategorySellerPayment, v.Category)
	require.Equal(t, id, v.Customer.ID)
	return v.ID
}

// readSellerPaymentCase reads case id as an agent through the API at
// base, requiring 200, and answers it and its seller_payments member raw.
func (s *caseStack) readSellerPaymentCase(t *testing.T, base, id string) (caseRead, map[string]json.RawMessage) {
	t.Helper()
	r, err := sendRequest(stacktest.Context(t), base, s.keys[store.RoleAgent].Secret, http.MethodGet, "/v1/cases/"+id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status, "%s", r)
	var c caseRead
	require.NoError(t, json.Unmarshal(r.Body, &c), "%s", r.Body)
	require.NotNil(t, c.SellerPayments, "a seller_payment case has seller_payments: %s", r.Body)
	var raw struct {
		SellerPayments map[string]json.RawMessage `json:"seller_payments"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &raw))
	return c, raw.SellerPayments
}

func TestASellerPaymentCaseShowsTheProvidersPayoutHoldAndItsRelease(t *testing.T) {
	s := newCaseStack(t)
	sim := s.startPaymentsSim(t)
	base := s.withPayments(t, sim)
	seller, l := s.verifiedSeller(t)
	caseID := s.openSellerPaymentCase(t, base, seller)

	c, raw := s.readSellerPaymentCase(t, base, caseID)
	sp := c.SellerPayments
	assert.Equal(t, seller, sp.SellerID)
	assert.False(t, sp.PayoutsHeld, "the verification released the seller's payouts")
	assert.Empty(t, sp.MovementsError)
	assert.NotContains(t, raw, "movements_error")

	// Handoff's own record: the verification hold, released.
	require.Len(t, sp.Holds, 1, "%+v", sp.Holds)
	h := sp.Holds[0]
	assert.Equal(t, vocab.HoldReasonVerification, h.Reason)
	assert.Equal(t, vocab.PayoutHoldReleased, h.State)
	assert.Equal(t, l.holds[0].ID, h.ID)

	// The provider's record: the payout hold Handoff placed and its release, oldest first.
	require.Len(t, sp.Movements, 2, "%+v", sp.Movements)
	hold, rel := sp.Movements[0], sp.Movements[1]
	assert.Equal(t, payments.KindPayoutHold, hold.Kind)
	assert.Equal(t, h.ID, hold.ID, "the provider's hold is the one the case lists")
	assert.Equal(t, payments.StatusReleased, hold.Status, "as the hold is now")
	assert.Equal(t, rel.ID, hold.ReleasedBy)
	assert.Equal(t, seller, hold.SellerID)
	assert.Zero(t, hold.Amount, "a payout hold moves no money")
	assert.Equal(t, payments.KindRelease, rel.Kind)
	assert.Equal(t, payments.StatusSucceeded, rel.Status)
	assert.Equal(t, hold.ID, rel.HoldID)
	assert.Equal(t, l.releases[0].ID, rel.ID)

	// Field for field what the provider answers.
	ledger, err := paymentsim.GetSellerLedger(stacktest.Context(t), sim, seller)
	require.NoError(t, err)
	want, err := json.Marshal(ledger.Movements)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(raw["movements"]))
	assert.False(t, ledger.PayoutsHeld)
}

func TestASellerPaymentCaseIsReadWhenThePaymentProviderDoesNotAnswer(t *testing.T) {
	s := newCaseStack(t)
	// A provider that takes every request and never answers it.
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hung.Close)
	base := s.withPayments(t, hung.URL)
	seller, l := s.verifiedSeller(t)
	caseID := s.openSellerPaymentCase(t, base, seller)

	start := time.Now()
	c, raw := s.readSellerPaymentCase(t, base, caseID)
	assert.Less(t, time.Since(start), 8*time.Second, "the provider's read is bounded")
	sp := c.SellerPayments
	assert.NotContains(t, raw, "movements", "no movements rather than a wrong empty list")
	assert.Nil(t, sp.Movements)
	assert.True(t, strings.HasPrefix(sp.MovementsError, "the payment provider did not answer: "), "%q", sp.MovementsError)
	// What Handoff knows is all there.
	assert.Equal(t, seller, sp.SellerID)
	assert.False(t, sp.PayoutsHeld)
	require.Len(t, sp.Holds, 1, "%+v", sp.Holds)
	assert.Equal(t, l.holds[0].ID, sp.Holds[0].ID)
	assert.Equal(t, vocab.PayoutHoldReleased, sp.Holds[0].State)
}

//go:build integration

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/standardwebhooks"
	"handoff/store"
	"handoff/verification"
	"handoff/workflows/cases"
	"handoff/workflows/fraud"
	"handoff/workflows/sellers"
	"handoff/workflows/vocab"
)

// These tests run sellers and fraud watches through the API on the real
// stack: the workflows on a worker of the test's own task queue, the
// payments and verification stand-ins behind them. The stand-in decides a
// check by the legal name (docs/verification.md): a plain name passes at
// once, "review" waits for trust_safety, "late" is decided by webhook.

// sellerFlowBody is a POST /v1/sellers body for a seller of its own whose
// legal name is legalName.
func sellerFlowBody(legalName string) map[string]any {
	id := "sel-flow-" + strings.ToLower(unique())
	return map[string]any{
		"seller_id": id,
		"seller":    map[string]any{"email": id + "@example.com", "name": "Ada", "locale": "en"},
		"region":    "eu",
		"identity": map[string]any{"legal_name": legalName, "country": "FR",
			"document_ids": []string{"ev_" + id + "_id"}, "payout_account_last4": "0042"},
	}
}

// startSellerFlow starts the onboarding of a seller named legalName as
// the marketplace, requires 201 and answers the seller id; the onboarding
// and its verification are terminated when t ends.
func (s *caseStack) startSellerFlow(t *testing.T, legalName string) string {
	t.Helper()
	body := sellerFlowBody(legalName)
	id := body["seller_id"].(string)
	r := s.as(t, store.RoleIntegration, http.MethodPost, "/v1/sellers", body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r)
	s.terminateFlowAtEnd(t, sellers.OnboardingWorkflowID(id))
	s.terminateFlowAtEnd(t, sellers.VerificationWorkflowID(id))
	assert.Equal(t, "/v1/sellers/"+id, r.Header.Get("Location"))
	var v sellerView
	require.NoError(t, json.Unmarshal(r.Body, &v))
	assert.Equal(t, id, v.SellerID)
	assert.Equal(t, sellers.SellerStatusOnboarding, v.Status)
	return id
}

// awaitSellerView reads the seller as support until ok holds, and answers it.
func (s *caseStack) awaitSellerView(t *testing.T, id, what string, ok func(sellerView) bool) sellerView {
	t.Helper()
	var v sellerView
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		r, err := sendRequest(stacktest.Context(t), s.base, s.keys[store.RoleAgent].Secret, http.MethodGet, "/v1/sellers/"+id, nil)
		require.NoError(ct, err)
		require.Equal(ct, http.StatusOK, r.Status, "%s", r)
		v = sellerView{}
		require.NoError(ct, json.Unmarshal(r.Body, &v))
		assert.True(ct, ok(v), "seller %s: %s; status %s, verification %s, steps %+v, holds %+v",
			id, what, v.Status, v.Verification.Status, v.Steps, v.Holds)
	}, 30*time.Second, 100*time.Millisecond)
	return v
}

// signedWebhook answers the headers (name, value pairs for sendRequest) of
// body sent now as webhook id, signed the Standard Webhooks way with secret.
func signedWebhook(t *testing.T, secret, id string, body []byte) []string {
	t.Helper()
	key, err := standardwebhooks.ParseSecret(secret)
	require.NoError(t, err)
	now := time.Now().Unix()
	return []string{standardwebhooks.HeaderID, id, standardwebhooks.HeaderTimestamp, strconv.FormatInt(now, 10),
		standardwebhooks.HeaderSignature, standardwebhooks.Sign(key, id, now, body)}
}

// sellerEvent is the marketplace's webhook body of one seller event.
func sellerEvent(t *testing.T, sellerID, eventID, kind string) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]any{"seller_id": sellerID, "event": map[string]any{
		"id": eventID, "kind": kind, "at": time.Now().UTC().Format(time.RFC3339), "detail": "seen by the marketplace"}})
	require.NoError(t, err)
	return body
}

// postSellerEvent posts one seller event signed with the marketplace's secret.
func (s *caseStack) postSellerEvent(t *testing.T, sellerID, eventID, kind string) reply {
	t.Helper()
	body := sellerEvent(t, sellerID, eventID, kind)
	return s.with(t, "", http.MethodPost, marketplaceWebhookPath, body, signedWebhook(t, s.cfg.SellerEventsSecret, eventID, body)...)
}

// sellerLedger is what the payments stand-in holds for a seller.
type sellerLedger struct {
	holds, releases []stacktest.LedgerMovement
	held            bool
}

// ledgerOfSeller reads the payments stand-in's ledger of seller id.
func (s *caseStack) ledgerOfSeller(t *testing.T, id string) sellerLedger {
	t.Helper()
	movements, held, err := stacktest.SellerLedger(stacktest.Context(t), s.cfg, id)
	require.NoError(t, err)
	l := sellerLedger{held: held}
	for _, m := range movements {
		switch m.Kind {
		case vocab.MovementPayoutHold:
			l.holds = append(l.holds, m)
		case "release":
			l.releases = append(l.releases, m)
		}
	}
	return l
}

// awaitLedger reads the seller's ledger until ok holds, and answers it.
func (s *caseStack) awaitLedger(t *testing.T, id, what string, ok func(sellerLedger) bool) sellerLedger {
	t.Helper()
	var l sellerLedger
	require.Eventually(t, func() bool {
		l = s.ledgerOfSeller(t, id)
		return ok(l)
	}, 30*time.Second, 100*time.Millisecond, "ledger of seller %s: %s", id, what)
	return l
}

// releasedOnce is a ledger of one payout hold, released by one release.
func releasedOnce(l sellerLedger) bool { return len(l.holds) == 1 && len(l.releases) == 1 && !l.held }

// awaitCaseView reads case id as admin until the read model has it.
func (s *caseStack) awaitCaseView(t *testing.T, id string) cases.CaseView {
	t.Helper()
	var v cases.CaseView
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		r, err := sendRequest(stacktest.Context(t), s.base, s.keys[store.RoleAdmin].Secret, http.MethodGet, "/v1/cases/"+id, nil)
		require.NoError(ct, err)
		require.Equal(ct, http.StatusOK, r.Status, "%s", r)
		require.NoError(ct, json.Unmarshal(r.Body, &v))
	}, 30*time.Second, 100*time.Millisecond)
	return v
}

// stepsDone answers whether every step of v is done.
func stepsDone(v sellerView) bool {
	return len(v.Steps) > 0 && !slices.ContainsFunc(v.Steps, func(s sellers.Step) bool { return s.Status != sellers.StepDone })
}

// stepStatus answers the status of step name in v, empty when it has none.
func stepStatus(v sellerView, name string) string {
	for _, s := range v.Steps {
		if s.Name == name {
			return s.Status
		}
	}
	return ""
}

// doneByEvent counts the seller's step_done events that event id made.
func doneByEvent(v sellerView, eventID string) int {
	n := 0
	for _, e := range v.Timeline {
		if e.Kind == sellers.EventStepDone && e.Payload["event_id"] == eventID {
			n++
		}
	}
	return n
}

// verificationHeld is the seller's verification hold: one, in state.
func verificationHeld(v sellerView, state string) bool {
	return len(v.Holds) == 1 && v.Holds[0].Reason == vocab.HoldReasonVerification && v.Holds[0].State == state
}

func TestASellerOnboardsThroughTheAPIAndIsPaidOnceVerified(t *testing.T) {
	s := newCaseStack(t)

	// A start without a legal name names it before anything starts.
	bad := sellerFlowBody("Ada Lovelace SARL")
	delete(bad["identity"].(map[string]any), "legal_name")
	p := problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/sellers", bad), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"identity.legal_name"}, fieldsOfProblem(p), "%+v", p)
	r := s.as(t, store.RoleAgent, http.MethodGet, "/v1/sellers/"+bad["seller_id"].(string), nil)
	problemOf(t, r, http.StatusNotFound)

	id := s.startSellerFlow(t, "Ada Lovelace SARL")

	// The verification held the payouts before the check, and the check
	// that passed at once released them, once.
	l := s.awaitLedger(t, id, "one payout hold released once", releasedOnce)
	assert.Equal(t, "released", l.holds[0].Status, "the hold: %+v", l.holds[0])
	assert.Equal(t, "succeeded", l.releases[0].Status, "the release: %+v", l.releases[0])
	v := s.awaitSellerView(t, id, "verified, its hold released", func(v sellerView) bool {
		return v.Verification.Status == sellers.VerificationPassed && verificationHeld(v, vocab.PayoutHoldReleased) &&
			stepStatus(v, sellers.StepIdentityVerified) == sellers.StepDone
	})
	assert.Equal(t, l.holds[0].ID, v.Holds[0].ID, "the read model names the provider's hold")
	assert.NotEmpty(t, v.Verification.CheckID)
	assert.Equal(t, sellers.SellerStatusOnboarding, v.Status, "the marketplace's steps are open")

	// A tampered event is refused and changes nothing.
	listing := sellerEvent(t, id, "mkt-listing-"+id, sellers.EventKindListingPublished)
	tampered := strings.Replace(string(listing), "seen by the marketplace", "seen by nobody at all", 1)
	require.NotEqual(t, string(listing), tampered)
	r = s.with(t, "", http.MethodPost, marketplaceWebhookPath, tampered,
		signedWebhook(t, s.cfg.SellerEventsSecret, "mkt-listing-"+id, listing)...)
	p = problemOf(t, r, http.StatusUnauthorized)
	assert.Equal(t, []string{standardwebhooks.HeaderSignature}, fieldsOfProblem(p))
	// So is one signed with another secret.
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("not-the-marketplace-secret-at-all"))
	r = s.with(t, "", http.MethodPost, marketplaceWebhookPath, listing, signedWebhook(t, other, "mkt-listing-"+id, listing)...)
	problemOf(t, r, http.StatusUnauthorized)

	// Each step's event, the first one twice (a retry by the marketplace).
	events := []struct{ id, kind string }{
		{"mkt-account-" + id, sellers.EventKindAccountCreated},
		{"mkt-account-" + id, sellers.EventKindAccountCreated},
		{"mkt-payout-" + id, sellers.EventKindPayoutDetailsVerified},
	}
	for _, e := range events {
		r := s.postSellerEvent(t, id, e.id, e.kind)
		require.Equal(t, http.StatusNoContent, r.Status, "%s %s: %s", e.kind, e.id, r)
	}
	// The onboarding takes its signals in order: once the last one is in,
	// the refused listing would have been too.
	v = s.awaitSellerView(t, id, "payout details verified", func(v sellerView) bool {
		return stepStatus(v, sellers.StepPayoutVerified) == sellers.StepDone
	})
	assert.Equal(t, sellers.StepDone, stepStatus(v, sellers.StepAccountCreated))
	assert.Equal(t, sellers.StepPending, stepStatus(v, sellers.StepFirstListing), "the refused webhooks completed nothing")
	assert.Equal(t, 0, doneByEvent(v, "mkt-listing-"+id), "the refused webhooks completed nothing")
	assert.Equal(t, 1, doneByEvent(v, "mkt-account-"+id), "a repeated event id completes once: %+v", v.Timeline)
	assert.Equal(t, sellers.SellerStatusOnboarding, v.Status)
	before := v.LastSeq

	// The same event id again, even of another kind, changes nothing.
	r = s.postSellerEvent(t, id, "mkt-account-"+id, sellers.EventKindListingPublished)
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r)

	for _, e := range []struct{ id, kind string }{
		{"mkt-listing-" + id, sellers.EventKindListingPublished},
		{"mkt-shipped-" + id, sellers.EventKindOrderShipped},
	} {
		r := s.postSellerEvent(t, id, e.id, e.kind)
		require.Equal(t, http.StatusNoContent, r.Status, "%s %s: %s", e.kind, e.id, r)
	}
	v = s.awaitSellerView(t, id, "active, every step done", func(v sellerView) bool {
		return v.Status == sellers.SellerStatusActive && stepsDone(v)
	})
	assert.Len(t, v.Steps, len(sellers.Steps), "every step of the shipped policy")
	assert.Equal(t, 1, doneByEvent(v, "mkt-account-"+id), "the repeated id completed nothing: %+v", v.Timeline)
	assert.Equal(t, 1, doneByEvent(v, "mkt-listing-"+id))
	assert.Equal(t, before+3, v.LastSeq, "two steps done and the seller onboarded, nothing for the repeat: %+v", v.Timeline[before:])
	assert.Equal(t, sellers.VerificationPassed, v.Verification.Status)
	require.True(t, verificationHeld(v, vocab.PayoutHoldReleased), "%+v", v.Holds)
	h := v.Holds[0]
	assert.Equal(t, vocab.HoldReasonVerification, h.Reason)
	assert.NotNil(t, h.ReleasedAt)
	assert.NotEmpty(t, h.ReleaseReason)
	assert.Empty(t, v.OpenCases, "nothing stalled")

	// Still released once.
	l = s.ledgerOfSeller(t, id)
	assert.True(t, releasedOnce(l), "one hold, one release: %+v", l)

	// trust_safety suspends the seller, then reinstates them: active again.
	path := "/v1/sellers/" + id + "/standing"
	require.Equal(t, http.StatusForbidden, s.as(t, store.RoleAgent, http.MethodPost, path, map[string]any{"suspend": true, "reason": "x"}).Status)
	r = s.as(t, store.RoleTrustSafety, http.MethodPost, path, map[string]any{"suspend": true, "reason": "chargebacks confirmed"})
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r)
	v = s.awaitSellerView(t, id, "suspended", func(v sellerView) bool { return v.Status == sellers.SellerStatusSuspended })
	assert.Equal(t, "chargebacks confirmed", v.Reason)
	r = s.as(t, store.RoleTrustSafety, http.MethodPost, path, map[string]any{"suspend": false, "reason": "appeal upheld"})
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r)
	s.awaitSellerView(t, id, "reinstated", func(v sellerView) bool { return v.Status == sellers.SellerStatusActive && v.Reason == "" })
	problemOf(t, s.as(t, store.RoleTrustSafety, http.MethodPost, "/v1/sellers/nobody-"+id+"/standing",
		map[string]any{"suspend": true, "reason": "x"}), http.StatusNotFound)
}

func TestADoubtedCheckIsDecidedByTrustSafety(t *testing.T) {
	s := newCaseStack(t)
	id := s.startSellerFlow(t, "Review Me Holdings SA")

	v := s.awaitSellerView(t, id, "under review with a case", func(v sellerView) bool {
		return v.Verification.Status == sellers.VerificationNeedsReview && v.Verification.CaseID != "" &&
			verificationHeld(v, vocab.PayoutHoldHeld)
	})
	caseID := v.Verification.CaseID
	s.terminateAtEnd(t, caseID)
	assert.NotEmpty(t, v.Verification.Reasons, "the provider's doubts")
	assert.Equal(t, caseID, v.Holds[0].CaseID, "the hold names the review case")
	l := s.ledgerOfSeller(t, id)
	assert.True(t, l.held, "held while under review: %+v", l)
	assert.Len(t, l.holds, 1)
	assert.Empty(t, l.releases)

	c := s.awaitCaseView(t, caseID)
	assert.Equal(t, vocab.CategorySellerOnboarding, c.Category)
	assert.Equal(t, vocab.TeamTrustSafety, c.Team)
	assert.Equal(t, id, c.Customer.ID, "the seller is the case's customer")

	decision := map[string]string{"outcome": sellers.DecisionPass, "reason": "the documents match after a call"}
	path := "/v1/sellers/" + id + "/verification/decision"
	problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, path, decision), http.StatusForbidden)
	assert.True(t, s.ledgerOfSeller(t, id).held, "a refused decision released nothing")

	r := s.as(t, store.RoleTrustSafety, http.MethodPost, path, decision)
	require.Equal(t, http.StatusOK, r.Status, "%s", r)
	var decided sellers.VerificationView
	require.NoError(t, json.Unmarshal(r.Body, &decided))
	assert.Equal(t, sellers.VerificationPassed, decided.Status)
	if assert.NotNil(t, decided.Decision) {
		assert.Equal(t, sellers.DecisionPass, decided.Decision.Outcome)
		assert.Equal(t, s.actor(store.RoleTrustSafety), decided.Decision.Actor)
	}

	s.awaitLedger(t, id, "one payout hold released once", releasedOnce)
	v = s.awaitSellerView(t, id, "verified, its hold released", func(v sellerView) bool {
		return v.Verification.Status == sellers.VerificationPassed && verificationHeld(v, vocab.PayoutHoldReleased) &&
			stepStatus(v, sellers.StepIdentityVerified) == sellers.StepDone
	})
	assert.Equal(t, vocab.HoldReasonVerification, v.Holds[0].Reason)

	// Nothing is under review any more.
	p := problemOf(t, s.as(t, store.RoleTrustSafety, http.MethodPost, path,
		map[string]string{"outcome": sellers.DecisionFail, "reason": "second thoughts"}), http.StatusConflict)
	assert.NotEmpty(t, p.Detail)
	assert.True(t, releasedOnce(s.ledgerOfSeller(t, id)), "still released once")
	v = s.awaitSellerView(t, id, "still verified", func(v sellerView) bool {
		return v.Verification.Status == sellers.VerificationPassed
	})
	assert.NotEqual(t, sellers.SellerStatusClosed, v.Status, "the refused fail closed nothing")
}

func TestALateCheckIsDecidedByTheProvidersSignedWebhook(t *testing.T) {
	s := newCaseStack(t)
	// "late": the stand-in answers pending and decides after KYC_SIM_DELAY
	// (2s) by a webhook to HTTP_ADDR, where this test's API does not
	// listen. The test sends the provider's decision itself first, signed
	// with the provider's secret, so the webhook path is what decides.
	id := s.startSellerFlow(t, "Slate Roofing Ltd")

	v := s.awaitSellerView(t, id, "checking, its payouts held", func(v sellerView) bool {
		return v.Verification.Status == sellers.VerificationChecking && v.Verification.CheckID != "" &&
			verificationHeld(v, vocab.PayoutHoldHeld)
	})
	checkID := v.Verification.CheckID
	l := s.ledgerOfSeller(t, id)
	assert.True(t, l.held, "held until the check passes: %+v", l)
	assert.Empty(t, l.releases)

	kyc, err := verification.NewHTTP(verification.HTTPConfig{BaseURL: s.cfg.Verification.URL,
		KeyID: s.cfg.Verification.KeyID, Secret: s.cfg.Verification.Secret})
	require.NoError(t, err)
	check, err := kyc.Get(stacktest.Context(t), checkID)
	require.NoError(t, err, "the stand-in has the check")
	assert.Equal(t, id, check.SellerID)
	check.Status, check.DecidedAt = verification.StatusPassed, time.Now().UTC()
	body, err := json.Marshal(check)
	require.NoError(t, err)
	hook := checkID + "/" + check.Status

	// A decision not signed by the provider is refused.
	r := s.with(t, "", http.MethodPost, verificationWebhookPath, body,
		signedWebhook(t, s.cfg.SellerEventsSecret, hook, body)...)
	problemOf(t, r, http.StatusUnauthorized)
	assert.True(t, s.ledgerOfSeller(t, id).held, "a refused decision released nothing")

	r = s.with(t, "", http.MethodPost, verificationWebhookPath, body, signedWebhook(t, s.cfg.Verification.WebhookSecret, hook, body)...)
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r)
	s.awaitLedger(t, id, "one payout hold released once", releasedOnce)
	v = s.awaitSellerView(t, id, "verified by the provider, its hold released", func(v sellerView) bool {
		return v.Verification.Status == sellers.VerificationPassed && verificationHeld(v, vocab.PayoutHoldReleased)
	})
	assert.Equal(t, checkID, v.Verification.CheckID)

	// The provider's retry of the same decision releases nothing more; the
	// verification may have ended (202) or drop it (204).
	r = s.with(t, "", http.MethodPost, verificationWebhookPath, body, signedWebhook(t, s.cfg.Verification.WebhookSecret, hook, body)...)
	assert.Contains(t, []int{http.StatusNoContent, http.StatusAccepted}, r.Status, "%s", r)
	ctx, cancel := context.WithTimeout(stacktest.Context(t), 30*time.Second)
	defer cancel()
	var ended sellers.VerificationView
	require.NoError(t, s.tc.GetWorkflow(ctx, sellers.VerificationWorkflowID(id), "").Get(ctx, &ended), "the verification ends once decided")
	assert.Equal(t, sellers.VerificationPassed, ended.Status)
	assert.True(t, releasedOnce(s.ledgerOfSeller(t, id)), "still released once")
}

// reportBehaviour posts one behaviour of seller id as the marketplace.
func (s *caseStack) reportBehaviour(t *testing.T, id, kind, signalID string) reply {
	t.Helper()
	return s.as(t, store.RoleIntegration, http.MethodPost, "/v1/behaviour-signals", map[string]any{
		"party": fraud.PartySeller, "party_id": id, "kind": kind, "id": signalID, "detail": "dispute " + signalID + " lost"})
}

// fraudWatchOf reads seller id's watch as trust_safety, requiring 200.
func (s *caseStack) fraudWatchOf(t *testing.T, ct require.TestingT, id string) fraud.View {
	r, err := sendRequest(stacktest.Context(t), s.base, s.keys[store.RoleTrustSafety].Secret, http.MethodGet, "/v1/fraud/seller/"+id, nil)
	require.NoError(ct, err)
	require.Equal(ct, http.StatusOK, r.Status, "%s", r)
	var v fraud.View
	require.NoError(ct, json.Unmarshal(r.Body, &v))
	return v
}

func TestThreeLostDisputesOpenOneFraudCaseWithAHold(t *testing.T) {
	s := newCaseStack(t)
	// The fraud case is opened on the seller's account, which the account
	// directory must know.
	id := s.seedAccount(t).ID
	s.terminateFlowAtEnd(t, fraud.WorkflowID(fraud.PartySeller, id))

	p := problemOf(t, s.reportBehaviour(t, id, "dispute_won", "dp-0"), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"kind"}, fieldsOfProblem(p), "%+v", p)
	r := s.as(t, store.RoleTrustSafety, http.MethodGet, "/v1/fraud/seller/"+id, nil)
	problemOf(t, r, http.StatusNotFound)

	for _, signal := range []string{"dp-1", "dp-2", "dp-3"} {
		r := s.reportBehaviour(t, id, fraud.KindDisputeLost, signal)
		require.Equal(t, http.StatusAccepted, r.Status, "%s: %s", signal, r)
		var got behaviourAccepted
		require.NoError(t, json.Unmarshal(r.Body, &got))
		assert.Equal(t, fraud.WorkflowID(fraud.PartySeller, id), got.Watch)
	}

	var v fraud.View
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		v = s.fraudWatchOf(t, ct, id)
		assert.True(ct, v.Status == fraud.StatusReviewing && v.CaseID != "" && v.Hold != nil && v.Hold.State == vocab.PayoutHoldHeld,
			"watch is %s, case %q, hold %+v", v.Status, v.CaseID, v.Hold)
	}, 30*time.Second, 100*time.Millisecond)
	caseID := v.CaseID
	s.terminateAtEnd(t, caseID)
	assert.Equal(t, 1, v.Bursts, "one case for the burst")
	assert.Equal(t, "disputes_lost", v.FiredRule)
	assert.Equal(t, vocab.HoldReasonFraudReview, v.Hold.Reason)
	assert.Len(t, v.Recent, 3)

	// A repeated id is counted once: the watch answers as it was.
	r = s.reportBehaviour(t, id, fraud.KindDisputeLost, "dp-2")
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r)
	again := s.fraudWatchOf(t, t, id)
	assert.Equal(t, v.LastSeq, again.LastSeq, "a repeated id changed the watch: %+v", again.Timeline)
	assert.Len(t, again.Recent, 3)
	assert.Equal(t, 1, again.Bursts)
	assert.Equal(t, caseID, again.CaseID)

	l := s.ledgerOfSeller(t, id)
	assert.True(t, l.held, "the payments stand-in holds the payouts: %+v", l)
	require.Len(t, l.holds, 1, "one payout hold: %+v", l)
	assert.Equal(t, v.Hold.ID, l.holds[0].ID)
	assert.Empty(t, l.releases)
	held, err := s.db.PayoutHold(stacktest.Context(t), id, v.Hold.Key)
	require.NoError(t, err, "the read model has the hold")
	assert.Equal(t, vocab.PayoutHoldHeld, held.State)
	assert.Equal(t, fraud.WorkflowID(fraud.PartySeller, id), held.Owner)

	c := s.awaitCaseView(t, caseID)
	assert.Equal(t, vocab.CategoryFraudReport, c.Category)
	assert.Equal(t, vocab.TeamTrustSafety, c.Team)
	assert.Equal(t, id, c.AccountID)

	path := "/v1/fraud/seller/" + id + "/decision"
	decision := map[string]any{"outcome": fraud.OutcomeRelease, "reason": "the buyers abused disputes"}
	problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, path, decision), http.StatusForbidden)
	r = s.as(t, store.RoleTrustSafety, http.MethodPost, path, decision)
	require.Equal(t, http.StatusOK, r.Status, "%s", r)
	var decided fraud.View
	require.NoError(t, json.Unmarshal(r.Body, &decided))
	require.NotNil(t, decided.Hold)
	assert.Equal(t, vocab.PayoutHoldReleased, decided.Hold.State)
	assert.Equal(t, fraud.StatusDecided, decided.Status)
	if assert.Len(t, decided.Decisions, 1) {
		assert.Equal(t, fraud.OutcomeRelease, decided.Decisions[0].Outcome)
		assert.Equal(t, s.actor(store.RoleTrustSafety), decided.Decisions[0].Actor)
	}

	s.awaitLedger(t, id, "the payout hold released once", releasedOnce)
	require.Eventually(t, func() bool {
		h, err := s.db.PayoutHold(stacktest.Context(t), id, v.Hold.Key)
		return err == nil && h.State == vocab.PayoutHoldReleased
	}, 30*time.Second, 100*time.Millisecond, "the read model never had the hold released")

	// Nothing is left to decide.
	problemOf(t, s.as(t, store.RoleTrustSafety, http.MethodPost, path, decision), http.StatusConflict)
	assert.True(t, releasedOnce(s.ledgerOfSeller(t, id)), "still released once")
	// The seller never onboarded: the API has no seller to answer, and
	// the fraud view is where the hold shows.
	problemOf(t, s.as(t, store.RoleAgent, http.MethodGet, "/v1/sellers/"+id, nil), http.StatusNotFound)
	final := s.fraudWatchOf(t, t, id)
	require.NotNil(t, final.Hold)
	assert.Equal(t, vocab.PayoutHoldReleased, final.Hold.State)
}

// A seller who signs up without documents: nothing is held or checked
// until the marketplace uploads the first one, which is kept under Object
// Lock and starts the check; the same bytes again add nothing.
func TestASellersFirstDocumentStartsTheCheckAndIsRetained(t *testing.T) {
	s := newCaseStack(t)
	body := sellerFlowBody("Paper Trail GmbH")
	id := body["seller_id"].(string)
	delete(body["identity"].(map[string]any), "document_ids")
	r := s.as(t, store.RoleIntegration, http.MethodPost, "/v1/sellers", body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r)
	s.terminateFlowAtEnd(t, sellers.OnboardingWorkflowID(id))
	s.terminateFlowAtEnd(t, sellers.VerificationWorkflowID(id))
	s.awaitSellerView(t, id, "waiting for documents", func(v sellerView) bool { return v.LastSeq > 0 })
	assert.Empty(t, s.ledgerOfSeller(t, id).holds, "no check, no hold, before a document")

	path := "/v1/sellers/" + id + "/documents"
	doc := pngBytes(t, 4096)
	problemOf(t, s.uploadTo(t, store.RoleAgent, path, sellers.KindIdentityDocument, doc), http.StatusForbidden)
	problemOf(t, s.uploadTo(t, store.RoleIntegration, path, "delivery_screenshot", doc), http.StatusUnprocessableEntity)
	up := evidenceOf(t, s.uploadTo(t, store.RoleIntegration, path, sellers.KindIdentityDocument, doc), http.StatusCreated)
	e := up.Evidence
	assert.Equal(t, "sellers/"+id+"/"+e.ID, e.Key)
	assert.True(t, e.Retained, "a seller's documents are retained")
	c3, bucket := stacktest.S3(t), s.cfg.S3.Bucket
	vs := versions(t, c3, bucket, e.Key)
	require.Len(t, vs, 1)
	ret, err := c3.GetObjectRetention(stacktest.Context(t), &s3.GetObjectRetentionInput{Bucket: &bucket, Key: &e.Key, VersionId: vs[0].VersionId})
	require.NoError(t, err)
	assert.Equal(t, s3types.ObjectLockRetentionModeGovernance, ret.Retention.Mode)

	again := evidenceOf(t, s.uploadTo(t, store.RoleIntegration, path, sellers.KindIdentityDocument, doc), http.StatusOK)
	assert.True(t, again.Duplicate)
	assert.Equal(t, e.ID, again.Evidence.ID)

	s.awaitLedger(t, id, "the check held the payouts and passed", func(l sellerLedger) bool { return releasedOnce(l) })
	v := s.awaitSellerView(t, id, "verified with its document", func(v sellerView) bool {
		return v.Verification.Status == sellers.VerificationPassed && len(v.Documents) == 1
	})
	assert.Equal(t, e.ID, v.Documents[0].ID)
	problemOf(t, s.uploadTo(t, store.RoleIntegration, "/v1/sellers/nobody-"+id+"/documents", sellers.KindIdentityDocument, doc), http.StatusNotFound)

	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		stacktest.WriteHistory(t, stacktest.Temporal(t), sellers.OnboardingWorkflowID(id), "",
			filepath.Join("..", "workflows", "sellers", "testdata", "selleronboarding-documents-"+name+".json"))
	}
}

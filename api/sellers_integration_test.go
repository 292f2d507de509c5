//go:build integration

package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/sellers"
	"handoff/workflows/vocab"
)

// These tests read what the workflows would have projected, written here
// through the store, and stop before Temporal: the seller workflows are
// exercised by their own tests.

// sellerFixture is seller "sel-"+tag as the read model has it: onboarding,
// its payouts held by the verification, one open onboarding case.
type sellerFixture struct {
	id       string
	hold     vocab.PayoutHold
	released vocab.PayoutHold
	caseID   string
}

func newSellerFixture(t *testing.T, db *store.Store) sellerFixture {
	t.Helper()
	ctx := stacktest.Context(t)
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	tag := hex.EncodeToString(b)
	id := "sel-" + tag
	now := time.Now().UTC().Truncate(time.Millisecond)
	view := sellers.SellerView{
		SellerID: id, Region: "eu", Status: sellers.SellerStatusOnboarding,
		Steps: []sellers.Step{{Name: sellers.StepAccountCreated, Status: sellers.StepOverdue, DueAt: now.Add(-time.Hour),
			EscalateAt: now.Add(47 * time.Hour)}},
		Verification: sellers.VerificationStatus{Status: sellers.VerificationChecking, CheckID: "vchk_" + tag,
			Actor: vocab.SystemActor, At: now},
		StartedAt: now.Add(-2 * time.Hour), UpdatedAt: now, LastSeq: 2,
	}
	require.NoError(t, db.ProjectSeller(ctx, sellers.SellerProjection{Seller: view, Events: []vocab.Event{
		{Seq: 1, Actor: vocab.SystemActor, Kind: sellers.EventOnboardingStarted, At: view.StartedAt},
		{Seq: 2, Actor: vocab.SystemActor, Kind: sellers.EventStepOverdue, At: now,
			Payload: map[string]string{"step": sellers.StepAccountCreated}},
	}}))
	f := sellerFixture{id: id, caseID: "C-" + tag}
	f.hold = vocab.PayoutHold{Key: "verification/" + id + "/hold", ID: "ph_" + tag, SellerID: id,
		Reason: vocab.HoldReasonVerification, Detail: "until the identity check passes",
		Owner: vocab.VerificationWorkflowID(id), State: vocab.PayoutHoldHeld, PlacedAt: now.Add(-time.Hour)}
	require.NoError(t, db.ProjectPayoutHold(ctx, f.hold, now))
	releasedAt := now
	f.released = vocab.PayoutHold{Key: "fraud/seller-" + id + "/hold/1", ID: "ph_f" + tag, SellerID: id,
		Reason: vocab.HoldReasonFraudReview, Owner: vocab.FraudWatchWorkflowID("seller", id),
		State: vocab.PayoutHoldReleased, PlacedAt: now.Add(-3 * time.Hour), ReleasedAt: &releasedAt,
		ReleasedBy: "trust_safety:tess", ReleaseReason: "false alarm"}
	require.NoError(t, db.ProjectPayoutHold(ctx, f.released, now))
	require.NoError(t, db.ProjectCase(ctx, cases.ProjectionInput{Case: cases.CaseView{
		ID: f.caseID, Category: vocab.CategorySellerOnboarding, Priority: vocab.P3, Subject: "Seller " + id + " stalled",
		Customer: vocab.Customer{ID: id, Email: "s@example.com", Locale: "en"}, Team: vocab.TeamTrustSafety,
		Status: cases.StatusOpen, SLA: cases.SLAView{Breaches: []cases.Breach{}}, CreatedAt: now, UpdatedAt: now, LastSeq: 1,
	}}))
	return f
}

func sellerRead(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer key-admin")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestASellerIsReadFromTheReadModelWithHoldsCasesAndRates(t *testing.T) {
	db := stacktest.Store(t)
	f := newSellerFixture(t, db)
	h := sellerAPI(t, db)

	rec := sellerRead(t, h, "/v1/sellers/"+f.id)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got struct {
		SellerID     string                     `json:"seller_id"`
		Status       string                     `json:"status"`
		Steps        []sellers.Step             `json:"steps"`
		Verification sellers.VerificationStatus `json:"verification"`
		Holds        []vocab.PayoutHold         `json:"holds"`
		OpenCases    []store.SellerCase         `json:"open_cases"`
		Rates        map[string]any             `json:"rates"`
		Timeline     []vocab.Event              `json:"timeline"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, f.id, got.SellerID)
	assert.Equal(t, sellers.SellerStatusOnboarding, got.Status)
	require.Len(t, got.Steps, 1)
	assert.Equal(t, sellers.StepOverdue, got.Steps[0].Status)
	assert.Equal(t, sellers.VerificationChecking, got.Verification.Status)
	assert.Equal(t, []vocab.PayoutHold{f.hold, f.released}, got.Holds, "the newest placed first")
	require.Len(t, got.OpenCases, 1)
	assert.Equal(t, f.caseID, got.OpenCases[0].ID)
	assert.Equal(t, []string{store.CaseOfSeller}, got.OpenCases[0].Relations)
	assert.Equal(t, map[string]any{"disputes": 0.0, "disputes_open": 0.0, "disputes_decided": 0.0, "disputes_lost": 0.0,
		"dispute_loss_rate": nil, "returns": 0.0, "returns_refunded": 0.0, "refund_rate": nil}, got.Rates)
	require.Len(t, got.Timeline, 2)
	assert.Equal(t, sellers.EventStepOverdue, got.Timeline[1].Kind)

	unknown := sellerRead(t, h, "/v1/sellers/sel-unknown-"+f.id)
	require.Equal(t, http.StatusNotFound, unknown.Code, unknown.Body.String())
	assert.Equal(t, "application/problem+json", unknown.Header().Get("Content-Type"))
}

func TestHoldChangesRefusedByTheReadModelChangeNothing(t *testing.T) {
	db := stacktest.Store(t)
	f := newSellerFixture(t, db)
	h := sellerAPI(t, db)
	soon := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	for _, c := range []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"an unknown hold", "/v1/sellers/" + f.id + "/holds/ph_unknown/release", `{"reason": "ok"}`, 404, ""},
		{"another seller's hold", "/v1/sellers/sel-other/holds/" + f.hold.ID + "/release", `{"reason": "ok"}`, 404, ""},
		{"a released hold", "/v1/sellers/" + f.id + "/holds/" + f.released.ID + "/extend", `{"reason": "ok", "until": "` + soon + `"}`, 409, ""},
		{"a released hold by its key", "/v1/sellers/" + f.id + "/holds/fraud%2Fseller-" + f.id + "%2Fhold%2F1/release", `{"reason": "ok"}`, 409, ""},
		{"a case that is not a seller_payment case", "/v1/sellers/" + f.id + "/holds/" + f.hold.ID + "/release",
			`{"reason": "ok", "case_id": "` + f.caseID + `"}`, 422, "case_id"},
		{"a case that does not exist", "/v1/sellers/" + f.id + "/holds/" + f.hold.ID + "/release",
			`{"reason": "ok", "case_id": "C-nope"}`, 422, "case_id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec, p := send(t, h, store.RoleAdmin, c.path, c.body)
			require.Equal(t, c.status, rec.Code, rec.Body.String())
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			if c.field != "" {
				assert.Contains(t, problemFields(p), c.field)
			}
		})
	}
	got, err := db.Seller(stacktest.Context(t), f.id)
	require.NoError(t, err)
	assert.Equal(t, []vocab.PayoutHold{f.hold, f.released}, got.Holds)
}

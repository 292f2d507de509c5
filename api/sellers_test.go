package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"handoff/config"
	"handoff/deploy/verificationsim"
	"handoff/standardwebhooks"
	"handoff/store"
	"handoff/verification"
	"handoff/workflows/sellers"
	"handoff/workflows/vocab"
)

// sellerAPI is the sellers' operations behind the API's own
// authentication and middleware, over db and without Temporal: a request
// that reaches Temporal (or, with a nil db, Postgres) panics, so a test
// shows none does. Until server.go registers them, access has no entries
// for them: only admins pass authorize.
func sellerAPI(t *testing.T, db *store.Store) http.Handler {
	t.Helper()
	s := &server{registry: prometheus.NewRegistry(), lookupKey: fakeKeys, logger: quiet, store: db}
	r := chi.NewRouter()
	r.Use(authenticate(fakeKeys))
	api := humachi.New(r, humaConfig())
	api.UseMiddleware(authorize(api), requireCleanText(api))
	s.registerSellers(api, func(id, method, path, summary string, status int) huma.Operation {
		return huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, DefaultStatus: status}
	})
	return r
}

const validSeller = `{"seller_id": "sel-1", "seller": {"email": "ada@example.com", "name": "Ada", "locale": "fr"},
 "region": "eu", "identity": {"legal_name": "Ada Lovelace SARL", "country": "FR", "document_ids": ["ev_1"], "payout_account_last4": "0042"}}`

// withField answers validSeller with one field set (a dotted path) to v,
// or removed when v is nil.
func withField(t *testing.T, path string, v any) string {
	t.Helper()
	var body map[string]any
	require.NoError(t, json.Unmarshal([]byte(validSeller), &body))
	m := body
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(map[string]any)
	}
	if v == nil {
		delete(m, parts[len(parts)-1])
	} else {
		m[parts[len(parts)-1]] = v
	}
	data, err := json.Marshal(body)
	require.NoError(t, err)
	return string(data)
}

func TestStartingAnEmptySellerNamesEveryMissingFieldAtOnce(t *testing.T) {
	rec, p := send(t, sellerAPI(t, nil), store.RoleAdmin, "/v1/sellers", `{}`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	assert.Equal(t, "urn:handoff:problem:invalid-fields", p.Type)
	assert.ElementsMatch(t, []string{"seller_id", "seller", "region", "identity"}, problemFields(p))
}

func TestSellerStartRefusalsNameTheFieldBeforeTemporal(t *testing.T) {
	h := sellerAPI(t, nil)
	for _, c := range []struct {
		name, body string
		status     int
		field      string
	}{
		{"a seller id with a slash", withField(t, "seller_id", "sel/1"), 422, "seller_id"},
		{"no email", withField(t, "seller.email", nil), 422, "seller.email"},
		{"an email that is none", withField(t, "seller.email", "ada"), 422, "seller.email"},
		{"a locale not spoken", withField(t, "seller.locale", "de"), 422, "seller.locale"},
		{"a country in words", withField(t, "identity.country", "France"), 422, "identity.country"},
		{"a country in lower case", withField(t, "identity.country", "fr"), 422, "identity.country"},
		{"an empty document id", withField(t, "identity.document_ids", []string{"ev_1", " "}), 422, "identity.document_ids[1]"},
		{"last four that are not digits", withField(t, "identity.payout_account_last4", "12a4"), 422, "identity.payout_account_last4"},
		{"no legal name", withField(t, "identity.legal_name", ""), 422, "identity.legal_name"},
		{"a NUL in the name", withField(t, "seller.name", "Ada\u0000"), 422, "seller.name"},
		{"an unknown field", withField(t, "sellerid", "x"), 400, "sellerid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec, p := send(t, h, store.RoleAdmin, "/v1/sellers", c.body)
			require.Equal(t, c.status, rec.Code, rec.Body.String())
			assert.Contains(t, problemFields(p), c.field)
		})
	}
}

func TestSellerActionRefusalsNameTheFieldBeforeAnyLookup(t *testing.T) {
	h := sellerAPI(t, nil)
	soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, c := range []struct {
		path, body string
		status     int
		field      string
	}{
		{"/v1/sellers/sel-1/verification/decision", `{"outcome": "maybe", "reason": "x"}`, 422, "outcome"},
		{"/v1/sellers/sel-1/verification/decision", `{"outcome": "pass"}`, 422, "reason"},
		{"/v1/sellers/sel-1/verification/decision", `{"outcome": "pass", "reason": ""}`, 422, "reason"},
		{"/v1/sellers/sel%2F1/verification/decision", `{"outcome": "pass", "reason": "ok"}`, 422, "id"},
		{"/v1/sellers/sel-1/holds/ph_1/release", `{}`, 422, "reason"},
		{"/v1/sellers/sel-1/holds/ph_1/release", `{"reason": "ok", "case_id": "C 1"}`, 422, "case_id"},
		{"/v1/sellers/sel-1/holds/ph_1/release", `{"reason": "ok\u0000"}`, 422, "reason"},
		{"/v1/sellers/sel-1/holds/ph_1/release", `{"reason": "ok", "until": "` + soon + `"}`, 400, "until"},
		{"/v1/sellers/sel-1/holds/ph_1/extend", `{"reason": "ok"}`, 422, "until"},
		{"/v1/sellers/sel-1/holds/ph_1/extend", `{"reason": "ok", "until": "tomorrow"}`, 422, "until"},
		{"/v1/sellers/sel-1/holds/ph_1/extend", `{"reason": "ok", "until": "2020-01-01T00:00:00Z"}`, 422, "until"},
		{"/v1/sellers/sel-1/holds/ph_1/extend", `{"reason": "ok", "until": "2999-01-01T00:00:00Z"}`, 422, "until"},
		{"/v1/sellers/sel-1/holds/ph_1/extend", `{"until": "` + soon + `"}`, 422, "reason"},
	} {
		rec, p := send(t, h, store.RoleAdmin, c.path, c.body)
		require.Equal(t, c.status, rec.Code, "%s %s: %s", c.path, c.body, rec.Body)
		assert.Contains(t, problemFields(p), c.field, "%s %s", c.path, c.body)
	}
}

func TestTheDefaultSellerPolicyStartsAValidOnboardingOfEveryStep(t *testing.T) {
	policy := (&server{}).sellersPolicy()
	in := sellers.OnboardingInput{
		SellerID: "sel-1", Region: "eu", Seller: vocab.Customer{ID: "sel-1", Email: "ada@example.com", Locale: "en"},
		Identity: sellers.Identity{LegalName: "Ada", Country: "FR", DocumentIDs: []string{"ev_1"}},
		Policy:   policy, StartedAt: time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC),
	}
	require.NoError(t, in.Validate())
	names := make([]string, len(policy.Steps))
	for i, s := range policy.Steps {
		names[i] = s.Name
	}
	assert.Equal(t, sellers.Steps, names, "every step, in the order sellers take them")
	assert.True(t, policy.Verification.HoldPayouts)

	v := initialSellerView(in)
	assert.Equal(t, sellers.SellerStatusOnboarding, v.Status)
	assert.Equal(t, sellers.VerificationHolding, v.Verification.Status)
	require.Len(t, v.Steps, 5)
	assert.Equal(t, sellers.Step{Name: sellers.StepAccountCreated, Status: sellers.StepPending,
		DueAt: in.StartedAt.Add(time.Hour), EscalateAt: in.StartedAt.Add(49 * time.Hour)}, v.Steps[0])
	assert.Equal(t, in.StartedAt.Add(720*time.Hour), v.Steps[4].DueAt)
}

func TestAHoldChangeAnswersTheHoldItselfOrTheViewHoldingIt(t *testing.T) {
	hold := vocab.PayoutHold{Key: "verification/sel-1/hold", ID: "ph_1", SellerID: "sel-1", State: vocab.PayoutHoldReleased}
	itself, err := json.Marshal(hold)
	require.NoError(t, err)
	view, err := json.Marshal(sellers.VerificationView{SellerID: "sel-1", Hold: &hold})
	require.NoError(t, err)
	for _, answer := range [][]byte{itself, view} {
		got, ok := holdOfAnswer(answer, hold.Key)
		require.True(t, ok, string(answer))
		assert.Equal(t, hold, got)
	}
	for _, answer := range []string{`null`, `{"hold": {"key": "other"}}`, `{"status": "passed"}`, ``} {
		_, ok := holdOfAnswer(json.RawMessage(answer), hold.Key)
		assert.False(t, ok, answer)
	}
}

// Seller webhooks.

var (
	marketplaceSecret  = "whsec_" + "bWFya2V0cGxhY2UtdGVzdC13ZWJob29rLWtleQ=="
	verificationSecret = "whsec_" + "dmVyaWZpY2F0aW9uLXRlc3Qtd2ViaG9vay1rZXk="
)

// sellerHooks is a router with only the seller webhooks, at hookNow,
// mounted as server.go mounts them.
func sellerHooks(t *testing.T, temporal signaller) http.Handler {
	t.Helper()
	hooks, err := newSellerWebhooks(temporal, marketplaceSecret, verificationSecret, quiet, func() time.Time { return hookNow })
	require.NoError(t, err)
	r := chi.NewRouter()
	r.Post(marketplaceWebhookPath, hooks.marketplaceWebhook)
	r.Post(verificationWebhookPath, hooks.verificationWebhook)
	return r
}

// signedRequest is a webhook to path signed with secret, sent at.
func signedRequest(t *testing.T, path, secret string, at time.Time, id, body string) *http.Request {
	t.Helper()
	key, err := standardwebhooks.ParseSecret(secret)
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderID, id)
	req.Header.Set(standardwebhooks.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderSignature, standardwebhooks.Sign(key, id, at.Unix(), []byte(body)))
	return req
}

const listingEvent = `{"seller_id": "sel-1", "event": {"id": "mkt-evt-7", "kind": "listing_published", "at": "2026-03-05T09:10:00+01:00", "detail": "Vintage lamp"}}`

func TestASignedSellerEventSignalsTheSellersOnboarding(t *testing.T) {
	temporal := &fakeSignaller{}
	rec := serve(sellerHooks(t, temporal), signedRequest(t, marketplaceWebhookPath, marketplaceSecret, hookNow, "mkt-evt-7", listingEvent))
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	assert.Equal(t, []sentSignal{{"seller/sel-1", sellers.SignalSellerEvent, sellers.SellerEvent{
		ID: "mkt-evt-7", Kind: sellers.EventKindListingPublished, At: time.Date(2026, 3, 5, 8, 10, 0, 0, time.UTC),
		Detail: "Vintage lamp",
	}}}, temporal.signals())
}

func TestASellerEventNotSignedByTheMarketplaceIsRefused(t *testing.T) {
	temporal := &fakeSignaller{}
	h := sellerHooks(t, temporal)
	for name, req := range map[string]*http.Request{
		"signed with another secret": signedRequest(t, marketplaceWebhookPath, verificationSecret, hookNow, "e", listingEvent),
		"stale":                      signedRequest(t, marketplaceWebhookPath, marketplaceSecret, hookNow.Add(-time.Hour), "e", listingEvent),
		"unsigned":                   httptest.NewRequest(http.MethodPost, marketplaceWebhookPath, strings.NewReader(listingEvent)),
	} {
		p := problemIn(t, serve(h, req), http.StatusUnauthorized)
		assert.NotEmpty(t, fieldsIn(p), name)
	}
	stale := problemIn(t, serve(h, signedRequest(t, marketplaceWebhookPath, marketplaceSecret, hookNow.Add(-time.Hour), "e", listingEvent)), 401)
	assert.Equal(t, []string{standardwebhooks.HeaderTimestamp}, fieldsIn(stale))
	assert.Empty(t, temporal.signals())
}

func TestAMalformedSellerEventIsRefusedNamingTheField(t *testing.T) {
	temporal := &fakeSignaller{}
	h := sellerHooks(t, temporal)
	for body, fields := range map[string][]string{
		`{}`: {"seller_id", "event.id", "event.kind", "event.at"},
		`{"seller_id": "sel-1", "event": {"id": "e1", "kind": "account_deleted", "at": "2026-03-05T09:10:00Z"}}`:   {"event.kind"},
		`{"seller_id": "sel-1", "event": {"id": "e1", "kind": "order_shipped", "at": "yesterday"}}`:                {"event.at"},
		`{"seller_id": "sel\u0000", "event": {"id": "e1", "kind": "order_shipped", "at": "2026-03-05T09:10:00Z"}}`: {"seller_id"},
		`{"seller_id": 7}`: {"seller_id"},
		`[1, 2]`:           {"body"},
	} {
		p := problemIn(t, serve(h, signedRequest(t, marketplaceWebhookPath, marketplaceSecret, hookNow, "e", body)), 422)
		assert.ElementsMatch(t, fields, fieldsIn(p), body)
	}
	assert.Empty(t, temporal.signals())
}

func TestASellerEventForNoOnboardingIsAcceptedAndOneTemporalCannotTakeIsRetried(t *testing.T) {
	gone := &fakeSignaller{err: serviceerror.NewNotFound("workflow not found")}
	rec := serve(sellerHooks(t, gone), signedRequest(t, marketplaceWebhookPath, marketplaceSecret, hookNow, "e", listingEvent))
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "seller sel-1")

	down := &fakeSignaller{err: errors.New("frontend unavailable")}
	problemIn(t, serve(sellerHooks(t, down), signedRequest(t, marketplaceWebhookPath, marketplaceSecret, hookNow, "e", listingEvent)), 503)
}

const decidedCheck = `{"id": "vchk_1", "seller_id": "sel-1", "status": "failed", "reasons": ["document does not match the name"],
 "created_at": "2026-03-05T09:00:00Z", "decided_at": "2026-03-05T09:05:00Z"}`

func TestASignedDecisionSignalsTheSellersVerification(t *testing.T) {
	temporal := &fakeSignaller{}
	rec := serve(sellerHooks(t, temporal), signedRequest(t, verificationWebhookPath, verificationSecret, hookNow, "vchk_1/failed", decidedCheck))
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	assert.Equal(t, []sentSignal{{"verification/sel-1", sellers.SignalCheckDecided, sellers.CheckResult{
		ID: "vchk_1", SellerID: "sel-1", Status: sellers.CheckFailed, Reasons: []string{"document does not match the name"},
		DecidedAt: time.Date(2026, 3, 5, 9, 5, 0, 0, time.UTC),
	}}}, temporal.signals())
}

func TestADecisionWebhookIsRefusedUnlessSignedAndDecided(t *testing.T) {
	temporal := &fakeSignaller{}
	h := sellerHooks(t, temporal)
	problemIn(t, serve(h, signedRequest(t, verificationWebhookPath, marketplaceSecret, hookNow, "vchk_1/failed", decidedCheck)), 401)
	for body, fields := range map[string][]string{
		`{"id": "vchk_1", "seller_id": "sel-1", "status": "pending"}`: {"status"},
		`{"status": "passed"}`: {"id", "seller_id"},
		`{"id": "vchk_1", "seller_id": "sel-1", "status": "passed", "decided_at": "soon"}`: {"decided_at"},
	} {
		p := problemIn(t, serve(h, signedRequest(t, verificationWebhookPath, verificationSecret, hookNow, "x", body)), 422)
		assert.ElementsMatch(t, fields, fieldsIn(p), body)
	}
	assert.Empty(t, temporal.signals())

	gone := &fakeSignaller{err: serviceerror.NewNotFound("workflow not found")}
	rec := serve(sellerHooks(t, gone), signedRequest(t, verificationWebhookPath, verificationSecret, hookNow, "vchk_1/failed", decidedCheck))
	require.Equal(t, http.StatusAccepted, rec.Code, "a decision for no running verification is taken, so the provider stops: %s", rec.Body)
}

func TestTheVerificationStandInsDecisionReachesTheSellerWithTheDefaultSettings(t *testing.T) {
	cfg, err := config.LoadFrom(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	temporal := &fakeSignaller{}
	hooks, err := newSellerWebhooks(temporal, marketplaceSecret, cfg.Verification.WebhookSecret, quiet, nil)
	require.NoError(t, err)
	r := chi.NewRouter()
	r.Post(verificationWebhookPath, hooks.verificationWebhook)
	api := httptest.NewServer(r)
	defer api.Close()
	sim, err := verificationsim.New(verificationsim.Options{
		KeyID: cfg.Verification.KeyID, Secret: cfg.Verification.Secret,
		WebhookURL: api.URL + verificationWebhookPath, WebhookSecret: cfg.Verification.WebhookSecret,
		Delay: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	defer sim.Close()
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()

	v, err := verification.NewHTTP(verification.HTTPConfig{BaseURL: simSrv.URL, KeyID: cfg.Verification.KeyID, Secret: cfg.Verification.Secret})
	require.NoError(t, err)
	check, err := v.Check(context.Background(), verification.CheckRequest{IdempotencyKey: "verification/sel-9/check",
		SellerID: "sel-9", LegalName: "Chocolate Ltd", Country: "BE", DocumentIDs: []string{"ev_1"}})
	require.NoError(t, err)
	require.Equal(t, verification.StatusPending, check.Status, "a late check is decided by webhook")

	require.Eventually(t, func() bool { return len(temporal.signals()) == 1 }, 5*time.Second, 10*time.Millisecond)
	got := temporal.signals()[0]
	assert.Equal(t, "verification/sel-9", got.workflowID)
	assert.Equal(t, sellers.SignalCheckDecided, got.name)
	result := got.arg.(sellers.CheckResult)
	assert.Equal(t, check.ID, result.ID)
	assert.Equal(t, sellers.CheckPassed, result.Status)
	assert.False(t, result.DecidedAt.IsZero())
}

func TestNewSellerWebhooksRefusesBadSecretsNamingTheirKeys(t *testing.T) {
	_, err := newSellerWebhooks(&fakeSignaller{}, "not-a-secret", verificationSecret, quiet, nil)
	assert.ErrorContains(t, err, "SELLER_EVENTS_WEBHOOK_SECRET")
	_, err = newSellerWebhooks(&fakeSignaller{}, marketplaceSecret, "", quiet, nil)
	assert.ErrorContains(t, err, "KYC_WEBHOOK_SECRET")
}

func TestAnOversizedSellerWebhookIsRefused(t *testing.T) {
	body := bytes.Repeat([]byte("x"), maxCommerceWebhookBody+1)
	req := signedRequest(t, marketplaceWebhookPath, marketplaceSecret, hookNow, "e", string(body))
	problemIn(t, serve(sellerHooks(t, &fakeSignaller{}), req), http.StatusRequestEntityTooLarge)
}

package verificationsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/deploy/verificationsim"
	"handoff/standardwebhooks"
	"handoff/verification"
)

const (
	secret        = "0123456789abcdef0123456789abcdef"
	webhookSecret = "whsec_dGVzdC12ZXJpZmljYXRpb24td2ViaG9vay1zZWNyZXQ="
)

type received struct {
	header http.Header
	body   []byte
	status int
}

// receiver records every webhook and answers 500 to the first send of each.
type receiver struct {
	mu   sync.Mutex
	got  []received
	seen map[string]bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id := r.Header.Get(standardwebhooks.HeaderID)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	status := http.StatusNoContent
	if !rc.seen[id] {
		status = http.StatusInternalServerError
	}
	rc.seen[id] = true
	rc.got = append(rc.got, received{r.Header.Clone(), body, status})
	w.WriteHeader(status)
}

// sendsOf answers the sends with webhook-id id so far.
func (rc *receiver) sendsOf(id string) []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []received
	for _, r := range rc.got {
		if r.header.Get(standardwebhooks.HeaderID) == id {
			out = append(out, r)
		}
	}
	return out
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

type fixture struct {
	srv *httptest.Server
	rc  *receiver
	c   *verification.HTTP
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	rc := &receiver{seen: map[string]bool{}}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	sim, err := verificationsim.New(verificationsim.Options{
		KeyID: "handoff", Secret: secret,
		WebhookURL: hook.URL + "/webhooks/verification", WebhookSecret: webhookSecret,
		Delay: 20 * time.Millisecond, DeliveryBackoff: 10 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := verification.NewHTTP(verification.HTTPConfig{BaseURL: srv.URL, KeyID: "handoff", Secret: secret,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return fixture{srv, rc, c}
}

func request(key, name string) verification.CheckRequest {
	return verification.CheckRequest{IdempotencyKey: key, SellerID: "seller-7", LegalName: name,
		Country: "FR", DocumentIDs: []string{"ev-1"}, PayoutAccountLast4: "1234"}
}

// decide posts to the local /decide endpoint and answers the status and the check.
func (f fixture) decide(t *testing.T, id, body string) (int, verification.Check) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+"/checks/"+id+"/decide", "application/json", bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	defer resp.Body.Close()
	var c verification.Check
	_ = json.NewDecoder(resp.Body).Decode(&c)
	return resp.StatusCode, c
}

// webhookOf waits for the decision webhook with id, sent twice (the first
// answered 500), and answers the check it carried, after checking both
// sends are signed and alike.
func (f fixture) webhookOf(t *testing.T, id string) verification.Check {
	t.Helper()
	var sends []received
	require.Eventually(t, func() bool {
		sends = f.rc.sendsOf(id)
		return len(sends) == 2
	}, 5*time.Second, 5*time.Millisecond, "the webhook %s, retried once", id)
	verifier, err := standardwebhooks.NewVerifier(webhookSecret, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, sends[0].status)
	assert.Equal(t, http.StatusNoContent, sends[1].status)
	for _, s := range sends {
		require.NoError(t, verifier.Verify(s.header, s.body))
		assert.Equal(t, "verification", s.header.Get(standardwebhooks.HeaderKeyID))
	}
	assert.Equal(t, sends[0].body, sends[1].body, "a retry sends the same decision")
	var c verification.Check
	require.NoError(t, json.Unmarshal(sends[1].body, &c))
	return c
}

func TestPlainNamePassesAtOnceOncePerKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	req := request("seller/seller-7/kyc", "Ada Lovelace SARL")
	first, err := f.c.Check(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, verification.StatusPassed, first.Status)
	assert.Empty(t, first.Reasons)
	assert.False(t, first.DecidedAt.IsZero())
	assert.Equal(t, "seller-7", first.SellerID)

	again, err := f.c.Check(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, first, again, "one key, one check")

	other := req
	other.LegalName = "Ada Lovelace SAS"
	_, err = f.c.Check(ctx, other)
	require.ErrorIs(t, err, verification.ErrRefused)
	assert.Equal(t, verification.CodeIdempotencyConflict, verification.CodeOf(err))

	other.IdempotencyKey = "seller/seller-7/kyc-2"
	second, err := f.c.Check(ctx, other)
	require.NoError(t, err)
	assert.NotEqual(t, first.ID, second.ID)

	got, err := f.c.Get(ctx, first.ID)
	require.NoError(t, err)
	assert.Equal(t, first, got)
	_, err = f.c.Get(ctx, "vchk_nope")
	require.ErrorIs(t, err, verification.ErrNotFound)

	assert.Zero(t, f.rc.count(), "a check decided in its answer sends no webhook")
}

func TestFailingNameFailsWithItsReason(t *testing.T) {
	f := newFixture(t)
	c, err := f.c.Check(context.Background(), request("k-fail", "Will FAIL GmbH"))
	require.NoError(t, err)
	assert.Equal(t, verification.StatusFailed, c.Status)
	assert.Equal(t, []string{verificationsim.ReasonMismatch}, c.Reasons)
	assert.False(t, c.DecidedAt.IsZero())
}

func TestLateCheckIsPendingThenPassesThroughTheWebhook(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.c.Check(ctx, request("k-late", "Running Late Ltd"))
	require.NoError(t, err)
	require.Equal(t, verification.StatusPending, c.Status)
	assert.True(t, c.DecidedAt.IsZero())

	decided := f.webhookOf(t, verificationsim.DecisionEventID(c.ID, verification.StatusPassed))
	assert.Equal(t, c.ID, decided.ID)
	assert.Equal(t, verification.StatusPassed, decided.Status)
	assert.False(t, decided.DecidedAt.Before(c.CreatedAt))

	got, err := f.c.Get(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, decided, got, "Get answers what the webhook said")
	again, err := f.c.Check(ctx, request("k-late", "Running Late Ltd"))
	require.NoError(t, err)
	assert.Equal(t, decided, again, "a repeat of the key answers the check as it is now")
}

func TestReviewWaitsForAReviewerWhoseDecisionIsSent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.c.Check(ctx, request("k-review", "Needs Review BV"))
	require.NoError(t, err)
	require.Equal(t, verification.StatusNeedsReview, c.Status)
	assert.Equal(t, []string{verificationsim.ReasonManualReview}, c.Reasons)

	status, _ := f.decide(t, c.ID, `{"status":"needs_review"}`)
	assert.Equal(t, http.StatusBadRequest, status, "a reviewer passes or fails")
	status, _ = f.decide(t, "vchk_nope", `{"status":"failed"}`)
	assert.Equal(t, http.StatusNotFound, status)

	status, decided := f.decide(t, c.ID, `{"status":"failed","reason":"passport expired"}`)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, verification.StatusFailed, decided.Status)
	assert.Equal(t, []string{"passport expired"}, decided.Reasons)

	hook := f.webhookOf(t, verificationsim.DecisionEventID(c.ID, verification.StatusFailed))
	assert.Equal(t, decided, hook)

	status, same := f.decide(t, c.ID, `{"status":"failed"}`)
	assert.Equal(t, http.StatusOK, status, "the same decision again changes nothing")
	assert.Equal(t, decided, same)
	status, _ = f.decide(t, c.ID, `{"status":"passed"}`)
	assert.Equal(t, http.StatusConflict, status, "a decided check stays decided")
	assert.Len(t, f.rc.sendsOf(verificationsim.DecisionEventID(c.ID, verification.StatusFailed)), 2, "no second decision is sent")
}

func TestUnsignedAndInvalidRequestsAreRefused(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Post(f.srv.URL+"/checks", "application/json", bytes.NewReader([]byte(`{}`)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	other, err := verification.NewHTTP(verification.HTTPConfig{BaseURL: f.srv.URL, KeyID: "handoff",
		Secret: "another-secret-of-at-least-32-bytes", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	_, err = other.Get(context.Background(), "vchk_1")
	require.ErrorIs(t, err, verification.ErrRefused)
	assert.Equal(t, verification.CodeUnauthorized, verification.CodeOf(err))
}

func TestListingShowsEveryCheckNewestFirst(t *testing.T) {
	f := newFixture(t)
	for _, k := range []string{"k-1", "k-2"} {
		_, err := f.c.Check(context.Background(), request(k, "Name "+k))
		require.NoError(t, err)
	}
	resp, err := http.Get(f.srv.URL + "/checks")
	require.NoError(t, err)
	defer resp.Body.Close()
	var list []struct {
		ID             string `json:"id"`
		LegalName      string `json:"legal_name"`
		IdempotencyKey string `json:"idempotency_key"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	require.Len(t, list, 2)
	assert.Equal(t, "k-2", list[0].IdempotencyKey)
	assert.Equal(t, "Name k-1", list[1].LegalName)
}

func TestOutcomeRule(t *testing.T) {
	for name, want := range map[string]string{
		"Ada Lovelace":        verification.StatusPassed,
		"fail and review":     verification.StatusFailed,
		"Review me late":      verification.StatusNeedsReview,
		"Chocolate Factory":   verification.StatusPending, // "late" inside a word counts
		"Failsafe Widgets AG": verification.StatusFailed,
	} {
		got, _ := verificationsim.Outcome(verification.CheckRequest{LegalName: name})
		assert.Equal(t, want, got, name)
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for _, o := range []verificationsim.Options{
		{KeyID: "k", Secret: "short", WebhookURL: "http://x", WebhookSecret: webhookSecret},
		{KeyID: "k", Secret: secret, WebhookURL: "http://x", WebhookSecret: "nope"},
		{KeyID: "", Secret: secret, WebhookURL: "http://x", WebhookSecret: webhookSecret},
		{KeyID: "k", Secret: secret, WebhookURL: "", WebhookSecret: webhookSecret},
	} {
		_, err := verificationsim.New(o)
		assert.Error(t, err)
	}
}

package verification

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/signedhttp"
)

const testSecret = "test-secret-of-at-least-32-bytes!!"

type got struct {
	Method, Target, Key, KeyID string
	Body                       map[string]any
	SignatureOK                bool
}

// fake verifies signatures as docs/verification.md tells implementers,
// apart from signedhttp.Sign so a change on one side fails the tests.
type fake struct {
	mu     sync.Mutex
	got    []got
	answer func(n int) (int, string)
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts, _ := strconv.ParseInt(r.Header.Get(signedhttp.HeaderTimestamp), 10, 64)
	mac := hmac.New(sha256.New, []byte(testSecret))
	fmt.Fprintf(mac, "%s\n%s\n%d\n", r.Method, r.RequestURI, ts)
	mac.Write(body)
	ok := hmac.Equal([]byte("v1="+hex.EncodeToString(mac.Sum(nil))), []byte(r.Header.Get(signedhttp.HeaderSignature))) &&
		time.Since(time.Unix(ts, 0)).Abs() < time.Minute
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	f.mu.Lock()
	f.got = append(f.got, got{r.Method, r.RequestURI, r.Header.Get(signedhttp.HeaderIdempotencyKey), r.Header.Get(signedhttp.HeaderKeyID), m, ok})
	n := len(f.got)
	f.mu.Unlock()
	status, answer := f.answer(n)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func newClient(t *testing.T, answer func(n int) (int, string)) (*HTTP, *fake) {
	t.Helper()
	f := &fake{answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := NewHTTP(HTTPConfig{BaseURL: srv.URL + "/kyc", KeyID: "k1", Secret: testSecret, Backoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return c, f
}

const checkJSON = `{"id":"vchk_1","seller_id":"seller-1","status":"pending","created_at":"2026-03-04T10:00:00Z"}`

func request() CheckRequest {
	return CheckRequest{
		IdempotencyKey: "seller/seller-1/kyc/1", SellerID: "seller-1", LegalName: "Ada Lovelace Ltd",
		Country: "GB", DocumentIDs: []string{"ev-1", "ev-2"}, PayoutAccountLast4: "0042",
	}
}

func TestNewHTTPRefusesBadConfig(t *testing.T) {
	for _, cfg := range []HTTPConfig{
		{BaseURL: "kyc.local", Secret: testSecret},
		{BaseURL: "http://kyc.local?x=1", Secret: testSecret},
		{BaseURL: "http://kyc.local", Secret: "short"},
		{BaseURL: "http://kyc.local", Secret: testSecret, KeyID: "a b"},
	} {
		_, err := NewHTTP(cfg)
		assert.Error(t, err, "%+v", cfg)
	}
}

func TestCheckAndGetAreSignedAndCarryTheKey(t *testing.T) {
	c, f := newClient(t, func(int) (int, string) { return 201, checkJSON })
	ctx := context.Background()

	ch, err := c.Check(ctx, request())
	require.NoError(t, err)
	assert.Equal(t, Check{ID: "vchk_1", SellerID: "seller-1", Status: StatusPending,
		CreatedAt: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)}, ch)
	assert.True(t, ch.DecidedAt.IsZero(), "a pending check is not decided")
	_, err = c.Get(ctx, "vchk/1")
	require.NoError(t, err)

	require.Len(t, f.got, 2)
	want := []struct{ method, target, key string }{
		{"POST", "/kyc/checks", "seller/seller-1/kyc/1"},
		{"GET", "/kyc/checks/vchk%2F1", ""},
	}
	for i, w := range want {
		g := f.got[i]
		assert.Equal(t, w.method, g.Method)
		assert.Equal(t, w.target, g.Target)
		assert.Equal(t, w.key, g.Key)
		assert.Equal(t, "k1", g.KeyID)
		assert.True(t, g.SignatureOK, "signature of %s %s", g.Method, g.Target)
	}
	assert.Equal(t, map[string]any{
		"seller_id": "seller-1", "legal_name": "Ada Lovelace Ltd", "country": "GB",
		"document_ids": []any{"ev-1", "ev-2"}, "payout_account_last4": "0042",
	}, f.got[0].Body, "the key goes in the header only")
}

func TestDecidedCheckCarriesReasonsAndDecisionTime(t *testing.T) {
	c, _ := newClient(t, func(int) (int, string) {
		return 200, `{"id":"vchk_2","seller_id":"s","status":"failed","reasons":["document does not match the name"],` +
			`"created_at":"2026-03-04T10:00:00Z","decided_at":"2026-03-04T10:00:02Z"}`
	})
	ch, err := c.Get(context.Background(), "vchk_2")
	require.NoError(t, err)
	assert.Equal(t, StatusFailed, ch.Status)
	assert.True(t, Final(ch.Status))
	assert.Equal(t, []string{"document does not match the name"}, ch.Reasons)
	assert.Equal(t, time.Date(2026, 3, 4, 10, 0, 2, 0, time.UTC), ch.DecidedAt)

	b, err := json.Marshal(Check{ID: "x", Status: StatusPending})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "decided_at", "an undecided check has no decided_at")
}

func TestInvalidRequestsAreRefusedBeforeSending(t *testing.T) {
	c, f := newClient(t, func(int) (int, string) { return 201, checkJSON })
	for name, change := range map[string]func(*CheckRequest){
		"no key":           func(r *CheckRequest) { r.IdempotencyKey = "" },
		"key with space":   func(r *CheckRequest) { r.IdempotencyKey = "a b" },
		"no seller":        func(r *CheckRequest) { r.SellerID = "" },
		"blank legal name": func(r *CheckRequest) { r.LegalName = "  " },
		"country name":     func(r *CheckRequest) { r.Country = "France" },
		"lower country":    func(r *CheckRequest) { r.Country = "fr" },
		"no documents":     func(r *CheckRequest) { r.DocumentIDs = nil },
		"empty document":   func(r *CheckRequest) { r.DocumentIDs = []string{"ev-1", ""} },
		"last4 of 3":       func(r *CheckRequest) { r.PayoutAccountLast4 = "042" },
		"last4 letters":    func(r *CheckRequest) { r.PayoutAccountLast4 = "00a2" },
	} {
		req := request()
		change(&req)
		_, err := c.Check(context.Background(), req)
		assert.ErrorIs(t, err, ErrRefused, name)
		assert.Equal(t, CodeInvalidRequest, CodeOf(err), name)
		assert.False(t, IsTransient(err), name)
	}
	_, err := c.Get(context.Background(), "")
	assert.ErrorIs(t, err, ErrRefused)
	assert.Empty(t, f.got, "nothing invalid is sent")

	req := request()
	req.PayoutAccountLast4 = ""
	_, err = c.Check(context.Background(), req)
	assert.NoError(t, err, "the payout account is optional")
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		status   int
		body     string
		class    error
		code     string
		attempts int
	}{
		{404, `{"detail":"no check vchk_9","code":"not_found"}`, ErrNotFound, CodeNotFound, 1},
		{404, ``, ErrNotFound, CodeNotFound, 1},
		{409, `{"code":"idempotency_conflict"}`, ErrRefused, CodeIdempotencyConflict, 1},
		{422, `{"code":"invalid_request"}`, ErrRefused, CodeInvalidRequest, 1},
		{401, `{"code":"unauthorized"}`, ErrRefused, CodeUnauthorized, 1},
		{503, `{"code":"unavailable"}`, ErrTransient, CodeUnavailable, 3},
		{500, `oops`, ErrTransient, "", 3},
		{429, ``, ErrTransient, "", 3},
		{200, `not json`, ErrTransient, "", 3},
		{200, `{"id":"vchk_9","status":"maybe"}`, ErrTransient, "", 3},
	} {
		c, f := newClient(t, func(int) (int, string) { return tc.status, tc.body })
		_, err := c.Get(context.Background(), "vchk_9")
		require.Error(t, err)
		assert.ErrorIs(t, err, tc.class, "%d %s", tc.status, tc.body)
		assert.Equal(t, tc.code, CodeOf(err), "%d %s", tc.status, tc.body)
		assert.Len(t, f.got, tc.attempts, "%d %s", tc.status, tc.body)
	}
}

func TestTransientFailuresAreRetriedWithTheSameKey(t *testing.T) {
	c, f := newClient(t, func(n int) (int, string) {
		if n < 3 {
			return 503, `{"code":"unavailable"}`
		}
		return 201, checkJSON
	})
	_, err := c.Check(context.Background(), request())
	require.NoError(t, err)
	require.Len(t, f.got, 3)
	for _, g := range f.got {
		assert.Equal(t, "seller/seller-1/kyc/1", g.Key)
		assert.True(t, g.SignatureOK)
	}
}

func TestNetworkErrorIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c, err := NewHTTP(HTTPConfig{BaseURL: srv.URL, Secret: testSecret, MaxAttempts: 2, Backoff: time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	_, err = c.Check(context.Background(), request())
	assert.ErrorIs(t, err, ErrTransient)
}

package payments

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

// fake verifies signatures as docs/payments.md tells implementers, apart
// from Signature so a change on one side fails the tests.
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
	c, err := NewHTTP(HTTPConfig{BaseURL: srv.URL + "/pay", KeyID: "k1", Secret: testSecret, Backoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return c, f
}

const movementJSON = `{"id":"pm_1","kind":"refund","status":"succeeded","amount":{"minor":1250,"currency":"EUR"},"order_id":"ord-1","idempotency_key":"k-1"}`

func TestSignatureWorkedExample(t *testing.T) {
	// The worked example of docs/account-service.md, repeated in docs/payments.md.
	assert.Equal(t, "v1=4255ab6438c583cc2e7f169e4dc953580d748ee0cbb373b7b05e7c77373be84c",
		Signature([]byte("0123456789abcdef0123456789abcdef"), "POST", "/accounts/acct-1001/lock", 1767225600,
			[]byte(`{"reason":"suspicious login"}`)))
}

func TestNewHTTPRefusesBadConfig(t *testing.T) {
	for _, cfg := range []HTTPConfig{
		{BaseURL: "payments.local", Secret: testSecret},
		{BaseURL: "http://p.local?x=1", Secret: testSecret},
		{BaseURL: "http://p.local", Secret: "short"},
		{BaseURL: "http://p.local", Secret: testSecret, KeyID: "a b"},
	} {
		_, err := NewHTTP(cfg)
		assert.Error(t, err, "%+v", cfg)
	}
}

func TestRequestsAreSignedAndCarryTheKey(t *testing.T) {
	c, f := newClient(t, func(int) (int, string) { return 201, movementJSON })
	ctx := context.Background()
	eur := Money{Minor: 1250, Currency: "EUR"}

	m, err := c.Refund(ctx, RefundRequest{IdempotencyKey: "k-1", OrderID: "ord-1", Amount: eur, Reason: "damaged"})
	require.NoError(t, err)
	assert.Equal(t, "pm_1", m.ID)
	assert.Equal(t, StatusSucceeded, m.Status)
	assert.Equal(t, eur, m.Amount)
	_, err = c.StoreCredit(ctx, StoreCreditRequest{IdempotencyKey: "k-2", BuyerID: "b-1", Amount: eur})
	require.NoError(t, err)
	_, err = c.Hold(ctx, HoldRequest{IdempotencyKey: "k-3", SellerID: "s-1", OrderID: "ord-1", Amount: eur, Reason: "dispute"})
	require.NoError(t, err)
	_, err = c.Release(ctx, ReleaseRequest{IdempotencyKey: "k-4", HoldID: "h/1"})
	require.NoError(t, err)
	_, err = c.Get(ctx, "pm_1")
	require.NoError(t, err)

	require.Len(t, f.got, 5)
	want := []struct{ method, target, key string }{
		{"POST", "/pay/refunds", "k-1"},
		{"POST", "/pay/store-credits", "k-2"},
		{"POST", "/pay/holds", "k-3"},
		{"POST", "/pay/holds/h%2F1/release", "k-4"},
		{"GET", "/pay/movements/pm_1", ""},
	}
	for i, w := range want {
		g := f.got[i]
		assert.Equal(t, w.method, g.Method)
		assert.Equal(t, w.target, g.Target)
		assert.Equal(t, w.key, g.Key)
		assert.Equal(t, "k1", g.KeyID)
		assert.True(t, g.SignatureOK, "signature of %s %s", g.Method, g.Target)
	}
	assert.Equal(t, map[string]any{"order_id": "ord-1", "amount": map[string]any{"minor": 1250.0, "currency": "EUR"}, "reason": "damaged"}, f.got[0].Body)
	assert.Equal(t, "s-1", f.got[2].Body["seller_id"])
}

func TestChecksBeforeSending(t *testing.T) {
	c, f := newClient(t, func(int) (int, string) { return 201, movementJSON })
	ctx := context.Background()
	for name, req := range map[string]RefundRequest{
		"no key":          {OrderID: "o", Amount: Money{1, "EUR"}, Reason: "r"},
		"zero amount":     {IdempotencyKey: "k", OrderID: "o", Amount: Money{0, "EUR"}, Reason: "r"},
		"negative amount": {IdempotencyKey: "k", OrderID: "o", Amount: Money{-5, "EUR"}, Reason: "r"},
		"bad currency":    {IdempotencyKey: "k", OrderID: "o", Amount: Money{5, "eur"}, Reason: "r"},
		"no order":        {IdempotencyKey: "k", Amount: Money{5, "EUR"}, Reason: "r"},
		"key with space":  {IdempotencyKey: "a b", OrderID: "o", Amount: Money{5, "EUR"}, Reason: "r"},
	} {
		_, err := c.Refund(ctx, req)
		assert.ErrorIs(t, err, ErrRefused, name)
		assert.False(t, IsTransient(err), name)
	}
	_, err := c.Refund(ctx, RefundRequest{IdempotencyKey: "k", OrderID: "o", Amount: Money{0, "EUR"}, Reason: "r"})
	assert.Equal(t, CodeBadAmount, CodeOf(err))
	_, err = c.Release(ctx, ReleaseRequest{HoldID: "h"})
	assert.ErrorIs(t, err, ErrRefused)
	assert.Empty(t, f.got, "nothing invalid is sent")
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		status   int
		body     string
		class    error
		code     string
		attempts int
	}{
		{404, `{"detail":"no movement pm_9","code":"not_found"}`, ErrNotFound, CodeNotFound, 1},
		{409, `{"detail":"hold is already released","code":"already_released"}`, ErrRefused, CodeAlreadyReleased, 1},
		{409, `{"code":"idempotency_conflict"}`, ErrRefused, CodeIdempotencyConflict, 1},
		{422, `{"code":"bad_amount"}`, ErrRefused, CodeBadAmount, 1},
		{402, `{"code":"insufficient_funds"}`, ErrRefused, CodeInsufficientFunds, 1},
		{401, `{"code":"unauthorized"}`, ErrRefused, CodeUnauthorized, 1},
		{503, `{"code":"unavailable"}`, ErrTransient, CodeUnavailable, 3},
		{500, `oops`, ErrTransient, "", 3},
		{429, ``, ErrTransient, "", 3},
		{200, `not json`, ErrTransient, "", 3},
	} {
		c, f := newClient(t, func(int) (int, string) { return tc.status, tc.body })
		_, err := c.Get(context.Background(), "pm_9")
		require.Error(t, err)
		assert.ErrorIs(t, err, tc.class, "%d %s", tc.status, tc.body)
		assert.Equal(t, tc.code, CodeOf(err), "%d %s", tc.status, tc.body)
		assert.Len(t, f.got, tc.attempts, "%d %s", tc.status, tc.body)
	}
}

func TestTransientRetriesWithTheSameKey(t *testing.T) {
	c, f := newClient(t, func(n int) (int, string) {
		if n < 3 {
			return 503, `{"code":"unavailable"}`
		}
		return 201, movementJSON
	})
	_, err := c.Refund(context.Background(), RefundRequest{IdempotencyKey: "k-1", OrderID: "ord-1", Amount: Money{1250, "EUR"}, Reason: "r"})
	require.NoError(t, err)
	require.Len(t, f.got, 3)
	for _, g := range f.got {
		assert.Equal(t, "k-1", g.Key)
		assert.True(t, g.SignatureOK)
	}
}

func TestNetworkErrorIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c, err := NewHTTP(HTTPConfig{BaseURL: srv.URL, Secret: testSecret, MaxAttempts: 2, Backoff: time.Millisecond})
	require.NoError(t, err)
	_, err = c.Hold(context.Background(), HoldRequest{IdempotencyKey: "k", SellerID: "s", OrderID: "o", Amount: Money{1, "USD"}, Reason: "r"})
	assert.ErrorIs(t, err, ErrTransient)
}

const payoutHoldJSON = `{"id":"pm_2","kind":"payout_hold","status":"held","amount":{"minor":0,"currency":""},"seller_id":"s-1","reason":"verification","idempotency_key":"verification/s-1/hold"}`

func TestHoldPayoutsPostsTheSellerAndReasonOnly(t *testing.T) {
	c, f := newClient(t, func(int) (int, string) { return 201, payoutHoldJSON })
	m, err := c.HoldPayouts(context.Background(), PayoutHoldRequest{IdempotencyKey: "verification/s-1/hold", SellerID: "s-1", Reason: "verification"})
	require.NoError(t, err)
	assert.Equal(t, Movement{ID: "pm_2", Kind: KindPayoutHold, Status: StatusHeld, SellerID: "s-1", Reason: "verification",
		IdempotencyKey: "verification/s-1/hold"}, m)

	require.Len(t, f.got, 1)
	g := f.got[0]
	assert.Equal(t, "POST", g.Method)
	assert.Equal(t, "/pay/payout-holds", g.Target)
	assert.Equal(t, "verification/s-1/hold", g.Key)
	assert.True(t, g.SignatureOK)
	assert.Equal(t, map[string]any{"seller_id": "s-1", "reason": "verification"}, g.Body, "no amount, no key in the body")
}

func TestHoldPayoutsChecksBeforeSending(t *testing.T) {
	c, f := newClient(t, func(int) (int, string) { return 201, payoutHoldJSON })
	for name, req := range map[string]PayoutHoldRequest{
		"no key":    {SellerID: "s-1", Reason: "verification"},
		"no seller": {IdempotencyKey: "k", Reason: "verification"},
		"no reason": {IdempotencyKey: "k", SellerID: "s-1"},
	} {
		_, err := c.HoldPayouts(context.Background(), req)
		assert.ErrorIs(t, err, ErrRefused, name)
		assert.Equal(t, CodeInvalidRequest, CodeOf(err), name)
	}
	assert.Empty(t, f.got, "nothing invalid is sent")
	assert.NoError(t, PayoutHoldRequest{SellerID: "s-1", Reason: "fraud_review"}.Validate())
}

func TestHoldPayoutsRefusalsAndOutages(t *testing.T) {
	c, f := newClient(t, func(int) (int, string) { return 409, `{"code":"idempotency_conflict"}` })
	_, err := c.HoldPayouts(context.Background(), PayoutHoldRequest{IdempotencyKey: "k", SellerID: "s-1", Reason: "verification"})
	assert.ErrorIs(t, err, ErrRefused)
	assert.Equal(t, CodeIdempotencyConflict, CodeOf(err))
	assert.Len(t, f.got, 1, "a refusal is not retried")

	c, f = newClient(t, func(n int) (int, string) {
		if n == 1 {
			return 503, `{"code":"unavailable"}`
		}
		return 201, payoutHoldJSON
	})
	m, err := c.HoldPayouts(context.Background(), PayoutHoldRequest{IdempotencyKey: "k-9", SellerID: "s-1", Reason: "verification"})
	require.NoError(t, err)
	assert.Equal(t, "pm_2", m.ID)
	require.Len(t, f.got, 2)
	assert.Equal(t, []string{"k-9", "k-9"}, []string{f.got[0].Key, f.got[1].Key}, "retried with the same key")
}

const sellerLedgerJSON = `{"seller_id":"s/1","movements":[` + payoutHoldJSON +
	`,{"id":"pm_3","kind":"release","status":"succeeded","amount":{"minor":0,"currency":""},"seller_id":"s/1","hold_id":"pm_2","idempotency_key":"verification/s-1/hold/release"}],"payouts_held":false}`

func TestSellerMovementsIsASignedGetOfTheSellersLedger(t *testing.T) {
	c, f := newClient(t, func(int) (int, string) { return 200, sellerLedgerJSON })
	ms, err := c.SellerMovements(context.Background(), "s/1")
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, []string{KindPayoutHold, KindRelease}, []string{ms[0].Kind, ms[1].Kind}, "in the provider's order")
	assert.Equal(t, "pm_2", ms[1].HoldID)

	require.Len(t, f.got, 1)
	g := f.got[0]
	assert.Equal(t, "GET", g.Method)
	assert.Equal(t, "/pay/sellers/s%2F1/movements", g.Target, "the id is one escaped segment")
	assert.Empty(t, g.Key, "a read carries no idempotency key")
	assert.Equal(t, "k1", g.KeyID)
	assert.True(t, g.SignatureOK)
	assert.Nil(t, g.Body)
}

func TestSellerMovementsOfAnUnknownSellerIsEmptyNotNil(t *testing.T) {
	c, _ := newClient(t, func(int) (int, string) { return 200, `{"seller_id":"s-9","movements":null,"payouts_held":false}` })
	ms, err := c.SellerMovements(context.Background(), "s-9")
	require.NoError(t, err)
	assert.NotNil(t, ms)
	assert.Empty(t, ms)
}

func TestSellerMovementsFailures(t *testing.T) {
	c, f := newClient(t, func(int) (int, string) { return 200, sellerLedgerJSON })
	_, err := c.SellerMovements(context.Background(), "")
	assert.ErrorIs(t, err, ErrRefused)
	assert.Equal(t, CodeInvalidRequest, CodeOf(err))
	assert.Empty(t, f.got, "no seller, nothing sent")

	c, f = newClient(t, func(int) (int, string) { return 503, `{"code":"unavailable"}` })
	ms, err := c.SellerMovements(context.Background(), "s-1")
	assert.ErrorIs(t, err, ErrTransient)
	assert.Nil(t, ms)
	assert.Len(t, f.got, 3, "a read is retried like any call")
	assert.Contains(t, err.Error(), "seller s-1")

	c, _ = newClient(t, func(int) (int, string) { return 401, `{"code":"unauthorized"}` })
	_, err = c.SellerMovements(context.Background(), "s-1")
	assert.ErrorIs(t, err, ErrRefused)
	assert.Equal(t, CodeUnauthorized, CodeOf(err))

	c, _ = newClient(t, func(int) (int, string) { return 200, `{"movements": "not a list"}` })
	_, err = c.SellerMovements(context.Background(), "s-1")
	assert.ErrorIs(t, err, ErrTransient, "an unreadable answer")
}

func TestSellerMovementsStopsWithItsContext(t *testing.T) {
	c, _ := newClient(t, func(int) (int, string) {
		time.Sleep(200 * time.Millisecond)
		return 200, sellerLedgerJSON
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.SellerMovements(ctx, "s-1")
	assert.ErrorIs(t, err, ErrTransient)
	assert.Less(t, time.Since(start), 150*time.Millisecond, "the caller's deadline bounds the read")
}

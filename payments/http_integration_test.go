//go:build integration

package payments_test

import (
	"crypto/rand"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/deploy/paymentsim"
	"handoff/payments"
	"handoff/stacktest"
)

const simSecret = "integration-secret-of-32-bytes-or-more"

// stack starts the stand-in on the stack's Postgres and answers its URL and
// a client of it making up to attempts attempts per call.
func stack(t *testing.T, attempts int) (string, *payments.HTTP) {
	t.Helper()
	ctx := stacktest.Context(t)
	pool, err := pgxpool.New(ctx, stacktest.Config(t).DatabaseURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, pool.Ping(ctx), "postgres of the stack")
	sim, err := paymentsim.New(ctx, pool, simSecret, paymentsim.Options{KeyID: "handoff", Logger: stacktest.Logger(t)})
	require.NoError(t, err)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := payments.NewHTTP(payments.HTTPConfig{BaseURL: srv.URL, Secret: simSecret, MaxAttempts: attempts,
		Backoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return srv.URL, c
}

func unique(prefix string) string { return prefix + "-" + rand.Text() }

func TestRefundMovesMoneyOnce(t *testing.T) {
	base, c := stack(t, 3)
	ctx := stacktest.Context(t)
	order, key := unique("ord"), unique("refund")
	req := payments.RefundRequest{IdempotencyKey: key, OrderID: order, Amount: payments.Money{Minor: 1999, Currency: "EUR"}, Reason: "damaged"}

	first, err := c.Refund(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, payments.StatusSucceeded, first.Status)
	again, err := c.Refund(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, first, again, "a retry answers the first result")

	other := req
	other.Amount.Minor = 500
	_, err = c.Refund(ctx, other)
	assert.ErrorIs(t, err, payments.ErrRefused)
	assert.Equal(t, payments.CodeIdempotencyConflict, payments.CodeOf(err))

	got, err := c.Get(ctx, first.ID)
	require.NoError(t, err)
	assert.Equal(t, first.ID, got.ID)
	_, err = c.Get(ctx, "pm_nope")
	assert.ErrorIs(t, err, payments.ErrNotFound)

	l, err := paymentsim.GetLedger(ctx, base, order)
	require.NoError(t, err)
	require.Len(t, l.Movements, 1)
	assert.Equal(t, int64(1999), l.Totals[payments.KindRefund]["EUR"])
}

func TestHoldThenReleaseOnce(t *testing.T) {
	base, c := stack(t, 3)
	ctx := stacktest.Context(t)
	order := unique("ord")
	hold, err := c.Hold(ctx, payments.HoldRequest{IdempotencyKey: unique("hold"), SellerID: "seller-1", OrderID: order,
		Amount: payments.Money{Minor: 4200, Currency: "USD"}, Reason: "dispute opened"})
	require.NoError(t, err)
	assert.Equal(t, payments.StatusHeld, hold.Status)
	l, err := paymentsim.GetLedger(ctx, base, order)
	require.NoError(t, err)
	assert.Equal(t, int64(4200), l.Held["USD"])

	releaseKey := unique("release")
	rel, err := c.Release(ctx, payments.ReleaseRequest{IdempotencyKey: releaseKey, HoldID: hold.ID})
	require.NoError(t, err)
	assert.Equal(t, payments.KindRelease, rel.Kind)
	assert.Equal(t, hold.ID, rel.HoldID)
	assert.Equal(t, hold.Amount, rel.Amount)
	again, err := c.Release(ctx, payments.ReleaseRequest{IdempotencyKey: releaseKey, HoldID: hold.ID})
	require.NoError(t, err, "a retry of the release answers the first result")
	assert.Equal(t, rel, again)

	_, err = c.Release(ctx, payments.ReleaseRequest{IdempotencyKey: unique("release"), HoldID: hold.ID})
	assert.ErrorIs(t, err, payments.ErrRefused)
	assert.Equal(t, payments.CodeAlreadyReleased, payments.CodeOf(err))
	_, err = c.Release(ctx, payments.ReleaseRequest{IdempotencyKey: unique("release"), HoldID: "pm_nope"})
	assert.ErrorIs(t, err, payments.ErrNotFound)

	now, err := c.Get(ctx, hold.ID)
	require.NoError(t, err)
	assert.Equal(t, payments.StatusReleased, now.Status)
	assert.Equal(t, rel.ID, now.ReleasedBy)

	l, err = paymentsim.GetLedger(ctx, base, order)
	require.NoError(t, err)
	require.Len(t, l.Movements, 2)
	assert.Zero(t, l.Held["USD"])
	assert.Equal(t, int64(4200), l.Totals[payments.KindRelease]["USD"])
}

func TestFaultThenRetryMovesOnce(t *testing.T) {
	for _, afterCommit := range []bool{false, true} {
		base, c := stack(t, 1)
		ctx := stacktest.Context(t)
		order := unique("ord")
		req := payments.StoreCreditRequest{IdempotencyKey: unique("credit"), BuyerID: "buyer-1", OrderID: order,
			Amount: payments.Money{Minor: 750, Currency: "EUR"}, Reason: "late delivery"}

		require.NoError(t, paymentsim.InjectFaults(ctx, base, paymentsim.Faults{FailNext: 1, Status: 503, AfterCommit: afterCommit}))
		_, err := c.StoreCredit(ctx, req)
		require.Error(t, err)
		assert.True(t, payments.IsTransient(err), "after_commit=%v: %v", afterCommit, err)

		m, err := c.StoreCredit(ctx, req)
		require.NoError(t, err, "after_commit=%v", afterCommit)
		assert.Equal(t, payments.KindStoreCredit, m.Kind)

		l, err := paymentsim.GetLedger(ctx, base, order)
		require.NoError(t, err)
		assert.Len(t, l.Movements, 1, "after_commit=%v", afterCommit)
		assert.Equal(t, int64(750), l.Totals[payments.KindStoreCredit]["EUR"])
	}

	// With retries inside the client, the fault is absorbed.
	base, c := stack(t, 3)
	ctx := stacktest.Context(t)
	order := unique("ord")
	require.NoError(t, paymentsim.InjectFaults(ctx, base, paymentsim.Faults{FailNext: 2, Status: 503}))
	_, err := c.Refund(ctx, payments.RefundRequest{IdempotencyKey: unique("refund"), OrderID: order,
		Amount: payments.Money{Minor: 100, Currency: "GBP"}, Reason: "partial: scratched"})
	require.NoError(t, err)
	l, err := paymentsim.GetLedger(ctx, base, order)
	require.NoError(t, err)
	assert.Len(t, l.Movements, 1)

	// A refusal injected is not retried.
	require.NoError(t, paymentsim.InjectFaults(ctx, base, paymentsim.Faults{FailNext: 1, Status: 402, Code: payments.CodeInsufficientFunds}))
	_, err = c.Refund(ctx, payments.RefundRequest{IdempotencyKey: unique("refund"), OrderID: order,
		Amount: payments.Money{Minor: 100, Currency: "GBP"}, Reason: "again"})
	assert.ErrorIs(t, err, payments.ErrRefused)
	assert.Equal(t, payments.CodeInsufficientFunds, payments.CodeOf(err))
}

func TestUnsignedIsRefused(t *testing.T) {
	base, _ := stack(t, 1)
	ctx := stacktest.Context(t)
	bad, err := payments.NewHTTP(payments.HTTPConfig{BaseURL: base, Secret: "another-secret-of-at-least-32-bytes", MaxAttempts: 1})
	require.NoError(t, err)
	_, err = bad.Get(ctx, "pm_x")
	assert.ErrorIs(t, err, payments.ErrRefused)
	assert.Equal(t, payments.CodeUnauthorized, payments.CodeOf(err))
}

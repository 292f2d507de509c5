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

func TestPayoutHoldStopsPayoutsUntilReleasedOnce(t *testing.T) {
	base, c := stack(t, 3)
	ctx := stacktest.Context(t)
	seller, order := unique("seller"), unique("ord")
	simCfg := payments.HTTPConfig{BaseURL: base, Secret: simSecret}

	holdReq := payments.PayoutHoldRequest{IdempotencyKey: unique("payout-hold"), SellerID: seller, Reason: "verification"}
	hold, err := c.HoldPayouts(ctx, holdReq)
	require.NoError(t, err)
	assert.Equal(t, payments.KindPayoutHold, hold.Kind)
	assert.Equal(t, payments.StatusHeld, hold.Status)
	assert.Equal(t, seller, hold.SellerID)
	assert.Zero(t, hold.Amount, "a payout hold has no amount")
	again, err := c.HoldPayouts(ctx, holdReq)
	require.NoError(t, err)
	assert.Equal(t, hold, again, "a repeat of the key answers the first payout hold")
	other := holdReq
	other.Reason = "fraud_review"
	_, err = c.HoldPayouts(ctx, other)
	assert.ErrorIs(t, err, payments.ErrRefused)
	assert.Equal(t, payments.CodeIdempotencyConflict, payments.CodeOf(err))

	// An order hold of the same seller is in the seller's ledger but does not stop payouts.
	orderHold, err := c.Hold(ctx, payments.HoldRequest{IdempotencyKey: unique("hold"), SellerID: seller, OrderID: order,
		Amount: payments.Money{Minor: 300, Currency: "EUR"}, Reason: "dispute opened"})
	require.NoError(t, err)

	l, err := paymentsim.GetSellerLedger(ctx, base, seller)
	require.NoError(t, err)
	assert.True(t, l.PayoutsHeld)
	assert.Equal(t, seller, l.SellerID)
	assert.Equal(t, []string{hold.ID, orderHold.ID}, ids(l.Movements))
	assert.Equal(t, int64(300), l.Held["EUR"])
	assert.NotContains(t, l.Totals, payments.KindPayoutHold, "a payout hold moves no money")

	payout := paymentsim.PayoutRequest{IdempotencyKey: unique("payout"), SellerID: seller, Amount: payments.Money{Minor: 12000, Currency: "EUR"}}
	_, err = paymentsim.Payout(ctx, simCfg, payout)
	assert.ErrorIs(t, err, payments.ErrRefused)
	assert.Equal(t, payments.CodePayoutsHeld, payments.CodeOf(err))
	var pe *payments.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 409, pe.Status)
	assert.Contains(t, pe.Detail, hold.ID, "the refusal names the hold")

	releaseKey := unique("release")
	rel, err := c.Release(ctx, payments.ReleaseRequest{IdempotencyKey: releaseKey, HoldID: hold.ID, Reason: "identity verified"})
	require.NoError(t, err)
	assert.Equal(t, payments.KindRelease, rel.Kind)
	assert.Equal(t, payments.StatusSucceeded, rel.Status)
	assert.Equal(t, hold.ID, rel.HoldID)
	assert.Equal(t, seller, rel.SellerID)
	assert.Zero(t, rel.Amount)
	relAgain, err := c.Release(ctx, payments.ReleaseRequest{IdempotencyKey: releaseKey, HoldID: hold.ID, Reason: "identity verified"})
	require.NoError(t, err, "the same key answers the first release")
	assert.Equal(t, rel, relAgain)
	_, err = c.Release(ctx, payments.ReleaseRequest{IdempotencyKey: unique("release"), HoldID: hold.ID})
	assert.ErrorIs(t, err, payments.ErrRefused)
	assert.Equal(t, payments.CodeAlreadyReleased, payments.CodeOf(err))

	now, err := c.Get(ctx, hold.ID)
	require.NoError(t, err)
	assert.Equal(t, payments.StatusReleased, now.Status)
	assert.Equal(t, rel.ID, now.ReleasedBy)

	// The refused payout recorded nothing: its key pays now, once.
	paid, err := paymentsim.Payout(ctx, simCfg, payout)
	require.NoError(t, err)
	assert.Equal(t, payments.KindPayout, paid.Kind)
	assert.Equal(t, payments.StatusSucceeded, paid.Status)
	assert.Equal(t, payout.Amount, paid.Amount)
	paidAgain, err := paymentsim.Payout(ctx, simCfg, payout)
	require.NoError(t, err)
	assert.Equal(t, paid, paidAgain, "a repeat of the key pays once")

	l, err = paymentsim.GetSellerLedger(ctx, base, seller)
	require.NoError(t, err)
	assert.False(t, l.PayoutsHeld)
	assert.Equal(t, []string{hold.ID, orderHold.ID, rel.ID, paid.ID}, ids(l.Movements))
	assert.Equal(t, int64(12000), l.Totals[payments.KindPayout]["EUR"])
	assert.Equal(t, int64(300), l.Held["EUR"], "the order hold is still held")

	// The order's ledger is unchanged by the seller's payouts.
	ol, err := paymentsim.GetLedger(ctx, base, order)
	require.NoError(t, err)
	assert.Equal(t, []string{orderHold.ID}, ids(ol.Movements))
}

func TestPayoutsStayHeldWhileAnyPayoutHoldIsHeld(t *testing.T) {
	base, c := stack(t, 3)
	ctx := stacktest.Context(t)
	seller := unique("seller")
	verification, err := c.HoldPayouts(ctx, payments.PayoutHoldRequest{IdempotencyKey: unique("payout-hold"), SellerID: seller, Reason: "verification"})
	require.NoError(t, err)
	fraud, err := c.HoldPayouts(ctx, payments.PayoutHoldRequest{IdempotencyKey: unique("payout-hold"), SellerID: seller, Reason: "fraud_review"})
	require.NoError(t, err)
	assert.NotEqual(t, verification.ID, fraud.ID)

	_, err = c.Release(ctx, payments.ReleaseRequest{IdempotencyKey: unique("release"), HoldID: verification.ID})
	require.NoError(t, err)
	l, err := paymentsim.GetSellerLedger(ctx, base, seller)
	require.NoError(t, err)
	assert.True(t, l.PayoutsHeld, "the fraud review still holds")
	cfg := stacktest.Config(t)
	cfg.Commerce.PaymentsURL = base
	ms, held, err := stacktest.SellerLedger(ctx, cfg, seller)
	require.NoError(t, err)
	assert.True(t, held, "stacktest.SellerLedger reads payouts_held")
	require.Len(t, ms, 3)
	assert.Equal(t, []string{payments.KindPayoutHold, payments.KindPayoutHold, payments.KindRelease}, []string{ms[0].Kind, ms[1].Kind, ms[2].Kind})
	_, err = paymentsim.Payout(ctx, payments.HTTPConfig{BaseURL: base, Secret: simSecret},
		paymentsim.PayoutRequest{IdempotencyKey: unique("payout"), SellerID: seller, Amount: payments.Money{Minor: 1, Currency: "EUR"}})
	assert.Equal(t, payments.CodePayoutsHeld, payments.CodeOf(err))

	_, err = c.Release(ctx, payments.ReleaseRequest{IdempotencyKey: unique("release"), HoldID: fraud.ID})
	require.NoError(t, err)
	l, err = paymentsim.GetSellerLedger(ctx, base, seller)
	require.NoError(t, err)
	assert.False(t, l.PayoutsHeld)
	_, held, err = stacktest.SellerLedger(ctx, cfg, seller)
	require.NoError(t, err)
	assert.False(t, held)
}

func TestPayoutChecksItsRequest(t *testing.T) {
	base, _ := stack(t, 1)
	ctx := stacktest.Context(t)
	cfg := payments.HTTPConfig{BaseURL: base, Secret: simSecret}
	for name, req := range map[string]paymentsim.PayoutRequest{
		"no key":      {SellerID: "s-1", Amount: payments.Money{Minor: 1, Currency: "EUR"}},
		"no seller":   {IdempotencyKey: unique("payout"), Amount: payments.Money{Minor: 1, Currency: "EUR"}},
		"zero amount": {IdempotencyKey: unique("payout"), SellerID: "s-1", Amount: payments.Money{Currency: "EUR"}},
	} {
		_, err := paymentsim.Payout(ctx, cfg, req)
		assert.ErrorIs(t, err, payments.ErrRefused, name)
		var pe *payments.Error
		if assert.ErrorAs(t, err, &pe, name) {
			assert.Equal(t, 422, pe.Status, name)
		}
	}
	_, err := paymentsim.Payout(ctx, payments.HTTPConfig{BaseURL: base, Secret: "another-secret-of-at-least-32-bytes"},
		paymentsim.PayoutRequest{IdempotencyKey: unique("payout"), SellerID: "s-1", Amount: payments.Money{Minor: 1, Currency: "EUR"}})
	assert.Equal(t, payments.CodeUnauthorized, payments.CodeOf(err), "POST /payouts is signed")

	_, err = paymentsim.GetLedger(ctx, base, "")
	assert.Error(t, err, "the ledger wants order_id or seller_id")
}

func TestSellerMovementsAreTheSellersLedger(t *testing.T) {
	base, c := stack(t, 3)
	ctx := stacktest.Context(t)
	seller := unique("seller")
	hold, err := c.HoldPayouts(ctx, payments.PayoutHoldRequest{IdempotencyKey: unique("payout-hold"), SellerID: seller, Reason: "verification"})
	require.NoError(t, err)
	orderHold, err := c.Hold(ctx, payments.HoldRequest{IdempotencyKey: unique("hold"), SellerID: seller, OrderID: unique("ord"),
		Amount: payments.Money{Minor: 700, Currency: "EUR"}, Reason: "dispute opened"})
	require.NoError(t, err)
	// Another seller's money is not this seller's.
	_, err = c.HoldPayouts(ctx, payments.PayoutHoldRequest{IdempotencyKey: unique("payout-hold"), SellerID: unique("seller"), Reason: "verification"})
	require.NoError(t, err)

	ms, err := c.SellerMovements(ctx, seller)
	require.NoError(t, err)
	assert.Equal(t, []string{hold.ID, orderHold.ID}, ids(ms), "oldest first")
	assert.Equal(t, payments.StatusHeld, ms[0].Status)

	rel, err := c.Release(ctx, payments.ReleaseRequest{IdempotencyKey: unique("release"), HoldID: hold.ID, Reason: "identity verified"})
	require.NoError(t, err)
	paid, err := paymentsim.Payout(ctx, payments.HTTPConfig{BaseURL: base, Secret: simSecret},
		paymentsim.PayoutRequest{IdempotencyKey: unique("payout"), SellerID: seller, Amount: payments.Money{Minor: 12000, Currency: "EUR"}})
	require.NoError(t, err)

	ms, err = c.SellerMovements(ctx, seller)
	require.NoError(t, err)
	assert.Equal(t, []string{hold.ID, orderHold.ID, rel.ID, paid.ID}, ids(ms))
	assert.Equal(t, payments.StatusReleased, ms[0].Status, "as the hold is now")
	assert.Equal(t, rel.ID, ms[0].ReleasedBy)
	assert.Equal(t, hold.ID, ms[2].HoldID)
	assert.Equal(t, payments.KindPayout, ms[3].Kind)
	l, err := paymentsim.GetSellerLedger(ctx, base, seller)
	require.NoError(t, err)
	assert.Equal(t, l.Movements, ms, "what GET /ledger?seller_id= lists")

	none, err := c.SellerMovements(ctx, unique("seller"))
	require.NoError(t, err, "a seller never seen has no movements, not a 404")
	assert.NotNil(t, none)
	assert.Empty(t, none)

	bad, err := payments.NewHTTP(payments.HTTPConfig{BaseURL: base, Secret: "another-secret-of-at-least-32-bytes", MaxAttempts: 1})
	require.NoError(t, err)
	_, err = bad.SellerMovements(ctx, seller)
	assert.Equal(t, payments.CodeUnauthorized, payments.CodeOf(err), "GET /sellers/{id}/movements is signed")

	require.NoError(t, paymentsim.InjectFaults(ctx, base, paymentsim.Faults{FailNext: 1, Status: 503}))
	ms, err = c.SellerMovements(ctx, seller)
	require.NoError(t, err, "a 503 is retried")
	assert.Len(t, ms, 4)
}

func ids(ms []payments.Movement) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

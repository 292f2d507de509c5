package activities

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"handoff/carrier"
	"handoff/payments"
	"handoff/workflows/vocab"
)

// fakePayments answers what a test sets and records the calls.
type fakePayments struct {
	calls       []string
	keys        []string
	payoutHolds []payments.PayoutHoldRequest
	err         error
}

func (f *fakePayments) answer(kind string, key string, amount payments.Money) (payments.Movement, error) {
	f.calls = append(f.calls, kind)
	f.keys = append(f.keys, key)
	if f.err != nil {
		return payments.Movement{}, f.err
	}
	return payments.Movement{ID: "pm_1", Kind: kind, Status: payments.StatusSucceeded, Amount: amount}, nil
}

func (f *fakePayments) Refund(_ context.Context, r payments.RefundRequest) (payments.Movement, error) {
	return f.answer(payments.KindRefund, r.IdempotencyKey, r.Amount)
}

func (f *fakePayments) StoreCredit(_ context.Context, r payments.StoreCreditRequest) (payments.Movement, error) {
	return f.answer(payments.KindStoreCredit, r.IdempotencyKey, r.Amount)
}

func (f *fakePayments) Hold(_ context.Context, r payments.HoldRequest) (payments.Movement, error) {
	return f.answer(payments.KindHold, r.IdempotencyKey, r.Amount)
}

func (f *fakePayments) HoldPayouts(_ context.Context, r payments.PayoutHoldRequest) (payments.Movement, error) {
	f.payoutHolds = append(f.payoutHolds, r)
	m, err := f.answer(payments.KindPayoutHold, r.IdempotencyKey, payments.Money{})
	m.Status = payments.StatusHeld
	return m, err
}

func (f *fakePayments) Release(_ context.Context, r payments.ReleaseRequest) (payments.Movement, error) {
	return f.answer(payments.KindRelease, r.IdempotencyKey, payments.Money{})
}

func (f *fakePayments) Get(context.Context, string) (payments.Movement, error) {
	return payments.Movement{}, payments.ErrNotFound
}

func (f *fakePayments) SellerMovements(context.Context, string) ([]payments.Movement, error) {
	return []payments.Movement{}, f.err
}

type fakeCarrier struct{ err error }

func (f fakeCarrier) CreateLabel(_ context.Context, r carrier.LabelRequest) (carrier.Label, error) {
	if f.err != nil {
		return carrier.Label{}, f.err
	}
	return carrier.Label{ID: "lbl_1", TrackingNumber: "HC1", LabelURL: "http://carrier/labels/HC1.pdf", ReturnID: r.ReturnID}, nil
}

func (fakeCarrier) Track(context.Context, string) ([]carrier.Event, error) { return nil, nil }

func TestCommerceRefundsOrCreditsUnderTheWorkflowsKey(t *testing.T) {
	p := &fakePayments{}
	c := NewCommerce(p, fakeCarrier{})
	eur := vocab.Money{Minor: 1999, Currency: "EUR"}
	m, err := c.Refund(context.Background(), vocab.RefundRequest{Key: "return/R-1/refund", OrderID: "ord-1", Amount: eur, Reason: "damaged"})
	require.NoError(t, err)
	assert.Equal(t, vocab.Movement{ID: "pm_1", Kind: "refund", Status: "succeeded", Amount: eur}, m)
	_, err = c.Refund(context.Background(), vocab.RefundRequest{Key: "return/R-2/refund", BuyerID: "b-1", Amount: eur, Reason: "x", StoreCredit: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"refund", "store_credit"}, p.calls)
	assert.Equal(t, []string{"return/R-1/refund", "return/R-2/refund"}, p.keys)
}

func TestCommerceRefusalsAreFinalAndOutagesRetried(t *testing.T) {
	refused := &payments.Error{Class: payments.ErrRefused, Code: payments.CodeInsufficientFunds}
	_, err := NewCommerce(&fakePayments{err: refused}, fakeCarrier{}).HoldFunds(context.Background(), vocab.HoldRequest{Key: "dispute/D-1/hold"})
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	assert.Equal(t, vocab.ErrTypePaymentRefused, app.Type())
	assert.True(t, app.NonRetryable())

	transient := &payments.Error{Class: payments.ErrTransient, Status: 503}
	_, err = NewCommerce(&fakePayments{err: transient}, fakeCarrier{}).ReleaseFunds(context.Background(), vocab.ReleaseRequest{Key: "k", HoldID: "pm_1"})
	require.Error(t, err)
	assert.False(t, errors.As(err, &app), "an outage is retried by Temporal: %v", err)

	_, err = NewCommerce(&fakePayments{}, fakeCarrier{err: carrier.ErrRefused}).CreateReturnLabel(context.Background(), vocab.LabelRequest{Key: "return/R-1/label"})
	require.ErrorAs(t, err, &app)
	assert.Equal(t, vocab.ErrTypePaymentRefused, app.Type())

	l, err := NewCommerce(&fakePayments{}, fakeCarrier{}).CreateReturnLabel(context.Background(), vocab.LabelRequest{Key: "return/R-1/label", ReturnID: "R-1"})
	require.NoError(t, err)
	assert.Equal(t, vocab.Label{ID: "lbl_1", TrackingNumber: "HC1", URL: "http://carrier/labels/HC1.pdf"}, l)
}

func TestCommerceHoldsPayoutsUnderTheWorkflowsKey(t *testing.T) {
	p := &fakePayments{}
	m, err := NewCommerce(p, fakeCarrier{}).HoldPayouts(context.Background(),
		vocab.PayoutHoldRequest{Key: "verification/S-1/hold", SellerID: "S-1", Reason: vocab.HoldReasonVerification})
	require.NoError(t, err)
	assert.Equal(t, vocab.Movement{ID: "pm_1", Kind: vocab.MovementPayoutHold, Status: vocab.MovementHeld}, m)
	assert.Equal(t, []payments.PayoutHoldRequest{{IdempotencyKey: "verification/S-1/hold", SellerID: "S-1", Reason: "verification"}}, p.payoutHolds)
}

func TestCommercePayoutHoldRefusalIsFinal(t *testing.T) {
	refused := fmt.Errorf("hold payouts of seller S-1: %w", &payments.Error{Class: payments.ErrRefused, Code: payments.CodeInvalidRequest})
	_, err := NewCommerce(&fakePayments{err: refused}, fakeCarrier{}).HoldPayouts(context.Background(), vocab.PayoutHoldRequest{Key: "fraud/seller-S-1/hold"})
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	assert.Equal(t, vocab.ErrTypePaymentRefused, app.Type())
	assert.True(t, app.NonRetryable())
	assert.Contains(t, app.Error(), "fraud/seller-S-1/hold")

	transient := &payments.Error{Class: payments.ErrTransient, Status: 503}
	_, err = NewCommerce(&fakePayments{err: transient}, fakeCarrier{}).HoldPayouts(context.Background(), vocab.PayoutHoldRequest{Key: "k"})
	require.Error(t, err)
	assert.False(t, errors.As(err, &app), "an outage is retried by Temporal: %v", err)
	assert.ErrorIs(t, err, payments.ErrTransient)
}

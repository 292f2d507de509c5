package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"handoff/carrier"
	"handoff/payments"
	"handoff/workflows/vocab"
)

// Commerce moves money, holds sellers' payouts and makes return labels for
// the return, dispute and seller workflows, through the payment provider
// and the carrier. Every call carries the workflow's idempotency key, the
// same on every retry, so a refund retried after a timeout or a worker
// killed mid-call moves the money once: the provider answers a repeated
// key with its first result.
type Commerce struct {
	payments payments.Payments
	carrier  carrier.Carrier
}

// NewCommerce answers the money and label activities over p and c.
func NewCommerce(p payments.Payments, c carrier.Carrier) *Commerce {
	return &Commerce{payments: p, carrier: c}
}

// Refund refunds a buyer, or credits their balance when req.StoreCredit
// (activity vocab.ActivityRefund).
func (c *Commerce) Refund(ctx context.Context, req vocab.RefundRequest) (vocab.Movement, error) {
	var m payments.Movement
	var err error
	if req.StoreCredit {
		m, err = c.payments.StoreCredit(ctx, payments.StoreCreditRequest{IdempotencyKey: req.Key, BuyerID: req.BuyerID,
			OrderID: req.OrderID, Amount: money(req.Amount), Reason: req.Reason})
	} else {
		m, err = c.payments.Refund(ctx, payments.RefundRequest{IdempotencyKey: req.Key, OrderID: req.OrderID,
			Amount: money(req.Amount), Reason: req.Reason})
	}
	if err != nil {
		return vocab.Movement{}, paymentError("refund "+req.Key, err)
	}
	return movement(m), nil
}

// HoldFunds holds a seller's funds for an order (activity vocab.ActivityHoldFunds).
func (c *Commerce) HoldFunds(ctx context.Context, req vocab.HoldRequest) (vocab.Movement, error) {
	m, err := c.payments.Hold(ctx, payments.HoldRequest{IdempotencyKey: req.Key, SellerID: req.SellerID,
		OrderID: req.OrderID, Amount: money(req.Amount), Reason: req.Reason})
	if err != nil {
		return vocab.Movement{}, paymentError("hold "+req.Key, err)
	}
	return movement(m), nil
}

// ReleaseFunds releases a hold to the seller (activity
// vocab.ActivityReleaseFunds). A hold another call already released under
// this key answers that release; one released under another key is a
// refusal.
func (c *Commerce) ReleaseFunds(ctx context.Context, req vocab.ReleaseRequest) (vocab.Movement, error) {
	m, err := c.payments.Release(ctx, payments.ReleaseRequest{IdempotencyKey: req.Key, HoldID: req.HoldID, Reason: req.Reason})
	if err != nil {
		return vocab.Movement{}, paymentError("release "+req.Key, err)
	}
	return movement(m), nil
}

// HoldPayouts stops every payout of a seller until the hold is released
// with ReleaseFunds and its id (activity vocab.ActivityHoldPayouts). The
// movement answered has kind payout_hold, status held and no amount.
func (c *Commerce) HoldPayouts(ctx context.Context, req vocab.PayoutHoldRequest) (vocab.Movement, error) {
	m, err := c.payments.HoldPayouts(ctx, payments.PayoutHoldRequest{IdempotencyKey: req.Key, SellerID: req.SellerID, Reason: req.Reason})
	if err != nil {
		return vocab.Movement{}, paymentError("hold payouts "+req.Key, err)
	}
	return movement(m), nil
}

// CreateReturnLabel makes a prepaid return label (activity
// vocab.ActivityCreateReturnLabel).
func (c *Commerce) CreateReturnLabel(ctx context.Context, req vocab.LabelRequest) (vocab.Label, error) {
	l, err := c.carrier.CreateLabel(ctx, carrier.LabelRequest{IdempotencyKey: req.Key, ReturnID: req.ReturnID,
		From: address(req.From), To: address(req.To), WeightGrams: req.WeightGrams})
	switch {
	case errors.Is(err, carrier.ErrRefused), errors.Is(err, carrier.ErrConflict):
		return vocab.Label{}, temporal.NewNonRetryableApplicationError("label "+req.Key+": "+err.Error(), vocab.ErrTypePaymentRefused, err)
	case err != nil:
		return vocab.Label{}, fmt.Errorf("label %s: %w", req.Key, err)
	}
	return vocab.Label{ID: l.ID, TrackingNumber: l.TrackingNumber, URL: l.LabelURL}, nil
}

// paymentError makes the provider's refusals final for Temporal (no retry
// turns insufficient funds into a refund) and leaves the rest retryable
// under the same key.
func paymentError(op string, err error) error {
	if errors.Is(err, payments.ErrRefused) || errors.Is(err, payments.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(op+": "+err.Error(), vocab.ErrTypePaymentRefused, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func money(m vocab.Money) payments.Money { return payments.Money{Minor: m.Minor, Currency: m.Currency} }

func movement(m payments.Movement) vocab.Movement {
	return vocab.Movement{ID: m.ID, Kind: m.Kind, Status: m.Status,
		Amount: vocab.Money{Minor: m.Amount.Minor, Currency: m.Amount.Currency}}
}

func address(a vocab.Address) carrier.Address {
	return carrier.Address{Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City,
		PostalCode: a.PostalCode, Region: a.Region, Country: a.Country}
}

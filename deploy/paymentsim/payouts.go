package paymentsim

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"handoff/payments"
)

// PayoutRequest pays Amount out to a seller (POST /payouts): what the
// marketplace does on its own schedule, never Handoff, so it is the
// stand-in's, for tests and demos, and not part of payments.Payments.
type PayoutRequest struct {
	// IdempotencyKey is the same on every retry of this payout (required).
	IdempotencyKey string         `json:"-"`
	SellerID       string         `json:"seller_id"`
	Amount         payments.Money `json:"amount"`
	Reason         string         `json:"reason,omitempty"`
}

// Validate reports a payout that cannot be made (the idempotency key aside).
func (r PayoutRequest) Validate() error {
	var noSeller error
	if r.SellerID == "" {
		noSeller = &payments.Error{Class: payments.ErrRefused, Code: payments.CodeInvalidRequest, Detail: "seller_id is required"}
	}
	return errors.Join(noSeller, r.Amount.Validate())
}

func (s *Server) holdPayouts(w http.ResponseWriter, req request) {
	var in payments.PayoutHoldRequest
	if !decode(w, req.body, &in) {
		return
	}
	s.record(w, req, in, in.Validate(), func(ctx context.Context, tx pgx.Tx, m *payments.Movement) error {
		m.Kind, m.Status, m.SellerID, m.Reason = payments.KindPayoutHold, payments.StatusHeld, in.SellerID, in.Reason
		return nil
	})
}

// payout pays a seller unless a payout hold of theirs is held. A refused
// payout records nothing, so the same key pays once the hold is released.
func (s *Server) payout(w http.ResponseWriter, req request) {
	var in PayoutRequest
	if !decode(w, req.body, &in) {
		return
	}
	s.record(w, req, in, in.Validate(), func(ctx context.Context, tx pgx.Tx, m *payments.Movement) error {
		var holdID string
		err := tx.QueryRow(ctx, `SELECT id FROM paymentsim_movements
			WHERE seller_id = $1 AND kind = $2 AND status = $3 ORDER BY created_at, id LIMIT 1`,
			in.SellerID, payments.KindPayoutHold, payments.StatusHeld).Scan(&holdID)
		if err == nil {
			return &payments.Error{Class: payments.ErrRefused, Status: http.StatusConflict, Code: payments.CodePayoutsHeld,
				Detail: fmt.Sprintf("payouts of seller %s are held (payout hold %s)", in.SellerID, holdID)}
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		m.Kind, m.Status, m.SellerID, m.Amount, m.Reason = payments.KindPayout, payments.StatusSucceeded, in.SellerID, in.Amount, in.Reason
		return nil
	})
}

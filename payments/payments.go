// Package payments is Handoff's seam to the marketplace's payment
// provider: refunds (full or partial), store credit, holds on a seller's
// funds, holds on every payout of a seller, and their release. Payments
// is the interface the activities use; HTTP implements it over the signed
// JSON wire format of docs/payments.md, and deploy/paymentsim is the local
// stand-in that serves that format with its own ledger in Postgres.
//
// Every money movement carries an idempotency key, the same on every retry
// of one request: the provider applies a key once and answers a repeat with
// the first result, so a refund retried after a timeout or a worker crash
// moves the money once. Amounts are int64 minor units with an ISO 4217
// currency (Money), never floats.
package payments

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Payments moves money for support cases. Each method answers the
// movement as the provider recorded it; the errors match ErrNotFound,
// ErrRefused or ErrTransient (see Error).
type Payments interface {
	// Refund pays back the buyer of an order, all of it or a part.
	Refund(ctx context.Context, req RefundRequest) (Movement, error)
	// StoreCredit credits the buyer's marketplace balance instead of a refund.
	StoreCredit(ctx context.Context, req StoreCreditRequest) (Movement, error)
	// Hold sets aside a seller's funds for an order until Release.
	Hold(ctx context.Context, req HoldRequest) (Movement, error)
	// HoldPayouts stops every payout of a seller until Release: the
	// seller's identity is not verified yet, or a fraud review is under way.
	HoldPayouts(ctx context.Context, req PayoutHoldRequest) (Movement, error)
	// Release gives held funds back to the seller, or lets a seller's
	// payouts go again; a hold (of either kind) is released once.
	Release(ctx context.Context, req ReleaseRequest) (Movement, error)
	// Get answers a movement by id, as it is now (a released hold says so).
	Get(ctx context.Context, id string) (Movement, error)
	// SellerMovements answers every movement of a seller as the provider
	// records it now (payout holds, their releases, payouts, holds on
	// orders' funds and their releases), in ledger order: oldest first.
	// A seller the provider has never seen has none: an empty slice, not
	// ErrNotFound.
	SellerMovements(ctx context.Context, sellerID string) ([]Movement, error)
}

// Money is an amount in minor units (cents for EUR and USD, yen for JPY)
// of an ISO 4217 currency in upper case.
type Money struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"currency"`
}

// String answers "1250 EUR" (minor units, no decimal point on purpose).
func (m Money) String() string { return fmt.Sprintf("%d %s", m.Minor, m.Currency) }

// Validate reports an amount that cannot move: not positive, or a currency
// that is not three upper-case letters. The error matches ErrRefused with
// CodeBadAmount.
func (m Money) Validate() error {
	if m.Minor <= 0 {
		return refusedf(CodeBadAmount, "amount must be positive, got %d minor units", m.Minor)
	}
	if !isCurrency(m.Currency) {
		return refusedf(CodeBadAmount, "currency must be an ISO 4217 code in upper case, got %q", m.Currency)
	}
	return nil
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range []byte(s) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// RefundRequest refunds Amount of an order to its buyer. A full refund is
// one whose Amount is the order's total; a partial one says why in Reason.
type RefundRequest struct {
	// IdempotencyKey is the same on every retry of this refund (required).
	IdempotencyKey string `json:"-"`
	OrderID        string `json:"order_id"`
	Amount         Money  `json:"amount"`
	// Reason is shown to the buyer and in the ledger (required).
	Reason string `json:"reason"`
}

// StoreCreditRequest credits Amount to a buyer's marketplace balance.
type StoreCreditRequest struct {
	// IdempotencyKey is the same on every retry of this credit (required).
	IdempotencyKey string `json:"-"`
	BuyerID        string `json:"buyer_id"`
	Amount         Money  `json:"amount"`
	// OrderID is the order the credit is for, if any (the ledger lists it there).
	OrderID string `json:"order_id,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// HoldRequest holds Amount of a seller's funds for an order.
type HoldRequest struct {
	// IdempotencyKey is the same on every retry of this hold (required).
	IdempotencyKey string `json:"-"`
	SellerID       string `json:"seller_id"`
	OrderID        string `json:"order_id"`
	Amount         Money  `json:"amount"`
	Reason         string `json:"reason"`
}

// PayoutHoldRequest stops every payout of a seller until the hold is
// released. It has no amount: it holds whatever the seller would be paid.
type PayoutHoldRequest struct {
	// IdempotencyKey is the same on every retry of this hold (required).
	IdempotencyKey string `json:"-"`
	SellerID       string `json:"seller_id"`
	// Reason says why (verification, fraud_review…), in the ledger (required).
	Reason string `json:"reason"`
}

// ReleaseRequest releases a hold, all of it, to the seller, or a payout
// hold, letting the seller's payouts go again.
type ReleaseRequest struct {
	// IdempotencyKey is the same on every retry of this release (required).
	IdempotencyKey string `json:"-"`
	HoldID         string `json:"-"`
	Reason         string `json:"reason,omitempty"`
}

// The kinds of movement.
const (
	KindRefund      = "refund"
	KindStoreCredit = "store_credit"
	KindHold        = "hold"
	KindRelease     = "release"
	// KindPayoutHold stops every payout of a seller while held; its
	// amount is zero (minor 0, no currency).
	KindPayoutHold = "payout_hold"
	// KindPayout is a payout to a seller. The marketplace pays out, not
	// Handoff; ledgers (the stand-in's) list payouts beside the holds.
	KindPayout = "payout"
)

// The statuses of a movement. A provider may answer a refund pending and
// settle it later; the stand-in settles at once.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusHeld      = "held"
	StatusReleased  = "released"
)

// Movement is one money movement as the provider recorded it.
type Movement struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
	Amount Money  `json:"amount"`
	// OrderID, BuyerID and SellerID are set as the kind has them; a
	// release has the order and seller of its hold. A payout hold (and
	// its release) has the seller only, and a zero Amount.
	OrderID  string `json:"order_id,omitempty"`
	BuyerID  string `json:"buyer_id,omitempty"`
	SellerID string `json:"seller_id,omitempty"`
	// HoldID is the hold a release released.
	HoldID string `json:"hold_id,omitempty"`
	// ReleasedBy is the release of a released hold.
	ReleasedBy     string    `json:"released_by,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	IdempotencyKey string    `json:"idempotency_key"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// The classes of failure. Every error of this package matches one of them
// with errors.Is.
var (
	// ErrNotFound: no movement (or hold) with that id.
	ErrNotFound = errors.New("payments: not found")
	// ErrRefused: the provider will not do it, now or on retry with the
	// same request: bad amount, insufficient funds, hold already released,
	// idempotency key reused with another request, bad signature.
	ErrRefused = errors.New("payments: refused")
	// ErrTransient: it may pass on retry with the same idempotency key
	// (5xx, 429, network error, timeout, unreadable answer). The money may
	// or may not have moved; only a retry with the same key tells.
	ErrTransient = errors.New("payments: transient failure")
)

// The codes of a refusal, in the "code" member of a problem answer.
const (
	CodeBadAmount           = "bad_amount"
	CodeInsufficientFunds   = "insufficient_funds"
	CodeAlreadyReleased     = "already_released"
	CodeIdempotencyConflict = "idempotency_conflict"
	CodeInvalidRequest      = "invalid_request"
	CodeUnauthorized        = "unauthorized"
	CodeNotFound            = "not_found"
	CodeUnavailable         = "unavailable"
	// CodePayoutsHeld refuses a payout while a payout hold of the seller
	// is held (the stand-in's POST /payouts).
	CodePayoutsHeld = "payouts_held"
)

// Error is a failure of a payments call. It matches its class (ErrNotFound,
// ErrRefused or ErrTransient) and the error it wraps, if any.
type Error struct {
	// Class is ErrNotFound, ErrRefused or ErrTransient.
	Class error
	// Status is the HTTP status answered, 0 when none was.
	Status int
	// Code is the problem's code (CodeBadAmount…), when the provider gave one.
	Code string
	// Detail is what the provider (or the check before sending) said.
	Detail string
	// Err is the underlying error (network, decoding), if any.
	Err error
}

func (e *Error) Error() string {
	msg := e.Class.Error()
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap answers the class and the underlying error.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Class}
	}
	return []error{e.Class, e.Err}
}

func refusedf(code, format string, args ...any) *Error {
	return &Error{Class: ErrRefused, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// IsTransient reports whether err may pass on retry with the same key.
func IsTransient(err error) bool { return errors.Is(err, ErrTransient) }

// CodeOf answers the code of a refusal in err's chain, or "".
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Validate reports a refund that cannot be sent (the idempotency key aside).
func (r RefundRequest) Validate() error {
	return errors.Join(required("order_id", r.OrderID), r.Amount.Validate(), required("reason", r.Reason))
}

// Validate reports a store credit that cannot be sent (the idempotency key aside).
func (r StoreCreditRequest) Validate() error {
	return errors.Join(required("buyer_id", r.BuyerID), r.Amount.Validate())
}

// Validate reports a hold that cannot be sent (the idempotency key aside).
func (r HoldRequest) Validate() error {
	return errors.Join(required("seller_id", r.SellerID), required("order_id", r.OrderID),
		r.Amount.Validate(), required("reason", r.Reason))
}

// Validate reports a payout hold that cannot be sent (the idempotency key aside).
func (r PayoutHoldRequest) Validate() error {
	return errors.Join(required("seller_id", r.SellerID), required("reason", r.Reason))
}

func required(field, v string) error {
	if v == "" {
		return refusedf(CodeInvalidRequest, "%s is required", field)
	}
	return nil
}

// checkKey reports a missing or unusable idempotency key.
func checkKey(key string) error {
	if key == "" {
		return refusedf(CodeInvalidRequest, "an idempotency key is required on every money movement")
	}
	if len(key) > 255 {
		return refusedf(CodeInvalidRequest, "idempotency key longer than 255 bytes")
	}
	for _, c := range []byte(key) {
		if c < 0x21 || c > 0x7e {
			return refusedf(CodeInvalidRequest, "idempotency key must be printable ASCII without spaces")
		}
	}
	return nil
}

// CheckIdempotencyKey reports a key the wire format does not accept: empty,
// longer than 255 bytes, or not printable ASCII without spaces.
func CheckIdempotencyKey(key string) error { return checkKey(key) }

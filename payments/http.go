package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"handoff/signedhttp"
)

// HTTP is Payments over the provider's signed JSON API; docs/payments.md
// is the contract. In short, under the base URL:
//
//	POST /refunds               RefundRequest      → 2xx Movement (Idempotency-Key)
//	POST /store-credits         StoreCreditRequest → 2xx Movement (Idempotency-Key)
//	POST /holds                 HoldRequest        → 2xx Movement (Idempotency-Key)
//	POST /payout-holds          PayoutHoldRequest  → 2xx Movement (Idempotency-Key)
//	POST /holds/{id}/release    {"reason": "..."}  → 2xx Movement (Idempotency-Key)
//	GET  /movements/{id}                           → 200 Movement
//	GET  /sellers/{id}/movements                   → 200 SellerLedger
//
// Requests are signed with HMAC-SHA256 exactly as for the account service
// (docs/account-service.md): X-Handoff-Key-Id, X-Handoff-Timestamp and
// X-Handoff-Signature: v1=hex(HMAC(secret, method\ntarget\ntimestamp\nbody)).
//
// 404 answers ErrNotFound; 429 and 5xx ErrTransient; any other 4xx
// ErrRefused. A network error, an attempt's timeout, a 429 or a 5xx is
// retried with exponential backoff up to MaxAttempts with the same
// idempotency key, then answered as ErrTransient.
type HTTP struct {
	c *signedhttp.Client
}

var _ Payments = (*HTTP)(nil)

// MinSecretLen is the shortest signing secret accepted, in bytes.
const MinSecretLen = 32

// HTTPConfig says how to reach the provider: see signedhttp.Config.
// KeyID defaults to "handoff"; Secret must have at least MinSecretLen bytes.
type HTTPConfig = signedhttp.Config

// NewHTTP answers Payments served by the provider at cfg.BaseURL.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	cfg, err := signedhttp.CheckConfig("payments", cfg, MinSecretLen)
	if err != nil {
		return nil, err
	}
	return &HTTP{c: signedhttp.New(cfg, "Handoff-Payments/1")}, nil
}

// Signature answers the X-Handoff-Signature value of one request, the
// account service's scheme: "v1=" and the lowercase hex of
// HMAC-SHA256(secret, method + "\n" + target + "\n" + timestamp + "\n" + body).
func Signature(secret []byte, method, target string, timestamp int64, body []byte) string {
	return signedhttp.Sign(secret, method, target, timestamp, body)
}

// Refund pays back Amount of an order to its buyer, once per key.
func (h *HTTP) Refund(ctx context.Context, req RefundRequest) (Movement, error) {
	return h.move(ctx, "refund order "+req.OrderID, "/refunds", req.IdempotencyKey, req, req.Validate())
}

// StoreCredit credits a buyer's balance, once per key.
func (h *HTTP) StoreCredit(ctx context.Context, req StoreCreditRequest) (Movement, error) {
	return h.move(ctx, "store credit to buyer "+req.BuyerID, "/store-credits", req.IdempotencyKey, req, req.Validate())
}

// Hold holds a seller's funds for an order, once per key.
func (h *HTTP) Hold(ctx context.Context, req HoldRequest) (Movement, error) {
	return h.move(ctx, "hold funds of seller "+req.SellerID, "/holds", req.IdempotencyKey, req, req.Validate())
}

// HoldPayouts stops every payout of a seller until the hold is released,
// once per key.
func (h *HTTP) HoldPayouts(ctx context.Context, req PayoutHoldRequest) (Movement, error) {
	return h.move(ctx, "hold payouts of seller "+req.SellerID, "/payout-holds", req.IdempotencyKey, req, req.Validate())
}

// Release releases a hold (of funds or of payouts) to its seller, once per key.
func (h *HTTP) Release(ctx context.Context, req ReleaseRequest) (Movement, error) {
	body := struct {
		Reason string `json:"reason,omitempty"`
	}{req.Reason}
	return h.move(ctx, "release hold "+req.HoldID, "/holds/"+url.PathEscape(req.HoldID)+"/release",
		req.IdempotencyKey, body, required("hold id", req.HoldID))
}

// Get answers a movement by id.
func (h *HTTP) Get(ctx context.Context, id string) (Movement, error) {
	var m Movement
	err := required("movement id", id)
	if err == nil {
		err = h.call(ctx, http.MethodGet, "/movements/"+url.PathEscape(id), "", nil, &m)
	}
	if err != nil {
		return Movement{}, fmt.Errorf("get movement %s: %w", id, err)
	}
	return m, nil
}

// SellerLedger is what GET /sellers/{id}/movements answers: every
// movement of one seller, oldest first, and whether a payout hold among
// them is held now.
type SellerLedger struct {
	SellerID  string     `json:"seller_id"`
	Movements []Movement `json:"movements"`
	// PayoutsHeld says whether the provider pays the seller nothing now.
	PayoutsHeld bool `json:"payouts_held"`
}

// SellerMovements answers every movement of a seller, oldest first; none
// is an empty slice.
func (h *HTTP) SellerMovements(ctx context.Context, sellerID string) ([]Movement, error) {
	var l SellerLedger
	err := required("seller id", sellerID)
	if err == nil {
		err = h.call(ctx, http.MethodGet, "/sellers/"+url.PathEscape(sellerID)+"/movements", "", nil, &l)
	}
	if err != nil {
		return nil, fmt.Errorf("get movements of seller %s: %w", sellerID, err)
	}
	if l.Movements == nil {
		l.Movements = []Movement{}
	}
	return l.Movements, nil
}

func (h *HTTP) move(ctx context.Context, op, path, key string, in any, invalid error) (Movement, error) {
	var m Movement
	err := errors.Join(checkKey(key), invalid)
	if err == nil {
		err = h.call(ctx, http.MethodPost, path, key, in, &m)
	}
	if err != nil {
		return Movement{}, fmt.Errorf("%s: %w", op, err)
	}
	return m, nil
}

// call sends one request, retrying what may pass on retry with the same
// idempotency key, and decodes a 2xx answer into out.
func (h *HTTP) call(ctx context.Context, method, path, key string, in, out any) error {
	r := signedhttp.Retry{
		Message: "payments call failed; retrying with the same idempotency key",
		Attrs:   []any{"method", method, "path", path, "idempotency_key", key},
		Encode: func(err error) error {
			return &Error{Class: ErrRefused, Code: CodeInvalidRequest, Detail: "encode request", Err: err}
		},
	}
	return h.c.Call(ctx, r, in, func(body []byte) (bool, error) {
		err := h.attempt(ctx, method, path, key, body, out)
		return err != nil && IsTransient(err) && ctx.Err() == nil, err
	})
}

// attempt sends one request. A failure is an *Error; when the caller's own
// context ended it is ErrTransient too (the money may have moved), but
// call does not retry it.
func (h *HTTP) attempt(ctx context.Context, method, path, key string, body []byte, out any) error {
	resp, err := h.c.Attempt(ctx, method, path, key, body)
	var ae *signedhttp.AttemptError
	if errors.As(err, &ae) {
		switch ae.Stage {
		case signedhttp.StageRequest:
			return &Error{Class: ErrRefused, Code: CodeInvalidRequest, Detail: "build request", Err: ae.Err}
		case signedhttp.StageRead:
			return &Error{Class: ErrTransient, Status: ae.StatusCode, Detail: "read answer", Err: ae.Err}
		}
		return &Error{Class: ErrTransient, Detail: "no answer", Err: ae.Err}
	}
	if err != nil {
		return &Error{Class: ErrTransient, Detail: "no answer", Err: err}
	}
	code := resp.StatusCode
	if signedhttp.OutcomeOf(code) == signedhttp.OutcomeOK {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			// The money may have moved: a retry with the same key tells.
			return &Error{Class: ErrTransient, Status: code, Detail: "decode answer", Err: err}
		}
		return nil
	}
	e := problemOf(code, resp.Body)
	switch signedhttp.OutcomeOf(code) {
	case signedhttp.OutcomeNotFound:
		e.Class = ErrNotFound
	case signedhttp.OutcomeRefused:
		e.Class = ErrRefused
	default:
		e.Class = ErrTransient
	}
	return e
}

// Problem is an error answer, RFC 9457 application/problem+json with a
// "code" member (CodeBadAmount…).
type Problem = signedhttp.Problem

// problemOf reads an error answer into an Error without a class.
func problemOf(status int, b []byte) *Error {
	e := &Error{Status: status}
	e.Code, e.Detail = signedhttp.ProblemOf(b)
	if e.Code == "" && status == http.StatusNotFound {
		e.Code = CodeNotFound
	}
	return e
}

// Package verification is Handoff's seam to the identity-verification
// (KYC) provider that checks a seller before the seller may sell and be
// paid: the seller's legal name and country against the documents the
// seller uploaded (already in S3 as evidence). Verifier is the interface
// the onboarding activities use; HTTP implements it over the signed JSON
// wire format of docs/verification.md, and deploy/verificationsim is the
// local stand-in that serves that format.
//
// A check may be decided at once or answer StatusPending (or
// StatusNeedsReview, when a person at the provider must look) and be
// decided later: the provider then POSTs the decided Check, signed the
// Standard Webhooks way, to Handoff (docs/verification.md, "Decision
// webhook"). Every check request carries an idempotency key, the same on
// every retry, so a retried request starts one check, not two.
package verification

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Verifier starts identity checks of sellers and reads them back. The
// errors match ErrNotFound, ErrRefused or ErrTransient (see Error).
type Verifier interface {
	// Check starts a check of a seller, once per req.IdempotencyKey: a
	// repeat of the same request answers the same check, as it is now.
	Check(ctx context.Context, req CheckRequest) (Check, error)
	// Get answers a check by id, as it is now.
	Get(ctx context.Context, id string) (Check, error)
}

// CheckRequest asks for the identity check of one seller.
type CheckRequest struct {
	// IdempotencyKey is the same on every retry of this request (required);
	// it is sent as the Idempotency-Key header, not in the body.
	IdempotencyKey string `json:"-"`
	// SellerID is the marketplace's seller being onboarded (required).
	SellerID string `json:"seller_id"`
	// LegalName is the person's or company's name as the documents show it (required).
	LegalName string `json:"legal_name"`
	// Country is where the seller is registered, ISO 3166-1 alpha-2 in
	// upper case: FR, DE, US (required).
	Country string `json:"country"`
	// DocumentIDs are the evidence ids of the uploaded documents (ID card,
	// registration extract), already in S3; at least one.
	DocumentIDs []string `json:"document_ids"`
	// PayoutAccountLast4 is the last four digits of the payout account, for
	// the provider to match against the name (optional).
	PayoutAccountLast4 string `json:"payout_account_last4,omitempty"`
}

// The statuses of a check. StatusPending and StatusNeedsReview are not
// final: the decision (StatusPassed or StatusFailed) comes later through
// the decision webhook, or is read with Get.
const (
	StatusPending     = "pending"
	StatusPassed      = "passed"
	StatusFailed      = "failed"
	StatusNeedsReview = "needs_review"
)

// Final reports whether status is a decision (passed or failed).
func Final(status string) bool { return status == StatusPassed || status == StatusFailed }

// Check is one identity check as the provider recorded it; it is also the
// body of the decision webhook.
type Check struct {
	ID       string `json:"id"`
	SellerID string `json:"seller_id"`
	// Status is StatusPending, StatusPassed, StatusFailed or StatusNeedsReview.
	Status string `json:"status"`
	// Reasons say why a check failed or needs a review, for the seller
	// and the fraud team; a check that passed may have none.
	Reasons   []string  `json:"reasons,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// DecidedAt is when the check passed or failed; zero (absent) until then.
	DecidedAt time.Time `json:"decided_at,omitzero"`
}

// The classes of failure. Every error of this package matches one of them
// with errors.Is.
var (
	// ErrNotFound: no check with that id.
	ErrNotFound = errors.New("verification: not found")
	// ErrRefused: the provider will not do it, now or on retry with the
	// same request: an invalid request, the idempotency key reused with
	// another request, a bad signature.
	ErrRefused = errors.New("verification: refused")
	// ErrTransient: it may pass on retry with the same idempotency key
	// (5xx, 429, network error, timeout, unreadable answer). The check may
	// or may not have started; only a retry with the same key tells.
	ErrTransient = errors.New("verification: transient failure")
)

// The codes of a refusal, in the "code" member of a problem answer.
const (
	CodeInvalidRequest      = "invalid_request"
	CodeIdempotencyConflict = "idempotency_conflict"
	CodeUnauthorized        = "unauthorized"
	CodeNotFound            = "not_found"
	CodeUnavailable         = "unavailable"
)

// Error is a failure of a verification call. It matches its class
// (ErrNotFound, ErrRefused or ErrTransient) and the error it wraps, if any.
type Error struct {
	// Class is ErrNotFound, ErrRefused or ErrTransient.
	Class error
	// Status is the HTTP status answered, 0 when none was.
	Status int
	// Code is the problem's code (CodeInvalidRequest…), when the provider gave one.
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

func refusedf(format string, args ...any) *Error {
	return &Error{Class: ErrRefused, Code: CodeInvalidRequest, Detail: fmt.Sprintf(format, args...)}
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

// Validate reports a request that cannot be sent (the idempotency key
// aside; see CheckIdempotencyKey). Each error matches ErrRefused with
// CodeInvalidRequest.
func (r CheckRequest) Validate() error {
	var errs []error
	for _, f := range []struct{ name, v string }{{"seller_id", r.SellerID}, {"legal_name", r.LegalName}} {
		if strings.TrimSpace(f.v) == "" {
			errs = append(errs, refusedf("%s is required", f.name))
		}
	}
	if !isCountry(r.Country) {
		errs = append(errs, refusedf("country must be an ISO 3166-1 alpha-2 code in upper case, got %q", r.Country))
	}
	if len(r.DocumentIDs) == 0 {
		errs = append(errs, refusedf("document_ids must name at least one document"))
	}
	for i, id := range r.DocumentIDs {
		if strings.TrimSpace(id) == "" {
			errs = append(errs, refusedf("document_ids[%d] is empty", i))
		}
	}
	if r.PayoutAccountLast4 != "" && !isDigits(r.PayoutAccountLast4, 4) {
		errs = append(errs, refusedf("payout_account_last4 must be four digits"))
	}
	return errors.Join(errs...)
}

func isCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// CheckIdempotencyKey reports a key the wire format does not accept:
// empty, longer than 255 bytes, or not printable ASCII without spaces.
func CheckIdempotencyKey(key string) error {
	if key == "" {
		return refusedf("an idempotency key is required on every check request")
	}
	if len(key) > 255 {
		return refusedf("idempotency key longer than 255 bytes")
	}
	for _, c := range []byte(key) {
		if c < 0x21 || c > 0x7e {
			return refusedf("idempotency key must be printable ASCII without spaces")
		}
	}
	return nil
}

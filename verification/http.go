package verification

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"handoff/signedhttp"
)

// HTTP is Verifier over the provider's signed JSON API; docs/verification.md
// is the contract. In short, under the base URL:
//
//	POST /checks       CheckRequest → 201 Check (200 on a repeat of the key)   (Idempotency-Key)
//	GET  /checks/{id}               → 200 Check
//
// Requests are signed with HMAC-SHA256 exactly as for the account service
// (docs/account-service.md): X-Handoff-Key-Id, X-Handoff-Timestamp and
// X-Handoff-Signature: v1=hex(HMAC(secret, method\ntarget\ntimestamp\nbody)).
//
// 404 answers ErrNotFound; 429 and 5xx ErrTransient; any other 4xx
// ErrRefused (409 with CodeIdempotencyConflict for a key reused with
// another request). A network error, an attempt's timeout, a 429 or a 5xx
// is retried with exponential backoff up to MaxAttempts with the same
// idempotency key, then answered as ErrTransient.
type HTTP struct {
	c *signedhttp.Client
}

var _ Verifier = (*HTTP)(nil)

// MinSecretLen is the shortest signing secret accepted, in bytes.
const MinSecretLen = 32

// HTTPConfig says how to reach the provider: see signedhttp.Config.
// KeyID defaults to "handoff"; Secret must have at least MinSecretLen bytes.
type HTTPConfig = signedhttp.Config

// NewHTTP answers the Verifier served by the provider at cfg.BaseURL.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	cfg, err := signedhttp.CheckConfig("verification", cfg, MinSecretLen)
	if err != nil {
		return nil, err
	}
	return &HTTP{c: signedhttp.New(cfg, "Handoff-Verification/1")}, nil
}

// Check starts the check of a seller, once per key (see Verifier).
func (h *HTTP) Check(ctx context.Context, req CheckRequest) (Check, error) {
	var c Check
	err := errors.Join(CheckIdempotencyKey(req.IdempotencyKey), req.Validate())
	if err == nil {
		err = h.call(ctx, http.MethodPost, "/checks", req.IdempotencyKey, req, &c)
	}
	if err != nil {
		return Check{}, fmt.Errorf("check seller %s: %w", req.SellerID, err)
	}
	return c, nil
}

// Get answers a check by id, as it is now.
func (h *HTTP) Get(ctx context.Context, id string) (Check, error) {
	var c Check
	var err error
	if strings.TrimSpace(id) == "" {
		err = refusedf("check id is required")
	} else {
		err = h.call(ctx, http.MethodGet, "/checks/"+url.PathEscape(id), "", nil, &c)
	}
	if err != nil {
		return Check{}, fmt.Errorf("get check %s: %w", id, err)
	}
	return c, nil
}

// call sends one request, retrying what may pass on retry with the same
// idempotency key, and decodes a 2xx answer into out.
func (h *HTTP) call(ctx context.Context, method, path, key string, in any, out *Check) error {
	r := signedhttp.Retry{
		Message: "verification call failed; retrying with the same idempotency key",
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
// context ended it is ErrTransient too (the check may have started), but
// call does not retry it.
func (h *HTTP) attempt(ctx context.Context, method, path, key string, body []byte, out *Check) error {
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
		*out = Check{}
		if err := json.Unmarshal(resp.Body, out); err != nil {
			// The check may have started: a retry with the same key tells.
			return &Error{Class: ErrTransient, Status: code, Detail: "decode answer", Err: err}
		}
		if out.ID == "" || !knownStatus(out.Status) {
			return &Error{Class: ErrTransient, Status: code,
				Detail: fmt.Sprintf("the answer is no check (id %q, status %q)", out.ID, out.Status)}
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

func knownStatus(s string) bool {
	switch s {
	case StatusPending, StatusPassed, StatusFailed, StatusNeedsReview:
		return true
	}
	return false
}

// Problem is an error answer, RFC 9457 application/problem+json with a
// "code" member (CodeInvalidRequest…).
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

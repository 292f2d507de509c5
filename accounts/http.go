package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"handoff/signedhttp"
)

// HTTP is the Directory kept by the marketplace's own account service
// (ACCOUNT_DIRECTORY=http). docs/account-service.md is the contract for
// the service's implementers; in short, under ACCOUNT_SERVICE_URL:
//
//	GET  /accounts/{id}                      → 200 Account
//	POST /accounts/{id}/lock                 {"reason": "..."}                    → 200 Account
//	POST /accounts/{id}/unlock               {}                                   → 200 Account
//	POST /accounts/{id}/sessions/revoke      {}                                   → 200 {"revoked": 3}
//	POST /accounts/{id}/credentials/reset    {"reset_mfa": true}                  → 200 Account  (Idempotency-Key)
//	POST /accounts/{id}/contact              {"kind": "email", "value": "..."}    → 200 Account  (Idempotency-Key)
//	POST /accounts/merge                     {"from_id": "...", "into_id": "..."} → 2xx          (Idempotency-Key)
//
// {id} is path-escaped. Bodies and answers are JSON; an Account has the
// snake_case fields of the Account type. 404 means ErrNotFound, 400 and
// 422 ErrInvalid, 409 ErrConflict.
//
// Every request is signed with HMAC-SHA256 under ACCOUNT_SERVICE_SECRET:
//
//	X-Handoff-Key-Id:    ACCOUNT_SERVICE_KEY_ID, which secret signed (for rotations)
//	X-Handoff-Timestamp: Unix seconds of this attempt (fresh on each retry)
//	X-Handoff-Signature: v1=<lowercase hex of HMAC-SHA256(secret, method + "\n" + target + "\n" + timestamp + "\n" + body)>
//
// where method is upper case (GET, POST), target is the request target as
// sent on the request line (the escaped path, with the base URL's own path
// in front, and "?query" if there were one), timestamp is the header's
// value and body the exact bytes sent (empty for GET). The service should
// refuse a timestamp more than 5 minutes away from its clock.
//
// The three calls that must act once carry the caller's request key in an
// Idempotency-Key header, the same on every retry: the service applies a
// key once and answers a repeat with the current account. Lock, unlock
// and revocation are idempotent by nature and carry none.
//
// Each attempt has its own timeout. A network error, an attempt's timeout
// or a 5xx answer is retried with exponential backoff up to MaxAttempts;
// a 4xx answer never is.
type HTTP struct {
	c *signedhttp.Client
}

var _ Directory = (*HTTP)(nil)

// HTTPConfig says how to reach the account service: see signedhttp.Config.
type HTTPConfig = signedhttp.Config

// NewHTTP answers the directory kept by the account service at cfg.BaseURL.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	if err := signedhttp.CheckBaseURL(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("account service: %w", err)
	}
	if cfg.Secret == "" {
		return nil, errors.New("account service: empty signing secret")
	}
	if cfg.KeyID == "" {
		return nil, errors.New("account service: empty signing key id")
	}
	return &HTTP{c: signedhttp.New(cfg, "Handoff-Accounts/1")}, nil
}

// Signature answers the X-Handoff-Signature value of one request: see HTTP.
// The account service (or a test double of it) computes the same to verify.
func Signature(secret []byte, method, target string, timestamp int64, body []byte) string {
	return signedhttp.Sign(secret, method, target, timestamp, body)
}

// accountPath answers /accounts/{id}{suffix} with id escaped as one segment.
func accountPath(id, suffix string) string {
	return "/accounts/" + url.PathEscape(id) + suffix
}

// Get answers the account with id.
func (h *HTTP) Get(ctx context.Context, id string) (Account, error) {
	var a Account
	err := checkID(id)
	if err == nil {
		err = h.call(ctx, http.MethodGet, accountPath(id, ""), "", nil, &a)
	}
	if err != nil {
		return Account{}, fmt.Errorf("get account %s: %w", id, err)
	}
	return a, nil
}

// Lock locks the account for reason and revokes its sessions (see Directory).
func (h *HTTP) Lock(ctx context.Context, id, reason string) (Account, error) {
	var a Account
	err := errors.Join(checkID(id), checkReason(reason))
	if err == nil {
		err = h.call(ctx, http.MethodPost, accountPath(id, "/lock"), "", map[string]any{"reason": reason}, &a)
	}
	if err != nil {
		return Account{}, fmt.Errorf("lock account %s: %w", id, err)
	}
	return a, nil
}

// Unlock makes a locked account active again (see Directory).
func (h *HTTP) Unlock(ctx context.Context, id string) (Account, error) {
	var a Account
	err := checkID(id)
	if err == nil {
		err = h.call(ctx, http.MethodPost, accountPath(id, "/unlock"), "", map[string]any{}, &a)
	}
	if err != nil {
		return Account{}, fmt.Errorf("unlock account %s: %w", id, err)
	}
	return a, nil
}

// RevokeSessions ends every session of the account and answers how many there were.
func (h *HTTP) RevokeSessions(ctx context.Context, id string) (int, error) {
	var out struct {
		Revoked *int `json:"revoked"`
	}
	err := checkID(id)
	if err == nil {
		err = h.call(ctx, http.MethodPost, accountPath(id, "/sessions/revoke"), "", map[string]any{}, &out)
	}
	if err == nil && out.Revoked == nil {
		err = errors.New(`account service answered without "revoked"`)
	}
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of account %s: %w", id, err)
	}
	return *out.Revoked, nil
}

// ResetCredentials bumps the credential version once per requestKey (see Directory).
func (h *HTTP) ResetCredentials(ctx context.Context, id string, resetMFA bool, requestKey string) (Account, error) {
	var a Account
	err := errors.Join(checkID(id), checkKey(requestKey))
	if err == nil {
		err = h.call(ctx, http.MethodPost, accountPath(id, "/credentials/reset"), requestKey,
			map[string]any{"reset_mfa": resetMFA}, &a)
	}
	if err != nil {
		return Account{}, fmt.Errorf("reset credentials of account %s: %w", id, err)
	}
	return a, nil
}

// ChangeContact sets the account's email or phone once per requestKey (see Directory).
func (h *HTTP) ChangeContact(ctx context.Context, id string, kind ContactKind, value, requestKey string) (Account, error) {
	var a Account
	normalized, err := normalizeContact(kind, value)
	err = errors.Join(checkID(id), checkKey(requestKey), err)
	if err == nil {
		err = h.call(ctx, http.MethodPost, accountPath(id, "/contact"), requestKey,
			map[string]any{"kind": kind, "value": normalized}, &a)
	}
	if err != nil {
		return Account{}, fmt.Errorf("change %s of account %s: %w", kind, id, err)
	}
	return a, nil
}

// Merge records that fromID is merged into intoID, once per requestKey (see Directory).
func (h *HTTP) Merge(ctx context.Context, fromID, intoID, requestKey string) error {
	err := errors.Join(checkID(fromID), checkID(intoID), checkKey(requestKey))
	if err == nil && fromID == intoID {
		err = fmt.Errorf("%w: an account cannot be merged into itself", ErrInvalid)
	}
	if err == nil {
		err = h.call(ctx, http.MethodPost, "/accounts/merge", requestKey,
			map[string]any{"from_id": fromID, "into_id": intoID}, nil)
	}
	if err != nil {
		return fmt.Errorf("merge account %s into %s: %w", fromID, intoID, err)
	}
	return nil
}

// call sends one request, retrying what may pass on retry, and decodes a
// 2xx answer into out (unless out is nil).
func (h *HTTP) call(ctx context.Context, method, path, idempotencyKey string, in, out any) error {
	r := signedhttp.Retry{Message: "account service call failed; retrying", Attrs: []any{"method", method, "path", path}}
	return h.c.Call(ctx, r, in, func(body []byte) (bool, error) {
		return h.attempt(ctx, method, path, idempotencyKey, body, out)
	})
}

// attempt sends one request and says whether a failure may pass on retry.
func (h *HTTP) attempt(ctx context.Context, method, path, idempotencyKey string, body []byte, out any) (retry bool, err error) {
	resp, err := h.c.Attempt(ctx, method, path, idempotencyKey, body)
	var ae *signedhttp.AttemptError
	if errors.As(err, &ae) {
		switch ae.Stage {
		case signedhttp.StageRequest:
			return false, fmt.Errorf("account service request: %w", ae.Err)
		case signedhttp.StageRead:
			return ctx.Err() == nil, fmt.Errorf("account service: read answer (%s): %w", ae.Status, ae.Err)
		}
		// The caller's own deadline or cancellation ends the call; an
		// attempt's timeout or a network error may pass on retry.
		return ctx.Err() == nil, fmt.Errorf("account service: %w", ae.Err)
	}
	if err != nil {
		return false, fmt.Errorf("account service: %w", err)
	}
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		if out == nil {
			return false, nil
		}
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return false, fmt.Errorf("account service: decode answer (%s): %w", resp.Status, err)
		}
		return false, nil
	}
	err = fmt.Errorf("account service answered %s%s", resp.Status, signedhttp.QuoteAnswer(resp.Body))
	switch {
	case code == http.StatusNotFound:
		return false, fmt.Errorf("%w: %w", err, ErrNotFound)
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		return false, fmt.Errorf("%w: %w", err, ErrInvalid)
	case code == http.StatusConflict:
		return false, fmt.Errorf("%w: %w", err, ErrConflict)
	case code >= 500:
		return true, err
	}
	return false, err
}

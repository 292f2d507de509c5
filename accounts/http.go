package accounts

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
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
	base        string
	keyID       string
	secret      []byte
	timeout     time.Duration
	maxAttempts int
	backoff     time.Duration
	client      *http.Client
	logger      *slog.Logger
	now         func() time.Time
}

var _ Directory = (*HTTP)(nil)

// The headers of a request to the account service.
const (
	HeaderKeyID          = "X-Handoff-Key-Id"
	HeaderTimestamp      = "X-Handoff-Timestamp"
	HeaderSignature      = "X-Handoff-Signature"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// HTTPConfig says how to reach the account service. Zero durations and
// counts take the defaults named on each field.
type HTTPConfig struct {
	// BaseURL is the service's http or https URL; endpoint paths are appended to it.
	BaseURL string
	// KeyID names Secret in the X-Handoff-Key-Id header.
	KeyID string
	// Secret is the HMAC-SHA256 key, as bytes of the string.
	Secret string
	// Timeout bounds one attempt, answer body included (10s).
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one call, the first included (3).
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled before each
	// next one up to 5s, with jitter (200ms).
	Backoff time.Duration
	// Client sends the requests (one that follows no redirect: a redirect
	// would carry a signed body somewhere nobody configured).
	Client *http.Client
	// Logger hears about retries (slog.Default()).
	Logger *slog.Logger
}

const maxBackoff = 5 * time.Second

// NewHTTP answers the directory kept by the account service at cfg.BaseURL.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("account service: want an http or https base URL, got %q", cfg.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("account service: the base URL %q must have no query or fragment", cfg.BaseURL)
	}
	if cfg.Secret == "" {
		return nil, errors.New("account service: empty signing secret")
	}
	if cfg.KeyID == "" {
		return nil, errors.New("account service: empty signing key id")
	}
	h := &HTTP{
		base:        strings.TrimSuffix(cfg.BaseURL, "/"),
		keyID:       cfg.KeyID,
		secret:      []byte(cfg.Secret),
		timeout:     orDefault(cfg.Timeout, 10*time.Second),
		maxAttempts: orDefault(cfg.MaxAttempts, 3),
		backoff:     orDefault(cfg.Backoff, 200*time.Millisecond),
		client:      cfg.Client,
		logger:      cfg.Logger,
		now:         time.Now,
	}
	if h.client == nil {
		h.client = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	return h, nil
}

// orDefault answers v, or def when v is not positive.
func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Signature answers the X-Handoff-Signature value of one request: see HTTP.
// The account service (or a test double of it) computes the same to verify.
func Signature(secret []byte, method, target string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s\n%s\n%d\n", method, target, timestamp)
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
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
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
	}
	for attempt := 1; ; attempt++ {
		retry, err := h.attempt(ctx, method, path, idempotencyKey, body, out)
		if err == nil {
			return nil
		}
		if !retry || attempt >= h.maxAttempts {
			if retry {
				return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			return err
		}
		wait := h.backoffBefore(attempt + 1)
		h.logger.WarnContext(ctx, "account service call failed; retrying",
			"method", method, "path", path, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (stopped retrying: %w)", err, context.Cause(ctx))
		}
	}
}

// backoffBefore answers the wait before the given attempt (2 or more):
// Backoff doubled per earlier retry, at most maxBackoff, of which a random
// half, so callers that failed together do not retry together.
func (h *HTTP) backoffBefore(attempt int) time.Duration {
	d := h.backoff << min(attempt-2, 20)
	d = min(d, maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// maxAnswer bounds the answer body read from the service.
const maxAnswer = 1 << 20

// attempt sends one request and says whether a failure may pass on retry.
func (h *HTTP) attempt(ctx context.Context, method, path, idempotencyKey string, body []byte, out any) (retry bool, err error) {
	actx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, method, h.base+path, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("account service request: %w", err)
	}
	ts := h.now().Unix()
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Handoff-Accounts/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idempotencyKey != "" {
		req.Header.Set(HeaderIdempotencyKey, idempotencyKey)
	}
	req.Header.Set(HeaderKeyID, h.keyID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Signature(h.secret, method, req.URL.RequestURI(), ts, body))

	resp, err := h.client.Do(req)
	if err != nil {
		// The caller's own deadline or cancellation ends the call; an
		// attempt's timeout or a network error may pass on retry.
		return ctx.Err() == nil, fmt.Errorf("account service: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return ctx.Err() == nil, fmt.Errorf("account service: read answer (%s): %w", resp.Status, err)
	}
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		if out == nil {
			return false, nil
		}
		if err := json.Unmarshal(answer, out); err != nil {
			return false, fmt.Errorf("account service: decode answer (%s): %w", resp.Status, err)
		}
		return false, nil
	}
	err = fmt.Errorf("account service answered %s%s", resp.Status, quoteAnswer(answer))
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

// quoteAnswer answers what the service said in an error answer, for an
// error message on one line: the detail of a problem+json body (RFC 9457),
// else the start of the body.
func quoteAnswer(b []byte) string {
	var problem struct {
		Detail string `json:"detail"`
		Title  string `json:"title"`
	}
	if json.Unmarshal(b, &problem) == nil && (problem.Detail != "" || problem.Title != "") {
		b = []byte(cmp.Or(problem.Detail, problem.Title))
	}
	if len(b) > 200 {
		b = b[:200]
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "")), " ")
	if s == "" {
		return ""
	}
	return fmt.Sprintf(": %q", s)
}

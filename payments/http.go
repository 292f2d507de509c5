package payments

import (
	"bytes"
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

// HTTP is Payments over the provider's signed JSON API; docs/payments.md
// is the contract. In short, under the base URL:
//
//	POST /refunds               RefundRequest      → 2xx Movement (Idempotency-Key)
//	POST /store-credits         StoreCreditRequest → 2xx Movement (Idempotency-Key)
//	POST /holds                 HoldRequest        → 2xx Movement (Idempotency-Key)
//	POST /holds/{id}/release    {"reason": "..."}  → 2xx Movement (Idempotency-Key)
//	GET  /movements/{id}                           → 200 Movement
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

var _ Payments = (*HTTP)(nil)

// The headers of a request to the payment provider: the account service's.
const (
	HeaderKeyID          = "X-Handoff-Key-Id"
	HeaderTimestamp      = "X-Handoff-Timestamp"
	HeaderSignature      = "X-Handoff-Signature"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// MinSecretLen is the shortest signing secret accepted, in bytes.
const MinSecretLen = 32

// HTTPConfig says how to reach the provider. Zero durations and counts
// take the defaults named on each field.
type HTTPConfig struct {
	// BaseURL is the provider's http or https URL; paths are appended to it.
	BaseURL string
	// KeyID names Secret in the X-Handoff-Key-Id header ("handoff").
	KeyID string
	// Secret is the HMAC-SHA256 key, the bytes of the string (at least 32).
	Secret string
	// Timeout bounds one attempt, answer body included (10s).
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one call, the first included (3).
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled before each
	// next one up to 5s, with jitter (200ms).
	Backoff time.Duration
	// Client sends the requests (by default one that follows no redirect).
	Client *http.Client
	// Logger hears about retries (slog.Default()).
	Logger *slog.Logger
}

const maxBackoff = 5 * time.Second

// NewHTTP answers Payments served by the provider at cfg.BaseURL.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("payments: want an http or https base URL, got %q", cfg.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("payments: the base URL %q must have no query or fragment", cfg.BaseURL)
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("payments: the signing secret must have at least %d bytes, got %d", MinSecretLen, len(cfg.Secret))
	}
	keyID := cfg.KeyID
	if keyID == "" {
		keyID = "handoff"
	}
	if strings.ContainsAny(keyID, " \t\r\n") {
		return nil, fmt.Errorf("payments: key id %q has white space", keyID)
	}
	h := &HTTP{
		base:        strings.TrimSuffix(cfg.BaseURL, "/"),
		keyID:       keyID,
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

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Signature answers the X-Handoff-Signature value of one request, the
// account service's scheme: "v1=" and the lowercase hex of
// HMAC-SHA256(secret, method + "\n" + target + "\n" + timestamp + "\n" + body).
func Signature(secret []byte, method, target string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s\n%s\n%d\n", method, target, timestamp)
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
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

// Release releases a hold to its seller, once per key.
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

// call sends one request, retrying what may pass on retry, and decodes a
// 2xx answer into out.
func (h *HTTP) call(ctx context.Context, method, path, key string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return &Error{Class: ErrRefused, Code: CodeInvalidRequest, Detail: "encode request", Err: err}
		}
	}
	for attempt := 1; ; attempt++ {
		err := h.attempt(ctx, method, path, key, body, out)
		if err == nil || !IsTransient(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= h.maxAttempts {
			return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		wait := h.backoffBefore(attempt + 1)
		h.logger.WarnContext(ctx, "payments call failed; retrying with the same idempotency key",
			"method", method, "path", path, "idempotency_key", key, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (stopped retrying: %w)", err, context.Cause(ctx))
		}
	}
}

// backoffBefore answers the wait before the given attempt (2 or more).
func (h *HTTP) backoffBefore(attempt int) time.Duration {
	d := min(h.backoff<<min(attempt-2, 20), maxBackoff)
	return d/2 + rand.N(d/2+1)
}

const maxAnswer = 1 << 20

// attempt sends one request. A failure is an *Error; when the caller's own
// context ended it is ErrTransient too (the money may have moved), but
// call does not retry it.
func (h *HTTP) attempt(ctx context.Context, method, path, key string, body []byte, out any) error {
	actx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, method, h.base+path, bytes.NewReader(body))
	if err != nil {
		return &Error{Class: ErrRefused, Code: CodeInvalidRequest, Detail: "build request", Err: err}
	}
	ts := h.now().Unix()
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Handoff-Payments/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(HeaderIdempotencyKey, key)
	}
	req.Header.Set(HeaderKeyID, h.keyID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Signature(h.secret, method, req.URL.RequestURI(), ts, body))

	resp, err := h.client.Do(req)
	if err != nil {
		return &Error{Class: ErrTransient, Detail: "no answer", Err: err}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return &Error{Class: ErrTransient, Status: resp.StatusCode, Detail: "read answer", Err: err}
	}
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		if err := json.Unmarshal(answer, out); err != nil {
			// The money may have moved: a retry with the same key tells.
			return &Error{Class: ErrTransient, Status: code, Detail: "decode answer", Err: err}
		}
		return nil
	}
	e := problemOf(code, answer)
	switch {
	case code == http.StatusNotFound:
		e.Class = ErrNotFound
	case code == http.StatusTooManyRequests || code >= 500:
		e.Class = ErrTransient
	case code >= 400:
		e.Class = ErrRefused
	default: // 1xx, 3xx: nothing the contract allows; safe to retry by key.
		e.Class = ErrTransient
	}
	return e
}

// Problem is an error answer, RFC 9457 application/problem+json with a
// "code" member (CodeBadAmount…).
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title,omitempty"`
	Status int    `json:"status,omitempty"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code,omitempty"`
}

// problemOf reads an error answer into an Error without a class.
func problemOf(status int, b []byte) *Error {
	e := &Error{Status: status}
	var p Problem
	if json.Unmarshal(b, &p) == nil {
		e.Code = p.Code
		e.Detail = p.Detail
		if e.Detail == "" {
			e.Detail = p.Title
		}
	} else {
		e.Detail = string(b)
	}
	if len(e.Detail) > 200 {
		e.Detail = e.Detail[:200]
	}
	e.Detail = strings.Join(strings.Fields(strings.ToValidUTF8(e.Detail, "")), " ")
	if e.Code == "" && status == http.StatusNotFound {
		e.Code = CodeNotFound
	}
	return e
}

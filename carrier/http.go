package carrier

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

// HTTP is the Carrier reached over the signed JSON API of docs/carrier.md:
//
//	POST /labels                      LabelRequest → 201 Label (200 on a repeat)   (Idempotency-Key)
//	GET  /tracking/{tracking_number}  → 200 {"tracking_number": "...", "events": [Event...]}
//
// 400 and 422 mean ErrRefused, 404 ErrNotFound, 409 ErrConflict; a network
// error, an attempt's timeout, 408, 429 and 5xx are retried with backoff
// up to MaxAttempts and then wrap ErrTransient. Requests are signed with
// HMAC-SHA256 exactly as the account service's are (accounts.HTTP):
//
//	X-Handoff-Key-Id:    which secret signed
//	X-Handoff-Timestamp: Unix seconds of this attempt
//	X-Handoff-Signature: v1=<hex HMAC-SHA256(secret, METHOD + "\n" + target + "\n" + timestamp + "\n" + body)>
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

var _ Carrier = (*HTTP)(nil)

// The headers of a request to the carrier.
const (
	HeaderKeyID          = "X-Handoff-Key-Id"
	HeaderTimestamp      = "X-Handoff-Timestamp"
	HeaderSignature      = "X-Handoff-Signature"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// MinSecretLen is the shortest request-signing secret accepted, in bytes.
const MinSecretLen = 32

// HTTPConfig says how to reach the carrier. Zero durations and counts take
// the defaults named on each field.
type HTTPConfig struct {
	// BaseURL is the carrier's http or https URL; endpoint paths are appended to it.
	BaseURL string
	// KeyID names Secret in the X-Handoff-Key-Id header.
	KeyID string
	// Secret is the HMAC-SHA256 key, as bytes of the string, at least MinSecretLen.
	Secret string
	// Timeout bounds one attempt, answer body included (10s).
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one call, the first included (3).
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled before each next
	// one up to 5s, with jitter (200ms).
	Backoff time.Duration
	// Client sends the requests (default: one that follows no redirect).
	Client *http.Client
	// Logger hears about retries (slog.Default()).
	Logger *slog.Logger
}

const maxBackoff = 5 * time.Second

// NewHTTP answers the carrier at cfg.BaseURL.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("carrier: want an http or https base URL, got %q", cfg.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("carrier: the base URL %q must have no query or fragment", cfg.BaseURL)
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("carrier: the signing secret must have at least %d bytes", MinSecretLen)
	}
	if cfg.KeyID == "" {
		return nil, errors.New("carrier: empty signing key id")
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

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Signature answers the X-Handoff-Signature value of one request: see HTTP.
// The carrier (or its stand-in) computes the same to verify.
func Signature(secret []byte, method, target string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s\n%s\n%d\n", method, target, timestamp)
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// CreateLabel makes a prepaid label once per req.IdempotencyKey (see Carrier).
func (h *HTTP) CreateLabel(ctx context.Context, req LabelRequest) (Label, error) {
	var l Label
	err := req.Check()
	if err == nil {
		err = h.call(ctx, http.MethodPost, "/labels", req.IdempotencyKey, req, &l)
	}
	if err == nil && (l.ID == "" || l.TrackingNumber == "" || l.LabelURL == "") {
		err = errors.New("carrier answered a label without id, tracking_number or label_url")
	}
	if err != nil {
		return Label{}, fmt.Errorf("create return label for %s: %w", req.ReturnID, err)
	}
	return l, nil
}

// Track answers the parcel's events so far, oldest first (see Carrier).
func (h *HTTP) Track(ctx context.Context, trackingNumber string) ([]Event, error) {
	var out struct {
		Events []Event `json:"events"`
	}
	var err error
	if strings.TrimSpace(trackingNumber) == "" {
		err = fmt.Errorf("%w: empty tracking number", ErrRefused)
	} else {
		err = h.call(ctx, http.MethodGet, "/tracking/"+url.PathEscape(trackingNumber), "", nil, &out)
	}
	if err != nil {
		return nil, fmt.Errorf("track parcel %s: %w", trackingNumber, err)
	}
	return out.Events, nil
}

// call sends one request, retrying what may pass on retry, and decodes a
// 2xx answer into out.
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
		if !retry {
			return err
		}
		if attempt >= h.maxAttempts {
			return fmt.Errorf("%w (gave up after %d attempts): %w", err, attempt, ErrTransient)
		}
		wait := h.backoffBefore(attempt + 1)
		h.logger.WarnContext(ctx, "carrier call failed; retrying",
			"method", method, "path", path, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (stopped retrying: %w): %w", err, context.Cause(ctx), ErrTransient)
		}
	}
}

// backoffBefore answers the wait before the given attempt (2 or more).
func (h *HTTP) backoffBefore(attempt int) time.Duration {
	d := min(h.backoff<<min(attempt-2, 20), maxBackoff)
	return d/2 + rand.N(d/2+1)
}

const maxAnswer = 1 << 20

// attempt sends one request and says whether a failure may pass on retry.
func (h *HTTP) attempt(ctx context.Context, method, path, idempotencyKey string, body []byte, out any) (retry bool, err error) {
	actx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, method, h.base+path, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("carrier request: %w", err)
	}
	ts := h.now().Unix()
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Handoff-Carrier/1")
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
		if ctx.Err() != nil {
			return false, fmt.Errorf("carrier: %w: %w", err, ErrTransient)
		}
		return true, fmt.Errorf("carrier: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		if ctx.Err() != nil {
			return false, fmt.Errorf("carrier: read answer (%s): %w: %w", resp.Status, err, ErrTransient)
		}
		return true, fmt.Errorf("carrier: read answer (%s): %w", resp.Status, err)
	}
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		if err := json.Unmarshal(answer, out); err != nil {
			return false, fmt.Errorf("carrier: decode answer (%s): %w", resp.Status, err)
		}
		return false, nil
	}
	err = fmt.Errorf("carrier answered %s%s", resp.Status, quoteAnswer(answer))
	switch {
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		return false, fmt.Errorf("%w: %w", err, ErrRefused)
	case code == http.StatusNotFound:
		return false, fmt.Errorf("%w: %w", err, ErrNotFound)
	case code == http.StatusConflict:
		return false, fmt.Errorf("%w: %w", err, ErrConflict)
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return true, err
	}
	// 401, 403 and the like: Handoff's configuration is wrong; neither
	// refused (the request may be fine) nor transient for this client.
	return false, err
}

// quoteAnswer answers what the carrier said in an error answer, on one
// line: the detail of a problem+json body (RFC 9457), else the body's start.
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

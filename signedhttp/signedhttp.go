// Package signedhttp is the signed JSON-over-HTTP scheme Handoff shares
// with the account service, the carrier and the payment provider
// (docs/account-service.md): every request carries
//
//	X-Handoff-Key-Id:    which secret signed (for rotations)
//	X-Handoff-Timestamp: Unix seconds of this attempt (fresh on each retry)
//	X-Handoff-Signature: v1=<lowercase hex of HMAC-SHA256(secret, method + "\n" + target + "\n" + timestamp + "\n" + body)>
//
// Client sends such requests, each attempt under its own timeout, and
// retries with jittered exponential backoff; Sign and Verify compute and
// check the signature on either side.
package signedhttp

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

// The headers of a signed request.
const (
	HeaderKeyID          = "X-Handoff-Key-Id"
	HeaderTimestamp      = "X-Handoff-Timestamp"
	HeaderSignature      = "X-Handoff-Signature"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// MaxBackoff bounds the wait before one retry.
const MaxBackoff = 5 * time.Second

// MaxAnswer bounds the answer body read from the server.
const MaxAnswer = 1 << 20

// Sign answers the X-Handoff-Signature value of one request: "v1=" and the
// lowercase hex of HMAC-SHA256(secret, method\ntarget\ntimestamp\nbody).
func Sign(secret []byte, method, target string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s\n%s\n%d\n", method, target, timestamp)
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Failure says which check of Verify failed.
type Failure int

// The checks of Verify.
const (
	// BadTimestamp: the timestamp header is missing or not Unix seconds.
	BadTimestamp Failure = iota + 1
	// StaleTimestamp: the timestamp is further than the tolerance from now.
	StaleTimestamp
	// BadSignature: the signature header does not match.
	BadSignature
)

// VerifyError is why a request does not verify.
type VerifyError struct {
	// Failure is the check that failed.
	Failure Failure
	// Timestamp is the request's timestamp (for StaleTimestamp, BadSignature).
	Timestamp int64
	// Skew is how far the timestamp is from now (for StaleTimestamp).
	Skew time.Duration
}

// Error implements error.
func (e *VerifyError) Error() string {
	switch e.Failure {
	case BadTimestamp:
		return "missing or malformed " + HeaderTimestamp
	case StaleTimestamp:
		return fmt.Sprintf("timestamp %d is %s away from the clock", e.Timestamp, e.Skew.Round(time.Second))
	default:
		return HeaderSignature + " does not match"
	}
}

// Verify checks the timestamp and signature headers of a request with
// method, request target and body, signed with secret, at now: the
// timestamp must be within tolerance of now. It answers nil or a
// *VerifyError. The key id is the caller's to check.
func Verify(h http.Header, secret []byte, method, target string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return &VerifyError{Failure: BadTimestamp}
	}
	if d := now.Sub(time.Unix(ts, 0)).Abs(); d > tolerance {
		return &VerifyError{Failure: StaleTimestamp, Timestamp: ts, Skew: d}
	}
	want := Sign(secret, method, target, ts, body)
	if !hmac.Equal([]byte(want), []byte(h.Get(HeaderSignature))) {
		return &VerifyError{Failure: BadSignature, Timestamp: ts}
	}
	return nil
}

// VerifyAny is Verify with several secrets, any of which may have signed:
// a receiver lists the new secret beside the old one while its sender
// switches. It answers nil when one matches, else Verify's answer for the
// last of them (the timestamp checks are the same for every secret).
func VerifyAny(h http.Header, secrets [][]byte, method, target string, body []byte, now time.Time, tolerance time.Duration) error {
	err := error(&VerifyError{Failure: BadSignature})
	for _, secret := range secrets {
		if err = Verify(h, secret, method, target, body, now, tolerance); err == nil {
			return nil
		}
		var ve *VerifyError
		if errors.As(err, &ve) && ve.Failure != BadSignature {
			return err
		}
	}
	return err
}

// SplitSecrets answers the secrets of list, separated by commas, each
// trimmed of spaces, empty ones kept (so a caller refuses them by
// position): the first is the current one.
func SplitSecrets(list string) []string {
	out := strings.Split(list, ",")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}

// Refusal answers why request r with body is not signed by key keyID with
// secret within tolerance of now, in words a client can act on, or "" when
// it is: the check of a server (a local stand-in) that takes signed requests.
func Refusal(r *http.Request, body []byte, keyID string, secret []byte, now time.Time, tolerance time.Duration) string {
	if r.Header.Get(HeaderKeyID) != keyID {
		return fmt.Sprintf("unknown %s %q", HeaderKeyID, r.Header.Get(HeaderKeyID))
	}
	var ve *VerifyError
	if !errors.As(Verify(r.Header, secret, r.Method, r.RequestURI, body, now, tolerance), &ve) {
		return ""
	}
	switch ve.Failure {
	case BadTimestamp:
		return HeaderTimestamp + " is not Unix seconds"
	case StaleTimestamp:
		return HeaderTimestamp + " is too far from now"
	}
	return HeaderSignature + " does not match"
}

// Config says how a Client reaches its server. Zero durations and counts
// take the defaults named on each field. Validation of the URL (see
// CheckBaseURL), key id and secret is the caller's, with its own messages.
type Config struct {
	// BaseURL is the server's http or https URL; endpoint paths are appended to it.
	BaseURL string
	// KeyID names Secret in the X-Handoff-Key-Id header.
	KeyID string
	// Secret is the HMAC-SHA256 key, as bytes of the string.
	Secret string
	// Timeout bounds one attempt, answer body included (10s).
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one call, the first included (3).
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled before each next
	// one up to MaxBackoff, with jitter (200ms).
	Backoff time.Duration
	// Client sends the requests (default: one that follows no redirect, as
	// a redirect would carry a signed body somewhere nobody configured).
	Client *http.Client
	// Logger hears about retries (slog.Default()).
	Logger *slog.Logger
}

// Client sends signed requests to one server.
type Client struct {
	base        string
	keyID       string
	secret      []byte
	userAgent   string
	timeout     time.Duration
	maxAttempts int
	backoff     time.Duration
	client      *http.Client
	// Logger hears about retries.
	Logger *slog.Logger
	// Now is the clock of the timestamps (time.Now).
	Now func() time.Time
}

// CheckBaseURL answers why raw is no base URL for a Config: it must be an
// http or https URL with a host and without query or fragment.
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want an http or https base URL, got %q", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("the base URL %q must have no query or fragment", raw)
	}
	return nil
}

// New answers a Client for cfg, with defaults filled in, that sends
// userAgent in the User-Agent header.
func New(cfg Config, userAgent string) *Client {
	c := &Client{
		base:        strings.TrimSuffix(cfg.BaseURL, "/"),
		keyID:       cfg.KeyID,
		secret:      []byte(cfg.Secret),
		userAgent:   userAgent,
		timeout:     orDefault(cfg.Timeout, 10*time.Second),
		maxAttempts: orDefault(cfg.MaxAttempts, 3),
		backoff:     orDefault(cfg.Backoff, 200*time.Millisecond),
		client:      cfg.Client,
		Logger:      cfg.Logger,
		Now:         time.Now,
	}
	if c.client == nil {
		c.client = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// orDefault answers v, or def when v is not positive.
func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Response is a server's answer to one attempt.
type Response struct {
	// StatusCode is the HTTP status code (200).
	StatusCode int
	// Status is the status line's text ("200 OK").
	Status string
	// Body is the answer body, at most MaxAnswer bytes.
	Body []byte
}

// Stage says where an attempt failed.
type Stage int

// The stages of an attempt.
const (
	// StageRequest: the request could not be built.
	StageRequest Stage = iota + 1
	// StageSend: no answer (network error, the attempt's timeout...).
	StageSend
	// StageRead: the answer's body could not be read.
	StageRead
)

// AttemptError is an attempt that got no complete answer.
type AttemptError struct {
	// Stage is where the attempt failed.
	Stage Stage
	// Status is the status text, for StageRead.
	Status string
	// StatusCode is the status code, for StageRead.
	StatusCode int
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *AttemptError) Error() string {
	switch e.Stage {
	case StageRequest:
		return fmt.Sprintf("build request: %v", e.Err)
	case StageRead:
		return fmt.Sprintf("read answer (%s): %v", e.Status, e.Err)
	}
	return e.Err.Error()
}

// Unwrap answers the cause.
func (e *AttemptError) Unwrap() error { return e.Err }

// Attempt sends one signed request of body (nil: none) under its own
// timeout, with the Idempotency-Key header when idempotencyKey is not
// empty, and reads the answer. A failure is an *AttemptError.
func (c *Client) Attempt(ctx context.Context, method, path, idempotencyKey string, body []byte) (*Response, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, &AttemptError{Stage: StageRequest, Err: err}
	}
	ts := c.Now().Unix()
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idempotencyKey != "" {
		req.Header.Set(HeaderIdempotencyKey, idempotencyKey)
	}
	req.Header.Set(HeaderKeyID, c.keyID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(c.secret, method, req.URL.RequestURI(), ts, body))

	resp, err := c.client.Do(req)
	if err != nil {
		return nil, &AttemptError{Stage: StageSend, Err: err}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if err != nil {
		return nil, &AttemptError{Stage: StageRead, Status: resp.Status, StatusCode: resp.StatusCode, Err: err}
	}
	return &Response{StatusCode: resp.StatusCode, Status: resp.Status, Body: answer}, nil
}

// Retry says how Client.Call and Client.Retry report.
type Retry struct {
	// Message is logged as a warning before each wait, with the attributes
	// Attrs then "attempt", "wait" and "err".
	Message string
	// Attrs are logged with Message.
	Attrs []any
	// Encode answers the error of a call whose request body does not
	// encode as JSON (nil: "encode request: " and the cause).
	Encode func(err error) error
	// GaveUp answers the error of a call whose attempts ran out, from the
	// last attempt's error and the count of attempts (nil: the error and
	// " (gave up after N attempts)").
	GaveUp func(err error, attempts int) error
	// Stopped answers the error of a call whose context ended during a
	// wait, from the last attempt's error and the context's cause (nil:
	// the error and " (stopped retrying: cause)").
	Stopped func(err, cause error) error
}

// Call encodes in as JSON (nil: no body), then hands the bytes to attempt
// as Retry does: the same body, and so the same idempotency key's
// request, on every attempt.
func (c *Client) Call(ctx context.Context, r Retry, in any, attempt func(body []byte) (retry bool, err error)) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			if r.Encode != nil {
				return r.Encode(err)
			}
			return fmt.Errorf("encode request: %w", err)
		}
	}
	return c.Retry(ctx, r, func() (bool, error) { return attempt(body) })
}

// Retry calls attempt until it succeeds, answers a failure not to retry,
// or MaxAttempts ran out, waiting BackoffBefore between attempts.
func (c *Client) Retry(ctx context.Context, r Retry, attempt func() (retry bool, err error)) error {
	for n := 1; ; n++ {
		retry, err := attempt()
		if err == nil || !retry {
			return err
		}
		if n >= c.maxAttempts {
			if r.GaveUp != nil {
				return r.GaveUp(err, n)
			}
			return fmt.Errorf("%w (gave up after %d attempts)", err, n)
		}
		wait := c.BackoffBefore(n + 1)
		c.Logger.WarnContext(ctx, r.Message, append(r.Attrs[:len(r.Attrs):len(r.Attrs)],
			"attempt", n, "wait", wait, "err", err)...)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			cause := context.Cause(ctx)
			if r.Stopped != nil {
				return r.Stopped(err, cause)
			}
			return fmt.Errorf("%w (stopped retrying: %w)", err, cause)
		}
	}
}

// BackoffBefore answers the wait before the given attempt (2 or more):
// Backoff doubled per earlier retry, at most MaxBackoff, of which a random
// half, so callers that failed together do not retry together.
func (c *Client) BackoffBefore(attempt int) time.Duration {
	d := min(c.backoff<<min(attempt-2, 20), MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// QuoteAnswer answers what a server said in an error answer, for an error
// message on one line: ": " and the quoted detail of a problem+json body
// (RFC 9457), else of the body's start; "" for an empty body.
func QuoteAnswer(b []byte) string {
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

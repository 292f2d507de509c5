package carrier

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
	c *signedhttp.Client
}

var _ Carrier = (*HTTP)(nil)

// MinSecretLen is the shortest request-signing secret accepted, in bytes.
const MinSecretLen = 32

// HTTPConfig says how to reach the carrier: see signedhttp.Config. Secret
// must have at least MinSecretLen bytes.
type HTTPConfig = signedhttp.Config

// NewHTTP answers the carrier at cfg.BaseURL.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	if err := signedhttp.CheckBaseURL(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("carrier: %w", err)
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("carrier: the signing secret must have at least %d bytes", MinSecretLen)
	}
	if cfg.KeyID == "" {
		return nil, errors.New("carrier: empty signing key id")
	}
	return &HTTP{c: signedhttp.New(cfg, "Handoff-Carrier/1")}, nil
}

// Signature answers the X-Handoff-Signature value of one request: see HTTP.
// The carrier (or its stand-in) computes the same to verify.
func Signature(secret []byte, method, target string, timestamp int64, body []byte) string {
	return signedhttp.Sign(secret, method, target, timestamp, body)
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
// 2xx answer into out; a call that ran out of attempts or time wraps
// ErrTransient.
func (h *HTTP) call(ctx context.Context, method, path, idempotencyKey string, in, out any) error {
	return h.c.Call(ctx, signedhttp.Retry{
		Message: "carrier call failed; retrying",
		Attrs:   []any{"method", method, "path", path},
		GaveUp: func(err error, attempts int) error {
			return fmt.Errorf("%w (gave up after %d attempts): %w", err, attempts, ErrTransient)
		},
		Stopped: func(err, cause error) error {
			return fmt.Errorf("%w (stopped retrying: %w): %w", err, cause, ErrTransient)
		},
	}, in, func(body []byte) (bool, error) {
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
			return false, fmt.Errorf("carrier request: %w", ae.Err)
		case signedhttp.StageRead:
			if ctx.Err() != nil {
				return false, fmt.Errorf("carrier: read answer (%s): %w: %w", ae.Status, ae.Err, ErrTransient)
			}
			return true, fmt.Errorf("carrier: read answer (%s): %w", ae.Status, ae.Err)
		}
		if ctx.Err() != nil {
			return false, fmt.Errorf("carrier: %w: %w", ae.Err, ErrTransient)
		}
		return true, fmt.Errorf("carrier: %w", ae.Err)
	}
	if err != nil {
		return false, fmt.Errorf("carrier: %w", err)
	}
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return false, fmt.Errorf("carrier: decode answer (%s): %w", resp.Status, err)
		}
		return false, nil
	}
	err = fmt.Errorf("carrier answered %s%s", resp.Status, signedhttp.QuoteAnswer(resp.Body))
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

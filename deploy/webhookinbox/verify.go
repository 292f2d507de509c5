package webhookinbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers (https://www.standardwebhooks.com). They
// are spelled here rather than imported from activities on purpose: the
// inbox checks Handoff's signing against the specification, so a mistake
// in the sender is not repeated by the receiver. A test keeps both equal.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
	// HeaderKeyID is Handoff's addition: which secret signed (WEBHOOK_KEY_ID).
	HeaderKeyID = "webhook-key-id"
)

// DefaultTolerance is how far a webhook-timestamp may be from the
// receiver's clock, either way; the specification suggests five minutes.
const DefaultTolerance = 5 * time.Minute

// Errors Verify answers, so a caller can tell a developer what was wrong.
var (
	ErrMissingHeaders   = errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	ErrBadTimestamp     = errors.New("webhook-timestamp is not Unix seconds")
	ErrStaleTimestamp   = errors.New("webhook-timestamp is outside the tolerance")
	ErrSignatureInvalid = errors.New("no v1 signature matches the body")
)

// Verifier checks Standard Webhooks signatures made with one secret.
type Verifier struct {
	key       []byte
	tolerance time.Duration
	now       func() time.Time
}

// NewVerifier answers a Verifier for secret, written "whsec_" then the
// base64 of the HMAC key, as WEBHOOK_SIGNING_SECRET is. A tolerance of zero
// means DefaultTolerance; now is the clock (nil means time.Now).
func NewVerifier(secret string, tolerance time.Duration, now func() time.Time) (*Verifier, error) {
	raw, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, errors.New(`signing secret: want "whsec_" followed by base64`)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		// Never quote the secret, nor the decoder's message, which may hold part of it.
		return nil, errors.New(`signing secret: the part after "whsec_" is not valid base64`)
	}
	if len(key) == 0 {
		return nil, errors.New(`signing secret: the key after "whsec_" is empty`)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if now == nil {
		now = time.Now
	}
	return &Verifier{key: key, tolerance: tolerance, now: now}, nil
}

// Sign answers the webhook-signature value for one send: "v1," and the
// base64 HMAC-SHA256 of "<id>.<timestamp>.<body>". Tests and tools use it
// to make requests the inbox accepts.
func (v *Verifier) Sign(id string, timestamp int64, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(v.mac(id, strconv.FormatInt(timestamp, 10), body))
}

func (v *Verifier) mac(id, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, v.key)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	return m.Sum(nil)
}

// Verify answers nil when h carries a fresh timestamp and a v1 signature
// of body made with the Verifier's secret. The signature header may list
// several space-separated signatures (a sender rotating keys); one match
// is enough. Every failure wraps one of the Err values above.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrBadTimestamp, ts)
	}
	sent := time.Unix(secs, 0)
	if skew := v.now().Sub(sent).Abs(); skew > v.tolerance {
		return fmt.Errorf("%w: %s away from now, more than %s", ErrStaleTimestamp, skew.Round(time.Second), v.tolerance)
	}
	want := v.mac(id, ts, body)
	for _, sig := range strings.Fields(sigs) {
		version, encoded, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignatureInvalid
}

// Package standardwebhooks signs and verifies webhooks the Standard
// Webhooks way (https://www.standardwebhooks.com): a webhook-id that is the
// same on every retry, a webhook-timestamp in Unix seconds and a
// webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>" under a
// secret written "whsec_" then the base64 of the key.
//
// The webhook inbox of the local stack, the carrier stand-in and the API's
// carrier webhook use it. The worker's own webhook poster (activities)
// signs without it on purpose: the inbox checks that signing against this
// package, and this package is checked against the specification's example,
// so a mistake in one is not repeated by the other.
package standardwebhooks

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

// The headers of the specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
	// HeaderKeyID is Handoff's addition: which secret signed, for rotations.
	HeaderKeyID = "webhook-key-id"
)

// DefaultTolerance is how far a webhook-timestamp may be from the
// receiver's clock, either way; the specification suggests five minutes.
const DefaultTolerance = 5 * time.Minute

// Errors Verify answers, so a caller can tell a sender what was wrong.
var (
	ErrMissingHeaders   = errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	ErrBadTimestamp     = errors.New("webhook-timestamp is not Unix seconds")
	ErrStaleTimestamp   = errors.New("webhook-timestamp is outside the tolerance")
	ErrSignatureInvalid = errors.New("no v1 signature matches the body")
)

// ParseSecret answers the HMAC key of secret, written "whsec_" then the
// base64 of the key. Its errors never quote the secret.
func ParseSecret(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, errors.New(`signing secret: want "whsec_" followed by base64`)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		// Nor the decoder's message, which may hold part of it.
		return nil, errors.New(`signing secret: the part after "whsec_" is not valid base64`)
	}
	if len(key) == 0 {
		return nil, errors.New(`signing secret: the key after "whsec_" is empty`)
	}
	return key, nil
}

// Sign answers the webhook-signature value of one send: "v1," and the
// base64 HMAC-SHA256 of "<id>.<timestamp>.<body>" under key.
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, strconv.FormatInt(timestamp, 10), body))
}

func mac(key []byte, id, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	return m.Sum(nil)
}

// ParseSecrets answers the HMAC keys of list: one secret or several
// separated by commas, each as ParseSecret reads it, the first being the
// current one. A rotation lists the new secret beside the old one until
// the sender has switched. Errors name the position of a bad entry (when
// there are several) but never quote it.
func ParseSecrets(list string) ([][]byte, error) {
	entries := strings.Split(list, ",")
	keys := make([][]byte, 0, len(entries))
	for i, entry := range entries {
		key, err := ParseSecret(strings.TrimSpace(entry))
		if err != nil {
			if len(entries) > 1 {
				return nil, fmt.Errorf("entry %d: %w", i+1, err)
			}
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// Verifier checks Standard Webhooks signatures made with any of its secrets.
type Verifier struct {
	// keys are every secret that verifies; the first is the current one.
	keys      [][]byte
	tolerance time.Duration
	now       func() time.Time
}

// NewVerifier answers a Verifier for secrets: one secret or several
// separated by commas (see ParseSecrets), any of which verifies. A
// tolerance of zero means DefaultTolerance; now is the clock (nil means
// time.Now).
func NewVerifier(secrets string, tolerance time.Duration, now func() time.Time) (*Verifier, error) {
	keys, err := ParseSecrets(secrets)
	if err != nil {
		return nil, err
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if now == nil {
		now = time.Now
	}
	return &Verifier{keys: keys, tolerance: tolerance, now: now}, nil
}

// Sign answers the webhook-signature value for one send under the
// Verifier's first (current) secret; tests and tools use it to make
// requests it accepts.
func (v *Verifier) Sign(id string, timestamp int64, body []byte) string {
	return Sign(v.keys[0], id, timestamp, body)
}

// Verify answers nil when h carries a fresh timestamp and a v1 signature
// of body made with any of the Verifier's secrets. The signature header
// may list several space-separated signatures (a sender rotating keys);
// one match is enough. Every failure wraps one of the Err values above.
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
	var got [][]byte
	for _, sig := range strings.Fields(sigs) {
		version, encoded, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(encoded); err == nil {
			got = append(got, b)
		}
	}
	for _, key := range v.keys {
		want := mac(key, id, ts, body)
		for _, g := range got {
			if hmac.Equal(g, want) {
				return nil
			}
		}
	}
	return ErrSignatureInvalid
}

// Package links signs the links customers follow from their emails (the
// satisfaction survey of a case, the confirmation page of a delivery), so
// that a customer, who has no API key, can act on their own case or
// delivery and on nothing else. A token is HMAC-SHA256 over its purpose,
// the case or delivery id, the customer and an expiry, under a key named by
// its id so keys can rotate: the newest key signs, every configured key
// verifies.
package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"handoff/config"
)

// Purposes a link is signed for; a token of one purpose opens no other page.
const (
	PurposeSurvey   = "survey"
	PurposeDelivery = "delivery"
)

// version prefixes every token, so the format can change without
// misreading old links.
const version = "v1"

// MinSecretBytes is the shortest secret a key may have.
const MinSecretBytes = 32

// Why a token is refused. A page answers ErrExpired with 410 and the others
// with 403.
var (
	// ErrInvalid: the token is malformed, altered or signed by no known key.
	ErrInvalid = errors.New("the link is not valid")
	// ErrExpired: the token was valid until its expiry.
	ErrExpired = errors.New("the link has expired")
	// ErrWrongUse: a valid token used for another purpose or another case
	// or delivery than it was signed for.
	ErrWrongUse = errors.New("the link is for something else")
)

// Key is one signing key and the id links carry to name it.
type Key struct {
	ID     string
	Secret []byte
}

// Claims are what a token says.
type Claims struct {
	Purpose string
	// Subject is the case or delivery id.
	Subject string
	// Customer is the customer's id.
	Customer string
	Expires  time.Time
}

// Signer signs with its first key and verifies with any of them.
type Signer struct {
	keys []Key
}

// NewSigner answers a signer over keys, the first of which signs. Ids must
// be unique, non-empty and free of dots; secrets at least MinSecretBytes.
func NewSigner(keys []Key) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("links: no signing key")
	}
	seen := map[string]bool{}
	for _, k := range keys {
		switch {
		case k.ID == "" || strings.ContainsAny(k.ID, ".|"):
			return nil, fmt.Errorf("links: key id %q must be non-empty and hold no dot or bar", k.ID)
		case seen[k.ID]:
			return nil, fmt.Errorf("links: key id %q given twice", k.ID)
		case len(k.Secret) < MinSecretBytes:
			return nil, fmt.Errorf("links: key %s: want a secret of at least %d bytes, got %d", k.ID, MinSecretBytes, len(k.Secret))
		}
		seen[k.ID] = true
	}
	return &Signer{keys: keys}, nil
}

// FromConfig answers a signer over LINK_SIGNING_KEYS.
func FromConfig(keys []config.LinkKey) (*Signer, error) {
	out := make([]Key, len(keys))
	for i, k := range keys {
		out[i] = Key{ID: k.ID, Secret: []byte(k.Secret)}
	}
	return NewSigner(out)
}

// Sign answers the token of c under the newest key.
func (s *Signer) Sign(c Claims) string {
	k := s.keys[0]
	body := encode(c)
	return version + "." + k.ID + "." + body + "." + mac(k.Secret, k.ID, body)
}

// Verify answers the claims of token when it is intact, signed by a known
// key, not expired at now, and for purpose and subject; else ErrInvalid,
// ErrExpired or ErrWrongUse.
func (s *Signer) Verify(token, purpose, subject string, now time.Time) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 || parts[0] != version {
		return Claims{}, ErrInvalid
	}
	kid, body, sum := parts[1], parts[2], parts[3]
	var key *Key
	for i := range s.keys {
		if s.keys[i].ID == kid {
			key = &s.keys[i]
		}
	}
	if key == nil || !hmac.Equal([]byte(sum), []byte(mac(key.Secret, kid, body))) {
		return Claims{}, ErrInvalid
	}
	c, err := decode(body)
	if err != nil {
		return Claims{}, ErrInvalid
	}
	if c.Purpose != purpose || c.Subject != subject {
		return c, ErrWrongUse
	}
	if !now.Before(c.Expires) {
		return c, ErrExpired
	}
	return c, nil
}

// mac answers the base64url HMAC-SHA256 of the key id and the body.
func mac(secret []byte, kid, body string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(version + "." + kid + "." + body))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// encode writes the claims as base64url of purpose|subject|customer|expiry.
func encode(c Claims) string {
	raw := strings.Join([]string{c.Purpose, c.Subject, c.Customer, strconv.FormatInt(c.Expires.Unix(), 10)}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decode(body string) (Claims, error) {
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return Claims{}, err
	}
	f := strings.Split(string(raw), "|")
	if len(f) != 4 {
		return Claims{}, errors.New("want four fields")
	}
	exp, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return Claims{}, err
	}
	return Claims{Purpose: f[0], Subject: f[1], Customer: f[2], Expires: time.Unix(exp, 0).UTC()}, nil
}

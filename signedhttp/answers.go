package signedhttp

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// CheckConfig checks the configuration of a client of the provider named
// what ("payments", "verification"): an http(s) base URL, a secret of at
// least minSecret bytes, a key id without white space ("handoff" when
// empty). It answers cfg with that default filled in.
func CheckConfig(what string, cfg Config, minSecret int) (Config, error) {
	if err := CheckBaseURL(cfg.BaseURL); err != nil {
		return cfg, fmt.Errorf("%s: %w", what, err)
	}
	if len(cfg.Secret) < minSecret {
		return cfg, fmt.Errorf("%s: the signing secret must have at least %d bytes, got %d", what, minSecret, len(cfg.Secret))
	}
	if cfg.KeyID == "" {
		cfg.KeyID = "handoff"
	}
	if strings.ContainsAny(cfg.KeyID, " \t\r\n") {
		return cfg, fmt.Errorf("%s: key id %q has white space", what, cfg.KeyID)
	}
	return cfg, nil
}

// Problem is an error answer, RFC 9457 application/problem+json with a
// "code" member naming the refusal.
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title,omitempty"`
	Status int    `json:"status,omitempty"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code,omitempty"`
}

// maxDetail bounds the detail ProblemOf answers, in bytes.
const maxDetail = 200

// ProblemOf reads an error answer: a problem's code and its detail (its
// title when it has none), or, for any other body, no code and the body
// as the detail. The detail is cut to 200 bytes and folded to one line of
// valid UTF-8, fit for an error message.
func ProblemOf(b []byte) (code, detail string) {
	var p Problem
	if json.Unmarshal(b, &p) == nil {
		code, detail = p.Code, cmp.Or(p.Detail, p.Title)
	} else {
		detail = string(b)
	}
	if len(detail) > maxDetail {
		detail = detail[:maxDetail]
	}
	return code, strings.Join(strings.Fields(strings.ToValidUTF8(detail, "")), " ")
}

// Outcome is what the status of an answer means to a caller that retries
// by idempotency key.
type Outcome int

// The outcomes of an answer.
const (
	// OutcomeOK: a 2xx, to decode.
	OutcomeOK Outcome = iota
	// OutcomeNotFound: a 404.
	OutcomeNotFound
	// OutcomeTransient: a 429 or a 5xx, or a status the scheme never
	// answers (1xx, 3xx): a retry with the same key is safe and may pass.
	OutcomeTransient
	// OutcomeRefused: any other 4xx; no retry makes it pass.
	OutcomeRefused
)

// OutcomeOf answers what status means.
func OutcomeOf(status int) Outcome {
	switch {
	case status >= 200 && status < 300:
		return OutcomeOK
	case status == http.StatusNotFound:
		return OutcomeNotFound
	case status == http.StatusTooManyRequests || status >= 500:
		return OutcomeTransient
	case status >= 400:
		return OutcomeRefused
	}
	return OutcomeTransient
}

// Package verificationsim is the local stack's stand-in for the identity
// verification (KYC) provider: it serves the signed check API of
// docs/verification.md (what verification.HTTP calls), keeps checks in
// memory (a restart loses them all), and decides each check by a fixed
// rule on its legal name (Outcome), so tests and demos choose the outcome
// by the request:
//
//	POST /checks               signed; CheckRequest → 201 Check, 200 on a repeat of the key
//	GET  /checks/{id}          signed; → 200 Check
//	POST /checks/{id}/decide   unsigned, local only: {"status": "passed"|"failed", "reason": "..."} → 200 Check, then the webhook
//	GET  /checks               every check, newest first, for a developer
//	GET  /healthz              200 while serving
//
// A check decided after its first answer (a "late" one once Delay has
// passed, or one decided through /decide, as a reviewer at the provider
// would) is sent to WebhookURL, signed with Standard Webhooks (webhook-id
// = the decision event's id, DecisionEventID); a failed delivery is
// retried a few times with the same webhook-id. Nothing here is meant for
// production.
package verificationsim

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"handoff/signedhttp"
	"handoff/standardwebhooks"
	"handoff/verification"
)

// The reasons the rule gives.
const (
	ReasonMismatch     = "document does not match the name"
	ReasonManualReview = "the documents need a manual review"
	ReasonRejected     = "rejected by the provider's reviewer"
)

// Outcome is the stand-in's decision rule, on the legal name in any case:
// one containing "fail" fails (ReasonMismatch); else one containing
// "review" needs a review (ReasonManualReview) until /decide; else one
// containing "late" is pending and passes after Options.Delay, through the
// webhook; any other passes at once.
func Outcome(req verification.CheckRequest) (status string, reasons []string) {
	name := strings.ToLower(req.LegalName)
	switch {
	case strings.Contains(name, "fail"):
		return verification.StatusFailed, []string{ReasonMismatch}
	case strings.Contains(name, "review"):
		return verification.StatusNeedsReview, []string{ReasonManualReview}
	case strings.Contains(name, "late"):
		return verification.StatusPending, nil
	}
	return verification.StatusPassed, nil
}

// DecisionEventID is the webhook-id of the decision of check id to status:
// a check is decided once, so the pair is unique and the same on every retry.
func DecisionEventID(id, status string) string { return id + "/" + status }

// Options configures a Sim.
type Options struct {
	// KeyID and Secret verify the requests' X-Handoff-* signature; Secret
	// has at least verification.MinSecretLen bytes.
	KeyID  string
	Secret string
	// WebhookURL receives the decision webhooks.
	WebhookURL string
	// WebhookSecret signs them: "whsec_" then base64 of the key, or
	// several such separated by commas (as the API lists them during a
	// rotation), of which the first signs.
	WebhookSecret string
	// WebhookKeyID goes in the webhook-key-id header ("verification" when empty).
	WebhookKeyID string
	// Delay is how long a "late" check stays pending (2s).
	Delay time.Duration
	// DeliveryAttempts bounds the sends of one webhook (5); DeliveryBackoff
	// is the wait before the first retry, doubled after each (500ms).
	DeliveryAttempts int
	DeliveryBackoff  time.Duration
	// Tolerance is how far a request's timestamp may be from now (5 minutes).
	Tolerance time.Duration
	// Client sends webhooks (a 10s timeout that follows no redirect when nil).
	Client *http.Client
	// Logger (slog.Default when nil); Now is the clock (time.Now when nil).
	Logger *slog.Logger
	Now    func() time.Time
}

// CodeAlreadyDecided is the code of /decide's 409 for a check decided otherwise.
const CodeAlreadyDecided = "already_decided"

// DefaultDelay is how long a "late" check stays pending when Options.Delay is zero.
const DefaultDelay = 2 * time.Second

// check is one check with what the stand-in knows of it.
type check struct {
	verification.Check
	key         string
	legalName   string
	fingerprint [32]byte
}

// event is one decision to send.
type event struct {
	id    string
	check verification.Check
}

// Sim is an http.Handler serving the verification API. Close stops its
// webhook sender and the pending checks' timers.
type Sim struct {
	opts   Options
	secret []byte
	logger *slog.Logger
	now    func() time.Time
	mux    *http.ServeMux

	mu     sync.Mutex
	byKey  map[string]*check
	byID   map[string]*check
	order  []*check
	timers []*time.Timer

	hooks  *standardwebhooks.Sender
	closed sync.Once
}

// New answers a Sim that sends webhooks until Close.
func New(opts Options) (*Sim, error) {
	if len(opts.Secret) < verification.MinSecretLen {
		return nil, fmt.Errorf("verification request secret: want at least %d bytes", verification.MinSecretLen)
	}
	if opts.KeyID == "" {
		return nil, errors.New("verification request key id: must not be empty")
	}
	if opts.WebhookURL == "" {
		return nil, errors.New("verification webhook URL: must not be empty")
	}
	// The API's variable may list several secrets during a rotation: the
	// first is the current one, which a sender signs with.
	keys, err := standardwebhooks.ParseSecrets(opts.WebhookSecret)
	if err != nil {
		return nil, fmt.Errorf("verification webhook %w", err)
	}
	key := keys[0]
	if opts.WebhookKeyID == "" {
		opts.WebhookKeyID = "verification"
	}
	if opts.Delay <= 0 {
		opts.Delay = DefaultDelay
	}
	if opts.Tolerance <= 0 {
		opts.Tolerance = 5 * time.Minute
	}
	s := &Sim{
		opts: opts, secret: []byte(opts.Secret),
		logger: opts.Logger, now: opts.Now,
		byKey: map[string]*check{}, byID: map[string]*check{},
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /checks", s.signed(s.create))
	s.mux.HandleFunc("GET /checks/{id}", s.signed(s.get))
	s.mux.HandleFunc("POST /checks/{id}/decide", s.decide)
	s.mux.HandleFunc("GET /checks", s.list)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	s.hooks = standardwebhooks.NewSender(standardwebhooks.SenderOptions{
		URL: opts.WebhookURL, Key: key, KeyID: opts.WebhookKeyID, UserAgent: "Handoff-VerificationSim/1",
		Attempts: opts.DeliveryAttempts, Backoff: opts.DeliveryBackoff, Client: opts.Client, Logger: s.logger, Now: s.now,
	})
	return s, nil
}

// Close stops the timers of pending checks and the webhook sender (a
// webhook being retried is dropped), and waits for the sender.
func (s *Sim) Close() {
	s.closed.Do(func() {
		s.mu.Lock()
		for _, t := range s.timers {
			t.Stop()
		}
		s.mu.Unlock()
		s.hooks.Close()
	})
}

func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

const maxBody = 1 << 20

// signed reads the body and calls next with it when the request's
// signature verifies, else answers 401.
func (s *Sim) signed(next func(http.ResponseWriter, *http.Request, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			problem(w, http.StatusRequestEntityTooLarge, verification.CodeInvalidRequest, "body too large")
			return
		}
		if why := s.verify(r, body); why != "" {
			s.logger.WarnContext(r.Context(), "verification request refused", "method", r.Method, "target", r.RequestURI, "why", why)
			problem(w, http.StatusUnauthorized, verification.CodeUnauthorized, why)
			return
		}
		next(w, r, body)
	}
}

// verify answers why r's signature does not verify, or "".
func (s *Sim) verify(r *http.Request, body []byte) string {
	return signedhttp.Refusal(r, body, s.opts.KeyID, s.secret, s.now(), s.opts.Tolerance)
}

func (s *Sim) create(w http.ResponseWriter, r *http.Request, body []byte) {
	var req verification.CheckRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		problem(w, http.StatusBadRequest, verification.CodeInvalidRequest, "decode check request: "+err.Error())
		return
	}
	req.IdempotencyKey = r.Header.Get(signedhttp.HeaderIdempotencyKey)
	if err := errors.Join(verification.CheckIdempotencyKey(req.IdempotencyKey), req.Validate()); err != nil {
		problem(w, http.StatusUnprocessableEntity, verification.CodeInvalidRequest, err.Error())
		return
	}
	canonical, _ := json.Marshal(req)
	fp := sha256.Sum256(canonical)

	s.mu.Lock()
	if c, ok := s.byKey[req.IdempotencyKey]; ok {
		answer := cloneCheck(c.Check)
		s.mu.Unlock()
		if c.fingerprint != fp {
			problem(w, http.StatusConflict, verification.CodeIdempotencyConflict,
				"idempotency key "+req.IdempotencyKey+" was used for another check request")
			return
		}
		w.Header().Set("Idempotent-Replayed", "true")
		writeJSON(w, http.StatusOK, answer)
		return
	}
	status, reasons := Outcome(req)
	now := s.now().UTC().Truncate(time.Millisecond)
	c := &check{
		Check: verification.Check{
			ID: "vchk_" + randomHex(8), SellerID: req.SellerID,
			Status: status, Reasons: reasons, CreatedAt: now,
		},
		key: req.IdempotencyKey, legalName: req.LegalName, fingerprint: fp,
	}
	if verification.Final(status) {
		c.DecidedAt = now
	}
	if status == verification.StatusPending {
		id := c.ID
		s.timers = append(s.timers, time.AfterFunc(s.opts.Delay, func() { s.decideLate(id) }))
	}
	s.byKey[c.key], s.byID[c.ID] = c, c
	s.order = append(s.order, c)
	answer := cloneCheck(c.Check)
	s.mu.Unlock()
	s.logger.Info("check created", "check_id", answer.ID, "seller_id", answer.SellerID, "status", status,
		"idempotency_key", req.IdempotencyKey)
	writeJSON(w, http.StatusCreated, answer)
}

// decideLate passes a "late" check still pending once Delay has passed.
func (s *Sim) decideLate(id string) {
	if s.hooks.Closed() {
		return
	}
	s.mu.Lock()
	c, ok := s.byID[id]
	if !ok || c.Status != verification.StatusPending {
		s.mu.Unlock()
		return // decided through /decide meanwhile
	}
	ev := s.settle(c, verification.StatusPassed, nil)
	s.mu.Unlock()
	s.logger.Info("check decided", "check_id", id, "status", ev.check.Status, "by", "delay")
	s.enqueue(ev)
}

// settle decides c; s.mu is held.
func (s *Sim) settle(c *check, status string, reasons []string) event {
	c.Status, c.Reasons, c.DecidedAt = status, reasons, s.now().UTC().Truncate(time.Millisecond)
	return event{id: DecisionEventID(c.ID, status), check: cloneCheck(c.Check)}
}

func (s *Sim) get(w http.ResponseWriter, r *http.Request, _ []byte) {
	id := r.PathValue("id")
	s.mu.Lock()
	c, ok := s.byID[id]
	var answer verification.Check
	if ok {
		answer = cloneCheck(c.Check)
	}
	s.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, verification.CodeNotFound, "no check "+id)
		return
	}
	writeJSON(w, http.StatusOK, answer)
}

// decide is what a reviewer at the provider does: it decides a pending or
// needs_review check and sends the decision webhook. The same decision
// again answers the check unchanged; another one answers 409.
func (s *Sim) decide(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&in); err != nil {
		problem(w, http.StatusBadRequest, verification.CodeInvalidRequest, "decode decision: "+err.Error())
		return
	}
	if !verification.Final(in.Status) {
		problem(w, http.StatusBadRequest, verification.CodeInvalidRequest, fmt.Sprintf("status %q: want passed or failed", in.Status))
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	c, ok := s.byID[id]
	switch {
	case !ok:
		s.mu.Unlock()
		problem(w, http.StatusNotFound, verification.CodeNotFound, "no check "+id)
		return
	case c.Status == in.Status:
		answer := cloneCheck(c.Check)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, answer)
		return
	case verification.Final(c.Status):
		s.mu.Unlock()
		problem(w, http.StatusConflict, CodeAlreadyDecided, fmt.Sprintf("check %s is %s already", id, c.Status))
		return
	}
	var reasons []string
	if in.Reason != "" {
		reasons = []string{in.Reason}
	} else if in.Status == verification.StatusFailed {
		reasons = []string{ReasonRejected}
	}
	ev := s.settle(c, in.Status, reasons)
	s.mu.Unlock()
	s.logger.Info("check decided", "check_id", id, "status", in.Status, "by", "/decide")
	s.enqueue(ev)
	writeJSON(w, http.StatusOK, ev.check)
}

func (s *Sim) list(w http.ResponseWriter, _ *http.Request) {
	type entry struct {
		verification.Check
		LegalName      string `json:"legal_name"`
		IdempotencyKey string `json:"idempotency_key"`
	}
	s.mu.Lock()
	out := make([]entry, 0, len(s.order))
	for _, c := range slices.Backward(s.order) {
		out = append(out, entry{cloneCheck(c.Check), c.legalName, c.key})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func cloneCheck(c verification.Check) verification.Check {
	c.Reasons = slices.Clone(c.Reasons)
	return c
}

// enqueue hands ev to the webhook sender.
func (s *Sim) enqueue(ev event) {
	body, _ := json.Marshal(ev.check)
	s.hooks.Send(ev.id, body)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// problem answers an RFC 9457 problem with a code and detail.
func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(verification.Problem{Title: http.StatusText(status), Status: status, Detail: detail, Code: code})
}

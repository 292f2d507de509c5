// Package carriersim is the local stack's stand-in for the shipping
// carrier: it serves the signed label and tracking API of docs/carrier.md
// (what carrier.HTTP calls), keeps labels in memory keyed by idempotency
// key, and can be told to move a parcel, which sends the tracking webhook
// to Handoff:
//
//	POST /labels                       signed; LabelRequest → 201 Label, 200 on a repeat of the key
//	GET  /tracking/{tracking}          signed; → 200 {"tracking_number", "events"}
//	POST /labels/{tracking}/events     unsigned, local only: {"kind": "shipped"} → 202 Event, then the webhook
//	GET  /labels/{tracking}/label.pdf  the label the buyer prints (a text stand-in)
//	GET  /labels                       every label, newest first, for a developer
//	GET  /healthz                      200 while serving
//
// Webhooks go to WebhookURL one at a time, in the order the events were
// made, signed with Standard Webhooks (webhook-id = the event id); a failed
// delivery is retried a few times with the same webhook-id. Nothing here is
// meant for production.
package carriersim

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

	"handoff/carrier"
	"handoff/signedhttp"
	"handoff/standardwebhooks"
)

// Options configures a Sim.
type Options struct {
	// KeyID and Secret verify the requests' X-Handoff-* signature; Secret
	// has at least carrier.MinSecretLen bytes.
	KeyID  string
	Secret string
	// WebhookURL receives the tracking webhooks.
	WebhookURL string
	// WebhookSecret signs them: "whsec_" then base64 of the key, or
	// several such separated by commas (as the API lists them during a
	// rotation), of which the first signs.
	WebhookSecret string
	// WebhookKeyID goes in the webhook-key-id header ("carrier" when empty).
	WebhookKeyID string
	// PublicURL is this service's URL as the buyer reaches it, for label
	// URLs; empty means http://<Host of the request>.
	PublicURL string
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

// label is one label with what the simulator knows of it.
type label struct {
	carrier.Label
	key         string
	fingerprint [32]byte
	events      []carrier.Event
}

// Sim is an http.Handler serving the carrier API. Close stops its webhook sender.
type Sim struct {
	opts   Options
	secret []byte
	logger *slog.Logger
	now    func() time.Time
	mux    *http.ServeMux

	mu         sync.Mutex
	byKey      map[string]*label
	byTracking map[string]*label
	order      []*label

	hooks  *standardwebhooks.Sender
	closed sync.Once
}

// New answers a Sim that sends webhooks until Close.
func New(opts Options) (*Sim, error) {
	if len(opts.Secret) < carrier.MinSecretLen {
		return nil, fmt.Errorf("carrier request secret: want at least %d bytes", carrier.MinSecretLen)
	}
	if opts.KeyID == "" {
		return nil, errors.New("carrier request key id: must not be empty")
	}
	if opts.WebhookURL == "" {
		return nil, errors.New("carrier webhook URL: must not be empty")
	}
	// The API's variable may list several secrets during a rotation: the
	// first is the current one, which a sender signs with.
	keys, err := standardwebhooks.ParseSecrets(opts.WebhookSecret)
	if err != nil {
		return nil, fmt.Errorf("carrier webhook %w", err)
	}
	key := keys[0]
	if opts.WebhookKeyID == "" {
		opts.WebhookKeyID = "carrier"
	}
	if opts.Tolerance <= 0 {
		opts.Tolerance = 5 * time.Minute
	}
	s := &Sim{
		opts: opts, secret: []byte(opts.Secret),
		logger: opts.Logger, now: opts.Now,
		byKey: map[string]*label{}, byTracking: map[string]*label{},
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /labels", s.signed(s.createLabel))
	s.mux.HandleFunc("GET /tracking/{tracking}", s.signed(s.track))
	s.mux.HandleFunc("POST /labels/{tracking}/events", s.addEvent)
	s.mux.HandleFunc("GET /labels/{tracking}/label.pdf", s.labelDocument)
	s.mux.HandleFunc("GET /labels", s.list)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	s.hooks = standardwebhooks.NewSender(standardwebhooks.SenderOptions{
		URL: opts.WebhookURL, Key: key, KeyID: opts.WebhookKeyID, UserAgent: "Handoff-CarrierSim/1",
		Attempts: opts.DeliveryAttempts, Backoff: opts.DeliveryBackoff, Client: opts.Client, Logger: s.logger, Now: s.now,
	})
	return s, nil
}

// Close stops sending webhooks (one being retried is dropped) and waits for the sender.
func (s *Sim) Close() {
	s.closed.Do(func() {
		s.hooks.Close()
	})
}

func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

const maxBody = 1 << 20

// signed reads the body and calls next with it when the request's
// signature verifies, else answers 401.
func (s *Sim) signed(next func(http.ResponseWriter, *http.Request, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			problem(w, http.StatusBadRequest, "read body: "+err.Error())
			return
		}
		if why := s.verify(r, body); why != "" {
			problem(w, http.StatusUnauthorized, why)
			return
		}
		next(w, r, body)
	}
}

// verify answers why r's signature does not verify, or "".
func (s *Sim) verify(r *http.Request, body []byte) string {
	return signedhttp.Refusal(r, body, s.opts.KeyID, s.secret, s.now(), s.opts.Tolerance)
}

func (s *Sim) createLabel(w http.ResponseWriter, r *http.Request, body []byte) {
	var req carrier.LabelRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		problem(w, http.StatusBadRequest, "decode label request: "+err.Error())
		return
	}
	req.IdempotencyKey = r.Header.Get(signedhttp.HeaderIdempotencyKey)
	if err := req.Check(); err != nil {
		problem(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	canonical, _ := json.Marshal(req)
	fp := sha256.Sum256(canonical)

	s.mu.Lock()
	if l, ok := s.byKey[req.IdempotencyKey]; ok {
		s.mu.Unlock()
		if l.fingerprint != fp {
			problem(w, http.StatusConflict, "idempotency key "+req.IdempotencyKey+" was used for another label request")
			return
		}
		writeJSON(w, http.StatusOK, l.Label)
		return
	}
	tracking := "HC" + strings.ToUpper(randomHex(5))
	now := s.now().UTC().Truncate(time.Millisecond)
	l := &label{
		Label: carrier.Label{
			ID:             "lbl_" + randomHex(8),
			TrackingNumber: tracking,
			LabelURL:       s.publicURL(r) + "/labels/" + tracking + "/label.pdf",
			ReturnID:       req.ReturnID,
			CreatedAt:      now,
		},
		key: req.IdempotencyKey, fingerprint: fp,
	}
	ev := s.appendEvent(l, carrier.LabelCreated, now)
	s.byKey[l.key], s.byTracking[tracking] = l, l
	s.order = append(s.order, l)
	s.mu.Unlock()
	s.logger.Info("label created", "tracking_number", tracking, "return_id", req.ReturnID, "idempotency_key", req.IdempotencyKey)
	s.enqueue(ev)
	writeJSON(w, http.StatusCreated, l.Label)
}

func (s *Sim) publicURL(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return strings.TrimSuffix(s.opts.PublicURL, "/")
	}
	return "http://" + r.Host
}

// appendEvent records an event of kind on l; s.mu is held.
func (s *Sim) appendEvent(l *label, kind carrier.EventKind, at time.Time) carrier.Event {
	ev := carrier.Event{
		ID:             fmt.Sprintf("carrier/%s/%d", l.TrackingNumber, len(l.events)+1),
		Kind:           kind,
		TrackingNumber: l.TrackingNumber,
		ReturnID:       l.ReturnID,
		At:             at,
	}
	l.events = append(l.events, ev)
	return ev
}

func (s *Sim) track(w http.ResponseWriter, r *http.Request, _ []byte) {
	tracking := r.PathValue("tracking")
	s.mu.Lock()
	l, ok := s.byTracking[tracking]
	var events []carrier.Event
	if ok {
		events = slices.Clone(l.events)
	}
	s.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, "no label has tracking number "+tracking)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tracking_number": tracking, "events": events})
}

// rank orders the kinds; a parcel's next event must rank higher than its
// last, except in_transit which may repeat.
var rank = map[carrier.EventKind]int{carrier.LabelCreated: 0, carrier.Shipped: 1, carrier.InTransit: 2, carrier.Delivered: 3}

func (s *Sim) addEvent(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Kind carrier.EventKind `json:"kind"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&in); err != nil {
		problem(w, http.StatusBadRequest, "decode event: "+err.Error())
		return
	}
	if !in.Kind.Valid() || in.Kind == carrier.LabelCreated {
		problem(w, http.StatusBadRequest, fmt.Sprintf("kind %q: want shipped, in_transit or delivered", in.Kind))
		return
	}
	tracking := r.PathValue("tracking")
	s.mu.Lock()
	l, ok := s.byTracking[tracking]
	if !ok {
		s.mu.Unlock()
		problem(w, http.StatusNotFound, "no label has tracking number "+tracking)
		return
	}
	last := l.events[len(l.events)-1].Kind
	if rank[in.Kind] < rank[last] || (in.Kind == last && in.Kind != carrier.InTransit) {
		s.mu.Unlock()
		problem(w, http.StatusConflict, fmt.Sprintf("parcel %s is %s already; it cannot be %s now", tracking, last, in.Kind))
		return
	}
	if in.Kind == carrier.InTransit && last == carrier.LabelCreated {
		s.mu.Unlock()
		problem(w, http.StatusConflict, fmt.Sprintf("parcel %s has not shipped yet", tracking))
		return
	}
	if in.Kind == carrier.Delivered && last == carrier.LabelCreated {
		s.mu.Unlock()
		problem(w, http.StatusConflict, fmt.Sprintf("parcel %s has not shipped yet", tracking))
		return
	}
	ev := s.appendEvent(l, in.Kind, s.now().UTC().Truncate(time.Millisecond))
	s.mu.Unlock()
	s.logger.Info("tracking event", "tracking_number", tracking, "kind", in.Kind, "event_id", ev.ID)
	s.enqueue(ev)
	writeJSON(w, http.StatusAccepted, ev)
}

func (s *Sim) labelDocument(w http.ResponseWriter, r *http.Request) {
	tracking := r.PathValue("tracking")
	s.mu.Lock()
	l, ok := s.byTracking[tracking]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "PREPAID RETURN LABEL (local stand-in)\nTracking: %s\nReturn: %s\nLabel: %s\n",
		l.TrackingNumber, l.ReturnID, l.ID)
}

func (s *Sim) list(w http.ResponseWriter, _ *http.Request) {
	type entry struct {
		carrier.Label
		IdempotencyKey string          `json:"idempotency_key"`
		Events         []carrier.Event `json:"events"`
	}
	s.mu.Lock()
	out := make([]entry, 0, len(s.order))
	for i := len(s.order) - 1; i >= 0; i-- {
		l := s.order[i]
		out = append(out, entry{l.Label, l.key, slices.Clone(l.events)})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// enqueue hands ev to the webhook sender.
func (s *Sim) enqueue(ev carrier.Event) {
	body, _ := json.Marshal(ev)
	s.hooks.Send(ev.ID, body)
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

// problem answers an RFC 9457 problem with detail.
func problem(w http.ResponseWriter, code int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(code), "status": code, "detail": detail})
}

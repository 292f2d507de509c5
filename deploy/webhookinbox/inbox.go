// Package webhookinbox is the local stack's stand-in for every webhook
// receiver: the marketplace backend and the teams' chat channels. It
// accepts signed POSTs at /hooks/<channel> (marketplace, team/security…),
// checks their Standard Webhooks signature, and keeps the latest ones in
// memory so a developer can see what Handoff sent:
//
//	POST /hooks/<channel>   a webhook: 204 when its signature verifies, 401 when not
//	GET  /hooks             what arrived, newest first; ?channel=team narrows it
//	GET  /healthz           200 while the inbox serves
//
// A webhook that fails verification is kept too, marked verified=false
// with the reason, because seeing it is the point of a development inbox.
// It is the Mailpit of webhooks: nothing here is meant for production.
package webhookinbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"handoff/standardwebhooks"
)

// DefaultCapacity is how many deliveries an Inbox keeps when Options leaves it zero.
const DefaultCapacity = 500

// maxBody bounds one webhook's body; Handoff's are a few kilobytes.
const maxBody = 1 << 20

// Delivery is one POST the inbox received, as GET /hooks lists it.
type Delivery struct {
	// Seq numbers deliveries in arrival order, from 1.
	Seq uint64 `json:"seq"`
	// Channel is the path after /hooks/: marketplace, team/security.
	Channel string `json:"channel"`
	// ID is the webhook-id header, the same on every retry of one notification.
	ID string `json:"id"`
	// KeyID is the webhook-key-id header, naming the secret the sender used.
	KeyID string `json:"key_id,omitempty"`
	// ReceivedAt is when the inbox received the delivery.
	ReceivedAt time.Time `json:"received_at"`
	// Verified is true when the signature matched the inbox's secret.
	Verified bool `json:"verified"`
	// Error says why verification failed; empty when Verified.
	Error string `json:"error,omitempty"`
	// Body is the request body: as sent when it is JSON, else as a JSON string.
	Body json.RawMessage `json:"body"`
}

// Options tunes an Inbox; the zero value serves.
type Options struct {
	// Capacity is how many deliveries are kept; older ones are dropped.
	Capacity int
	// Tolerance is how far webhook-timestamp may be from now
	// (standardwebhooks.DefaultTolerance when zero).
	Tolerance time.Duration
	// Logger receives one record per delivery (slog.Default when nil).
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Inbox is an http.Handler that receives, verifies and lists webhooks.
type Inbox struct {
	verifier *standardwebhooks.Verifier
	logger   *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux

	mu sync.Mutex
	// ring holds up to cap(ring) deliveries; next is where the next one goes
	// once the ring is full, which is also the oldest one kept.
	ring []Delivery
	next int
	seq  uint64
}

// New answers an Inbox that verifies with secret ("whsec_" then base64,
// as WEBHOOK_SIGNING_SECRET is written), or with any of several such
// secrets separated by commas, as WEBHOOK_SIGNING_SECRET lists them during
// a rotation.
func New(secret string, opts Options) (*Inbox, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	v, err := standardwebhooks.NewVerifier(secret, opts.Tolerance, opts.Now)
	if err != nil {
		return nil, err
	}
	if opts.Capacity <= 0 {
		opts.Capacity = DefaultCapacity
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	in := &Inbox{
		verifier: v,
		logger:   opts.Logger,
		now:      opts.Now,
		mux:      http.NewServeMux(),
		ring:     make([]Delivery, 0, opts.Capacity),
	}
	in.mux.HandleFunc("POST /hooks/{channel...}", in.receive)
	in.mux.HandleFunc("GET /hooks", in.list)
	in.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return in, nil
}

// ServeHTTP routes a request to the receiver, the listing or the health check.
func (in *Inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { in.mux.ServeHTTP(w, r) }

// Deliveries answers what is kept, newest first, narrowed to channel when
// it is not empty (see matchChannel).
func (in *Inbox) Deliveries(channel string) []Delivery {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]Delivery, 0, len(in.ring))
	// Newest first: walk back from the slot before next, wrapping around.
	for i := range len(in.ring) {
		d := in.ring[(in.next-1-i+2*len(in.ring))%len(in.ring)]
		if matchChannel(d.Channel, channel) {
			out = append(out, d)
		}
	}
	return out
}

// matchChannel reports whether a delivery's channel is filter or below it:
// "team" matches team/security and team/tier1_support, "marketplace" only itself.
func matchChannel(channel, filter string) bool {
	filter = strings.Trim(filter, "/")
	return filter == "" || channel == filter || strings.HasPrefix(channel, filter+"/")
}

// validChannel accepts lower-case letters, digits, '_', '-' and '/' between
// non-empty segments, which every Handoff channel is made of.
func validChannel(ch string) bool {
	if ch == "" || len(ch) > 200 {
		return false
	}
	for seg := range strings.SplitSeq(ch, "/") {
		if seg == "" {
			return false
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

func (in *Inbox) receive(w http.ResponseWriter, r *http.Request) {
	channel := r.PathValue("channel")
	if !validChannel(channel) {
		http.Error(w, "channel: want lower-case segments of a-z, 0-9, _ and - separated by /", http.StatusNotFound)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		in.logger.Warn("webhook unreadable", "channel", channel, "webhook_id", r.Header.Get(standardwebhooks.HeaderID), "error", err)
		status := http.StatusBadRequest
		if errors.As(err, new(*http.MaxBytesError)) {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, err.Error(), status)
		return
	}
	verr := in.verifier.Verify(r.Header, body)
	d := in.record(Delivery{
		Channel:  channel,
		ID:       r.Header.Get(standardwebhooks.HeaderID),
		KeyID:    r.Header.Get(standardwebhooks.HeaderKeyID),
		Verified: verr == nil,
		Body:     asJSON(body),
	}, verr)
	attrs := []any{"channel", d.Channel, "webhook_id", d.ID, "seq", d.Seq, "verified", d.Verified, "bytes", len(body)}
	if verr != nil {
		in.logger.Warn("webhook refused", append(attrs, "error", verr)...)
		// The sender quotes this in its error, so the reason reaches the case timeline.
		http.Error(w, "signature not verified: "+verr.Error(), http.StatusUnauthorized)
		return
	}
	in.logger.Info("webhook received", attrs...)
	w.WriteHeader(http.StatusNoContent)
}

// readBody reads the whole body, at most maxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// asJSON answers body as it is when it is JSON, else as a JSON string, so
// the listing stays one JSON document whatever a sender posted.
func asJSON(body []byte) json.RawMessage {
	if len(body) > 0 && json.Valid(body) {
		return json.RawMessage(body)
	}
	s, _ := json.Marshal(string(body))
	return s
}

// record stamps d with its sequence number and time, keeps it (dropping the
// oldest when full) and answers it.
func (in *Inbox) record(d Delivery, verr error) Delivery {
	if verr != nil {
		d.Error = verr.Error()
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.seq++
	d.Seq = in.seq
	d.ReceivedAt = in.now().UTC()
	if len(in.ring) < cap(in.ring) {
		in.ring = append(in.ring, d)
	} else {
		in.ring[in.next] = d
	}
	in.next = (in.next + 1) % cap(in.ring)
	return d
}

func (in *Inbox) list(w http.ResponseWriter, r *http.Request) {
	ds := in.Deliveries(r.URL.Query().Get("channel"))
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ds); err != nil {
		// The client went away mid-answer; nothing left to tell it.
		in.logger.Debug("list webhooks", "error", err)
	}
}

package main

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"handoff/standardwebhooks"
	"handoff/verification"
	"handoff/workflows/sellers"
)

// Where the marketplace posts its events about sellers and the identity
// check provider its decisions (docs/verification.md, "Decision webhook").
const (
	marketplaceWebhookPath  = "/webhooks/marketplace"
	verificationWebhookPath = "/webhooks/verification"
)

// maxSellerEventDetail bounds a seller event's detail, for people.
const maxSellerEventDetail = 2000

// sellerWebhooks takes the marketplace's seller events and the identity
// check provider's decisions to the seller workflows, as signals the
// workflows deduplicate (a seller event by its id, a decision by its
// check): a sender retrying with the same webhook changes nothing. Both
// are signed the Standard Webhooks way, each with its own secret.
type sellerWebhooks struct {
	temporal signaller
	// marketplace verifies the seller events (SELLER_EVENTS_WEBHOOK_SECRET);
	// verification the decisions (KYC_WEBHOOK_SECRET).
	marketplace, verification *standardwebhooks.Verifier
	logger                    *slog.Logger
}

// newSellerWebhooks answers the webhooks' handlers; now is the clock (nil
// means time.Now).
func newSellerWebhooks(temporal signaller, marketplaceSecret, verificationSecret string, logger *slog.Logger, now func() time.Time) (*sellerWebhooks, error) {
	m, err := standardwebhooks.NewVerifier(marketplaceSecret, commerceWebhookTolerance, now)
	if err != nil {
		return nil, errors.New("SELLER_EVENTS_WEBHOOK_SECRET: " + err.Error())
	}
	v, err := standardwebhooks.NewVerifier(verificationSecret, commerceWebhookTolerance, now)
	if err != nil {
		return nil, errors.New("KYC_WEBHOOK_SECRET: " + err.Error())
	}
	return &sellerWebhooks{temporal: temporal, marketplace: m, verification: v, logger: logger}, nil
}

// sellerEventBody is the marketplace's seller event webhook.
type sellerEventBody struct {
	SellerID string `json:"seller_id"`
	Event    struct {
		ID     string    `json:"id"`
		Kind   string    `json:"kind"`
		At     time.Time `json:"at"`
		Detail string    `json:"detail"`
	} `json:"event"`
}

// marketplaceWebhook takes one seller event to the seller's onboarding as
// sellers.SignalSellerEvent: 204 once signalled, 202 with a note when no
// onboarding of the seller runs, 401, 413 or 422 for a webhook refused for
// good, 503 for one to retry.
func (h *sellerWebhooks) marketplaceWebhook(w http.ResponseWriter, r *http.Request) {
	body, ok := h.verified(w, r, h.marketplace, "the marketplace")
	if !ok {
		return
	}
	var in sellerEventBody
	if p := decodeWebhook(body, &in, "event.at"); p != nil {
		writeProblem(w, p)
		return
	}
	wrong := missingWebhookFields(map[string]string{"seller_id": in.SellerID, "event.id": in.Event.ID}, "seller_id", "event.id")
	if !slices.Contains(sellers.EventKinds, in.Event.Kind) {
		wrong = append(wrong, fieldProblem{Field: "event.kind", Message: "must be one of " + strings.Join(sellers.EventKinds, ", ")})
	}
	if in.Event.At.IsZero() {
		wrong = append(wrong, fieldProblem{Field: "event.at", Message: "is required: when it happened, RFC 3339"})
	}
	if len(in.Event.Detail) > maxSellerEventDetail {
		wrong = append(wrong, fieldProblem{Field: "event.detail", Message: "must be at most 2000 bytes"})
	}
	if why := cleanText(in.Event.Detail); why != "" {
		wrong = append(wrong, fieldProblem{Field: "event.detail", Message: why})
	}
	if len(wrong) > 0 {
		writeProblem(w, newProblem(http.StatusUnprocessableEntity, "the seller event is incomplete", wrong...))
		return
	}
	h.signal(w, r, sellers.OnboardingWorkflowID(in.SellerID), sellers.SignalSellerEvent, sellers.SellerEvent{
		ID: in.Event.ID, Kind: in.Event.Kind, At: in.Event.At.UTC(), Detail: in.Event.Detail,
	}, "the onboarding of seller "+in.SellerID, "event_id", in.Event.ID, "kind", in.Event.Kind)
}

// verificationWebhook takes one decided identity check
// (verification.Check) to the seller's verification as
// sellers.SignalCheckDecided. It answers as marketplaceWebhook does: a
// decision for a seller whose verification does not run (an unknown
// seller, a verification ended already) is 202 with a note, so the
// provider stops retrying what can never land, and is logged.
func (h *sellerWebhooks) verificationWebhook(w http.ResponseWriter, r *http.Request) {
	body, ok := h.verified(w, r, h.verification, "the identity check provider")
	if !ok {
		return
	}
	var c verification.Check
	if p := decodeWebhook(body, &c, "decided_at"); p != nil {
		writeProblem(w, p)
		return
	}
	wrong := missingWebhookFields(map[string]string{"id": c.ID, "seller_id": c.SellerID}, "id", "seller_id")
	if !verification.Final(c.Status) {
		wrong = append(wrong, fieldProblem{Field: "status", Message: "must be passed or failed: the webhook carries decisions"})
	}
	for i, reason := range c.Reasons {
		if why := cleanText(reason); why != "" {
			wrong = append(wrong, fieldProblem{Field: "reasons[" + strconv.Itoa(i) + "]", Message: why})
		}
	}
	if len(wrong) > 0 {
		writeProblem(w, newProblem(http.StatusUnprocessableEntity, "the decision is incomplete", wrong...))
		return
	}
	h.signal(w, r, sellers.VerificationWorkflowID(c.SellerID), sellers.SignalCheckDecided, sellers.CheckResult{
		ID: c.ID, SellerID: c.SellerID, Status: c.Status, Reasons: c.Reasons, DecidedAt: c.DecidedAt.UTC(),
	}, "the verification of seller "+c.SellerID, "check_id", c.ID, "status", c.Status)
}

// verified reads the body and checks its signature with v, answering
// 413, 400 or 401 itself when it cannot; who names the sender.
func (h *sellerWebhooks) verified(w http.ResponseWriter, r *http.Request, v *standardwebhooks.Verifier, who string) ([]byte, bool) {
	body, ok := readWebhookBody(w, r)
	if !ok {
		return nil, false
	}
	if err := v.Verify(r.Header, body); err != nil {
		field := standardwebhooks.HeaderSignature
		if errors.Is(err, standardwebhooks.ErrBadTimestamp) || errors.Is(err, standardwebhooks.ErrStaleTimestamp) {
			field = standardwebhooks.HeaderTimestamp
		}
		writeProblem(w, newProblem(http.StatusUnauthorized, "the request is not signed by "+who+": "+err.Error(),
			fieldProblem{Field: field, Message: err.Error()}))
		return nil, false
	}
	return body, true
}

// missingWebhookFields answers a problem for each of the named fields (in order)
// whose value is blank or could not be a workflow id.
func missingWebhookFields(values map[string]string, names ...string) []fieldProblem {
	var out []fieldProblem
	for _, name := range names {
		v := values[name]
		if strings.TrimSpace(v) == "" {
			out = append(out, fieldProblem{Field: name, Message: "is required"})
		} else if why := cleanText(v); why != "" {
			out = append(out, fieldProblem{Field: name, Message: why})
		}
	}
	return out
}

// signal sends one webhook's signal and answers the sender (signalWebhook).
func (h *sellerWebhooks) signal(w http.ResponseWriter, r *http.Request, workflowID, name string, arg any, owner string, attrs ...any) {
	signalWebhook(w, r, h.temporal, h.logger, workflowID, name, arg, owner, attrs...)
}

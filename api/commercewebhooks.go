package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"

	"handoff/carrier"
	"handoff/config"
	"handoff/signedhttp"
	"handoff/standardwebhooks"
	"handoff/workflows/vocab"
)

// Where the carrier posts tracking events (docs/carrier.md, "Tracking
// webhook") and the payment provider the results of pending movements
// (docs/payments.md, "Result webhook").
const (
	carrierWebhookPath  = "/webhooks/carrier"
	paymentsWebhookPath = "/webhooks/payments"
)

// commerceWebhookTolerance is how far a webhook's timestamp may be from
// the clock: a replayed request older than that is refused.
const commerceWebhookTolerance = 5 * time.Minute

// maxCommerceWebhookBody bounds one webhook's body; an event is a few hundred bytes.
const maxCommerceWebhookBody = 64 << 10

// signalTimeout bounds the Temporal call, so a slow frontend answers 503
// before the sender's own timeout and it retries.
const signalTimeout = 5 * time.Second

// signaller is the one Temporal call the webhooks make (client.Client has it).
type signaller interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// commerceWebhooks takes the carrier's and the payment provider's webhooks
// to the workflows they concern, as signals the workflows deduplicate by
// event id: a sender retrying with the same event changes nothing.
type commerceWebhooks struct {
	temporal signaller
	// carrier verifies the tracking webhooks (CARRIER_WEBHOOK_SECRET);
	// paymentsSecrets the payment results (PAYMENTS_WEBHOOK_SECRET). Each
	// holds every secret of its variable, any of which verifies, so a
	// sender switches secrets while both are listed.
	carrier         *standardwebhooks.Verifier
	paymentsSecrets [][]byte
	logger          *slog.Logger
	now             func() time.Time
}

// newCommerceWebhooks answers the webhooks' handlers; now is the clock
// (nil means time.Now).
func newCommerceWebhooks(temporal signaller, cfg config.Commerce, logger *slog.Logger, now func() time.Time) (*commerceWebhooks, error) {
	if now == nil {
		now = time.Now
	}
	v, err := standardwebhooks.NewVerifier(cfg.CarrierWebhookSecret, commerceWebhookTolerance, now)
	if err != nil {
		return nil, errors.New("CARRIER_WEBHOOK_SECRET: " + err.Error())
	}
	var payments [][]byte
	for i, secret := range signedhttp.SplitSecrets(cfg.PaymentsWebhookSecret) {
		if len(secret) < 32 {
			return nil, fmt.Errorf("PAYMENTS_WEBHOOK_SECRET: entry %d: want at least 32 bytes", i+1)
		}
		payments = append(payments, []byte(secret))
	}
	return &commerceWebhooks{temporal: temporal, carrier: v, paymentsSecrets: payments, logger: logger, now: now}, nil
}

// carrierWebhook takes one tracking event (carrier.Event), signed the
// Standard Webhooks way, to its return as vocab.SignalTracking: 204 once
// signalled, 202 with a note when there is nothing to signal, 401, 413 or
// 422 for a webhook refused for good, 503 for one to retry.
func (h *commerceWebhooks) carrierWebhook(w http.ResponseWriter, r *http.Request) {
	body, ok := readWebhookBody(w, r)
	if !ok {
		return
	}
	if err := h.carrier.Verify(r.Header, body); err != nil {
		field := standardwebhooks.HeaderSignature
		if errors.Is(err, standardwebhooks.ErrBadTimestamp) || errors.Is(err, standardwebhooks.ErrStaleTimestamp) {
			field = standardwebhooks.HeaderTimestamp
		}
		writeProblem(w, newProblem(http.StatusUnauthorized, "the request is not signed by the carrier: "+err.Error(),
			fieldProblem{Field: field, Message: err.Error()}))
		return
	}
	var ev carrier.Event
	if p := decodeWebhook(body, &ev, "at"); p != nil {
		writeProblem(w, p)
		return
	}
	var missing []fieldProblem
	for _, f := range []struct{ name, v string }{{"id", ev.ID}, {"tracking_number", ev.TrackingNumber}, {"return_id", ev.ReturnID}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, fieldProblem{Field: f.name, Message: "is required"})
		}
	}
	if !ev.Kind.Valid() {
		missing = append(missing, fieldProblem{Field: "kind", Message: "must be label_created, shipped, in_transit or delivered"})
	}
	if ev.At.IsZero() {
		missing = append(missing, fieldProblem{Field: "at", Message: "is required: when it happened, RFC 3339"})
	}
	if len(missing) > 0 {
		writeProblem(w, newProblem(http.StatusUnprocessableEntity, "the tracking event is incomplete", missing...))
		return
	}
	if ev.Kind == carrier.LabelCreated {
		// The return has its label from the activity that made it.
		writeNote(w, "ignored", "label_created needs nothing from the return")
		return
	}
	id := vocab.ReturnWorkflowID(ev.ReturnID)
	h.signal(w, r, id, vocab.SignalTracking, vocab.TrackingEvent{
		ID: ev.ID, Kind: string(ev.Kind), TrackingNumber: ev.TrackingNumber, At: ev.At,
	}, "return "+ev.ReturnID, "event_id", ev.ID)
}

// paymentResultBody is the payment provider's result webhook.
type paymentResultBody struct {
	EventID        string `json:"event_id"`
	MovementID     string `json:"movement_id"`
	IdempotencyKey string `json:"idempotency_key"`
	Status         string `json:"status"`
	Reason         string `json:"reason"`
}

// paymentsWebhook takes the result of a movement the provider first
// answered pending, signed as signedhttp signs, to the workflow its
// idempotency key names as vocab.SignalPaymentResult; it answers as
// carrierWebhook does.
func (h *commerceWebhooks) paymentsWebhook(w http.ResponseWriter, r *http.Request) {
	body, ok := readWebhookBody(w, r)
	if !ok {
		return
	}
	if err := signedhttp.VerifyAny(r.Header, h.paymentsSecrets, r.Method, r.URL.RequestURI(), body, h.now(), commerceWebhookTolerance); err != nil {
		field := signedhttp.HeaderSignature
		var ve *signedhttp.VerifyError
		if errors.As(err, &ve) && ve.Failure != signedhttp.BadSignature {
			field = signedhttp.HeaderTimestamp
		}
		writeProblem(w, newProblem(http.StatusUnauthorized, "the request is not signed by the payment provider: "+err.Error(),
			fieldProblem{Field: field, Message: err.Error()}))
		return
	}
	var in paymentResultBody
	if p := decodeWebhook(body, &in, ""); p != nil {
		writeProblem(w, p)
		return
	}
	var wrong []fieldProblem
	for _, f := range []struct{ name, v string }{{"event_id", in.EventID}, {"movement_id", in.MovementID}} {
		if strings.TrimSpace(f.v) == "" {
			wrong = append(wrong, fieldProblem{Field: f.name, Message: "is required"})
		}
	}
	workflowID, owner, ok := workflowOfKey(in.IdempotencyKey)
	if !ok {
		wrong = append(wrong, fieldProblem{Field: "idempotency_key",
			Message: "must name a return or a dispute: return/<id>/<step> or dispute/<id>/<step>"})
	}
	switch in.Status {
	case vocab.MovementSucceeded, vocab.MovementFailed, vocab.MovementHeld, vocab.MovementReleased:
	default:
		wrong = append(wrong, fieldProblem{Field: "status", Message: "must be succeeded, failed, held or released"})
	}
	if len(wrong) > 0 {
		writeProblem(w, newProblem(http.StatusUnprocessableEntity, "the payment result is incomplete", wrong...))
		return
	}
	h.signal(w, r, workflowID, vocab.SignalPaymentResult, vocab.PaymentResult{
		EventID: in.EventID, MovementID: in.MovementID, Key: in.IdempotencyKey, Status: in.Status, Reason: in.Reason,
	}, owner, "event_id", in.EventID, "movement_id", in.MovementID)
}

// workflowOfKey answers the workflow an idempotency key starts with
// ("return/R-1/refund" is return/R-1's) and what to call it in a note.
func workflowOfKey(key string) (workflowID, owner string, ok bool) {
	kind, rest, _ := strings.Cut(key, "/")
	id, step, found := strings.Cut(rest, "/")
	if !found || strings.TrimSpace(id) == "" || step == "" {
		return "", "", false
	}
	switch kind {
	case "return":
		return vocab.ReturnWorkflowID(id), "return " + id, true
	case "dispute":
		return vocab.DisputeWorkflowID(id), "dispute " + id, true
	}
	return "", "", false
}

// signal sends one webhook's signal and answers the sender (signalWebhook).
func (h *commerceWebhooks) signal(w http.ResponseWriter, r *http.Request, workflowID, name string, arg any, owner string, attrs ...any) {
	signalWebhook(w, r, h.temporal, h.logger, workflowID, name, arg, owner, attrs...)
}

// signalWebhook sends one webhook's signal through t and answers the
// sender: 204 when the workflow has it; 202 with a note when the workflow
// does not exist or has ended, so the sender stops retrying what can never
// land; 503 when Temporal fails, so it retries with the same event.
func signalWebhook(w http.ResponseWriter, r *http.Request, t signaller, logger *slog.Logger, workflowID, name string, arg any, owner string, attrs ...any) {
	ctx, cancel := context.WithTimeout(r.Context(), signalTimeout)
	defer cancel()
	err := t.SignalWorkflow(ctx, workflowID, "", name, arg)
	attrs = append(attrs, "workflow_id", workflowID, "signal", name)
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		logger.InfoContext(r.Context(), "webhook signalled", attrs...)
		w.WriteHeader(http.StatusNoContent)
	case errors.As(err, &notFound):
		logger.WarnContext(r.Context(), "webhook for no running workflow; dropped", append(attrs, "error", err)...)
		writeNote(w, "ignored", owner+" does not exist or has ended")
	default:
		logger.ErrorContext(r.Context(), "webhook not signalled", append(attrs, "error", err)...)
		writeProblem(w, newProblem(http.StatusServiceUnavailable, "Temporal is unavailable: the workflow could not be signalled now; retry later"))
	}
}

// readWebhookBody reads the whole body, answering 413 or 400 itself when it cannot.
func readWebhookBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCommerceWebhookBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeProblem(w, newProblem(http.StatusRequestEntityTooLarge, "the body is larger than "+strconv.Itoa(maxCommerceWebhookBody)+" bytes"))
		return nil, false
	case err != nil:
		writeProblem(w, newProblem(http.StatusBadRequest, "the body could not be read"))
		return nil, false
	}
	return body, true
}

// decodeWebhook decodes a signed JSON body into v; unknown fields are
// allowed, so a sender may add some. A body that is not the JSON expected
// answers a 422 problem naming the field (timeField for a malformed
// time), or "body".
func decodeWebhook(body []byte, v any, timeField string) *problem {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return newProblem(http.StatusUnprocessableEntity, "the body has a field of the wrong type",
			fieldProblem{Field: typeErr.Field, Message: "must be a " + typeErr.Type.String()})
	}
	var timeErr *time.ParseError
	if errors.As(err, &timeErr) && timeField != "" {
		return newProblem(http.StatusUnprocessableEntity, "the body has a malformed time",
			fieldProblem{Field: timeField, Message: "must be an RFC 3339 time"})
	}
	return newProblem(http.StatusUnprocessableEntity, "the body is not a JSON object",
		fieldProblem{Field: "body", Message: "must be a JSON object"})
}

// writeNote answers 202 with a short JSON note: taken, and nothing more to do.
func writeNote(w http.ResponseWriter, status, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status, "detail": detail})
}

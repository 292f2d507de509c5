package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"handoff/carrier"
	"handoff/config"
	"handoff/deploy/carriersim"
	"handoff/signedhttp"
	"handoff/standardwebhooks"
	"handoff/workflows/vocab"
)

var hookNow = time.Date(2026, 3, 5, 9, 12, 30, 0, time.UTC)

// sentSignal is one SignalWorkflow call.
type sentSignal struct {
	workflowID, name string
	arg              any
}

// fakeSignaller records the signals and answers err.
type fakeSignaller struct {
	mu   sync.Mutex
	sent []sentSignal
	err  error
}

func (f *fakeSignaller) SignalWorkflow(_ context.Context, workflowID, runID, name string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentSignal{workflowID, name, arg})
	return f.err
}

func (f *fakeSignaller) signals() []sentSignal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentSignal(nil), f.sent...)
}

// defaultCommerce is the configuration `make run` uses.
func defaultCommerce(t *testing.T) config.Commerce {
	t.Helper()
	cfg, err := config.LoadFrom(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	return cfg.Commerce
}

// hookServer is the API's router with only the commerce webhooks, at hookNow.
func hookServer(t *testing.T, temporal signaller) (http.Handler, config.Commerce) {
	t.Helper()
	cfg := defaultCommerce(t)
	hooks, err := newCommerceWebhooks(temporal, cfg, slog.New(slog.DiscardHandler), func() time.Time { return hookNow })
	require.NoError(t, err)
	s := &server{registry: prometheus.NewRegistry(), logger: slog.New(slog.DiscardHandler), commerce: hooks}
	return s.routes(), cfg
}

// carrierRequest is a tracking webhook signed with secret, sent at.
func carrierRequest(t *testing.T, secret string, at time.Time, id string, body []byte) *http.Request {
	t.Helper()
	key, err := standardwebhooks.ParseSecret(secret)
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, carrierWebhookPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderID, id)
	req.Header.Set(standardwebhooks.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderSignature, standardwebhooks.Sign(key, id, at.Unix(), body))
	return req
}

// paymentsRequest is a payment result signed with secret, sent at.
func paymentsRequest(secret string, at time.Time, body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, paymentsWebhookPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(signedhttp.HeaderKeyID, "handoff")
	req.Header.Set(signedhttp.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(signedhttp.HeaderSignature, signedhttp.Sign([]byte(secret), http.MethodPost, paymentsWebhookPath, at.Unix(), body))
	return req
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func problemIn(t *testing.T, rec *httptest.ResponseRecorder, status int) problem {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	assert.Equal(t, status, p.Status)
	return p
}

func fieldsIn(p problem) []string {
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

const shippedEvent = `{"id":"carrier/HC1A2B3C4D5E/2","kind":"shipped","tracking_number":"HC1A2B3C4D5E","return_id":"R-1","at":"2026-03-05T09:12:00Z"}`

func TestSignedTrackingEventSignalsTheReturnOfTheLabel(t *testing.T) {
	temporal := &fakeSignaller{}
	h, cfg := hookServer(t, temporal)

	rec := serve(h, carrierRequest(t, cfg.CarrierWebhookSecret, hookNow.Add(-10*time.Second), "carrier/HC1A2B3C4D5E/2", []byte(shippedEvent)))

	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	assert.Equal(t, []sentSignal{{"return/R-1", vocab.SignalTracking, vocab.TrackingEvent{
		ID: "carrier/HC1A2B3C4D5E/2", Kind: vocab.TrackingShipped, TrackingNumber: "HC1A2B3C4D5E",
		At: time.Date(2026, 3, 5, 9, 12, 0, 0, time.UTC),
	}}}, temporal.signals())
}

func TestTrackingWebhookWithABadSignatureIsRefused(t *testing.T) {
	temporal := &fakeSignaller{}
	h, _ := hookServer(t, temporal)
	other := "whsec_c29tZWJvZHktZWxzZXMtY2Fycmllci1zZWNyZXQ="

	p := problemIn(t, serve(h, carrierRequest(t, other, hookNow, "carrier/HC1/2", []byte(shippedEvent))), http.StatusUnauthorized)
	assert.Equal(t, []string{standardwebhooks.HeaderSignature}, fieldsIn(p))

	unsigned := httptest.NewRequest(http.MethodPost, carrierWebhookPath, bytes.NewReader([]byte(shippedEvent)))
	problemIn(t, serve(h, unsigned), http.StatusUnauthorized)
	assert.Empty(t, temporal.signals())
}

func TestStaleTrackingWebhookIsRefused(t *testing.T) {
	temporal := &fakeSignaller{}
	h, cfg := hookServer(t, temporal)

	// Correctly signed, but six minutes old: a replay as far as the API can tell.
	rec := serve(h, carrierRequest(t, cfg.CarrierWebhookSecret, hookNow.Add(-6*time.Minute), "carrier/HC1A2B3C4D5E/2", []byte(shippedEvent)))

	p := problemIn(t, rec, http.StatusUnauthorized)
	assert.Equal(t, []string{standardwebhooks.HeaderTimestamp}, fieldsIn(p))
	assert.Empty(t, temporal.signals())
}

func TestMalformedTrackingEventIsRefusedNamingTheField(t *testing.T) {
	cases := map[string]struct {
		body   string
		fields []string
	}{
		"not JSON":           {`shipped!`, []string{"body"}},
		"no return":          {`{"id":"e-1","kind":"shipped","tracking_number":"HC1","at":"2026-03-05T09:12:00Z"}`, []string{"return_id"}},
		"an unknown kind":    {`{"id":"e-1","kind":"lost","tracking_number":"HC1","return_id":"R-1","at":"2026-03-05T09:12:00Z"}`, []string{"kind"}},
		"no id and no time":  {`{"kind":"shipped","tracking_number":"HC1","return_id":"R-1"}`, []string{"id", "at"}},
		"a number as id":     {`{"id":7,"kind":"shipped","tracking_number":"HC1","return_id":"R-1","at":"2026-03-05T09:12:00Z"}`, []string{"id"}},
		"a time not RFC3339": {`{"id":"e-1","kind":"shipped","tracking_number":"HC1","return_id":"R-1","at":"yesterday"}`, []string{"at"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			temporal := &fakeSignaller{}
			h, cfg := hookServer(t, temporal)
			p := problemIn(t, serve(h, carrierRequest(t, cfg.CarrierWebhookSecret, hookNow, "e-1", []byte(c.body))), http.StatusUnprocessableEntity)
			assert.Equal(t, c.fields, fieldsIn(p))
			assert.Empty(t, temporal.signals())
		})
	}
}

func TestTrackingEventOfAnEndedReturnIsAcceptedSoTheCarrierStopsRetrying(t *testing.T) {
	temporal := &fakeSignaller{err: serviceerror.NewNotFound("workflow execution already completed")}
	h, cfg := hookServer(t, temporal)

	rec := serve(h, carrierRequest(t, cfg.CarrierWebhookSecret, hookNow, "carrier/HC1A2B3C4D5E/2", []byte(shippedEvent)))

	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"status":"ignored","detail":"return R-1 does not exist or has ended"}`, rec.Body.String())
	assert.Len(t, temporal.signals(), 1)
}

func TestTrackingWebhookAnswers503WhenTemporalFailsSoTheCarrierRetries(t *testing.T) {
	temporal := &fakeSignaller{err: serviceerror.NewUnavailable("frontend is restarting")}
	h, cfg := hookServer(t, temporal)

	rec := serve(h, carrierRequest(t, cfg.CarrierWebhookSecret, hookNow, "carrier/HC1A2B3C4D5E/2", []byte(shippedEvent)))

	problemIn(t, rec, http.StatusServiceUnavailable)
}

func TestLabelCreatedNeedsNoSignal(t *testing.T) {
	temporal := &fakeSignaller{}
	h, cfg := hookServer(t, temporal)
	body := `{"id":"carrier/HC1/1","kind":"label_created","tracking_number":"HC1","return_id":"R-1","at":"2026-03-05T09:00:00Z"}`

	rec := serve(h, carrierRequest(t, cfg.CarrierWebhookSecret, hookNow, "carrier/HC1/1", []byte(body)))

	assert.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	assert.Empty(t, temporal.signals())
}

// The carrier stand-in and the API, both on the default settings, agree:
// the stand-in's webhooks verify and land as signals.
func TestCarrierStandInWebhooksReachTheReturnWithTheDefaultSettings(t *testing.T) {
	temporal := &fakeSignaller{}
	cfg := defaultCommerce(t)
	hooks, err := newCommerceWebhooks(temporal, cfg, slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)
	api := httptest.NewServer((&server{registry: prometheus.NewRegistry(), logger: slog.New(slog.DiscardHandler), commerce: hooks}).routes())
	defer api.Close()
	sim, err := carriersim.New(carriersim.Options{
		KeyID: cfg.CarrierKeyID, Secret: cfg.CarrierSecret,
		WebhookURL: api.URL + carrierWebhookPath, WebhookSecret: cfg.CarrierWebhookSecret,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	defer sim.Close()
	carrierSrv := httptest.NewServer(sim)
	defer carrierSrv.Close()

	c, err := carrier.NewHTTP(carrier.HTTPConfig{BaseURL: carrierSrv.URL, KeyID: cfg.CarrierKeyID, Secret: cfg.CarrierSecret})
	require.NoError(t, err)
	label, err := c.CreateLabel(context.Background(), carrier.LabelRequest{
		IdempotencyKey: "return/R-9/label", ReturnID: "R-9", WeightGrams: 500,
		From: carrier.Address{Name: "Ada", Line1: "1 Rue de Rivoli", City: "Paris", PostalCode: "75001", Country: "FR"},
		To:   carrier.Address{Name: "Shop", Line1: "Hauptstr. 5", City: "Berlin", PostalCode: "10115", Country: "DE"},
	})
	require.NoError(t, err)
	resp, err := http.Post(carrierSrv.URL+"/labels/"+label.TrackingNumber+"/events", "application/json", bytes.NewReader([]byte(`{"kind":"shipped"}`)))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)

	require.Eventually(t, func() bool { return len(temporal.signals()) == 1 }, 5*time.Second, 10*time.Millisecond)
	got := temporal.signals()[0]
	assert.Equal(t, "return/R-9", got.workflowID)
	assert.Equal(t, vocab.SignalTracking, got.name)
	ev := got.arg.(vocab.TrackingEvent)
	assert.Equal(t, "carrier/"+label.TrackingNumber+"/2", ev.ID)
	assert.Equal(t, vocab.TrackingShipped, ev.Kind)
}

func TestSignedPaymentResultSignalsTheWorkflowOfItsKey(t *testing.T) {
	for key, workflowID := range map[string]string{
		"return/R-1/refund":     "return/R-1",
		"dispute/D-7/hold":      "dispute/D-7",
		"dispute/D-7/release/2": "dispute/D-7",
	} {
		t.Run(key, func(t *testing.T) {
			temporal := &fakeSignaller{}
			h, cfg := hookServer(t, temporal)
			body := `{"event_id":"evt_1","movement_id":"pm_1","idempotency_key":"` + key + `","status":"failed","reason":"card expired"}`

			rec := serve(h, paymentsRequest(cfg.PaymentsWebhookSecret, hookNow.Add(-time.Minute), []byte(body)))

			require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
			assert.Equal(t, []sentSignal{{workflowID, vocab.SignalPaymentResult, vocab.PaymentResult{
				EventID: "evt_1", MovementID: "pm_1", Key: key, Status: vocab.MovementFailed, Reason: "card expired",
			}}}, temporal.signals())
		})
	}
}

const paymentResult = `{"event_id":"evt_1","movement_id":"pm_1","idempotency_key":"return/R-1/refund","status":"succeeded"}`

func TestPaymentResultWithABadSignatureIsRefused(t *testing.T) {
	temporal := &fakeSignaller{}
	h, cfg := hookServer(t, temporal)

	p := problemIn(t, serve(h, paymentsRequest("someone-elses-secret-of-at-least-32-bytes", hookNow, []byte(paymentResult))), http.StatusUnauthorized)
	assert.Equal(t, []string{signedhttp.HeaderSignature}, fieldsIn(p))

	// Signed, but the body changed on the way.
	req := paymentsRequest(cfg.PaymentsWebhookSecret, hookNow, []byte(paymentResult))
	req.Body = io.NopCloser(bytes.NewReader(bytes.Replace([]byte(paymentResult), []byte("succeeded"), []byte("failed"), 1)))
	problemIn(t, serve(h, req), http.StatusUnauthorized)

	unsigned := httptest.NewRequest(http.MethodPost, paymentsWebhookPath, bytes.NewReader([]byte(paymentResult)))
	p = problemIn(t, serve(h, unsigned), http.StatusUnauthorized)
	assert.Equal(t, []string{signedhttp.HeaderTimestamp}, fieldsIn(p))
	assert.Empty(t, temporal.signals())
}

func TestStalePaymentResultIsRefused(t *testing.T) {
	temporal := &fakeSignaller{}
	h, cfg := hookServer(t, temporal)

	p := problemIn(t, serve(h, paymentsRequest(cfg.PaymentsWebhookSecret, hookNow.Add(10*time.Minute), []byte(paymentResult))), http.StatusUnauthorized)

	assert.Equal(t, []string{signedhttp.HeaderTimestamp}, fieldsIn(p))
	assert.Empty(t, temporal.signals())
}

func TestMalformedPaymentResultIsRefusedNamingTheField(t *testing.T) {
	cases := map[string]struct {
		body   string
		fields []string
	}{
		"not JSON":                     {`[`, []string{"body"}},
		"no event id":                  {`{"movement_id":"pm_1","idempotency_key":"return/R-1/refund","status":"succeeded"}`, []string{"event_id"}},
		"a pending status":             {`{"event_id":"e","movement_id":"pm_1","idempotency_key":"return/R-1/refund","status":"pending"}`, []string{"status"}},
		"a key of no return":           {`{"event_id":"e","movement_id":"pm_1","idempotency_key":"order/O-1/refund","status":"succeeded"}`, []string{"idempotency_key"}},
		"a key without a step":         {`{"event_id":"e","movement_id":"pm_1","idempotency_key":"return/R-1","status":"succeeded"}`, []string{"idempotency_key"}},
		"a key without an id":          {`{"event_id":"e","movement_id":"pm_1","idempotency_key":"dispute//hold","status":"succeeded"}`, []string{"idempotency_key"}},
		"no key, no movement":          {`{"event_id":"e","status":"succeeded"}`, []string{"movement_id", "idempotency_key"}},
		"a number as the movement id":  {`{"event_id":"e","movement_id":12,"idempotency_key":"return/R-1/refund","status":"succeeded"}`, []string{"movement_id"}},
		"an object where text is kept": {`{"event_id":"e","movement_id":"pm_1","idempotency_key":"return/R-1/refund","status":"succeeded","reason":{}}`, []string{"reason"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			temporal := &fakeSignaller{}
			h, cfg := hookServer(t, temporal)
			p := problemIn(t, serve(h, paymentsRequest(cfg.PaymentsWebhookSecret, hookNow, []byte(c.body))), http.StatusUnprocessableEntity)
			assert.Equal(t, c.fields, fieldsIn(p))
			assert.Empty(t, temporal.signals())
		})
	}
}

func TestPaymentResultOfAnEndedDisputeIsAccepted(t *testing.T) {
	temporal := &fakeSignaller{err: serviceerror.NewNotFound("workflow not found for ID: dispute/D-1")}
	h, cfg := hookServer(t, temporal)
	body := `{"event_id":"evt_1","movement_id":"pm_1","idempotency_key":"dispute/D-1/hold","status":"held"}`

	rec := serve(h, paymentsRequest(cfg.PaymentsWebhookSecret, hookNow, []byte(body)))

	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"status":"ignored","detail":"dispute D-1 does not exist or has ended"}`, rec.Body.String())
}

func TestPaymentResultAnswers503WhenTemporalFails(t *testing.T) {
	temporal := &fakeSignaller{err: errors.New("context deadline exceeded")}
	h, cfg := hookServer(t, temporal)

	problemIn(t, serve(h, paymentsRequest(cfg.PaymentsWebhookSecret, hookNow, []byte(paymentResult))), http.StatusServiceUnavailable)
}

func TestOversizedWebhookIsRefused(t *testing.T) {
	h, cfg := hookServer(t, &fakeSignaller{})
	big := bytes.Repeat([]byte(" "), maxCommerceWebhookBody+1)

	problemIn(t, serve(h, paymentsRequest(cfg.PaymentsWebhookSecret, hookNow, big)), http.StatusRequestEntityTooLarge)
}

func TestNewCommerceWebhooksRefusesBadSecrets(t *testing.T) {
	cfg := defaultCommerce(t)
	bad := cfg
	bad.CarrierWebhookSecret = "not-whsec"
	_, err := newCommerceWebhooks(&fakeSignaller{}, bad, slog.New(slog.DiscardHandler), nil)
	assert.ErrorContains(t, err, "CARRIER_WEBHOOK_SECRET")
	bad = cfg
	bad.PaymentsWebhookSecret = "short"
	_, err = newCommerceWebhooks(&fakeSignaller{}, bad, slog.New(slog.DiscardHandler), nil)
	assert.ErrorContains(t, err, "PAYMENTS_WEBHOOK_SECRET")
}

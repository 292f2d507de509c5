package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/config"
	"handoff/mailin"
	"handoff/signedhttp"
)

// The secrets of a rotation: the receiver lists the new one first and the
// old one after it until the sender has switched; a third is listed nowhere.
const (
	newWhsec      = "whsec_" + "cm90YXRpb24tdGVzdC1uZXctd2ViaG9vay1rZXk="
	oldWhsec      = "whsec_" + "cm90YXRpb24tdGVzdC1vbGQtd2ViaG9vay1rZXk="
	strangerWhsec = "whsec_" + "cm90YXRpb24tdGVzdC1ub2JvZHlzLXdlYmhvb2s="
	newHMAC       = "rotation-test-new-payments-webhook-secret"
	oldHMAC       = "rotation-test-old-payments-webhook-secret"
	strangerHMAC  = "rotation-test-nobodys-payments-webhook-secret"
)

// rotatingCommerce is the commerce webhooks' router with both secrets of
// a rotation listed, read through config as an operator writes them.
func rotatingCommerce(t *testing.T, temporal signaller) http.Handler {
	t.Helper()
	cfg, err := config.LoadFrom(func(name string) (string, bool) {
		switch name {
		case "CARRIER_WEBHOOK_SECRET":
			return newWhsec + ", " + oldWhsec, true
		case "PAYMENTS_WEBHOOK_SECRET":
			return newHMAC + ", " + oldHMAC, true
		}
		return "", false
	})
	require.NoError(t, err)
	hooks, err := newCommerceWebhooks(temporal, cfg.Commerce, slog.New(slog.DiscardHandler), func() time.Time { return hookNow })
	require.NoError(t, err)
	s := &server{registry: prometheus.NewRegistry(), logger: slog.New(slog.DiscardHandler), commerce: hooks}
	return s.routes()
}

func TestACarrierWebhookSignedWithAnyListedSecretIsTakenAndOneSignedWithNoneRefused(t *testing.T) {
	temporal := &fakeSignaller{}
	h := rotatingCommerce(t, temporal)
	for _, secret := range []string{newWhsec, oldWhsec} {
		rec := serve(h, carrierRequest(t, secret, hookNow, "carrier/HC1A2B3C4D5E/2", []byte(shippedEvent)))
		assert.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	}
	problemIn(t, serve(h, carrierRequest(t, strangerWhsec, hookNow, "carrier/HC1A2B3C4D5E/2", []byte(shippedEvent))), http.StatusUnauthorized)
	assert.Len(t, temporal.signals(), 2, "one signal per verified webhook, none for the stranger's")
}

func TestAPaymentResultSignedWithAnyListedSecretIsTakenAndOneSignedWithNoneRefused(t *testing.T) {
	temporal := &fakeSignaller{}
	h := rotatingCommerce(t, temporal)
	for _, secret := range []string{newHMAC, oldHMAC} {
		rec := serve(h, paymentsRequest(secret, hookNow, []byte(paymentResult)))
		assert.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	}
	problemIn(t, serve(h, paymentsRequest(strangerHMAC, hookNow, []byte(paymentResult))), http.StatusUnauthorized)
	assert.Len(t, temporal.signals(), 2, "one signal per verified webhook, none for the stranger's")
}

func TestSellerWebhooksSignedWithAnyListedSecretAreTakenAndOnesSignedWithNoneRefused(t *testing.T) {
	temporal := &fakeSignaller{}
	hooks, err := newSellerWebhooks(temporal, newWhsec+","+oldWhsec, newWhsec+","+oldWhsec, quiet, func() time.Time { return hookNow })
	require.NoError(t, err)
	r := chi.NewRouter()
	r.Post(marketplaceWebhookPath, hooks.marketplaceWebhook)
	r.Post(verificationWebhookPath, hooks.verificationWebhook)
	for _, secret := range []string{newWhsec, oldWhsec} {
		rec := serve(r, signedRequest(t, marketplaceWebhookPath, secret, hookNow, "mkt-evt-7", listingEvent))
		assert.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		rec = serve(r, signedRequest(t, verificationWebhookPath, secret, hookNow, "vchk_1/failed", decidedCheck))
		assert.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	}
	problemIn(t, serve(r, signedRequest(t, marketplaceWebhookPath, strangerWhsec, hookNow, "mkt-evt-7", listingEvent)), http.StatusUnauthorized)
	problemIn(t, serve(r, signedRequest(t, verificationWebhookPath, strangerWhsec, hookNow, "vchk_1/failed", decidedCheck)), http.StatusUnauthorized)
	assert.Len(t, temporal.signals(), 4)
}

func TestNewCommerceWebhooksRefusesAShortPaymentsSecretByPosition(t *testing.T) {
	cfg := defaultCommerce(t)
	cfg.PaymentsWebhookSecret = newHMAC + ",short"
	_, err := newCommerceWebhooks(&fakeSignaller{}, cfg, slog.New(slog.DiscardHandler), nil)
	assert.ErrorContains(t, err, "PAYMENTS_WEBHOOK_SECRET: entry 2")
	assert.NotContains(t, err.Error(), "short")
}

// takingInbox takes every message and counts them.
type takingInbox struct{ taken int }

func (in *takingInbox) AcceptRecipient(context.Context, string) error { return nil }

func (in *takingInbox) Deliver(context.Context, mailin.Incoming) error {
	in.taken++
	return nil
}

func TestInboundMailSignedWithAnyListedSecretIsTakenAndOneSignedWithNoneRefused(t *testing.T) {
	inbox := &takingInbox{}
	h := inboundMail(inbox, inboundMailSecrets(newHMAC+","+oldHMAC), 1<<20)
	raw := []byte("From: ada@example.com\r\nSubject: Re: your case\r\n\r\nThanks.\r\n")
	target := inboundMailPath + "?recipient=reply%2Bt@reply.handoff.localhost&sender=ada@example.com"
	post := func(secret string) int {
		req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(raw))
		now := time.Now().Unix()
		req.Header.Set(signedhttp.HeaderTimestamp, strconv.FormatInt(now, 10))
		req.Header.Set(signedhttp.HeaderSignature, signedhttp.Sign([]byte(secret), http.MethodPost, target, now, raw))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusAccepted, post(newHMAC), "the current secret verifies")
	assert.Equal(t, http.StatusAccepted, post(oldHMAC), "the old secret verifies")
	assert.Equal(t, http.StatusUnauthorized, post(strangerHMAC), "a secret not listed does not")
	assert.Equal(t, 2, inbox.taken)
	assert.Nil(t, inboundMailSecrets(""), "empty turns the endpoint off")
}

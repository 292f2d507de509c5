package carriersim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/carrier"
	"handoff/deploy/carriersim"
	"handoff/standardwebhooks"
)

const (
	secret        = "0123456789abcdef0123456789abcdef"
	webhookSecret = "whsec_dGVzdC1jYXJyaWVyLXdlYmhvb2stc2VjcmV0"
)

type received struct {
	header http.Header
	body   []byte
	status int
}

// receiver records every webhook and answers 500 to the first send of each shipped event.
type receiver struct {
	mu   sync.Mutex
	got  []received
	seen map[string]bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev carrier.Event
	_ = json.Unmarshal(body, &ev)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	status := http.StatusNoContent
	if ev.Kind == carrier.Shipped && !rc.seen[ev.ID] {
		status = http.StatusInternalServerError
	}
	rc.seen[ev.ID] = true
	rc.got = append(rc.got, received{r.Header.Clone(), body, status})
	w.WriteHeader(status)
}

func (rc *receiver) snapshot() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func TestLabelOnceThenSignedShippedWebhookRetried(t *testing.T) {
	rc := &receiver{seen: map[string]bool{}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	sim, err := carriersim.New(carriersim.Options{
		KeyID: "handoff", Secret: secret,
		WebhookURL: hook.URL + "/webhooks/carrier", WebhookSecret: webhookSecret,
		DeliveryBackoff: 10 * time.Millisecond,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	defer sim.Close()
	srv := httptest.NewServer(sim)
	defer srv.Close()

	c, err := carrier.NewHTTP(carrier.HTTPConfig{BaseURL: srv.URL, KeyID: "handoff", Secret: secret})
	require.NoError(t, err)
	req := carrier.LabelRequest{
		IdempotencyKey: "return/R-7/label", ReturnID: "R-7",
		From:        carrier.Address{Name: "Ada", Line1: "1 Rue de Rivoli", City: "Paris", PostalCode: "75001", Country: "FR"},
		To:          carrier.Address{Name: "Shop", Line1: "Hauptstr. 5", City: "Berlin", PostalCode: "10115", Country: "DE"},
		WeightGrams: 800,
	}
	ctx := context.Background()
	first, err := c.CreateLabel(ctx, req)
	require.NoError(t, err)
	again, err := c.CreateLabel(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, first, again, "one key, one label")
	assert.Contains(t, first.LabelURL, "/labels/"+first.TrackingNumber+"/label.pdf")

	// The key reused for another request is a conflict; another key is another label.
	other := req
	other.WeightGrams = 900
	_, err = c.CreateLabel(ctx, other)
	require.ErrorIs(t, err, carrier.ErrConflict)
	other.IdempotencyKey = "return/R-7/label-2"
	second, err := c.CreateLabel(ctx, other)
	require.NoError(t, err)
	assert.NotEqual(t, first.TrackingNumber, second.TrackingNumber)

	// A bad address is refused.
	bad := req
	bad.IdempotencyKey, bad.To.Country = "return/R-8/label", "Germany"
	_, err = c.CreateLabel(ctx, bad)
	require.ErrorIs(t, err, carrier.ErrRefused)

	// An unsigned or wrongly signed request is refused with 401.
	resp, err := http.Post(srv.URL+"/labels", "application/json", bytes.NewReader([]byte(`{}`)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// Tell it to ship.
	resp, err = http.Post(srv.URL+"/labels/"+first.TrackingNumber+"/events", "application/json",
		bytes.NewReader([]byte(`{"kind":"shipped"}`)))
	require.NoError(t, err)
	var shipped carrier.Event
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&shipped))
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Equal(t, carrier.Shipped, shipped.Kind)

	// Out of order is refused.
	resp, err = http.Post(srv.URL+"/labels/"+second.TrackingNumber+"/events", "application/json",
		bytes.NewReader([]byte(`{"kind":"delivered"}`)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusConflict, resp.StatusCode)

	var sends []received
	require.Eventually(t, func() bool {
		sends = nil
		for _, r := range rc.snapshot() {
			if r.header.Get("webhook-id") == shipped.ID {
				sends = append(sends, r)
			}
		}
		return len(sends) == 2
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, http.StatusInternalServerError, sends[0].status)
	assert.Equal(t, http.StatusNoContent, sends[1].status)
	verifier, err := standardwebhooks.NewVerifier(webhookSecret, 0, nil)
	require.NoError(t, err)
	for _, s := range sends {
		require.NoError(t, verifier.Verify(s.header, s.body))
		var ev carrier.Event
		require.NoError(t, json.Unmarshal(s.body, &ev))
		assert.Equal(t, shipped, ev)
		assert.Equal(t, first.TrackingNumber, ev.TrackingNumber)
		assert.Equal(t, "R-7", ev.ReturnID)
	}

	// Track answers the events so far, in order.
	evs, err := c.Track(ctx, first.TrackingNumber)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, carrier.LabelCreated, evs[0].Kind)
	assert.Equal(t, shipped, evs[1])
	_, err = c.Track(ctx, "HCNOPE")
	require.ErrorIs(t, err, carrier.ErrNotFound)

	// Every webhook verified and each label_created came once.
	created := 0
	for _, r := range rc.snapshot() {
		require.NoError(t, verifier.Verify(r.header, r.body))
		var ev carrier.Event
		require.NoError(t, json.Unmarshal(r.body, &ev))
		if ev.Kind == carrier.LabelCreated {
			created++
		}
	}
	assert.Equal(t, 2, created)
}

func TestNewRefusesBadSecrets(t *testing.T) {
	_, err := carriersim.New(carriersim.Options{KeyID: "k", Secret: "short", WebhookURL: "http://x", WebhookSecret: webhookSecret})
	require.Error(t, err)
	_, err = carriersim.New(carriersim.Options{KeyID: "k", Secret: secret, WebhookURL: "http://x", WebhookSecret: "nope"})
	require.Error(t, err)
}

package carriersim_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/carrier"
	"handoff/deploy/carriersim"
	"handoff/standardwebhooks"
)

// newWebhookSecret is the secret a rotation of CARRIER_WEBHOOK_SECRET
// lists first, before webhookSecret.
const newWebhookSecret = "whsec_dGVzdC1uZXctY2Fycmllci13ZWJob29rLXNlY3JldA=="

func TestGivenTheAPIsListOfSecretsTheStandInSignsWithTheFirst(t *testing.T) {
	rc := &receiver{seen: map[string]bool{}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	sim, err := carriersim.New(carriersim.Options{
		KeyID: "handoff", Secret: secret,
		WebhookURL: hook.URL + "/webhooks/carrier", WebhookSecret: newWebhookSecret + ", " + webhookSecret,
		DeliveryBackoff: 10 * time.Millisecond,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	defer sim.Close()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := carrier.NewHTTP(carrier.HTTPConfig{BaseURL: srv.URL, KeyID: "handoff", Secret: secret})
	require.NoError(t, err)
	_, err = c.CreateLabel(context.Background(), carrier.LabelRequest{
		IdempotencyKey: "return/R-9/label", ReturnID: "R-9",
		From:        carrier.Address{Name: "Ada", Line1: "1 Rue de Rivoli", City: "Paris", PostalCode: "75001", Country: "FR"},
		To:          carrier.Address{Name: "Shop", Line1: "Hauptstr. 5", City: "Berlin", PostalCode: "10115", Country: "DE"},
		WeightGrams: 800,
	})
	require.NoError(t, err)

	require.Eventually(t, func() bool { return len(rc.snapshot()) > 0 }, 5*time.Second, 10*time.Millisecond)
	got := rc.snapshot()[0]
	current, err := standardwebhooks.NewVerifier(newWebhookSecret, 0, nil)
	require.NoError(t, err)
	old, err := standardwebhooks.NewVerifier(webhookSecret, 0, nil)
	require.NoError(t, err)
	assert.NoError(t, current.Verify(got.header, got.body), "signed with the first secret")
	assert.ErrorIs(t, old.Verify(got.header, got.body), standardwebhooks.ErrSignatureInvalid, "and only with it")
}

package activities

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/config"
	"handoff/standardwebhooks"
)

// The secrets of a rotation of WEBHOOK_SIGNING_SECRET: the new one listed
// first, the old one after it; a third that neither side holds.
const (
	rotationNew   = "whsec_aGFuZG9mZi10ZXN0LW5ldy1zaWduaW5nLXNlY3JldC0wMQ=="
	rotationOld   = "whsec_aGFuZG9mZi10ZXN0LW9sZC1zaWduaW5nLXNlY3JldC0wMQ=="
	rotationOther = "whsec_aGFuZG9mZi10ZXN0LW5vYm9keXMtc2lnbmluZy1zZWNyZXQ="
)

func TestAWebhookSignedWithTwoSecretsVerifiesUnderEachAloneWithTheStandardWebhooksVerifier(t *testing.T) {
	cfg, err := config.LoadFrom(func(name string) (string, bool) {
		switch name {
		case "WEBHOOK_SIGNING_SECRET":
			return rotationNew + ", " + rotationOld, true
		case "WEBHOOK_KEY_ID":
			return "key-2027", true
		}
		return "", false
	})
	require.NoError(t, err)
	signer, err := newWebhookSigner(cfg.Notify.WebhookSecret, cfg.Notify.WebhookKeyID)
	require.NoError(t, err)
	rcv := newReceiver(t)
	body := []byte(`{"type":"case.opened"}`)
	require.NoError(t, newWebhookPoster(signer).post(context.Background(), rcv.URL+"/hooks", "case/C-1/1/customer/marketplace_webhook", body))

	got := rcv.received()
	require.Len(t, got, 1)
	h := got[0].Header
	assert.Len(t, h.Values(HeaderWebhookSignature), 1, "one webhook-signature header")
	sigs := strings.Fields(h.Get(HeaderWebhookSignature))
	require.Len(t, sigs, 2, "one signature per secret, separated by a space")
	for _, sig := range sigs {
		assert.True(t, strings.HasPrefix(sig, "v1,"), sig)
	}
	assert.Equal(t, "key-2027", h.Get(HeaderWebhookKeyID), "webhook-key-id names the first (current) key")

	ts, err := strconv.ParseInt(h.Get(HeaderWebhookTimestamp), 10, 64)
	require.NoError(t, err)
	for i, secret := range []string{rotationNew, rotationOld} {
		v, err := standardwebhooks.NewVerifier(secret, 0, nil)
		require.NoError(t, err)
		assert.NoError(t, v.Verify(h, got[0].Body), "a receiver holding only secret %d verifies", i+1)
		assert.ErrorIs(t, v.Verify(h, []byte(`{"type":"case.closed"}`)), standardwebhooks.ErrSignatureInvalid, "secret %d: a changed body fails", i+1)
		assert.Equal(t, v.Sign(h.Get(HeaderWebhookID), ts, body), sigs[i], "the signatures are in the order of the list")
	}
	other, err := standardwebhooks.NewVerifier(rotationOther, 0, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, other.Verify(h, got[0].Body), standardwebhooks.ErrSignatureInvalid, "a secret not listed does not verify")
}

func TestWebhookSignerRefusesAMalformedEntryByPosition(t *testing.T) {
	for list, want := range map[string]string{
		rotationNew + ",MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw": "entry 2",
		"whsec_not base64!," + rotationNew:                "entry 1",
		rotationNew + ",," + rotationOld:                  "entry 2",
	} {
		_, err := newWebhookSigner(list, "k1")
		require.Error(t, err, list)
		assert.Contains(t, err.Error(), want, list)
		assert.NotContains(t, err.Error(), "MfKQ9r8G", "secrets are never quoted")
	}
}

package webhookinbox

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/standardwebhooks"
)

// strangerSecret is a valid secret listed nowhere.
const strangerSecret = "whsec_bm9ib2R5LWxpc3RzLXRoaXMtc2lnbmluZy1zZWNyZXQ="

func TestAnInboxListingTwoSecretsTakesWebhooksSignedWithEitherAndRefusesOthers(t *testing.T) {
	in, err := New(otherSecret+","+testSecret, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	srv := httptest.NewServer(in)
	defer srv.Close()

	for _, secret := range []string{otherSecret, testSecret} {
		status, msg := send(t, signed(t, srv, "marketplace", "case/C-1/1/customer/marketplace_webhook", secret, []byte(`{}`)))
		assert.Equal(t, http.StatusNoContent, status, msg)
	}
	status, _ := send(t, signed(t, srv, "marketplace", "case/C-1/1/customer/marketplace_webhook", strangerSecret, []byte(`{}`)))
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestAnInboxHoldingOneSecretTakesAWebhookSignedWithItAndAnother(t *testing.T) {
	srv := newTestInbox(t, 0)
	body := []byte(`{"type":"case.opened"}`)
	req := signed(t, srv, "marketplace", "case/C-1/1/customer/marketplace_webhook", strangerSecret, body)
	both := signed(t, srv, "marketplace", "case/C-1/1/customer/marketplace_webhook", testSecret, body)
	// As the worker signs during a rotation: the new secret's signature
	// first, then the old one's, in one header.
	req.Header.Set(standardwebhooks.HeaderSignature, req.Header.Get(standardwebhooks.HeaderSignature)+" "+both.Header.Get(standardwebhooks.HeaderSignature))

	status, msg := send(t, req)

	assert.Equal(t, http.StatusNoContent, status, msg)
	got := listed(t, srv, "")
	require.Len(t, got, 1)
	assert.True(t, got[0].Verified)
}

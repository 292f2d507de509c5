package activities

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"handoff/deploy/verificationsim"
	"handoff/verification"
	"handoff/workflows/sellers"
)

// simVerification answers the identity-check activities over the real
// HTTP client and the local stand-in, served by httptest.
func simVerification(t *testing.T) *Verification {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	inbox := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(inbox.Close)
	const secret = "activities-test-verification-secret-0123"
	sim, err := verificationsim.New(verificationsim.Options{KeyID: "handoff", Secret: secret, WebhookURL: inbox.URL,
		WebhookSecret: "whsec_YWN0aXZpdGllcy10ZXN0LXdlYmhvb2sta2V5", Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	v, err := verification.NewHTTP(verification.HTTPConfig{BaseURL: srv.URL, KeyID: "handoff", Secret: secret, Logger: quiet})
	require.NoError(t, err)
	return NewVerification(v)
}

func checkRequest(key, legalName string) sellers.IdentityCheckRequest {
	return sellers.IdentityCheckRequest{Key: key, SellerID: "sel-1", Identity: sellers.Identity{
		LegalName: legalName, Country: "FR", DocumentIDs: []string{"ev_1"}, PayoutAccountLast4: "0042"}}
}

// refusal answers err's application error, failing t when it is none.
func refusal(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	return app
}

func TestAnIdentityCheckStartsOncePerKeyAndReadsBack(t *testing.T) {
	v := simVerification(t)
	ctx := context.Background()
	first, err := v.StartIdentityCheck(ctx, checkRequest("verification/sel-1/check", "Ada Lovelace SARL"))
	require.NoError(t, err)
	assert.NotEmpty(t, first.ID)
	assert.Equal(t, "sel-1", first.SellerID)
	assert.Equal(t, sellers.CheckPassed, first.Status)
	assert.False(t, first.DecidedAt.IsZero())

	again, err := v.StartIdentityCheck(ctx, checkRequest("verification/sel-1/check", "Ada Lovelace SARL"))
	require.NoError(t, err)
	assert.Equal(t, first, again, "a retry with the same key answers the same check")

	read, err := v.GetIdentityCheck(ctx, first.ID)
	require.NoError(t, err)
	assert.Equal(t, first, read)
}

func TestADoubtfulIdentityCheckAnswersNeedsReviewWithItsReasons(t *testing.T) {
	c, err := simVerification(t).StartIdentityCheck(context.Background(), checkRequest("verification/sel-1/check", "Review Me Ltd"))
	require.NoError(t, err)
	assert.Equal(t, sellers.CheckNeedsReview, c.Status)
	assert.NotEmpty(t, c.Reasons)
	assert.True(t, c.DecidedAt.IsZero())
}

func TestIdentityCheckRefusalsAreFinal(t *testing.T) {
	v := simVerification(t)
	ctx := context.Background()

	bad := checkRequest("verification/sel-1/check", "Ada Lovelace SARL")
	bad.Identity.Country = "France"
	_, err := v.StartIdentityCheck(ctx, bad)
	app := refusal(t, err)
	assert.Equal(t, ErrTypeVerificationRefused, app.Type())
	assert.True(t, app.NonRetryable())
	assert.Contains(t, app.Error(), "verification/sel-1/check", "the message names the check's key")

	_, err = v.StartIdentityCheck(ctx, checkRequest("verification/sel-2/check", "Ada Lovelace SARL"))
	require.NoError(t, err)
	_, err = v.StartIdentityCheck(ctx, checkRequest("verification/sel-2/check", "Grace Hopper GmbH"))
	app = refusal(t, err)
	assert.Equal(t, ErrTypeVerificationRefused, app.Type(), "the key reused with another request")
	var code string
	require.NoError(t, app.Details(&code))
	assert.Equal(t, verification.CodeIdempotencyConflict, code)

	_, err = v.GetIdentityCheck(ctx, "vchk_unknown")
	app = refusal(t, err)
	assert.Equal(t, ErrTypeVerificationNotFound, app.Type())
	assert.True(t, app.NonRetryable())
}

// downVerifier answers err to every call.
type downVerifier struct{ err error }

func (d downVerifier) Check(context.Context, verification.CheckRequest) (verification.Check, error) {
	return verification.Check{}, d.err
}

func (d downVerifier) Get(context.Context, string) (verification.Check, error) {
	return verification.Check{}, d.err
}

func TestAnIdentityCheckOutageIsRetriedUnderTheSameKey(t *testing.T) {
	down := &verification.Error{Class: verification.ErrTransient, Status: 503, Code: verification.CodeUnavailable}
	v := NewVerification(downVerifier{err: down})
	_, err := v.StartIdentityCheck(context.Background(), checkRequest("verification/sel-1/check", "Ada"))
	require.Error(t, err)
	var app *temporal.ApplicationError
	assert.False(t, errors.As(err, &app), "an outage is retried by Temporal: %v", err)
	assert.ErrorIs(t, err, verification.ErrTransient)
	assert.Contains(t, err.Error(), "start identity check verification/sel-1/check")

	_, err = v.GetIdentityCheck(context.Background(), "vchk_1")
	assert.False(t, errors.As(err, &app), "an outage is retried by Temporal: %v", err)
	assert.Contains(t, err.Error(), "get identity check vchk_1")
}

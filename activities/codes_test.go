package activities

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"handoff/codes"
	"handoff/workflows/accountflows"
	"handoff/workflows/vocab"
)

func codeRequest(id, channel, to string) accountflows.CodeRequest {
	return accountflows.CodeRequest{
		ID: accountflows.CodeID(accountflows.RecoveryWorkflowID(id)), Purpose: accountflows.CodePurposeRecovery, Channel: channel,
		To: to, Locale: "fr", CaseID: "C-7", ValidFor: 15 * time.Minute,
	}
}

// sendCode runs SendCode as Temporal runs an activity, answering what the
// activity logged too.
func sendCode(t *testing.T, n *Notifier, req accountflows.CodeRequest) (accountflows.CodeSent, string, error) {
	t.Helper()
	var logs bytes.Buffer
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(n)
	val, err := env.ExecuteActivity(n.SendCode, req)
	var sent accountflows.CodeSent
	if err == nil {
		require.NoError(t, val.Get(&sent))
	}
	return sent, logs.String(), err
}

func TestSendCodeTwiceSendsOnceWithTheSameDigest(t *testing.T) {
	market := newReceiver(t)
	n, dlog := webhookNotifier(t, market.URL, "")
	req := codeRequest("R-1", CodeChannelPhone, "+33612345678")

	first, logs1, err := sendCode(t, n, req)
	require.NoError(t, err)
	second, logs2, err := sendCode(t, n, req)
	require.NoError(t, err, "a retried activity finds the code sent")

	assert.Len(t, market.received(), 1)
	assert.Equal(t, first, second)
	secret := []byte(testConfig(t).Notify.CodeSecret)
	assert.Equal(t, codes.Digest(secret, req.ID, codes.Code(secret, req.ID)), first.Digest)
	row := dlog.row(req.ID, ChannelMarketplaceWebhook)
	assert.Equal(t, "sent", row.Status)
	assert.Equal(t, 1, row.Attempts)
	assert.Equal(t, EventRecoveryCode, row.Event)
	assert.Equal(t, "C-7", row.CaseID)
	code := codes.Code(secret, req.ID)
	assert.NotContains(t, logs1+logs2, code, "the code is never logged")
	assert.Contains(t, logs1, "notification sent", "the logger did capture the activity")
}

func TestPhoneCodeCarriesTheNumberAndTheCodeNeverTheDigest(t *testing.T) {
	market := newReceiver(t)
	n, _ := webhookNotifier(t, market.URL, "")
	req := codeRequest("R-2", CodeChannelPhone, "+33612345678")
	sent, _, err := sendCode(t, n, req)
	require.NoError(t, err)

	got := market.received()
	require.Len(t, got, 1)
	require.NoError(t, verifyStandardWebhook(testConfig(t).Notify.WebhookSecret, got[0].Header, got[0].Body, time.Now()))
	assert.Equal(t, req.ID+"/marketplace_webhook", got[0].Header.Get("webhook-id"))
	var body struct {
		Type string `json:"type"`
		Data struct {
			CodeID       string `json:"code_id"`
			Purpose      string `json:"purpose"`
			CaseID       string `json:"case_id"`
			Channel      string `json:"channel"`
			Phone        string `json:"phone"`
			Code         string `json:"code"`
			ValidMinutes int    `json:"valid_minutes"`
			Message      struct{ Locale, Subject, Text string }
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(got[0].Body, &body))
	code := codes.Code([]byte(testConfig(t).Notify.CodeSecret), req.ID)
	assert.Equal(t, "code.recovery_code", body.Type)
	assert.Equal(t, req.ID, body.Data.CodeID)
	assert.Equal(t, accountflows.CodePurposeRecovery, body.Data.Purpose)
	assert.Equal(t, "C-7", body.Data.CaseID)
	assert.Equal(t, "phone", body.Data.Channel)
	assert.Equal(t, "+33612345678", body.Data.Phone)
	assert.Equal(t, code, body.Data.Code)
	assert.Equal(t, 15, body.Data.ValidMinutes)
	assert.Equal(t, "fr", body.Data.Message.Locale)
	assert.Equal(t, "[C-7] Votre code de récupération de compte", body.Data.Message.Subject)
	assert.Contains(t, body.Data.Message.Text, code)
	assert.Contains(t, body.Data.Message.Text, "valable 15 minutes")
	assert.NotContains(t, string(got[0].Body), sent.Digest, "the digest never leaves the workflow")
}

func TestCodeMessagesCarryTheCodeAndItsValidity(t *testing.T) {
	book := shippedTemplates(t)
	for _, event := range CodeEvents {
		for _, locale := range vocab.Locales {
			t.Run(event+"/"+locale, func(t *testing.T) {
				data := messageData{NotificationID: "recovery/R-3/code", Audience: "customer",
					Case: vocab.NotificationCase{ID: "C-7"}, Code: "042917", ValidMinutes: 10}
				msg, err := book.render(event, locale, data)
				require.NoError(t, err)
				assert.Equal(t, locale, msg.Locale)
				assert.True(t, strings.HasPrefix(msg.Subject, "[C-7] "), msg.Subject)
				assert.NotContains(t, msg.Subject, "042917", "a subject shows in previews and lists")
				assert.Contains(t, msg.Text, "    042917\n")
				assert.Contains(t, msg.HTML, ">042917</p>")
				assert.Contains(t, msg.Text, "10 minutes")
				assert.Contains(t, msg.HTML, "10 minutes")
				assert.Contains(t, msg.Text, map[string]string{"en": "We will never ask you for it by phone",
					"fr": "Nous ne vous le demanderons jamais par téléphone"}[locale])
				assert.Contains(t, msg.Text, "C-7")
			})
		}
	}
}

func TestPhoneCodeWithoutMarketplaceURLFailsWithoutRetry(t *testing.T) {
	n, dlog := webhookNotifier(t, "", "")
	req := codeRequest("R-4", CodeChannelPhone, "+33612345678")
	_, _, err := sendCode(t, n, req)
	require.Error(t, err)
	appErr := appError(t, err)
	assert.True(t, appErr.NonRetryable())
	assert.Equal(t, ErrTypeCodeNotSendable, appErr.Type())
	assert.Contains(t, err.Error(), "MARKETPLACE_WEBHOOK_URL is empty")
	assert.Empty(t, dlog.row(req.ID, ChannelMarketplaceWebhook).Status, "nothing was claimed")
}

func TestUnsendableCodeRequestsFailWithoutRetry(t *testing.T) {
	market := newReceiver(t)
	n, _ := webhookNotifier(t, market.URL, "")
	for name, tc := range map[string]struct {
		change func(*accountflows.CodeRequest)
		want   string
	}{
		"purpose":   {func(r *accountflows.CodeRequest) { r.Purpose = "merge" }, `purpose: want recovery or contact_change, got "merge"`},
		"channel":   {func(r *accountflows.CodeRequest) { r.Channel = "sms" }, `channel: want email or phone, got "sms"`},
		"recipient": {func(r *accountflows.CodeRequest) { r.To = " " }, "to: must not be empty"},
		"validity":  {func(r *accountflows.CodeRequest) { r.ValidFor = 0 }, "valid_for: must be positive"},
	} {
		t.Run(name, func(t *testing.T) {
			req := codeRequest("R-5", CodeChannelPhone, "+33612345678")
			tc.change(&req)
			_, _, err := sendCode(t, n, req)
			require.Error(t, err)
			assert.True(t, appError(t, err).NonRetryable())
			assert.Equal(t, ErrTypeCodeNotSendable, appError(t, err).Type())
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Empty(t, market.received())
}

// A receiver that quotes the request in its refusal must not put the code
// in the delivery log or the workflow's history.
func TestARefusalQuotingTheCodeIsMasked(t *testing.T) {
	req := codeRequest("R-6", CodeChannelPhone, "+33612345678")
	code := codes.Code([]byte(testConfig(t).Notify.CodeSecret), req.ID)
	market := newReceiver(t, func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"error": "cannot text code ` + code + `"}`))
	})
	n, dlog := webhookNotifier(t, market.URL, "")
	_, _, err := sendCode(t, n, req)
	require.Error(t, err)
	assert.True(t, appError(t, err).NonRetryable())
	assert.Equal(t, ErrTypeNotificationRefused, appError(t, err).Type())
	assert.Contains(t, err.Error(), "cannot text code ******")
	assert.NotContains(t, err.Error(), code)
	row := dlog.row(req.ID, ChannelMarketplaceWebhook)
	assert.Equal(t, "failed", row.Status)
	assert.NotContains(t, row.LastError, code)
}

func TestCodeNeedsALongSecret(t *testing.T) {
	cfg := testConfig(t)
	cfg.Notify.CodeSecret = "short"
	_, err := newNotifier(cfg, newMemoryLog())
	assert.ErrorContains(t, err, "VERIFICATION_CODE_SECRET: want a secret of at least 32 bytes, got 5")
}

func TestValidMinutesNeverPromisesMore(t *testing.T) {
	assert.Equal(t, 15, validMinutes(15*time.Minute))
	assert.Equal(t, 1, validMinutes(90*time.Second))
	assert.Equal(t, 1, validMinutes(20*time.Second))
}

func TestRoutesRefuseCodeEvents(t *testing.T) {
	_, err := parseRoutes([]byte(routesFile("", "  opened: {}\n  recovery_code: {customer: [email]}\n")), "routes.yaml")
	assert.ErrorContains(t, err, "routes.yaml:3: events.recovery_code: a one-time code goes only to the contact its workflow names")
}

func TestShippedRoutesTellTheAccountEvents(t *testing.T) {
	r, err := loadRoutes(shippedRoutesFile)
	require.NoError(t, err)
	assert.Equal(t, []string{ChannelEmail, ChannelTeamWebhook}, r.channels(accountflows.EventAccountLocked, "team"))
	for _, event := range []string{accountflows.EventAccountUnlocked, accountflows.EventRecoveryExpired,
		EventContactChangeRequested, EventContactChanged} {
		assert.Equal(t, []string{ChannelEmail, ChannelMarketplaceWebhook}, r.channels(event, "customer"), event)
	}
}

func TestRecoveryStepsSayWhatToDoWithoutDetail(t *testing.T) {
	book := shippedTemplates(t)
	msg, err := book.render(EventRecoverySteps, "en", templateData("customer", ""))
	require.NoError(t, err)
	for _, want := range []string{"signed it out everywhere", `"Forgot password"`, "two-step verification (MFA)"} {
		assert.Contains(t, msg.Text, want)
	}
	msg, err = book.render(EventRecoverySteps, "fr", templateData("customer", ""))
	require.NoError(t, err)
	for _, want := range []string{"fermé toutes ses sessions", "« Mot de passe oublié »", "validation en deux étapes (MFA)"} {
		assert.Contains(t, msg.Text, want)
	}
}

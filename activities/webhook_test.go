package activities

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// verifyStandardWebhook is a receiver's check as the Standard Webhooks
// specification writes it, written apart from webhookSigner: the secret is
// base64 after "whsec_", the signed content "<id>.<timestamp>.<body>", the
// header a space-separated list of "v1,<base64 HMAC-SHA256>", and the
// timestamp within five minutes of now.
func verifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s too far from now", ts)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, sig, _ := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no signature matches")
}

// The test vector of the Standard Webhooks reference implementations.
func TestWebhookSignatureMatchesTheStandardWebhooksVector(t *testing.T) {
	s, err := newWebhookSigner(testSecret, "k1")
	require.NoError(t, err)
	assert.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		s.signature("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`)))
}

func TestWebhookSignerRefusesAMalformedSecret(t *testing.T) {
	for _, secret := range []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_"} {
		_, err := newWebhookSigner(secret, "k1")
		assert.Error(t, err, secret)
	}
	_, err := newWebhookSigner(testSecret, "")
	assert.Error(t, err)
}

// receiver records the webhooks it gets and answers with the statuses
// given, then 204.
type receiver struct {
	mu       sync.Mutex
	requests []receivedWebhook
	answers  []func(http.ResponseWriter)
	*httptest.Server
}

type receivedWebhook struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

func newReceiver(t *testing.T, answers ...func(http.ResponseWriter)) *receiver {
	r := &receiver{answers: answers}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.requests)
		r.requests = append(r.requests, receivedWebhook{Header: req.Header.Clone(), Body: body, At: time.Now()})
		r.mu.Unlock()
		if n < len(r.answers) {
			r.answers[n](w)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []receivedWebhook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedWebhook(nil), r.requests...)
}

func status(code int, header ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte("answer\nbody"))
	}
}

func testPoster(t *testing.T) *webhookPoster {
	s, err := newWebhookSigner(testSecret, "key-2026")
	require.NoError(t, err)
	return newWebhookPoster(s)
}

func TestWebhookArrivesSignedAndVerifies(t *testing.T) {
	rcv := newReceiver(t)
	body := []byte(`{"type":"case.opened"}`)
	require.NoError(t, testPoster(t).post(context.Background(), rcv.URL+"/hooks", "case/C-1/1/customer/marketplace_webhook", body))

	got := rcv.received()
	require.Len(t, got, 1)
	h := got[0].Header
	assert.Equal(t, "case/C-1/1/customer/marketplace_webhook", h.Get("webhook-id"))
	assert.Equal(t, "key-2026", h.Get("webhook-key-id"))
	assert.Equal(t, "application/json", h.Get("Content-Type"))
	assert.Equal(t, body, got[0].Body)
	require.NoError(t, verifyStandardWebhook(testSecret, h, got[0].Body, time.Now()))

	assert.Error(t, verifyStandardWebhook(testSecret, h, []byte(`{"type":"case.closed"}`), time.Now()), "a changed body fails")
	assert.Error(t, verifyStandardWebhook("whsec_aGFuZG9mZi1sb2NhbC1kZXYtd2ViaG9vay1zZWNyZXQ=", h, got[0].Body, time.Now()), "another key fails")
	assert.Error(t, verifyStandardWebhook(testSecret, h, got[0].Body, time.Now().Add(10*time.Minute)), "a stale timestamp fails")
}

func TestWebhookAnswerDecidesTheRetry(t *testing.T) {
	for name, tc := range map[string]struct {
		answer    func(http.ResponseWriter)
		ok        bool
		permanent bool
		delay     time.Duration
	}{
		"200":                     {answer: status(200), ok: true},
		"202":                     {answer: status(202), ok: true},
		"400 refused":             {answer: status(400), permanent: true},
		"404 gone":                {answer: status(404), permanent: true},
		"301 not followed":        {answer: status(301, "Location", "http://elsewhere.example/"), permanent: true},
		"408":                     {answer: status(408)},
		"500":                     {answer: status(500)},
		"502":                     {answer: status(502)},
		"429 with Retry-After":    {answer: status(429, "Retry-After", "7"), delay: 7 * time.Second},
		"503 Retry-After capped":  {answer: status(503, "Retry-After", "86400"), delay: maxRetryAfter},
		"429 without Retry-After": {answer: status(429)},
	} {
		t.Run(name, func(t *testing.T) {
			rcv := newReceiver(t, tc.answer)
			err := testPoster(t).post(context.Background(), rcv.URL, "id", []byte(`{}`))
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.permanent, isPermanent(err), err.Error())
			assert.Equal(t, tc.delay, retryDelay(err))
			assert.Contains(t, err.Error(), `receiver answered `+strings.Fields(name)[0])
			assert.Contains(t, err.Error(), `"answer body"`)
		})
	}
}

func TestWebhookUnreachableIsRetriedAndHidesTheURLPath(t *testing.T) {
	rcv := newReceiver(t)
	target := rcv.URL + "/services/T000/B000/SECRET"
	rcv.Close()
	err := testPoster(t).post(context.Background(), target, "id", []byte(`{}`))
	require.Error(t, err)
	assert.False(t, isPermanent(err))
	assert.NotContains(t, err.Error(), "SECRET")
	assert.Contains(t, err.Error(), rcv.URL)
}

func TestRetryAfterReadsSecondsAndDates(t *testing.T) {
	now := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	assert.Equal(t, 30*time.Second, parseRetryAfter("30", now))
	assert.Equal(t, 2*time.Minute, parseRetryAfter(now.Add(2*time.Minute).Format(http.TimeFormat), now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("soon", now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("-5", now))
}

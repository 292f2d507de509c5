package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testSecret = "test-secret-of-at-least-32-bytes!!"

// received is one request the fake account service got.
type received struct {
	Method, Target, IdempotencyKey, KeyID string
	Body                                  map[string]any
	SignatureOK                           bool
}

// fakeService is an account service that checks every signature as
// docs/account-service.md tells implementers to, written apart from
// Signature so a change of the scheme on one side fails the tests.
type fakeService struct {
	t      *testing.T
	mu     sync.Mutex
	got    []received
	answer func(n int, r *http.Request) (int, any) // n counts requests from 1
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	require.NoError(f.t, err)
	ts := r.Header.Get("X-Handoff-Timestamp")
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(r.Method + "\n" + r.RequestURI + "\n" + ts + "\n"))
	mac.Write(body)
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	sec, err := strconv.ParseInt(ts, 10, 64)
	fresh := err == nil && time.Since(time.Unix(sec, 0)).Abs() < 5*time.Minute
	rec := received{
		Method: r.Method, Target: r.RequestURI, KeyID: r.Header.Get("X-Handoff-Key-Id"),
		IdempotencyKey: r.Header.Get("Idempotency-Key"),
		SignatureOK:    fresh && hmac.Equal([]byte(want), []byte(r.Header.Get("X-Handoff-Signature"))),
	}
	if len(body) > 0 {
		require.NoError(f.t, json.Unmarshal(body, &rec.Body))
	}
	f.mu.Lock()
	f.got = append(f.got, rec)
	n := len(f.got)
	f.mu.Unlock()
	if !rec.SignatureOK {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	status, out := f.answer(n, r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

func (f *fakeService) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.got...)
}

// serve starts a fake service answering with answer, and a directory
// calling it under the base path /svc with quick retries.
func serve(t *testing.T, answer func(n int, r *http.Request) (int, any), tune ...func(*HTTPConfig)) (*HTTP, *fakeService) {
	t.Helper()
	f := &fakeService{t: t, answer: answer}
	srv := httptest.NewServer(http.StripPrefix("/svc", f))
	t.Cleanup(srv.Close)
	cfg := HTTPConfig{
		BaseURL: srv.URL + "/svc/", KeyID: "k1", Secret: testSecret,
		Timeout: 2 * time.Second, MaxAttempts: 3, Backoff: time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	}
	for _, f := range tune {
		f(&cfg)
	}
	h, err := NewHTTP(cfg)
	require.NoError(t, err)
	return h, f
}

func demoAccount(id string) Account {
	return Account{ID: id, Status: StatusActive, Email: "ada@example.com", CredentialVersion: 2,
		UpdatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func TestHTTPSignsEveryRequestAndSendsTheDocumentedCalls(t *testing.T) {
	h, f := serve(t, func(_ int, r *http.Request) (int, any) {
		if r.URL.Path == "/accounts/acct-1/sessions/revoke" {
			return http.StatusOK, map[string]int{"revoked": 4}
		}
		if r.URL.Path == "/accounts/merge" {
			return http.StatusNoContent, nil
		}
		return http.StatusOK, demoAccount("acct-1")
	})
	ctx := t.Context()

	a, err := h.Get(ctx, "acct-1")
	require.NoError(t, err)
	assert.Equal(t, demoAccount("acct-1"), a, "the answer is decoded into Account")
	_, err = h.Lock(ctx, "acct-1", "suspicious login")
	require.NoError(t, err)
	_, err = h.Unlock(ctx, "acct-1")
	require.NoError(t, err)
	n, err := h.RevokeSessions(ctx, "acct-1")
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	_, err = h.ResetCredentials(ctx, "acct-1", true, "recovery/R-1/7")
	require.NoError(t, err)
	_, err = h.ChangeContact(ctx, "acct-1", ContactPhone, "+33 6 12 34 56 78", "profile/P-1/3")
	require.NoError(t, err)
	require.NoError(t, h.Merge(ctx, "acct-2", "acct-1", "case/C-1/9"))

	got := f.requests()
	want := []received{
		{Method: "GET", Target: "/svc/accounts/acct-1"},
		{Method: "POST", Target: "/svc/accounts/acct-1/lock", Body: map[string]any{"reason": "suspicious login"}},
		{Method: "POST", Target: "/svc/accounts/acct-1/unlock", Body: map[string]any{}},
		{Method: "POST", Target: "/svc/accounts/acct-1/sessions/revoke", Body: map[string]any{}},
		{Method: "POST", Target: "/svc/accounts/acct-1/credentials/reset", IdempotencyKey: "recovery/R-1/7",
			Body: map[string]any{"reset_mfa": true}},
		{Method: "POST", Target: "/svc/accounts/acct-1/contact", IdempotencyKey: "profile/P-1/3",
			Body: map[string]any{"kind": "phone", "value": "+33612345678"}},
		{Method: "POST", Target: "/svc/accounts/merge", IdempotencyKey: "case/C-1/9",
			Body: map[string]any{"from_id": "acct-2", "into_id": "acct-1"}},
	}
	require.Len(t, got, len(want))
	for i := range want {
		want[i].KeyID, want[i].SignatureOK = "k1", true
		assert.Equal(t, want[i], got[i], "request %d", i)
	}
}

func TestHTTPSignatureCoversTheEscapedPath(t *testing.T) {
	h, f := serve(t, func(int, *http.Request) (int, any) { return http.StatusOK, demoAccount("a/b c") })
	_, err := h.Get(t.Context(), "a/b c")
	require.NoError(t, err)
	got := f.requests()
	require.Len(t, got, 1)
	assert.Equal(t, "/svc/accounts/a%2Fb%20c", got[0].Target, "the id stays one path segment")
	assert.True(t, got[0].SignatureOK)
}

func TestHTTPSignatureIsCheckedByTheService(t *testing.T) {
	// The same service with another secret refuses every request: the
	// signature does depend on the secret.
	h, f := serve(t, func(int, *http.Request) (int, any) { return http.StatusOK, demoAccount("acct-1") },
		func(c *HTTPConfig) { c.Secret = "another-secret-of-at-least-32-bytes" })
	_, err := h.Get(t.Context(), "acct-1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	require.Len(t, f.requests(), 1, "401 is not retried")
	assert.False(t, f.requests()[0].SignatureOK)
}

func TestHTTPRetries503WithTheSameIdempotencyKey(t *testing.T) {
	h, f := serve(t, func(n int, _ *http.Request) (int, any) {
		if n < 3 {
			return http.StatusServiceUnavailable, map[string]string{"detail": "warming up"}
		}
		return http.StatusOK, demoAccount("acct-1")
	})
	a, err := h.ResetCredentials(t.Context(), "acct-1", false, "recovery/R-2/4")
	require.NoError(t, err)
	assert.Equal(t, "acct-1", a.ID)
	got := f.requests()
	require.Len(t, got, 3, "two 503s, then the answer")
	for _, r := range got {
		assert.Equal(t, "recovery/R-2/4", r.IdempotencyKey)
		assert.True(t, r.SignatureOK, "each retry is signed afresh")
	}
}

func TestHTTPGivesUpAfterMaxAttemptsOn5xx(t *testing.T) {
	h, f := serve(t, func(int, *http.Request) (int, any) {
		return http.StatusInternalServerError, map[string]string{"detail": "database down"}
	})
	_, err := h.Lock(t.Context(), "acct-1", "incident")
	require.Error(t, err)
	assert.Len(t, f.requests(), 3)
	assert.Contains(t, err.Error(), "500 Internal Server Error")
	assert.Contains(t, err.Error(), "gave up after 3 attempts")
	assert.Contains(t, err.Error(), "lock account acct-1")
	for _, sentinel := range []error{ErrNotFound, ErrInvalid, ErrConflict} {
		assert.NotErrorIs(t, err, sentinel, "a 5xx is not a business refusal")
	}
}

func TestHTTPNeverRetries4xx(t *testing.T) {
	cases := []struct {
		status int
		want   error
	}{
		{http.StatusBadRequest, ErrInvalid},
		{http.StatusUnprocessableEntity, ErrInvalid},
		{http.StatusNotFound, ErrNotFound},
		{http.StatusConflict, ErrConflict},
		{http.StatusTooManyRequests, nil},
		{http.StatusForbidden, nil},
	}
	for _, c := range cases {
		t.Run(strconv.Itoa(c.status), func(t *testing.T) {
			h, f := serve(t, func(int, *http.Request) (int, any) {
				return c.status, map[string]string{"detail": "refused"}
			})
			_, err := h.ChangeContact(t.Context(), "acct-1", ContactEmail, "ada@example.com", "k-1")
			require.Error(t, err)
			assert.Len(t, f.requests(), 1, "a 4xx answer is final")
			assert.Contains(t, err.Error(), strconv.Itoa(c.status))
			assert.Contains(t, err.Error(), `"refused"`, "the service's detail is kept")
			if c.want != nil {
				assert.ErrorIs(t, err, c.want)
			}
		})
	}
}

func TestHTTPTimesOutASlowServerAndRetries(t *testing.T) {
	release := make(chan struct{})
	h, f := serve(t, func(_ int, r *http.Request) (int, any) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return http.StatusOK, demoAccount("acct-1")
	}, func(c *HTTPConfig) { c.Timeout = 50 * time.Millisecond; c.MaxAttempts = 2 })
	defer close(release)

	start := time.Now()
	_, err := h.Get(t.Context(), "acct-1")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second, "each attempt stops at its timeout")
	assert.Len(t, f.requests(), 2, "a timed-out attempt is retried")
}

func TestHTTPStopsWhenTheCallerGivesUp(t *testing.T) {
	h, f := serve(t, func(int, *http.Request) (int, any) {
		return http.StatusServiceUnavailable, nil
	}, func(c *HTTPConfig) { c.Backoff = time.Hour; c.MaxAttempts = 5 })
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := h.Get(ctx, "acct-1")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second, "the backoff wait ends with the caller's context")
	assert.Len(t, f.requests(), 1)
}

func TestHTTPRetriesAnUnreachableService(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there any more
	var logged countingHandler
	h, err := NewHTTP(HTTPConfig{BaseURL: addr, KeyID: "k1", Secret: testSecret,
		MaxAttempts: 3, Backoff: time.Millisecond, Logger: slog.New(&logged)})
	require.NoError(t, err)
	_, err = h.Get(t.Context(), "acct-1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gave up after 3 attempts")
	assert.NotErrorIs(t, err, ErrNotFound)
	assert.Equal(t, 2, logged.count(), "each retry is logged")
}

func TestHTTPRefusesBadRequestsWithoutCallingTheService(t *testing.T) {
	h, f := serve(t, func(int, *http.Request) (int, any) { return http.StatusOK, demoAccount("x") })
	ctx := t.Context()
	_, err1 := h.ResetCredentials(ctx, "acct-1", true, "")
	_, err2 := h.ChangeContact(ctx, "acct-1", "fax", "123", "k")
	_, err3 := h.ChangeContact(ctx, "acct-1", ContactEmail, "Ada <ada@example.com>", "k")
	err4 := h.Merge(ctx, "acct-1", "acct-1", "k")
	_, err5 := h.Lock(ctx, "acct-1", " ")
	_, err6 := h.Get(ctx, "..")
	for i, err := range []error{err1, err2, err3, err4, err5, err6} {
		assert.ErrorIs(t, err, ErrInvalid, "call %d", i+1)
	}
	assert.Empty(t, f.requests())
}

func TestNewHTTPRefusesABadConfiguration(t *testing.T) {
	for _, cfg := range []HTTPConfig{
		{BaseURL: "ftp://accounts", KeyID: "k", Secret: testSecret},
		{BaseURL: "https://accounts.example?x=1", KeyID: "k", Secret: testSecret},
		{BaseURL: "https://accounts.example", KeyID: "k"},
		{BaseURL: "https://accounts.example", Secret: testSecret},
	} {
		_, err := NewHTTP(cfg)
		assert.Error(t, err, "%+v", cfg)
	}
}

// countingHandler counts the records logged at warn level or above.
type countingHandler struct {
	mu sync.Mutex
	n  int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.mu.Lock()
		h.n++
		h.mu.Unlock()
	}
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }
func (h *countingHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// The worked example of docs/account-service.md, computed apart (Python's
// hmac module): the documented scheme and Signature agree.
func TestSignatureMatchesTheDocumentedExample(t *testing.T) {
	got := Signature([]byte("0123456789abcdef0123456789abcdef"), "POST", "/accounts/acct-1001/lock",
		1767225600, []byte(`{"reason":"suspicious login"}`))
	assert.Equal(t, "v1=4255ab6438c583cc2e7f169e4dc953580d748ee0cbb373b7b05e7c77373be84c", got)
	doc, err := os.ReadFile("../docs/account-service.md")
	require.NoError(t, err)
	assert.Contains(t, string(doc), "X-Handoff-Signature: "+got)
}

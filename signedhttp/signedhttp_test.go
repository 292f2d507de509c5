package signedhttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"reason":"suspicious login"}`)
	now := time.Unix(1767225600, 0)
	sig := Sign(secret, "POST", "/accounts/acct-1001/lock", now.Unix(), body)
	h := http.Header{}
	h.Set(HeaderTimestamp, "1767225600")
	h.Set(HeaderSignature, sig)
	if err := Verify(h, secret, "POST", "/accounts/acct-1001/lock", body, now, time.Minute); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	cases := map[string]struct {
		mutate func(http.Header)
		at     time.Time
		want   Failure
	}{
		"bad timestamp": {func(h http.Header) { h.Set(HeaderTimestamp, "x") }, now, BadTimestamp},
		"stale":         {func(http.Header) {}, now.Add(2 * time.Minute), StaleTimestamp},
		"bad signature": {func(h http.Header) { h.Set(HeaderSignature, "v1=00") }, now, BadSignature},
	}
	for name, c := range cases {
		h := h.Clone()
		c.mutate(h)
		var ve *VerifyError
		if err := Verify(h, secret, "POST", "/accounts/acct-1001/lock", body, c.at, time.Minute); !errors.As(err, &ve) || ve.Failure != c.want {
			t.Errorf("%s: got %v, want failure %d", name, err, c.want)
		}
	}
}

func TestAttemptSignsAndRetry(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(HeaderKeyID) != "k1" || r.Header.Get(HeaderIdempotencyKey) != "idem" ||
			r.Header.Get("User-Agent") != "Test/1" ||
			Verify(r.Header, secret, r.Method, r.RequestURI, body, time.Now(), time.Minute) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if calls.Add(1) < 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	c := New(Config{BaseURL: srv.URL + "/", KeyID: "k1", Secret: string(secret), Backoff: time.Millisecond}, "Test/1")
	var got *Response
	err := c.Retry(context.Background(), Retry{
		Message: "retrying",
		GaveUp:  func(err error, _ int) error { return err },
		Stopped: func(err, _ error) error { return err },
	}, func() (bool, error) {
		resp, err := c.Attempt(context.Background(), "POST", "/x", "idem", []byte(`{}`))
		if err != nil {
			return true, err
		}
		if resp.StatusCode >= 500 {
			return true, errors.New(resp.Status)
		}
		got = resp
		return false, nil
	})
	if err != nil || got == nil || got.StatusCode != 200 || string(got.Body) != `{"ok":true}` || calls.Load() != 2 {
		t.Fatalf("got %+v, %v after %d calls", got, err, calls.Load())
	}
}

func TestRetryGivesUp(t *testing.T) {
	c := New(Config{MaxAttempts: 2, Backoff: time.Millisecond}, "Test/1")
	n := 0
	err := c.Retry(context.Background(), Retry{
		GaveUp:  func(err error, attempts int) error { return errors.New("gave up") },
		Stopped: func(err, _ error) error { return err },
	}, func() (bool, error) { n++; return true, errors.New("boom") })
	if err == nil || err.Error() != "gave up" || n != 2 {
		t.Fatalf("got %v after %d attempts", err, n)
	}
}

func TestQuoteAnswer(t *testing.T) {
	if got := QuoteAnswer([]byte(`{"title":"Bad","detail":"no  such\nthing"}`)); got != `: "no such thing"` {
		t.Errorf("got %s", got)
	}
	if got := QuoteAnswer(nil); got != "" {
		t.Errorf("got %q", got)
	}
}

func TestCheckBaseURL(t *testing.T) {
	for raw, ok := range map[string]bool{"http://x": true, "https://x/p": true, "ftp://x": false, "http://": false, "http://x?q=1": false, "http://x#f": false} {
		if err := CheckBaseURL(raw); (err == nil) != ok {
			t.Errorf("CheckBaseURL(%q) = %v", raw, err)
		}
	}
}

func TestVerifyAnyAcceptsASignatureByAnyListedSecretAndRefusesOneByNone(t *testing.T) {
	current := []byte("the-new-secret-of-this-rotation-0001")
	old := []byte("the-old-secret-of-this-rotation-0001")
	other := []byte("a-secret-nobody-listed-at-all-00001")
	body := []byte(`{"movement":"mv-1"}`)
	now := time.Unix(1767225600, 0)
	signed := func(secret []byte) http.Header {
		h := http.Header{}
		h.Set(HeaderTimestamp, "1767225600")
		h.Set(HeaderSignature, Sign(secret, "POST", "/webhooks/payments", now.Unix(), body))
		return h
	}
	list := [][]byte{current, old}
	for name, secret := range map[string][]byte{"current": current, "old": old} {
		if err := VerifyAny(signed(secret), list, "POST", "/webhooks/payments", body, now, time.Minute); err != nil {
			t.Errorf("signed by the %s secret: %v", name, err)
		}
	}
	var ve *VerifyError
	if err := VerifyAny(signed(other), list, "POST", "/webhooks/payments", body, now, time.Minute); !errors.As(err, &ve) || ve.Failure != BadSignature {
		t.Errorf("signed by no listed secret: got %v, want BadSignature", err)
	}
	if err := VerifyAny(signed(old), list, "POST", "/webhooks/payments", body, now.Add(2*time.Minute), time.Minute); !errors.As(err, &ve) || ve.Failure != StaleTimestamp {
		t.Errorf("stale, signed by a listed secret: got %v, want StaleTimestamp", err)
	}
	if err := VerifyAny(signed(current), nil, "POST", "/webhooks/payments", body, now, time.Minute); !errors.As(err, &ve) || ve.Failure != BadSignature {
		t.Errorf("no secrets: got %v, want BadSignature", err)
	}
}

func TestSplitSecretsKeepsOrderAndEmptyEntries(t *testing.T) {
	got := SplitSecrets(" a , b,,c")
	want := []string{"a", "b", "", "c"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

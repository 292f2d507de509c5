package carrier_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/carrier"

	"handoff/signedhttp"
)

const secret = "0123456789abcdef0123456789abcdef"

func request() carrier.LabelRequest {
	return carrier.LabelRequest{
		IdempotencyKey: "return/R-1/label",
		ReturnID:       "R-1",
		From:           carrier.Address{Name: "Ada Buyer", Line1: "1 Rue de Rivoli", City: "Paris", PostalCode: "75001", Country: "FR"},
		To:             carrier.Address{Name: "Shop GmbH", Line1: "Hauptstr. 5", City: "Berlin", PostalCode: "10115", Country: "DE"},
		WeightGrams:    1200,
	}
}

func newClient(t *testing.T, url string) *carrier.HTTP {
	t.Helper()
	c, err := carrier.NewHTTP(carrier.HTTPConfig{BaseURL: url, KeyID: "k1", Secret: secret, Backoff: time.Millisecond})
	require.NoError(t, err)
	return c
}

func TestNewHTTPRefusesShortSecret(t *testing.T) {
	_, err := carrier.NewHTTP(carrier.HTTPConfig{BaseURL: "http://x", KeyID: "k1", Secret: "short"})
	require.Error(t, err)
	_, err = carrier.NewHTTP(carrier.HTTPConfig{BaseURL: "ftp://x", KeyID: "k1", Secret: secret})
	require.Error(t, err)
}

func TestCreateLabelIsSignedAndCarriesTheKey(t *testing.T) {
	var keys []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		assert.Equal(t, "/base/labels", r.RequestURI)
		assert.Equal(t, "k1", r.Header.Get(signedhttp.HeaderKeyID))
		ts, err := strconv.ParseInt(r.Header.Get(signedhttp.HeaderTimestamp), 10, 64)
		assert.NoError(t, err)
		assert.Equal(t, carrier.Signature([]byte(secret), "POST", r.RequestURI, ts, body), r.Header.Get(signedhttp.HeaderSignature))
		var got map[string]any
		assert.NoError(t, json.Unmarshal(body, &got))
		assert.Equal(t, "R-1", got["return_id"])
		assert.EqualValues(t, 1200, got["weight_grams"])
		assert.NotContains(t, got, "IdempotencyKey")
		mu.Lock()
		keys = append(keys, r.Header.Get(signedhttp.HeaderIdempotencyKey))
		n := len(keys)
		mu.Unlock()
		if n == 1 { // the first attempt fails: the retry must carry the same key
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"lbl_1","tracking_number":"HC1","label_url":"http://c/l.pdf","return_id":"R-1","created_at":"2026-03-04T10:00:00Z"}`))
	}))
	defer srv.Close()
	l, err := newClient(t, srv.URL+"/base/").CreateLabel(context.Background(), request())
	require.NoError(t, err)
	assert.Equal(t, "HC1", l.TrackingNumber)
	assert.Equal(t, []string{"return/R-1/label", "return/R-1/label"}, keys)
}

func TestSignatureWorkedExample(t *testing.T) {
	// The example of docs/carrier.md, the same as docs/account-service.md's algorithm.
	assert.Equal(t, "v1=4255ab6438c583cc2e7f169e4dc953580d748ee0cbb373b7b05e7c77373be84c",
		carrier.Signature([]byte(secret), "POST", "/accounts/acct-1001/lock", 1767225600, []byte(`{"reason":"suspicious login"}`)))
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		code     int
		want     error
		attempts int
	}{
		{http.StatusUnprocessableEntity, carrier.ErrRefused, 1},
		{http.StatusBadRequest, carrier.ErrRefused, 1},
		{http.StatusNotFound, carrier.ErrNotFound, 1},
		{http.StatusConflict, carrier.ErrConflict, 1},
		{http.StatusInternalServerError, carrier.ErrTransient, 3},
		{http.StatusTooManyRequests, carrier.ErrTransient, 3},
	} {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			var mu sync.Mutex
			n := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n++
				mu.Unlock()
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(tc.code)
				_, _ = w.Write([]byte(`{"detail":"to address: unknown postal code"}`))
			}))
			defer srv.Close()
			_, err := newClient(t, srv.URL).CreateLabel(context.Background(), request())
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), "unknown postal code")
			for _, other := range []error{carrier.ErrRefused, carrier.ErrNotFound, carrier.ErrConflict, carrier.ErrTransient} {
				if other != tc.want {
					assert.NotErrorIs(t, err, other)
				}
			}
			mu.Lock()
			assert.Equal(t, tc.attempts, n)
			mu.Unlock()
		})
	}
}

func TestNetworkErrorIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := newClient(t, url).Track(context.Background(), "HC1")
	require.ErrorIs(t, err, carrier.ErrTransient)
}

func TestBadRequestIsRefusedBeforeSending(t *testing.T) {
	req := request()
	req.To.PostalCode = ""
	req.WeightGrams = 0
	_, err := newClient(t, "http://127.0.0.1:1").CreateLabel(context.Background(), req)
	require.ErrorIs(t, err, carrier.ErrRefused)
	assert.Contains(t, err.Error(), "postal_code")
	assert.Contains(t, err.Error(), "weight")
}

func TestTrack(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "GET", r.Method)
		assert.Equal(t, "/tracking/HC%2F1", r.RequestURI)
		ts, _ := strconv.ParseInt(r.Header.Get(signedhttp.HeaderTimestamp), 10, 64)
		assert.Equal(t, carrier.Signature([]byte(secret), "GET", r.RequestURI, ts, nil), r.Header.Get(signedhttp.HeaderSignature))
		_, _ = w.Write([]byte(`{"tracking_number":"HC/1","events":[
			{"id":"carrier/HC/1/1","kind":"label_created","tracking_number":"HC/1","return_id":"R-1","at":"2026-03-04T10:00:00Z"},
			{"id":"carrier/HC/1/2","kind":"shipped","tracking_number":"HC/1","return_id":"R-1","at":"2026-03-05T10:00:00Z"}]}`))
	}))
	defer srv.Close()
	evs, err := newClient(t, srv.URL).Track(context.Background(), "HC/1")
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, carrier.Shipped, evs[1].Kind)
	assert.Equal(t, "carrier/HC/1/2", evs[1].ID)
}

package webhookinbox

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/activities"
	"handoff/standardwebhooks"
)

// testSecret is the local stack's default WEBHOOK_SIGNING_SECRET.
const testSecret = "whsec_aGFuZG9mZi1sb2NhbC1kZXYtd2ViaG9vay1zZWNyZXQ="

// otherSecret is a valid secret that is not the inbox's.
const otherSecret = "whsec_c29tZWJvZHktZWxzZXMtc2lnbmluZy1zZWNyZXQ="

var testNow = time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)

func newTestInbox(t *testing.T, capacity int) *httptest.Server {
	t.Helper()
	in, err := New(testSecret, Options{
		Capacity: capacity,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:      func() time.Time { return testNow },
	})
	require.NoError(t, err)
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	return srv
}

// signed answers a POST to srv's channel with body, signed with secret
// the way Handoff's webhook poster signs.
func signed(t *testing.T, srv *httptest.Server, channel, id, secret string, body []byte) *http.Request {
	t.Helper()
	signer, err := standardwebhooks.NewVerifier(secret, 0, nil)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/hooks/"+channel, bytes.NewReader(body))
	require.NoError(t, err)
	ts := testNow.Add(-3 * time.Second).Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderID, id)
	req.Header.Set(standardwebhooks.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(standardwebhooks.HeaderSignature, signer.Sign(id, ts, body))
	req.Header.Set(standardwebhooks.HeaderKeyID, "local")
	return req
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func listed(t *testing.T, srv *httptest.Server, query string) []Delivery {
	t.Helper()
	resp, err := http.Get(srv.URL + "/hooks" + query)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var out []Delivery
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

func TestSignedWebhookIsAcceptedAndListed(t *testing.T) {
	srv := newTestInbox(t, 0)
	body := []byte(`{"type":"case.opened","data":{"case":{"id":"C-1"}}}`)

	status, _ := send(t, signed(t, srv, "marketplace", "case/C-1/1/customer/marketplace_webhook", testSecret, body))

	require.Equal(t, http.StatusNoContent, status)
	got := listed(t, srv, "")
	require.Len(t, got, 1)
	d := got[0]
	assert.Equal(t, "marketplace", d.Channel)
	assert.Equal(t, "case/C-1/1/customer/marketplace_webhook", d.ID)
	assert.Equal(t, "local", d.KeyID)
	assert.True(t, d.Verified)
	assert.Empty(t, d.Error)
	assert.Equal(t, uint64(1), d.Seq)
	assert.True(t, d.ReceivedAt.Equal(testNow))
	assert.JSONEq(t, string(body), string(d.Body))
}

func TestTamperedBodyIsRefusedButListed(t *testing.T) {
	srv := newTestInbox(t, 0)
	req := signed(t, srv, "team/security", "case/C-2/4/team/team_webhook", testSecret, []byte(`{"text":"SLA breached"}`))
	req.Body = io.NopCloser(bytes.NewReader([]byte(`{"text":"all fine"}`)))
	req.ContentLength = -1

	status, msg := send(t, req)

	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, msg, "no v1 signature matches")
	got := listed(t, srv, "")
	require.Len(t, got, 1)
	assert.False(t, got[0].Verified)
	assert.Equal(t, "team/security", got[0].Channel)
	assert.Contains(t, got[0].Error, "no v1 signature matches")
	assert.JSONEq(t, `{"text":"all fine"}`, string(got[0].Body), "a developer sees what actually arrived")
}

func TestWebhookSignedWithAnotherSecretIsRefused(t *testing.T) {
	srv := newTestInbox(t, 0)

	status, _ := send(t, signed(t, srv, "marketplace", "case/C-3/1/customer/marketplace_webhook", otherSecret, []byte(`{}`)))

	assert.Equal(t, http.StatusUnauthorized, status)
	got := listed(t, srv, "")
	require.Len(t, got, 1)
	assert.False(t, got[0].Verified)
}

func TestStaleTimestampIsRefused(t *testing.T) {
	srv := newTestInbox(t, 0)
	body := []byte(`{}`)
	req := signed(t, srv, "marketplace", "old", testSecret, body)
	// Correctly signed, but an hour old: a replay as far as a receiver can tell.
	ts := testNow.Add(-time.Hour).Unix()
	signer, err := standardwebhooks.NewVerifier(testSecret, 0, nil)
	require.NoError(t, err)
	req.Header.Set(standardwebhooks.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(standardwebhooks.HeaderSignature, signer.Sign("old", ts, body))

	status, msg := send(t, req)

	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, msg, "outside the tolerance")
}

func TestUnsignedWebhookIsRefusedButListed(t *testing.T) {
	srv := newTestInbox(t, 0)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/hooks/team/tier1_support", bytes.NewReader([]byte("plain text")))
	require.NoError(t, err)

	status, _ := send(t, req)

	assert.Equal(t, http.StatusUnauthorized, status)
	got := listed(t, srv, "")
	require.Len(t, got, 1)
	assert.Equal(t, standardwebhooks.ErrMissingHeaders.Error(), got[0].Error)
	assert.JSONEq(t, `"plain text"`, string(got[0].Body), "a body that is not JSON is listed as a string")
}

func TestChannelFilterNarrowsTheListNewestFirst(t *testing.T) {
	srv := newTestInbox(t, 0)
	for i, ch := range []string{"marketplace", "team/security", "team/tier1_support", "marketplace"} {
		status, _ := send(t, signed(t, srv, ch, "id-"+strconv.Itoa(i+1), testSecret, []byte(`{}`)))
		require.Equal(t, http.StatusNoContent, status)
	}

	ids := func(ds []Delivery) []string {
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = d.ID
		}
		return out
	}
	assert.Equal(t, []string{"id-4", "id-3", "id-2", "id-1"}, ids(listed(t, srv, "")))
	assert.Equal(t, []string{"id-4", "id-1"}, ids(listed(t, srv, "?channel=marketplace")))
	assert.Equal(t, []string{"id-3", "id-2"}, ids(listed(t, srv, "?channel=team")))
	assert.Equal(t, []string{"id-2"}, ids(listed(t, srv, "?channel=team/security")))
	assert.Empty(t, listed(t, srv, "?channel=market"), "a filter matches whole segments only")
}

func TestOldestDeliveriesAreDroppedPastCapacity(t *testing.T) {
	srv := newTestInbox(t, 3)
	for i := range 7 {
		status, _ := send(t, signed(t, srv, "marketplace", "id-"+strconv.Itoa(i+1), testSecret, []byte(`{}`)))
		require.Equal(t, http.StatusNoContent, status)
	}

	got := listed(t, srv, "")

	require.Len(t, got, 3)
	for i, seq := range []uint64{7, 6, 5} {
		assert.Equal(t, seq, got[i].Seq)
		assert.Equal(t, "id-"+strconv.FormatUint(seq, 10), got[i].ID)
	}
}

func TestMalformedChannelIsNotFound(t *testing.T) {
	srv := newTestInbox(t, 0)
	for _, ch := range []string{"Marketplace", "team/", "team/sécurité"} {
		status, _ := send(t, signed(t, srv, ch, "x", testSecret, []byte(`{}`)))
		assert.Equal(t, http.StatusNotFound, status, ch)
	}
	assert.Empty(t, listed(t, srv, ""))
}

func TestOversizedBodyIsRefused(t *testing.T) {
	srv := newTestInbox(t, 0)
	status, _ := send(t, signed(t, srv, "marketplace", "big", testSecret, bytes.Repeat([]byte("a"), maxBody+1)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
}

func TestHealthz(t *testing.T) {
	srv := newTestInbox(t, 0)
	resp, err := http.Get(srv.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// The inbox checks with package standardwebhooks, which spells the headers
// apart from the worker's poster on purpose; they must stay the ones
// Handoff sends.
func TestHeaderNamesAreTheOnesHandoffSends(t *testing.T) {
	assert.Equal(t, activities.HeaderWebhookID, standardwebhooks.HeaderID)
	assert.Equal(t, activities.HeaderWebhookTimestamp, standardwebhooks.HeaderTimestamp)
	assert.Equal(t, activities.HeaderWebhookSignature, standardwebhooks.HeaderSignature)
	assert.Equal(t, activities.HeaderWebhookKeyID, standardwebhooks.HeaderKeyID)
}

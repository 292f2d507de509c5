//go:build integration

package main

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"handoff/codec"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// plainTemporal answers a client of the stack's Temporal without the
// payload codec: what anyone with access to the Web UI or the history
// store, and no key, reads.
func plainTemporal(t *testing.T) client.Client {
	t.Helper()
	opts, err := stacktest.Config(t).Temporal.ClientOptions(stacktest.Logger(t), nil)
	require.NoError(t, err)
	opts.DataConverter, opts.FailureConverter = nil, nil
	c, err := client.DialContext(stacktest.Context(t), opts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// rawText answers msg as JSON with every payload's data also base64-decoded,
// so a search sees what a reader without the key sees.
func rawText(t *testing.T, msg proto.Message) string {
	t.Helper()
	data, err := protojson.Marshal(msg)
	require.NoError(t, err)
	var b strings.Builder
	b.Write(data)
	for _, m := range regexp.MustCompile(`"data":"([A-Za-z0-9+/=]+)"`).FindAllSubmatch(data, -1) {
		decoded, err := base64.StdEncoding.DecodeString(string(m[1]))
		require.NoError(t, err)
		b.Write(decoded)
	}
	return b.String()
}

func TestACaseHistoryHoldsNoCustomerDataInClearAndTheCodecShowsIt(t *testing.T) {
	s := newCaseStack(t)
	body := newCaseBody(vocab.CategoryLoginFailure)
	body.Customer.Name = "Grace Hopper-" + unique()
	body.Description = "My secret message " + unique()
	v := s.open(t, store.RoleIntegration, body)
	require.Equal(t, http.StatusOK, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+v.ID+"/replies", map[string]any{"body": "Reply to " + body.Customer.Name}).Status)
	workflowID := cases.CaseWorkflowID(v.ID)
	pii := []string{body.Customer.Email, body.Customer.Name, body.Subject, body.Description}

	plain := plainTemporal(t)
	var started *commonpb.Payloads
	it := plain.GetWorkflowHistory(stacktest.Context(t), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		text := rawText(t, e)
		for _, p := range pii {
			assert.NotContains(t, text, p, "event %d %s", e.GetEventId(), e.GetEventType())
		}
		if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			started = a.GetInput()
		}
	}
	require.NotNil(t, started)
	assert.Equal(t, codec.Encoding, string(started.GetPayloads()[0].GetMetadata()[converter.MetadataEncoding]))

	// Search attributes, memo and summaries: ids and categories only.
	desc, err := plain.DescribeWorkflowExecution(stacktest.Context(t), workflowID, "")
	require.NoError(t, err)
	info := desc.GetWorkflowExecutionInfo()
	cdc, err := s.cfg.Temporal.Codec()
	require.NoError(t, err)
	for name, p := range info.GetSearchAttributes().GetIndexedFields() {
		var val any
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &val), name)
		for _, x := range pii {
			assert.NotContains(t, strings.ToLower(stringOf(val)), strings.ToLower(x), "search attribute %s", name)
		}
	}
	meta := desc.GetExecutionConfig().GetUserMetadata()
	for name, p := range map[string]*commonpb.Payload{"summary": meta.GetSummary(), "details": meta.GetDetails()} {
		if p == nil {
			continue
		}
		opened, err := cdc.Decode([]*commonpb.Payload{p})
		require.NoError(t, err)
		for _, x := range pii {
			assert.NotContains(t, string(opened[0].GetData()), x, name)
		}
	}
	for name, p := range info.GetMemo().GetFields() {
		opened, err := cdc.Decode([]*commonpb.Payload{p})
		require.NoError(t, err)
		for _, x := range pii {
			assert.NotContains(t, string(opened[0].GetData()), x, "memo %s", name)
		}
	}

	// The codec server opens them for an allowed role only.
	req, err := protojson.Marshal(started)
	require.NoError(t, err)
	r := s.as(t, store.RoleAdmin, http.MethodPost, "/codec/decode", req, "X-Namespace", s.cfg.Temporal.Namespace)
	require.Equal(t, http.StatusOK, r.Status, "%s", r)
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(r.Body, &out))
	assert.Contains(t, string(out.GetPayloads()[0].GetData()), body.Customer.Email)

	problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/codec/decode", req), http.StatusForbidden)
	problemOf(t, s.with(t, "", http.MethodPost, "/codec/decode", req), http.StatusUnauthorized)
	problemOf(t, s.as(t, store.RoleAdmin, http.MethodPost, "/codec/decode", req, "X-Namespace", "other"), http.StatusForbidden)

	// CORS answers the Web UI's origin, with credentials, and no other.
	r = s.as(t, store.RoleAdmin, http.MethodOptions, "/codec/decode", nil, "Origin", "http://localhost:8233",
		"Access-Control-Request-Method", "POST")
	assert.Equal(t, http.StatusNoContent, r.Status)
	assert.Equal(t, "http://localhost:8233", r.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", r.Header.Get("Access-Control-Allow-Credentials"))
	r = s.as(t, store.RoleAdmin, http.MethodPost, "/codec/decode", req, "Origin", "https://evil.example")
	assert.Empty(t, r.Header.Get("Access-Control-Allow-Origin"))

	// An operator signs in once; the Web UI's calls carry the cookie.
	form := url.Values{"key": {s.keys[store.RoleAdmin].Secret}}.Encode()
	signIn, err := http.NewRequestWithContext(stacktest.Context(t), http.MethodPost, s.base+"/codec/session", strings.NewReader(form))
	require.NoError(t, err)
	signIn.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(signIn)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "handoff_codec" {
			cookie = c
		}
	}
	require.NotNil(t, cookie)
	assert.True(t, cookie.HttpOnly)
	viaCookie, err := http.NewRequestWithContext(stacktest.Context(t), http.MethodPost, s.base+"/codec/decode", bytes.NewReader(req))
	require.NoError(t, err)
	viaCookie.Header.Set("Content-Type", "application/json")
	viaCookie.AddCookie(cookie)
	resp, err = http.DefaultClient.Do(viaCookie)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// A signed-in agent is refused on the page itself.
	form = url.Values{"key": {s.keys[store.RoleAgent].Secret}}.Encode()
	resp, err = http.Post(s.base+"/codec/session", "application/x-www-form-urlencoded", strings.NewReader(form))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, resp.Cookies())
}

// stringOf answers a search attribute's value as text.
func stringOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, stringOf(e))
		}
		return strings.Join(parts, " ")
	}
	return ""
}

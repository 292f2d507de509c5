package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"handoff/evidence"
	"handoff/store"
	"handoff/workflows/accountflows"
	"handoff/workflows/deliveries"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// deliveryServer is the API without a stack: the shipped policy, fake keys,
// an evidence store whose S3 is never called (made-up credentials sign its
// presigned URLs) and tc as Temporal (nil: a request that reaches Temporal
// panics, so a test shows none does).
func deliveryServer(t *testing.T, tc client.Client) http.Handler {
	t.Helper()
	book, err := sla.Load(filepath.Join("..", "deploy", "sla", "default.yaml"))
	require.NoError(t, err)
	s := &server{registry: prometheus.NewRegistry(), lookupKey: fakeKeys, logger: quiet, book: book, temporal: tc,
		evidence: evidence.NewStore(s3.New(s3.Options{Region: "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider("test-key", "test-secret", "")}), "unused", defaultEvidenceConfig(t))}
	return s.routes()
}

// send posts body (JSON) to path as role and decodes a problem answer.
func send(t *testing.T, h http.Handler, role store.Role, path, body string) (*httptest.ResponseRecorder, problem) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer key-"+string(role))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var p problem
	if rec.Header().Get("Content-Type") == "application/problem+json" {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	}
	return rec, p
}

func problemFields(p problem) []string {
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

func TestStartingAnEmptyDeliveryNamesEveryMissingHandoffFieldAtOnce(t *testing.T) {
	rec, p := send(t, deliveryServer(t, nil), store.RoleIntegration, "/v1/deliveries", `{}`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "urn:handoff:problem:invalid-fields", p.Type)
	assert.Equal(t, []string{"account_id", "order_id", "buyer.id", "buyer.email", "buyer.locale", "seller_id",
		"product", "allowed_use", "region", "recovery_path", "recovery_path.reset_by"}, problemFields(p))
	for _, f := range p.Errors {
		assert.NotEmpty(t, f.Message, f.Field)
	}
}

func TestStartingADeliveryNamesOnlyWhatIsWrong(t *testing.T) {
	body := map[string]any{
		"account_id": "acc-1", "order_id": "ord-1", "seller_id": "sel-1", "product": "game", "allowed_use": "personal play",
		"region": "eu", "buyer": map[string]string{"id": "cus-1", "email": "not-an-address", "locale": "fr"},
		"recovery_path": map[string]any{"email": "rec@example.com", "reset_by": "seller"},
	}
	data, err := json.Marshal(body)
	require.NoError(t, err)
	rec, p := send(t, deliveryServer(t, nil), store.RoleIntegration, "/v1/deliveries", string(data))
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	assert.Equal(t, []fieldProblem{{Field: "buyer.email", Message: "must be an email address"}}, p.Errors)
}

func TestStartRefusalsComeBeforeTemporal(t *testing.T) {
	h := deliveryServer(t, nil)
	for _, c := range []struct {
		name, body string
		status     int
		field      string
		message    string
	}{
		{"a zero warranty", `{"warranty": "0s"}`, 422, "warranty", "must be positive"},
		{"a warranty over a year", `{"warranty": "9000h"}`, 422, "warranty", "at most 8760h"},
		{"a warranty in words", `{"warranty": "two weeks"}`, 422, "warranty", ""},
		{"a locale not spoken", `{"buyer": {"locale": "de"}}`, 422, "buyer.locale", ""},
		{"nobody to reset the account", `{"recovery_path": {"reset_by": "nobody"}}`, 422, "recovery_path.reset_by", ""},
		{"an unknown field", `{"acount_id": "acc-1"}`, 400, "acount_id", "is not a field of this request"},
		{"a NUL in a field", `{"order_id": "ord\u0000"}`, 422, "order_id", "must not contain NUL characters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec, p := send(t, h, store.RoleIntegration, "/v1/deliveries", c.body)
			require.Equal(t, c.status, rec.Code, rec.Body.String())
			require.Contains(t, problemFields(p), c.field)
			if c.message != "" {
				assert.Contains(t, p.Errors, fieldProblem{Field: c.field, Message: c.message})
			}
		})
	}
}

func TestDeliveryActionRefusalsComeBeforeTemporal(t *testing.T) {
	h := deliveryServer(t, nil)
	for _, c := range []struct {
		path, body string
		field      string
	}{
		{"/v1/deliveries/D-1/extend-warranty", `{"by": "0h", "reason": "goodwill"}`, "by"},
		{"/v1/deliveries/D-1/extend-warranty", `{"by": "a week", "reason": "goodwill"}`, "by"},
		{"/v1/deliveries/D-1/extend-warranty", `{"by": "24h"}`, "reason"},
		{"/v1/deliveries/D-1/report-problem", `{"description": ""}`, "description"},
		{"/v1/deliveries/D-1/wait-on-buyer", `{}`, "reason"},
		{"/v1/deliveries/D-1/retire", `{"reason": "bad\u0000"}`, "reason"},
		{"/v1/deliveries/D-1/deliver", `{"note": "` + strings.Repeat("n", 2001) + `"}`, "note"},
	} {
		rec, p := send(t, h, store.RoleAdmin, c.path, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code, "%s %s: %s", c.path, c.body, rec.Body)
		assert.Contains(t, problemFields(p), c.field, "%s %s", c.path, c.body)
	}
}

func TestDeliveryUploadThatIsNotMultipartIs415BeforeAnyLookup(t *testing.T) {
	rec, p := send(t, deliveryServer(t, nil), store.RoleIntegration, "/v1/deliveries/D-1/evidence", `{}`)
	require.Equal(t, http.StatusUnsupportedMediaType, rec.Code, rec.Body.String())
	assert.Equal(t, "send the file as multipart/form-data", p.Detail)
}

func TestDeliveryEvidenceKeysAreTheDeliveryAndEvidenceID(t *testing.T) {
	assert.Equal(t, "deliveries/D-1/E-0123456789ABCDEF0123", evidence.DeliveryKey("D-1", "E-0123456789ABCDEF0123"))
	assert.NotEqual(t, evidence.Key("D-1", "E-1"), evidence.DeliveryKey("D-1", "E-1"), "a delivery's files are apart from the cases'")
}

func TestWorkflowRefusalsAreTheDeliveryProblems(t *testing.T) {
	s := &server{logger: quiet}
	ctx := context.Background()
	ref := func(id string, recorded error) workflowRef {
		return workflowRef{kind: "delivery", id: id, ended: "the delivery has ended",
			recorded: func(context.Context) error { return recorded }}
	}
	asProblem := func(err error) *problem {
		t.Helper()
		var p *problem
		require.True(t, errors.As(err, &p), "%v", err)
		return p
	}

	p := asProblem(s.workflowError(ctx, vocab.Refuse("deliver", "delivery", "ready without delivery evidence"), ref("D-1", nil)))
	assert.Equal(t, 409, p.Status)
	assert.Equal(t, "cannot deliver: the delivery is ready without delivery evidence", p.Detail)

	// The Starter's own refusal, as the start route gets it.
	_, err := deliveries.NewInput(sla.DefaultDeliveryPolicy, deliveries.StartRequest{ID: "D-1", AccountID: "acc-1"}, time.Now())
	require.Error(t, err)
	p = asProblem(s.workflowError(ctx, err, ref("", nil)))
	assert.Equal(t, 422, p.Status)
	assert.Contains(t, problemFields(*p), "order_id")
	assert.NotContains(t, problemFields(*p), "account_id")

	p = asProblem(s.workflowError(ctx, temporal.NewApplicationError("not yours", vocab.ErrPermissionDenied), ref("D-1", nil)))
	assert.Equal(t, 403, p.Status)

	gone := serviceerror.NewNotFound("workflow execution already completed")
	p = asProblem(s.workflowError(ctx, gone, ref("D-1", nil)))
	assert.Equal(t, 409, p.Status, "the read model has it: it has ended")
	assert.Equal(t, "the delivery has ended", p.Detail)
	p = asProblem(s.workflowError(ctx, gone, ref("D-1", store.ErrNotFound)))
	assert.Equal(t, 404, p.Status)
	assert.Equal(t, "no delivery D-1", p.Detail)

	p = asProblem(s.workflowError(ctx, errors.New("connection refused"), ref("D-1", nil)))
	assert.Equal(t, 503, p.Status)
}

func TestRunningDeliveriesQueryQuotesTheAccountID(t *testing.T) {
	assert.Equal(t, "WorkflowType = 'AccountDelivery' AND AccountId = 'acc-1' AND ExecutionStatus = 'Running'",
		runningDeliveriesQuery("acc-1"))
	assert.Equal(t, `'x\' OR AccountId != \'y'`, visibilityString(`x' OR AccountId != 'y`))
	assert.Equal(t, `'a\\\' OR 1=1'`, visibilityString(`a\' OR 1=1`), "a backslash cannot escape the quote's escape")
}

// signalsTemporal stands for Temporal in reportSignal: it lists pages of
// running deliveries, refuses the signal of an ended one and records the
// rest.
type signalsTemporal struct {
	client.Client
	pages     [][]string
	ended     map[string]bool
	queries   []string
	signalled map[string]deliveries.AccountSignal
	watch     accountflows.AccountSignal
}

func (f *signalsTemporal) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.queries = append(f.queries, req.Query)
	page := 0
	if len(req.NextPageToken) > 0 {
		page = int(req.NextPageToken[0])
	}
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	for _, id := range f.pages[page] {
		resp.Executions = append(resp.Executions, &workflowpb.WorkflowExecutionInfo{
			Execution: &commonpb.WorkflowExecution{WorkflowId: deliveries.DeliveryWorkflowID(id)}})
	}
	if page+1 < len(f.pages) {
		resp.NextPageToken = []byte{byte(page + 1)}
	}
	return resp, nil
}

func (f *signalsTemporal) SignalWorkflow(_ context.Context, workflowID, runID, name string, arg any) error {
	if f.ended[workflowID] {
		return serviceerror.NewNotFound("workflow execution already completed")
	}
	if name != deliveries.SignalAccountSignal || runID != "" {
		return errors.New("unexpected signal " + name)
	}
	f.signalled[workflowID] = arg.(deliveries.AccountSignal)
	return nil
}

func (f *signalsTemporal) SignalWithStartWorkflow(_ context.Context, _ string, _ string, arg any, _ client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	f.watch = arg.(accountflows.AccountSignal)
	return nil, nil
}

func TestASignalOnAnAccountTellsEachOfItsRunningDeliveries(t *testing.T) {
	tc := &signalsTemporal{pages: [][]string{{"D-1", "D-2"}, {"D-3"}},
		ended: map[string]bool{deliveries.DeliveryWorkflowID("D-2"): true}, signalled: map[string]deliveries.AccountSignal{}}
	h := deliveryServer(t, tc)
	occurred := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	rec, _ := send(t, h, store.RoleIntegration, "/v1/accounts/acc-1/signals",
		`{"kind": "new_device", "detail": "a phone in Lyon", "occurred_at": "`+occurred.Format(time.RFC3339)+`"}`)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	var got signalBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, []string{"D-1", "D-3"}, got.Deliveries, "D-2 ended between the list and its signal")
	assert.Equal(t, accountflows.SignalsWorkflowID("acc-1"), got.Watch)
	assert.Equal(t, []string{runningDeliveriesQuery("acc-1"), runningDeliveriesQuery("acc-1")}, tc.queries, "both pages")
	want := deliveries.AccountSignal{Kind: "new_device", Detail: "a phone in Lyon", ReportedBy: "integration:test", At: occurred}
	assert.Equal(t, map[string]deliveries.AccountSignal{
		deliveries.DeliveryWorkflowID("D-1"): want, deliveries.DeliveryWorkflowID("D-3"): want}, tc.signalled)
	assert.Equal(t, "new_device", tc.watch.Kind, "the watch counts it too")

	// No time, or one in the future: the delivery is told now.
	tc.pages, tc.signalled = [][]string{{"D-1"}}, map[string]deliveries.AccountSignal{}
	before := time.Now().UTC()
	rec, _ = send(t, h, store.RoleIntegration, "/v1/accounts/acc-1/signals",
		`{"kind": "failed_login", "occurred_at": "`+time.Now().Add(time.Hour).Format(time.RFC3339)+`"}`)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	at := tc.signalled[deliveries.DeliveryWorkflowID("D-1")].At
	assert.False(t, at.Before(before) || at.After(time.Now().UTC()), "at %s", at)

	// An account without deliveries answers an empty list.
	tc.pages = [][]string{{}}
	rec, _ = send(t, h, store.RoleIntegration, "/v1/accounts/acc-2/signals", `{"kind": "failed_login"}`)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	assert.JSONEq(t, `[]`, string(mustField(t, rec.Body.Bytes(), "deliveries")))
}

func mustField(t *testing.T, data []byte, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &m))
	return m[name]
}

// queryTemporal stands for Temporal in a delivery read: it answers the
// running delivery's query with view and records which workflows it was
// asked; anything else (an update) panics on the nil client.
type queryTemporal struct {
	client.Client
	view  deliveries.DeliveryView
	asked []string
}

func (f *queryTemporal) QueryWorkflowWithOptions(_ context.Context, req *client.QueryWorkflowWithOptionsRequest) (*client.QueryWorkflowWithOptionsResponse, error) {
	f.asked = append(f.asked, req.WorkflowID+" "+req.QueryType)
	return &client.QueryWorkflowWithOptionsResponse{QueryResult: jsonValue{f.view}}, nil
}

// jsonValue is a query's answer, decoded as the data converter would.
type jsonValue struct{ v any }

func (j jsonValue) HasValue() bool { return true }

func (j jsonValue) Get(ptr any) error {
	b, err := json.Marshal(j.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, ptr)
}

func TestADeliveryFileIsAPresignedURLOfItsKeyAndNotRecorded(t *testing.T) {
	e := vocab.Evidence{ID: "E-1", Key: evidence.DeliveryKey("D-1", "E-1"), Kind: "delivery_screenshot",
		SHA256: strings.Repeat("a", 64), Size: 2048, ContentType: "image/png", Retained: true}
	tc := &queryTemporal{view: deliveries.DeliveryView{ID: "D-1", Evidence: []vocab.Evidence{e}}}
	h := deliveryServer(t, tc)
	get := func(role store.Role, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer key-"+string(role))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	rec := get(store.RoleAgent, "/v1/deliveries/D-1/evidence/E-1")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got deliveryDownloadBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, "D-1", got.DeliveryID)
	assert.Equal(t, e, got.Evidence)
	assert.Contains(t, got.URL, "/"+e.Key+"?", "a URL of the file's own key")
	assert.Contains(t, got.URL, "X-Amz-Expires=300", "good for 5 minutes")
	assert.WithinDuration(t, time.Now().Add(presignTTL), got.ExpiresAt, 5*time.Second)
	assert.JSONEq(t, `["url", "expires_at", "delivery_id", "evidence"]`, keysOf(t, rec.Body.Bytes()))
	assert.Equal(t, []string{deliveries.DeliveryWorkflowID("D-1") + " " + deliveries.QueryDelivery}, tc.asked,
		"read from the running workflow, and nothing recorded on it")

	rec = get(store.RoleTrustSafety, "/v1/deliveries/D-1/evidence/E-1?redirect=true")
	require.Equal(t, http.StatusFound, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Header().Get("Location"), "/"+e.Key+"?")

	rec = get(store.RoleAgent, "/v1/deliveries/D-1/evidence/E-2")
	require.Equal(t, http.StatusNotFound, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "no evidence E-2 on delivery D-1")

	rec = get(store.RoleIntegration, "/v1/deliveries/D-1/evidence/E-1")
	assert.Equal(t, http.StatusForbidden, rec.Code, "the marketplace uploads but does not read back")
}

// keysOf answers the names of a JSON object's fields, in order, as JSON.
func keysOf(t *testing.T, data []byte) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(data)))
	var keys []string
	_, err := dec.Token() // {
	require.NoError(t, err)
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	b, err := json.Marshal(keys)
	require.NoError(t, err)
	return string(b)
}

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"handoff/store"
	"handoff/workflows/fraud"
	"handoff/workflows/vocab"
)

// fraudTemporal stands for Temporal behind the fraud routes: it keeps
// every signal-with-start and update, answers the watch query with view
// (or NotFound when absent), and answers updates with view or refusal.
type fraudTemporal struct {
	client.Client
	mu      sync.Mutex
	starts  []fraudStart
	updates []client.UpdateWorkflowOptions
	view    *fraud.View
	refusal error
}

type fraudStart struct {
	workflowID, signal, workflowType string
	arg                              any
	opts                             client.StartWorkflowOptions
	input                            any
}

func (f *fraudTemporal) SignalWithStartWorkflow(_ context.Context, workflowID, signalName string, signalArg any,
	options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, fraudStart{workflowID: workflowID, signal: signalName, workflowType: workflow.(string),
		arg: signalArg, opts: options, input: workflowArgs[0]})
	return nil, nil
}

func (f *fraudTemporal) QueryWorkflow(_ context.Context, workflowID, _, queryType string, _ ...any) (converter.EncodedValue, error) {
	if f.view == nil || workflowID != fraud.WorkflowID(f.view.Party, f.view.PartyID) || queryType != fraud.QueryWatch {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	return surveyValue{*f.view}, nil
}

func (f *fraudTemporal) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, serviceerror.NewNotFound("workflow not found")
}

func (f *fraudTemporal) UpdateWorkflow(_ context.Context, opts client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, opts)
	if f.refusal != nil {
		return surveyUpdate{err: f.refusal}, nil
	}
	return fraudUpdate{v: *f.view}, nil
}

type fraudUpdate struct {
	client.WorkflowUpdateHandle
	v fraud.View
}

func (u fraudUpdate) Get(_ context.Context, ptr any) error { return surveyValue{u.v}.Get(ptr) }

// fraudServer is the fraud routes alone over tc, behind the API's own
// authentication and authorization, with every operation open to admins
// (the access table decides the other roles).
func fraudServer(tc client.Client) http.Handler {
	s := &server{registry: prometheus.NewRegistry(), lookupKey: fakeKeys, logger: quiet, temporal: tc, taskQueue: "handoff-test"}
	r := chi.NewRouter()
	r.Use(authenticate(fakeKeys))
	api := humachi.New(r, humaConfig())
	api.UseMiddleware(authorize(api), requireCleanText(api))
	s.registerFraud(api, func(id, method, path, summary string, status int) huma.Operation {
		return huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, DefaultStatus: status}
	})
	return r
}

func fieldsNamed(p problem) []string {
	out := make([]string, 0, len(p.Errors))
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

func TestAReportedBehaviourSignalsWithStartThePartysWatch(t *testing.T) {
	tc := &fraudTemporal{}
	rec, _ := send(t, fraudServer(tc), store.RoleAdmin, "/v1/behaviour-signals",
		`{"party":"seller","party_id":"S-1","kind":"dispute_lost","id":"dl-1","at":"2026-03-02T11:00:00+01:00","detail":"order ord-1","amount":{"minor":2500,"currency":"EUR"}}`)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	var body behaviourAccepted
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, behaviourAccepted{Party: "seller", PartyID: "S-1", Kind: "dispute_lost", ID: "dl-1", Watch: "fraud/seller-S-1"}, body)

	require.Len(t, tc.starts, 1)
	st := tc.starts[0]
	assert.Equal(t, "fraud/seller-S-1", st.workflowID)
	assert.Equal(t, fraud.SignalBehaviour, st.signal)
	assert.Equal(t, fraud.WorkflowType, st.workflowType)
	assert.Equal(t, fraud.Behaviour{ID: "dl-1", Kind: fraud.KindDisputeLost, At: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Detail: "order ord-1", Amount: vocab.Money{Minor: 2500, Currency: "EUR"}, ReportedBy: "admin:test"}, st.arg)
	assert.Equal(t, fraud.Input{Party: fraud.PartySeller, PartyID: "S-1", Policy: fraud.DefaultPolicy()}, st.input)
	assert.Equal(t, "fraud/seller-S-1", st.opts.ID)
	assert.Equal(t, "handoff-test", st.opts.TaskQueue)
	seller, ok := st.opts.TypedSearchAttributes.GetKeyword(vocab.SellerIDKey)
	assert.True(t, ok)
	assert.Equal(t, "S-1", seller)
}

func TestABehaviourReportNamesEveryWrongField(t *testing.T) {
	tc := &fraudTemporal{}
	rec, p := send(t, fraudServer(tc), store.RoleAdmin, "/v1/behaviour-signals",
		`{"party":"shop","party_id":"","kind":"refund"}`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	fields := fieldsNamed(p)
	for _, f := range []string{"party", "party_id", "kind", "id"} {
		assert.Contains(t, fields, f)
	}
	assert.Empty(t, tc.starts, "nothing reached Temporal")
}

func TestAFraudDecisionIsAnUpdateOfTheWatch(t *testing.T) {
	tc := &fraudTemporal{view: &fraud.View{Party: fraud.PartySeller, PartyID: "S-1", Status: fraud.StatusDecided, CaseID: "C-1"}}
	req := httptest.NewRequest(http.MethodPost, "/v1/fraud/seller/S-1/decision",
		strings.NewReader(`{"outcome":"keep","suspend":true,"reason":"selling stolen accounts"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer key-admin")
	req.Header.Set("Idempotency-Key", "decide-1")
	rec := httptest.NewRecorder()
	fraudServer(tc).ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var v fraud.View
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v))
	assert.Equal(t, fraud.StatusDecided, v.Status)

	require.Len(t, tc.updates, 1)
	u := tc.updates[0]
	assert.Equal(t, "fraud/seller-S-1", u.WorkflowID)
	assert.Equal(t, fraud.UpdateDecide, u.UpdateName)
	assert.Equal(t, fraud.UpdateDecide+"/1/decide-1", u.UpdateID, "the Idempotency-Key, scoped to the API key, is the update id")
	assert.Equal(t, fraud.Decision{Actor: "admin:test", Outcome: fraud.OutcomeKeep, Suspend: true, Reason: "selling stolen accounts"}, u.Args[0])
}

func TestAFraudDecisionWithNothingToDecideIsAConflict(t *testing.T) {
	tc := &fraudTemporal{view: &fraud.View{Party: fraud.PartyBuyer, PartyID: "B-1"},
		refusal: vocab.Refuse("decide", "fraud watch", "watching: no burst awaits a decision")}
	rec, p := send(t, fraudServer(tc), store.RoleAdmin, "/v1/fraud/buyer/B-1/decision", `{"outcome":"release","reason":"fine"}`)
	assert.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	assert.Contains(t, p.Detail, "no burst awaits a decision")
}

func TestABadFraudDecisionNamesTheField(t *testing.T) {
	tc := &fraudTemporal{view: &fraud.View{Party: fraud.PartySeller, PartyID: "S-1"}}
	rec, p := send(t, fraudServer(tc), store.RoleAdmin, "/v1/fraud/seller/S-1/decision", `{"outcome":"ban","reason":""}`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	assert.Contains(t, fieldsNamed(p), "outcome")
	assert.Contains(t, fieldsNamed(p), "reason")
	assert.Empty(t, tc.updates)

	tc.refusal = temporal.NewApplicationError("reason: must not be empty", vocab.ErrInvalidArgument)
	rec, p = send(t, fraudServer(tc), store.RoleAdmin, "/v1/fraud/seller/S-1/decision", `{"outcome":"keep","reason":" "}`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	assert.Equal(t, []string{"reason"}, fieldsNamed(p), "the workflow's refusal names the field too")
}

func TestAFraudWatchIsReadAndAnUnknownOneIsNotFound(t *testing.T) {
	tc := &fraudTemporal{view: &fraud.View{Party: fraud.PartySeller, PartyID: "S-1", Status: fraud.StatusReviewing, CaseID: "C-1"}}
	h := fraudServer(tc)
	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer key-admin")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := get("/v1/fraud/seller/S-1")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var v fraud.View
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v))
	assert.Equal(t, "C-1", v.CaseID)

	rec = get("/v1/fraud/buyer/S-1")
	assert.Equal(t, http.StatusNotFound, rec.Code, rec.Body.String())
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	rec = get("/v1/fraud/shop/S-1")
	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, "the party is buyer or seller: %s", rec.Body.String())
}

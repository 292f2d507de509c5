//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"handoff/config"
	"handoff/stacktest"
	"handoff/stacktest/stackworker"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// caseStack is the real API in-process on a task queue of its own, with an
// in-process worker polling that queue and one API key per role.
type caseStack struct {
	cfg  config.Config
	base string
	db   *store.Store
	tc   client.Client
	keys map[store.Role]apiKey
}

// apiKey is a key the test created: its name (the actor's suffix) and secret.
type apiKey struct {
	ID     int64
	Name   string
	Secret string
}

var uniqueCounter atomic.Int64

// unique answers a string no other test run or call uses.
func unique() string {
	return strconv.FormatInt(time.Now().UnixNano(), 36) + strconv.FormatInt(uniqueCounter.Add(1), 36)
}

// newCaseStack starts a worker on a fresh task queue and the API starting
// cases on it, with the default SLA policy.
func newCaseStack(t *testing.T) *caseStack {
	t.Helper()
	cfg := stacktest.Config(t)
	db := stacktest.Store(t)
	tc := stacktest.Temporal(t)
	cfg.Temporal.TaskQueue = startCaseWorker(t, tc, cfg, db)
	s := &caseStack{cfg: cfg, db: db, tc: tc, keys: map[store.Role]apiKey{}}
	s.base = startAPI(t, cfg)
	for _, r := range store.Roles {
		s.keys[r] = newAPIKey(t, db, r)
	}
	return s
}

// startCaseWorker runs SupportCase with the real notifier and projection on
// a task queue of its own, stopped when tb ends, and answers the queue.
func startCaseWorker(tb testing.TB, tc client.Client, cfg config.Config, db *store.Store) string {
	tb.Helper()
	return stackworker.Start(tb, cfg, "test-api").Temporal.TaskQueue
}

// newAPIKey creates a key of role, revoked when tb ends.
func newAPIKey(tb testing.TB, db *store.Store, role store.Role) apiKey {
	tb.Helper()
	name := "test-" + string(role) + "-" + unique()
	k, secret, err := db.CreateAPIKey(context.Background(), name, role)
	require.NoError(tb, err)
	tb.Cleanup(func() { revokeKey(db, k.ID) })
	return apiKey{ID: k.ID, Name: name, Secret: secret}
}

func revokeKey(db *store.Store, id int64) {
	_, _ = db.Pool().Exec(context.Background(), `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
}

// withPolicy starts a second API on the same task queue whose SLA policy
// file is policy, and answers its base URL.
func (s *caseStack) withPolicy(t *testing.T, policy string) string {
	t.Helper()
	cfg := s.cfg
	cfg.SLAPolicyFile = policy
	return startAPI(t, cfg)
}

// shortPolicy writes the demo policy with p1's first response due after two
// seconds and the reopen and survey windows of a second or two, and answers
// its path.
func shortPolicy(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(stacktest.RepoRoot(t), "deploy", "sla", "demo.yaml"))
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(data, &doc))
	doc["lifecycle"] = map[string]string{"auto_close_after_waiting": "1m", "reopen_window": "1s", "csat_window": "2s"}
	doc["policies"] = []map[string]string{
		{"priority": "p1", "calendar": "24x7", "first_response": "2s", "next_response": "1h", "resolution": "1h"},
		{"priority": "p2", "calendar": "24x7", "first_response": "1h", "next_response": "1h", "resolution": "2h"},
		{"priority": "p3", "calendar": "24x7", "first_response": "1h", "next_response": "1h", "resolution": "2h"},
		{"priority": "p4", "calendar": "24x7", "first_response": "1h", "next_response": "1h", "resolution": "2h"},
	}
	out, err := yaml.Marshal(doc)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "short.yaml")
	require.NoError(t, os.WriteFile(path, out, 0o644))
	return path
}

// reply is an HTTP answer read whole.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r reply) String() string {
	return fmt.Sprintf("%d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
}

// sendRequest sends method path to base with secret as bearer key (none
// when empty). body is nil, raw []byte or string, or a value sent as JSON
// (then with Content-Type application/json unless header sets one); header
// holds name, value pairs.
func sendRequest(ctx context.Context, base, secret, method, path string, body any, header ...string) (reply, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return reply{}, err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, r)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// as sends a request with role's key.
func (s *caseStack) as(t *testing.T, role store.Role, method, path string, body any, header ...string) reply {
	t.Helper()
	return s.with(t, s.keys[role].Secret, method, path, body, header...)
}

// with sends a request with secret as the bearer key.
func (s *caseStack) with(t *testing.T, secret, method, path string, body any, header ...string) reply {
	t.Helper()
	r, err := sendRequest(stacktest.Context(t), s.base, secret, method, path, body, header...)
	require.NoError(t, err, "%s %s", method, path)
	return r
}

// actor is how role's key shows on a timeline.
func (s *caseStack) actor(role store.Role) string { return string(role) + ":" + s.keys[role].Name }

// caseOf decodes a case view, requiring status.
func caseOf(t *testing.T, r reply, status int) cases.CaseView {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r)
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	var v cases.CaseView
	require.NoError(t, json.Unmarshal(r.Body, &v))
	return v
}

// problemOf decodes a problem+json answer, requiring status and its shape.
func problemOf(t *testing.T, r reply, status int) problem {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r)
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), "%s", r)
	var p problem
	require.NoError(t, json.Unmarshal(r.Body, &p), "%s", r)
	assert.Equal(t, status, p.Status, "status member")
	assert.Equal(t, http.StatusText(status), p.Title, "title")
	assert.True(t, strings.HasPrefix(p.Type, "urn:handoff:problem:"), "type %q", p.Type)
	if kind, ok := problemTypes[status]; ok {
		assert.Equal(t, "urn:handoff:problem:"+kind, p.Type)
	}
	assert.NotEmpty(t, p.Detail, "detail")
	return p
}

// fieldsOfProblem answers the field names a problem lists.
func fieldsOfProblem(p problem) []string {
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

// newCaseBody is a valid opening body for a customer of its own.
func newCaseBody(category vocab.Category) openCaseBody {
	id := unique()
	return openCaseBody{
		Category: categoryName(category), Subject: "Cannot use my account " + id,
		Description: "It stopped working after the delivery.",
		Customer:    customerBody{ID: "cus-" + id, Email: "cus-" + id + "@example.com", Name: "Ada", Locale: "en"},
		Channel:     "web",
	}
}

// open opens a case as role and answers it; the workflow is terminated when
// t ends (its worker stops with the test).
func (s *caseStack) open(t *testing.T, role store.Role, body openCaseBody, header ...string) cases.CaseView {
	t.Helper()
	return s.openOn(t, s.base, role, body, header...)
}

// openOn opens a case through the API at base.
func (s *caseStack) openOn(t *testing.T, base string, role store.Role, body openCaseBody, header ...string) cases.CaseView {
	t.Helper()
	r, err := sendRequest(stacktest.Context(t), base, s.keys[role].Secret, http.MethodPost, "/v1/cases", body, header...)
	require.NoError(t, err)
	v := caseOf(t, r, http.StatusCreated)
	require.Equal(t, "/v1/cases/"+v.ID, r.Header.Get("Location"))
	s.terminateAtEnd(t, v.ID)
	return v
}

// terminateAtEnd ends the case's workflow when t ends, unless it has ended:
// its task queue has no worker after the test.
func (s *caseStack) terminateAtEnd(t *testing.T, id string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.tc.TerminateWorkflow(ctx, cases.CaseWorkflowID(id), "", "test over")
	})
}

// get reads a case as admin.
func (s *caseStack) get(t *testing.T, id string) cases.CaseView {
	t.Helper()
	return caseOf(t, s.as(t, store.RoleAdmin, http.MethodGet, "/v1/cases/"+id, nil), http.StatusOK)
}

// timeline reads a case's events as admin.
func (s *caseStack) timeline(t *testing.T, id string) []vocab.Event {
	t.Helper()
	r := s.as(t, store.RoleAdmin, http.MethodGet, "/v1/cases/"+id+"/timeline", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r)
	var out struct {
		Events []vocab.Event `json:"events"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &out))
	return out.Events
}

// act runs an action as role and requires 200.
func (s *caseStack) act(t *testing.T, role store.Role, id, action string, body any, header ...string) cases.CaseView {
	t.Helper()
	return caseOf(t, s.as(t, role, http.MethodPost, "/v1/cases/"+id+"/"+action, body, header...), http.StatusOK)
}

// requireUnchanged checks that a refused request left the case as it was.
func (s *caseStack) requireUnchanged(t *testing.T, before cases.CaseView) {
	t.Helper()
	now := s.get(t, before.ID)
	require.Equal(t, before.LastSeq, now.LastSeq, "a refused request changed the case")
	require.Equal(t, before.Status, now.Status)
	require.Len(t, s.timeline(t, before.ID), before.LastSeq)
}

// list reads GET /v1/cases?query as admin without failing, for Eventually.
func (s *caseStack) list(ctx context.Context, query url.Values) ([]cases.CaseView, string, error) {
	r, err := sendRequest(ctx, s.base, s.keys[store.RoleAdmin].Secret, http.MethodGet, "/v1/cases?"+query.Encode(), nil)
	if err != nil {
		return nil, "", err
	}
	if r.Status != http.StatusOK {
		return nil, "", fmt.Errorf("list %s: %s", query.Encode(), r)
	}
	var out struct {
		Cases      []cases.CaseView `json:"cases"`
		NextCursor string           `json:"next_cursor"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		return nil, "", err
	}
	return out.Cases, out.NextCursor, nil
}

func ids(views []cases.CaseView) []string {
	out := make([]string, len(views))
	for i, c := range views {
		out[i] = c.ID
	}
	return out
}

func kinds(events []vocab.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

func TestCaseGoesThroughItsWholeLifecycleOverHTTP(t *testing.T) {
	s := newCaseStack(t)
	body := newCaseBody(vocab.CategoryLockedAccount)
	body.AccountID = "acc-" + unique()

	// Open: 201, the category's default priority and team, a Location.
	r := s.as(t, store.RoleIntegration, http.MethodPost, "/v1/cases", body)
	opened := caseOf(t, r, http.StatusCreated)
	s.terminateAtEnd(t, opened.ID)
	id := opened.ID
	assert.Equal(t, "/v1/cases/"+id, r.Header.Get("Location"))
	var raw map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &raw))
	for _, k := range []string{"id", "status", "priority", "team", "escalation_level", "sla", "created_at", "last_seq", "customer"} {
		assert.Contains(t, raw, k)
	}
	sla, ok := raw["sla"].(map[string]any)
	require.True(t, ok, "sla is an object: %s", r.Body)
	for _, k := range []string{"first_response_due", "next_response_due", "resolution_due", "paused", "breaches"} {
		assert.Contains(t, sla, k)
	}
	assert.Equal(t, []any{}, sla["breaches"], "breaches is an empty list, not null")
	assert.Nil(t, sla["next_response_due"], "no next response is owed before a customer message")
	assert.Regexp(t, `^C-[A-Z2-7]{16}$`, id)
	assert.Equal(t, cases.StatusNew, opened.Status)
	assert.Equal(t, vocab.P2, opened.Priority, "locked_account defaults to p2")
	assert.Equal(t, vocab.TeamTier1Support, opened.Team)
	assert.Equal(t, 0, opened.EscalationLevel)
	assert.Equal(t, body.Customer.ID, opened.Customer.ID)
	assert.Equal(t, body.AccountID, opened.AccountID)
	require.NotNil(t, opened.SLA.FirstResponseDue)
	require.NotNil(t, opened.SLA.ResolutionDue)
	assert.WithinDuration(t, opened.CreatedAt.Add(4*time.Hour), *opened.SLA.FirstResponseDue, time.Second, "p2 is 4h of 24x7")
	assert.WithinDuration(t, time.Now(), opened.CreatedAt, time.Minute)
	assert.False(t, opened.SLA.Paused)

	v := s.act(t, store.RoleAgent, id, "assign", map[string]string{"assignee": "bo"})
	assert.Equal(t, cases.StatusOpen, v.Status)
	assert.Equal(t, "bo", v.Assignee)

	v = s.act(t, store.RoleAgent, id, "replies", map[string]string{"body": "We are looking into it."})
	require.NotNil(t, v.FirstResponseAt)
	assert.Nil(t, v.SLA.FirstResponseDue, "the first response is met")

	v = s.act(t, store.RoleIntegration, id, "customer-messages", map[string]string{"body": "Still locked."})
	assert.Equal(t, cases.StatusOpen, v.Status)
	assert.NotNil(t, v.SLA.NextResponseDue, "a customer message owes a next response")

	v = s.act(t, store.RoleAgent, id, "wait-on-customer", map[string]string{"reason": "Which email did you sign up with?"})
	assert.Equal(t, cases.StatusWaitingCustomer, v.Status)
	assert.True(t, v.SLA.Paused)

	v = s.act(t, store.RoleIntegration, id, "customer-messages", map[string]string{"body": "ada@example.com"})
	assert.Equal(t, cases.StatusOpen, v.Status)
	assert.False(t, v.SLA.Paused)

	// Trust & safety needs an order the case does not have: 422 naming it.
	before := s.get(t, id)
	p := problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+id+"/escalate",
		map[string]string{"team": "trust_safety", "reason": "Looks like fraud"}), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"order_id"}, fieldsOfProblem(p))
	assert.Contains(t, p.Detail, "order_id")
	s.requireUnchanged(t, before)

	// Account management needs the account, which the case has.
	v = s.act(t, store.RoleAgent, id, "escalate", map[string]string{"team": "account_management", "reason": "Needs an unlock"})
	assert.Equal(t, cases.StatusEscalated, v.Status)
	assert.Equal(t, vocab.TeamAccountManagement, v.Team)
	assert.Empty(t, v.Assignee, "a handover is unassigned")
	assert.Equal(t, 0, v.EscalationLevel)

	// Admins belong to no team and act on every case.
	v = s.act(t, store.RoleAdmin, id, "priority", map[string]string{"priority": "p1"})
	assert.Equal(t, vocab.P1, v.Priority)

	v = s.act(t, store.RoleAccountManager, id, "resolve", map[string]string{"resolution": "Unlocked"})
	assert.Equal(t, cases.StatusResolved, v.Status)
	assert.Equal(t, "Unlocked", v.Resolution)
	require.NotNil(t, v.ResolvedAt)

	v = s.act(t, store.RoleIntegration, id, "csat", map[string]any{"rating": 5, "comment": "Quick"})
	require.NotNil(t, v.CSAT)
	assert.Equal(t, 5, v.CSAT.Rating)
	assert.Equal(t, "Quick", v.CSAT.Comment)

	v = s.act(t, store.RoleAccountManager, id, "reopen", map[string]string{"reason": "Locked again"})
	assert.Equal(t, cases.StatusOpen, v.Status)
	assert.Empty(t, v.Resolution)

	v = s.act(t, store.RoleAccountManager, id, "resolve", map[string]string{"resolution": "Unlocked for good"})
	assert.Equal(t, cases.StatusResolved, v.Status)

	closed := s.act(t, store.RoleAccountManager, id, "close", nil)
	assert.Equal(t, cases.StatusClosed, closed.Status)
	require.NotNil(t, closed.ClosedAt)

	// The integration may read its case; the case is what the last action answered.
	got := caseOf(t, s.as(t, store.RoleIntegration, http.MethodGet, "/v1/cases/"+id, nil), http.StatusOK)
	assert.Equal(t, closed.LastSeq, got.LastSeq)
	assert.Equal(t, cases.StatusClosed, got.Status)
	assert.Equal(t, closed.Resolution, got.Resolution)

	events := s.timeline(t, id)
	assert.Equal(t, []string{
		cases.EventOpened, cases.EventAssigned, cases.EventAgentReply, cases.EventCustomerMessage,
		cases.EventWaitingCustomer, cases.EventCustomerMessage, cases.EventEscalated,
		cases.EventPriorityChanged, cases.EventResolved, cases.EventCSAT, cases.EventReopened,
		cases.EventResolved, cases.EventClosed,
	}, kinds(events))
	integration, agent, manager := s.actor(store.RoleIntegration), s.actor(store.RoleAgent), s.actor(store.RoleAccountManager)
	admin := s.actor(store.RoleAdmin)
	assert.Regexp(t, `^admin:test-admin-`, admin)
	assert.Equal(t, []string{
		integration, agent, agent, integration, agent, integration, agent,
		admin, manager, integration, manager, manager, manager,
	}, func() []string {
		out := make([]string, len(events))
		for i, e := range events {
			out[i] = e.Actor
		}
		return out
	}())
	for i, e := range events {
		assert.Equal(t, i+1, e.Seq, "events in seq order")
		if i > 0 {
			assert.False(t, e.At.Before(events[i-1].At), "event %d is before event %d", e.Seq, i)
		}
	}
	assert.Equal(t, len(events), got.LastSeq)
	assert.Equal(t, "account_management", events[6].Payload["to_team"])
	assert.Equal(t, "ada@example.com", events[6].Payload["latest_customer_message"])
}

func TestSameIdempotencyKeyAndBodyOpensOneCase(t *testing.T) {
	s := newCaseStack(t)
	body := newCaseBody(vocab.CategoryLoginFailure)
	key := "order-" + unique()
	first := s.open(t, store.RoleIntegration, body, "Idempotency-Key", key)
	second := s.open(t, store.RoleIntegration, body, "Idempotency-Key", key)
	assert.Equal(t, first.ID, second.ID)
	assert.Equal(t, first.CreatedAt, second.CreatedAt)
	assert.Equal(t, []string{cases.EventOpened}, kinds(s.timeline(t, first.ID)), "opened once")

	// The key is scoped to the API key that sent it.
	other := s.open(t, store.RoleAgent, body, "Idempotency-Key", key)
	assert.NotEqual(t, first.ID, other.ID)
}

func TestSameIdempotencyKeyOtherBodyIsRefused(t *testing.T) {
	s := newCaseStack(t)
	body := newCaseBody(vocab.CategoryLoginFailure)
	key := "order-" + unique()
	first := s.open(t, store.RoleIntegration, body, "Idempotency-Key", key)

	changed := body
	changed.Subject = "Something else entirely"
	p := problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/cases", changed, "Idempotency-Key", key), http.StatusConflict)
	assert.Contains(t, p.Detail, "Idempotency-Key")
	got := s.get(t, first.ID)
	assert.Equal(t, body.Subject, got.Subject, "the first request's case is kept")
	s.requireUnchanged(t, first)
}

func TestActionRepeatedWithSameIdempotencyKeyActsOnce(t *testing.T) {
	s := newCaseStack(t)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	key := "reply-" + unique()
	path := "/v1/cases/" + c.ID + "/replies"
	first := s.as(t, store.RoleAgent, http.MethodPost, path, map[string]string{"body": "On it"}, "Idempotency-Key", key)
	require.Equal(t, http.StatusOK, first.Status, "%s", first)
	s.act(t, store.RoleAgent, c.ID, "notes", map[string]string{"body": "something in between"})
	again := s.as(t, store.RoleAgent, http.MethodPost, path, map[string]string{"body": "On it"}, "Idempotency-Key", key)
	require.Equal(t, http.StatusOK, again.Status, "%s", again)
	assert.JSONEq(t, string(first.Body), string(again.Body), "a retry answers the first result")

	events := s.timeline(t, c.ID)
	assert.Equal(t, []string{cases.EventOpened, cases.EventAgentReply, cases.EventInternalNote}, kinds(events))

	// Another action with the same key is another update.
	s.act(t, store.RoleAgent, c.ID, "notes", map[string]string{"body": "and a note"}, "Idempotency-Key", key)
	assert.Len(t, s.timeline(t, c.ID), 4)
}

func TestMalformedOrUnknownFieldsAre400NamingTheField(t *testing.T) {
	s := newCaseStack(t)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))

	p := problemOf(t, s.as(t, store.RoleAdmin, http.MethodPost, "/v1/cases", `{"category": "login_failure",`), http.StatusBadRequest)
	assert.Equal(t, "urn:handoff:problem:malformed-request", p.Type)

	p = problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+c.ID+"/notes", `{"body": "x"`), http.StatusBadRequest)
	assert.Equal(t, "urn:handoff:problem:malformed-request", p.Type)

	body, err := json.Marshal(newCaseBody(vocab.CategoryLoginFailure))
	require.NoError(t, err)
	withColour := strings.Replace(string(body), `{`, `{"colour": "red", `, 1)
	p = problemOf(t, s.as(t, store.RoleAdmin, http.MethodPost, "/v1/cases", withColour), http.StatusBadRequest)
	assert.Equal(t, []string{"colour"}, fieldsOfProblem(p))

	withShoe := strings.Replace(string(body), `"customer":{`, `"customer":{"shoe_size": 44, `, 1)
	require.NotEqual(t, string(body), withShoe)
	p = problemOf(t, s.as(t, store.RoleAdmin, http.MethodPost, "/v1/cases", withShoe), http.StatusBadRequest)
	assert.Equal(t, []string{"customer.shoe_size"}, fieldsOfProblem(p))

	p = problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+c.ID+"/replies",
		`{"body": "hello", "internal": true}`), http.StatusBadRequest)
	assert.Equal(t, []string{"internal"}, fieldsOfProblem(p))
	s.requireUnchanged(t, c)
}

func TestRequestWithoutALiveKeyIs401(t *testing.T) {
	s := newCaseStack(t)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	revoked := newAPIKey(t, s.db, store.RoleAdmin)
	revokeKey(s.db, revoked.ID)

	for name, header := range map[string][]string{
		"no key":      nil,
		"basic auth":  {"Authorization", "Basic YWRhOnNlY3JldA=="},
		"empty token": {"Authorization", "Bearer "},
		"unknown key": {"Authorization", "Bearer hk_not-a-key"},
		"revoked key": {"Authorization", "Bearer " + revoked.Secret},
	} {
		t.Run(name, func(t *testing.T) {
			for _, req := range []struct {
				method, path string
				body         any
			}{
				{http.MethodGet, "/v1/cases/" + c.ID, nil},
				{http.MethodGet, "/v1/cases", nil},
				{http.MethodPost, "/v1/cases/" + c.ID + "/notes", map[string]string{"body": "sneaky"}},
				{http.MethodPost, "/v1/cases", newCaseBody(vocab.CategoryLoginFailure)},
			} {
				r := s.with(t, "", req.method, req.path, req.body, header...)
				p := problemOf(t, r, http.StatusUnauthorized)
				assert.Equal(t, "urn:handoff:problem:unauthenticated", p.Type)
				assert.Contains(t, r.Header.Get("WWW-Authenticate"), "Bearer")
			}
		})
	}
	s.requireUnchanged(t, c)
}

func TestUnknownCaseIs404(t *testing.T) {
	s := newCaseStack(t)
	missing := "C-NOSUCHCASE" + strings.ToUpper(unique())
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/v1/cases/" + missing},
		{http.MethodGet, "/v1/cases/" + missing + "/timeline"},
		{http.MethodPost, "/v1/cases/" + missing + "/replies"},
		{http.MethodPost, "/v1/cases/" + missing + "/close"},
	} {
		var body any
		if req.method == http.MethodPost && strings.HasSuffix(req.path, "replies") {
			body = map[string]string{"body": "hello?"}
		}
		p := problemOf(t, s.as(t, store.RoleAdmin, req.method, req.path, body), http.StatusNotFound)
		assert.Contains(t, p.Detail, missing, "%s %s", req.method, req.path)
	}
	problemOf(t, s.as(t, store.RoleAdmin, http.MethodGet, "/v1/no-such-route", nil), http.StatusNotFound)
}

func TestActionNotAllowedInTheStatusIs409NamingTheStatus(t *testing.T) {
	s := newCaseStack(t)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	for _, req := range []struct {
		role   store.Role
		action string
		body   any
		detail string
	}{
		{store.RoleAgent, "reopen", map[string]string{"reason": "why not"}, "cannot reopen: the case is new"},
		{store.RoleAgent, "close", nil, "cannot close: the case is new"},
		{store.RoleIntegration, "csat", map[string]int{"rating": 4}, "cannot answer the survey: the case is new"},
	} {
		p := problemOf(t, s.as(t, req.role, http.MethodPost, "/v1/cases/"+c.ID+"/"+req.action, req.body), http.StatusConflict)
		assert.Equal(t, req.detail, p.Detail)
		s.requireUnchanged(t, c)
	}

	resolved := s.act(t, store.RoleAgent, c.ID, "resolve", map[string]string{"resolution": "done"})
	for _, req := range []struct {
		action string
		body   any
	}{
		{"assign", map[string]string{"assignee": "bo"}},
		{"replies", map[string]string{"body": "more"}},
		{"wait-on-customer", map[string]string{"reason": "more"}},
		{"priority", map[string]string{"priority": "p1"}},
		{"resolve", map[string]string{"resolution": "again"}},
	} {
		p := problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+c.ID+"/"+req.action, req.body), http.StatusConflict)
		assert.Contains(t, p.Detail, "the case is resolved", req.action)
		s.requireUnchanged(t, resolved)
	}
}

func TestBodyOverOneMiBIs413(t *testing.T) {
	s := newCaseStack(t)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	big := `{"body": "` + strings.Repeat("a", 1<<20) + `"}`
	p := problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+c.ID+"/notes", big), http.StatusRequestEntityTooLarge)
	assert.Equal(t, "urn:handoff:problem:body-too-large", p.Type)
	s.requireUnchanged(t, c)

	problemOf(t, s.as(t, store.RoleAdmin, http.MethodPost, "/v1/cases", `{"subject": "`+strings.Repeat("b", 1<<20)+`"}`),
		http.StatusRequestEntityTooLarge)
}

func TestBodyThatIsNotJSONIs415(t *testing.T) {
	s := newCaseStack(t)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	for _, ct := range []string{"text/plain", "application/xml", "application/x-www-form-urlencoded"} {
		p := problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+c.ID+"/notes", `{"body": "x"}`,
			"Content-Type", ct), http.StatusUnsupportedMediaType)
		assert.Equal(t, "urn:handoff:problem:unsupported-media-type", p.Type, ct)
		s.requireUnchanged(t, c)
	}
}

func TestInvalidFieldsAre422NamingThem(t *testing.T) {
	s := newCaseStack(t)
	customer := "cus-" + unique()
	valid := func() openCaseBody {
		b := newCaseBody(vocab.CategoryLoginFailure)
		b.Customer.ID = customer
		return b
	}
	for name, tc := range map[string]struct {
		body  func(*openCaseBody)
		field string
	}{
		"bad email":        {func(b *openCaseBody) { b.Customer.Email = "not-an-email" }, "customer.email"},
		"unknown locale":   {func(b *openCaseBody) { b.Customer.Locale = "de" }, "customer.locale"},
		"unknown category": {func(b *openCaseBody) { b.Category = "pony_request" }, "category"},
		"unknown priority": {func(b *openCaseBody) { b.Priority = "p9" }, "priority"},
		"empty subject":    {func(b *openCaseBody) { b.Subject = "" }, "subject"},
		"long subject":     {func(b *openCaseBody) { b.Subject = strings.Repeat("s", 201) }, "subject"},
	} {
		b := valid()
		tc.body(&b)
		p := problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/cases", b), http.StatusUnprocessableEntity)
		assert.Equal(t, "urn:handoff:problem:invalid-fields", p.Type, name)
		assert.Contains(t, fieldsOfProblem(p), tc.field, name)
	}
	p := problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/cases", `{"subject": "no category"}`), http.StatusUnprocessableEntity)
	assert.Subset(t, fieldsOfProblem(p), []string{"category", "customer"}, "missing fields are named")

	c := s.open(t, store.RoleIntegration, valid())
	resolved := s.act(t, store.RoleAgent, c.ID, "resolve", map[string]string{"resolution": "done"})
	for _, req := range []struct {
		role   store.Role
		action string
		body   any
		field  string
	}{
		{store.RoleIntegration, "csat", map[string]int{"rating": 9}, "rating"},
		{store.RoleIntegration, "csat", map[string]int{"rating": 0}, "rating"},
		{store.RoleAgent, "notes", map[string]string{"body": ""}, "body"},
		{store.RoleAgent, "reopen", map[string]string{"reason": ""}, "reason"},
		{store.RoleAgent, "reopen", map[string]string{}, "reason"},
	} {
		p := problemOf(t, s.as(t, req.role, http.MethodPost, "/v1/cases/"+c.ID+"/"+req.action, req.body), http.StatusUnprocessableEntity)
		assert.Contains(t, fieldsOfProblem(p), req.field, "%s %v", req.action, req.body)
		s.requireUnchanged(t, resolved)
	}
	reopened := s.act(t, store.RoleAgent, c.ID, "reopen", map[string]string{"reason": "not done"})
	for _, req := range []struct {
		action string
		body   any
		field  string
	}{
		{"priority", map[string]string{"priority": "urgent"}, "priority"},
		{"escalate", map[string]string{"team": "marketing", "reason": "x"}, "team"},
		{"escalate", map[string]string{"team": "security", "reason": ""}, "reason"},
		{"assign", map[string]string{"assignee": "bo", "team": "nobody"}, "team"},
		{"assign", map[string]string{"assignee": ""}, "assignee"},
	} {
		p := problemOf(t, s.as(t, store.RoleAdmin, http.MethodPost, "/v1/cases/"+c.ID+"/"+req.action, req.body), http.StatusUnprocessableEntity)
		assert.Contains(t, fieldsOfProblem(p), req.field, "%s %v", req.action, req.body)
		s.requireUnchanged(t, reopened)
	}

	for query, field := range map[string]string{
		"limit=0":                      "limit",
		"limit=201":                    "limit",
		"limit=ten":                    "limit",
		"cursor=not-a-cursor":          "cursor",
		"cursor=eyJ4IjoxfQ":            "cursor", // {"x":1}: base64url JSON, not ours
		"status=lost":                  "status",
		"breached=maybe":               "breached",
		"due_before=tomorrow":          "due_before",
		"priority=p0":                  "priority",
		"team=" + url.QueryEscape(" "): "team",
	} {
		p := problemOf(t, s.as(t, store.RoleAdmin, http.MethodGet, "/v1/cases?"+query, nil), http.StatusUnprocessableEntity)
		assert.Contains(t, fieldsOfProblem(p), field, query)
	}

	// No refused opening started a case: the customer has only the valid one.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		got, _, err := s.list(stacktest.Context(t), url.Values{"customer_id": {customer}})
		require.NoError(ct, err)
		assert.Equal(ct, []string{c.ID}, ids(got))
	}, 10*time.Second, 100*time.Millisecond)
}

// route is an operation of the API as its OpenAPI document registers it.
type route struct {
	Method, Path string
}

// routesByOperation answers every registered operation's method and path,
// read from the OpenAPI document huma builds.
func routesByOperation(t *testing.T) map[string]route {
	t.Helper()
	s := &server{registry: prometheus.NewRegistry()}
	s.routes()
	require.NotNil(t, s.openapi)
	out := map[string]route{}
	for path, item := range s.openapi.Paths {
		if !strings.HasPrefix(path, "/v1/") {
			continue // the customer pages take a signed link, no key
		}
		for method, op := range map[string]*huma.Operation{
			http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
			http.MethodPatch: item.Patch, http.MethodDelete: item.Delete,
		} {
			if op != nil {
				out[op.OperationID] = route{Method: method, Path: path}
			}
		}
	}
	return out
}

// validBodies holds, per operation, a body that the operation accepts on
// a new case, so a refusal can only come from authorization.
func validBodies(tag string) map[string]any {
	return map[string]any{
		"open-case":        newCaseBody(vocab.CategoryLoginFailure),
		"list-cases":       nil,
		"get-case":         nil,
		"get-timeline":     nil,
		"assign":           map[string]string{"assignee": "bo"},
		"reply":            map[string]string{"body": "hello"},
		"note":             map[string]string{"body": "note"},
		"customer-message": map[string]string{"body": "hi"},
		"wait-on-customer": map[string]string{"reason": "need more"},
		"escalate":         map[string]string{"team": "tier1_support", "reason": "stuck"},
		"change-priority":  map[string]string{"priority": "p1"},
		"resolve":          map[string]string{"resolution": "fixed"},
		"reopen":           map[string]string{"reason": "again"},
		"close":            nil,
		"csat":             map[string]int{"rating": 5},
		"create-key":       map[string]string{"name": "test-key-" + tag, "role": "agent"},
		// Evidence: a JSON body is refused (415) after authorization; the
		// case id is no evidence id (404).
		"upload-evidence":   nil,
		"list-evidence":     nil,
		"download-evidence": nil,
		// Accounts: a login_failure case has no incident to decide (409)
		// and its account is not in the directory (404).
		"lock-account":      map[string]string{"reason": "suspicious login"},
		"unlock-account":    map[string]string{"note": "false alarm"},
		"security-decision": map[string]string{"decision": "false_alarm"},
		"start-recovery":    map[string]string{"case_id": "C-NONE"},
		"get-recovery":      nil,
		"verify-recovery":   map[string]string{"code": "123456"},
		"report-signal":     map[string]string{"kind": "new_device"},
		"get-account":       nil,
		// Profile changes: the case is not in the store (404), the flows do not exist (404).
		"start-profile-change":   map[string]string{"case_id": "C-NONE", "kind": "email", "value": "new@example.com"},
		"get-profile-change":     nil,
		"verify-profile-change":  map[string]string{"code": "123456"},
		"cancel-profile-change":  map[string]string{"reason": "not me"},
		"approve-profile-change": nil,
		// Deliveries: the case id is no delivery (404); an empty start is
		// refused (422); a JSON upload is refused (415); the download's
		// {evidence_id} is left in the path, refused by its pattern (422).
		"start-delivery":             map[string]string{},
		"list-deliveries":            nil,
		"get-delivery":               nil,
		"deliver-account":            map[string]string{},
		"confirm-delivery":           map[string]string{},
		"report-delivery-problem":    map[string]string{"description": "the account does not work"},
		"wait-on-buyer":              map[string]string{"reason": "change the password first"},
		"extend-warranty":            map[string]string{"by": "24h", "reason": "goodwill"},
		"retire-delivery":            map[string]string{"reason": "refunded"},
		"upload-delivery-evidence":   nil,
		"download-delivery-evidence": nil,
		// Returns and disputes: a login_failure case starts neither (422);
		// the case id is no return or dispute (404).
		"start-return":          validReturnBody(),
		"get-return":            nil,
		"list-returns":          nil,
		"inspect-return":        map[string]string{"outcome": "refund_full"},
		"approve-return-refund": map[string]bool{"approve": true},
		"cancel-return":         map[string]string{"reason": "changed my mind"},
		"open-dispute":          validDisputeBody(),
		"get-dispute":           nil,
		"list-disputes":         nil,
		"respond-to-dispute":    map[string]string{"kind": "accept"},
		"answer-dispute-offer":  map[string]string{"answer": "accept_offer"},
		"decide-dispute":        map[string]string{"outcome": "deny", "reason": "no proof"},
		"appeal-dispute":        map[string]string{"party": "buyer", "reason": "unfair"},
		// Sellers and fraud: an empty start or report is refused (422); the
		// case id is no seller (404); {party} and {hold_id} are left in the
		// path, refused by their patterns (422).
		"start-seller-onboarding":    map[string]string{},
		"get-seller":                 nil,
		"decide-seller-verification": map[string]string{"outcome": "pass", "reason": "documents match"},
		"release-payout-hold":        map[string]string{"reason": "verified by hand"},
		"extend-payout-hold":         map[string]string{"reason": "still reviewing", "until": "2099-01-01T00:00:00Z"},
		"change-seller-standing":     map[string]any{"suspend": true, "reason": "fraud confirmed"},
		"upload-seller-document":     nil,
		"get-report":                 nil,
		"get-report-chart":           nil,
		// Knowledge base: an empty create is refused (422); the case id is
		// no article (404).
		"create-kb-article":        map[string]string{},
		"list-kb-articles":         nil,
		"get-kb-article":           nil,
		"update-kb-article":        map[string]any{"version": 1, "category": "general_question", "title": "A title", "body_md": "x"},
		"publish-kb-article":       nil,
		"archive-kb-article":       nil,
		"list-kb-article-versions": nil,
		"diff-kb-article":          nil,
		"search-kb-articles":       nil,
		"report-behaviour":         map[string]string{},
		"get-fraud-watch":          nil,
		"decide-fraud-review":      map[string]string{"outcome": "release", "reason": "false alarm"},
		"erase-customer":           nil,
		"get-erasure":              nil,
	}
}

func TestEveryRoleOutsideTheMatrixIsRefused403(t *testing.T) {
	s := newCaseStack(t)
	routes := routesByOperation(t)
	require.ElementsMatch(t, mapKeys(access), mapKeys(routes), "every operation has its row in access, and only those")
	tag := unique()
	bodies := validBodies(tag)
	require.ElementsMatch(t, mapKeys(routes), mapKeys(bodies), "validBodies needs a body for every operation")

	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	refused := 0
	for op, rt := range routes {
		for _, role := range store.Roles {
			if slices.Contains(access[op], role) {
				continue
			}
			refused++
			path := strings.ReplaceAll(rt.Path, "{id}", c.ID)
			p := problemOf(t, s.as(t, role, rt.Method, path, bodies[op]), http.StatusForbidden)
			assert.Equal(t, "urn:handoff:problem:forbidden", p.Type)
			assert.Equal(t, "the "+string(role)+" role may not "+strings.ReplaceAll(op, "-", " "), p.Detail, "%s as %s", op, role)
		}
	}
	assert.Equal(t, len(store.Roles)*len(routes)-countAllowed(), refused, "every refused pair was sent")
	assert.Positive(t, refused)
	s.requireUnchanged(t, c)
	var created int
	require.NoError(t, s.db.Pool().QueryRow(stacktest.Context(t), `SELECT count(*) FROM api_keys WHERE name = $1`, "test-key-"+tag).Scan(&created))
	assert.Zero(t, created, "a refused create-key made a key")
}

func TestEveryRoleInTheMatrixGetsPastAuthorization(t *testing.T) {
	s := newCaseStack(t)
	routes := routesByOperation(t)
	tag := unique()
	bodies := validBodies(tag)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	for op, roles := range access {
		rt, ok := routes[op]
		require.True(t, ok, "no route for %s", op)
		for _, role := range roles {
			r := s.as(t, role, rt.Method, strings.ReplaceAll(rt.Path, "{id}", c.ID), bodies[op])
			require.Less(t, r.Status, 500, "%s as %s: %s", op, role, r)
			if r.Status == http.StatusCreated && op == "open-case" {
				var v cases.CaseView
				require.NoError(t, json.Unmarshal(r.Body, &v))
				s.terminateAtEnd(t, v.ID)
			}
			if r.Status == http.StatusCreated && op == "create-key" {
				var k struct {
					ID int64 `json:"id"`
				}
				require.NoError(t, json.Unmarshal(r.Body, &k))
				revokeKey(s.db, k.ID)
			}
			if r.Status == http.StatusForbidden {
				p := problemOf(t, r, http.StatusForbidden)
				assert.NotContains(t, p.Detail, "role may not", "%s as %s is in the matrix", op, role)
			}
		}
	}
}

func countAllowed() int {
	n := 0
	for _, roles := range access {
		n += len(roles)
	}
	return n
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTier1AgentCannotActOnASecurityCaseButMayNote(t *testing.T) {
	s := newCaseStack(t)
	body := newCaseBody(vocab.CategorySecurityAlert)
	body.AccountID = "acc-" + unique()
	c := s.open(t, store.RoleIntegration, body)
	require.Equal(t, vocab.TeamSecurity, c.Team)

	p := problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+c.ID+"/replies",
		map[string]string{"body": "Let me help"}), http.StatusForbidden)
	assert.Equal(t, "cannot reply: the case belongs to security, not tier1_support", p.Detail)
	s.requireUnchanged(t, c)
	for action, b := range map[string]any{
		"assign":   map[string]string{"assignee": "bo"},
		"resolve":  map[string]string{"resolution": "done"},
		"priority": map[string]string{"priority": "p4"},
		"escalate": map[string]string{"team": "tier1_support", "reason": "mine now"},
	} {
		p := problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+c.ID+"/"+action, b), http.StatusForbidden)
		assert.Contains(t, p.Detail, "the case belongs to security", action)
		s.requireUnchanged(t, c)
	}

	v := s.act(t, store.RoleSecurity, c.ID, "replies", map[string]string{"body": "Security here"})
	assert.Equal(t, cases.StatusOpen, v.Status)
	v = s.act(t, store.RoleAgent, c.ID, "notes", map[string]string{"body": "Customer called tier 1 too"})
	events := s.timeline(t, c.ID)
	require.Len(t, events, v.LastSeq)
	assert.Equal(t, cases.EventInternalNote, events[len(events)-1].Kind)
	assert.Equal(t, s.actor(store.RoleAgent), events[len(events)-1].Actor)
	assert.Equal(t, s.actor(store.RoleSecurity), events[len(events)-2].Actor)
}

func TestListFiltersSelectTheRightCases(t *testing.T) {
	s := newCaseStack(t)
	short := s.withPolicy(t, shortPolicy(t))
	tag := unique()
	customer := "cus-" + tag
	word := "zq" + strings.ToLower(tag)
	mk := func(cat vocab.Category, edit func(*openCaseBody)) openCaseBody {
		b := newCaseBody(cat)
		b.Customer.ID = customer
		if edit != nil {
			edit(&b)
		}
		return b
	}
	c1 := s.open(t, store.RoleIntegration, mk(vocab.CategoryLockedAccount, func(b *openCaseBody) { b.AccountID = "acc-" + tag + "-1" }))
	s.act(t, store.RoleAgent, c1.ID, "assign", map[string]string{"assignee": "ana-" + tag})
	c2 := s.open(t, store.RoleIntegration, mk(vocab.CategorySecurityAlert, func(b *openCaseBody) {
		b.AccountID = "acc-" + tag + "-2"
		b.Description = "Someone changed my password " + word + " yesterday"
	}))
	c3 := s.open(t, store.RoleIntegration, mk(vocab.CategoryDispute, func(b *openCaseBody) { b.OrderID = "ord-" + tag + "-3" }))
	s.act(t, store.RoleTrustSafety, c3.ID, "wait-on-customer", map[string]string{"reason": "Send the receipt"})
	c4 := s.open(t, store.RoleIntegration, mk(vocab.CategoryGeneralQuestion, func(b *openCaseBody) { b.Priority = "p1" }))
	c5 := s.openOn(t, short, store.RoleIntegration, mk(vocab.CategoryLoginFailure, func(b *openCaseBody) { b.Priority = "p1" }))

	dueBefore := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		query string
		want  []cases.CaseView
	}{
		{"customer_id=" + customer, []cases.CaseView{c1, c2, c3, c4, c5}},
		{"status=open&customer_id=" + customer, []cases.CaseView{c1}},
		{"status=new&customer_id=" + customer, []cases.CaseView{c2, c4}},
		{"status=waiting_customer&customer_id=" + customer, []cases.CaseView{c3}},
		{"status=escalated&customer_id=" + customer, []cases.CaseView{c5}},
		{"priority=p1&customer_id=" + customer, []cases.CaseView{c4, c5}},
		{"priority=p2&customer_id=" + customer, []cases.CaseView{c1, c2, c3}},
		{"category=security_alert&customer_id=" + customer, []cases.CaseView{c2}},
		{"team=trust_safety&customer_id=" + customer, []cases.CaseView{c3}},
		{"team=tier1_support&customer_id=" + customer, []cases.CaseView{c1, c4, c5}},
		{"assignee=ana-" + tag, []cases.CaseView{c1}},
		{"account_id=acc-" + tag + "-2", []cases.CaseView{c2}},
		{"order_id=ord-" + tag + "-3", []cases.CaseView{c3}},
		{"breached=true&customer_id=" + customer, []cases.CaseView{c5}},
		{"breached=false&customer_id=" + customer, []cases.CaseView{c1, c2, c3, c4}},
		// security_alert p2 is due in 30m, p1 in 1h, the short p1 already;
		// locked_account p2 in 4h; the case waiting on its customer has no running clock.
		{"due_before=" + url.QueryEscape(dueBefore) + "&customer_id=" + customer, []cases.CaseView{c2, c4, c5}},
		{"q=" + word, []cases.CaseView{c2}},
		{"q=" + word + "&status=open", nil},
	} {
		query, err := url.ParseQuery(tc.query)
		require.NoError(t, err)
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			got, _, err := s.list(stacktest.Context(t), query)
			require.NoError(ct, err)
			assert.ElementsMatch(ct, ids(tc.want), ids(got))
		}, 20*time.Second, 100*time.Millisecond, tc.query)
	}
}

func TestKeysetPaginationVisitsEveryCaseOnceInDueOrder(t *testing.T) {
	s := newCaseStack(t)
	customer := "cus-" + unique()
	mk := func(cat vocab.Category, priority string) openCaseBody {
		b := newCaseBody(cat)
		b.Customer.ID = customer
		b.Priority = priorityName(priority)
		return b
	}
	// Due in 4h, 15m, 30m, 1h (all 24x7), and a case whose clock is paused.
	locked := s.open(t, store.RoleIntegration, mk(vocab.CategoryLockedAccount, ""))
	secP1 := s.open(t, store.RoleIntegration, mk(vocab.CategorySecurityAlert, "p1"))
	waiting := s.open(t, store.RoleIntegration, mk(vocab.CategoryDispute, ""))
	s.act(t, store.RoleTrustSafety, waiting.ID, "wait-on-customer", map[string]string{"reason": "receipt?"})
	secP2 := s.open(t, store.RoleIntegration, mk(vocab.CategorySecurityAlert, ""))
	general := s.open(t, store.RoleIntegration, mk(vocab.CategoryGeneralQuestion, "p1"))
	want := []string{secP1.ID, secP2.ID, general.ID, locked.ID, waiting.ID}

	filter := url.Values{"customer_id": {customer}}
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		got, _, err := s.list(stacktest.Context(t), filter)
		require.NoError(ct, err)
		assert.Equal(ct, want, ids(got))
	}, 20*time.Second, 100*time.Millisecond, "every case projected, in due order")

	var visited []string
	var pages []int
	cursor := ""
	for range 10 {
		q := url.Values{"customer_id": {customer}, "limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		got, next, err := s.list(stacktest.Context(t), q)
		require.NoError(t, err)
		visited = append(visited, ids(got)...)
		pages = append(pages, len(got))
		for i := 1; i < len(got); i++ {
			a, b := got[i-1].SLA.NearestDue(), got[i].SLA.NearestDue()
			if got[i].SLA.Paused {
				continue
			}
			require.NotNil(t, a)
			require.NotNil(t, b)
			assert.False(t, b.Before(*a), "page out of due order")
		}
		if next == "" {
			break
		}
		cursor = next
	}
	assert.Equal(t, []int{2, 2, 1}, pages)
	assert.Equal(t, want, visited, "each case once, soonest due first, the paused one last")
}

func TestReadModelMatchesTheWorkflowAfterABurstOfActions(t *testing.T) {
	s := newCaseStack(t)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	actions := []struct {
		action string
		body   any
	}{
		{"assign", map[string]string{"assignee": "ana"}},
		{"notes", map[string]string{"body": "one"}},
		{"priority", map[string]string{"priority": "p1"}},
		{"assign", map[string]string{"assignee": "bo"}},
		{"notes", map[string]string{"body": "two"}},
		{"replies", map[string]string{"body": "hello"}},
		{"priority", map[string]string{"priority": "p4"}},
		{"assign", map[string]string{"assignee": "cy"}},
		{"notes", map[string]string{"body": "three"}},
		{"replies", map[string]string{"body": "hello again"}},
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(actions))
	errs := make([]error, len(actions))
	for i, a := range actions {
		wg.Go(func() {
			r, err := sendRequest(stacktest.Context(t), s.base, s.keys[store.RoleAgent].Secret, http.MethodPost,
				"/v1/cases/"+c.ID+"/"+a.action, a.body)
			statuses[i], errs[i] = r.Status, err
		})
	}
	wg.Wait()
	for i := range actions {
		require.NoError(t, errs[i])
		require.Equal(t, http.StatusOK, statuses[i], actions[i].action)
	}
	want := s.get(t, c.ID)
	require.Equal(t, 1+len(actions), want.LastSeq)

	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		got, _, err := s.list(stacktest.Context(t), url.Values{"customer_id": {c.Customer.ID}})
		require.NoError(ct, err)
		require.Len(ct, got, 1)
		assert.Equal(ct, want.LastSeq, got[0].LastSeq)
		assert.Equal(ct, want.Status, got[0].Status)
		assert.Equal(ct, want.Priority, got[0].Priority)
		assert.Equal(ct, want.Team, got[0].Team)
		assert.Equal(ct, want.Assignee, got[0].Assignee)
	}, 10*time.Second, 50*time.Millisecond, "the read model caught up with the workflow")
}

// awaitCompleted waits until the case's workflow has completed.
func (s *caseStack) awaitCompleted(t *testing.T, id string, within time.Duration) {
	t.Helper()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		d, err := s.tc.DescribeWorkflowExecution(stacktest.Context(t), cases.CaseWorkflowID(id), "")
		require.NoError(ct, err)
		assert.Equal(ct, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, d.GetWorkflowExecutionInfo().GetStatus())
	}, within, 100*time.Millisecond, "case %s never completed", id)
}

func TestClosedCaseIsStillReadFromTheReadModel(t *testing.T) {
	s := newCaseStack(t)
	body := newCaseBody(vocab.CategoryLoginFailure)
	key := "close-" + unique()
	c := s.open(t, store.RoleIntegration, body, "Idempotency-Key", key)
	s.act(t, store.RoleAgent, c.ID, "replies", map[string]string{"body": "Fixed"})
	s.act(t, store.RoleAgent, c.ID, "resolve", map[string]string{"resolution": "New code sent"})
	s.act(t, store.RoleIntegration, c.ID, "csat", map[string]int{"rating": 4})
	closedResp := s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+c.ID+"/close", nil)
	closed := caseOf(t, closedResp, http.StatusOK)
	require.Equal(t, cases.StatusClosed, closed.Status)
	running := s.timeline(t, c.ID)

	// Closed and rated: nothing is left for the workflow to wait for.
	s.awaitCompleted(t, c.ID, 20*time.Second)

	r := s.as(t, store.RoleIntegration, http.MethodGet, "/v1/cases/"+c.ID, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r)
	assert.JSONEq(t, string(closedResp.Body), string(r.Body), "the read model answers the case as it closed")

	stored := s.timeline(t, c.ID)
	require.Len(t, stored, len(running))
	for i := range running {
		assert.Equal(t, running[i].Seq, stored[i].Seq)
		assert.Equal(t, running[i].Kind, stored[i].Kind)
		assert.Equal(t, running[i].Actor, stored[i].Actor)
		assert.Equal(t, running[i].Payload, stored[i].Payload)
		assert.WithinDuration(t, running[i].At, stored[i].At, time.Microsecond)
	}

	p := problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+c.ID+"/replies",
		map[string]string{"body": "one more thing"}), http.StatusConflict)
	assert.Equal(t, "the case is closed", p.Detail)
	problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/cases/"+c.ID+"/customer-messages",
		map[string]string{"body": "hello?"}), http.StatusConflict)
	assert.Len(t, s.timeline(t, c.ID), len(running))

	// Retrying the opening answers the closed case, not a new one.
	again := caseOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/cases", body, "Idempotency-Key", key), http.StatusCreated)
	assert.Equal(t, c.ID, again.ID)
	assert.Equal(t, cases.StatusClosed, again.Status)
	problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/cases", newCaseBody(vocab.CategoryLoginFailure),
		"Idempotency-Key", key), http.StatusConflict)
}

func TestResolvedCaseClosesItselfWhenTheReopenWindowEnds(t *testing.T) {
	s := newCaseStack(t)
	short := s.withPolicy(t, shortPolicy(t))
	c := s.openOn(t, short, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	s.act(t, store.RoleAgent, c.ID, "resolve", map[string]string{"resolution": "Done"})

	// Reopen window 1s, survey window 2s: the workflow ends by itself.
	s.awaitCompleted(t, c.ID, 30*time.Second)
	got := s.get(t, c.ID)
	assert.Equal(t, cases.StatusClosed, got.Status)
	require.NotNil(t, got.ClosedAt)
	events := s.timeline(t, c.ID)
	require.Len(t, events, got.LastSeq)
	last := events[len(events)-1]
	assert.Equal(t, cases.EventClosed, last.Kind)
	assert.Equal(t, vocab.SystemActor, last.Actor)
	assert.Equal(t, "reopen window ended", last.Payload["reason"])

	p := problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/cases/"+c.ID+"/csat",
		map[string]int{"rating": 5}), http.StatusConflict)
	assert.Equal(t, "the case is closed", p.Detail)
}

func TestCaseCallsAnswer503WhenTemporalIsDownAndListsStillWork(t *testing.T) {
	cfg := stacktest.Config(t)
	db := stacktest.Store(t)
	cfg.Temporal.Address = "127.0.0.1:1" // nothing listens there
	base := startAPI(t, cfg)
	admin := newAPIKey(t, db, store.RoleAdmin)
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/v1/cases/C-ANY", nil},
		{http.MethodGet, "/v1/cases/C-ANY/timeline", nil},
		{http.MethodPost, "/v1/cases", newCaseBody(vocab.CategoryLoginFailure)},
		{http.MethodPost, "/v1/cases/C-ANY/notes", map[string]string{"body": "hello"}},
	} {
		r, err := sendRequest(stacktest.Context(t), base, admin.Secret, req.method, req.path, req.body)
		require.NoError(t, err)
		p := problemOf(t, r, http.StatusServiceUnavailable)
		assert.Equal(t, "urn:handoff:problem:dependency-unavailable", p.Type, "%s %s", req.method, req.path)
	}
	// The read model answers lists without Temporal.
	r, err := sendRequest(stacktest.Context(t), base, admin.Secret, http.MethodGet, "/v1/cases?limit=1", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, r.Status, "%s", r)
}

//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"handoff/config"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// fuzzMethods are the methods a fuzz input picks from by index.
var fuzzMethods = []string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodHead, http.MethodOptions,
}

// Authorization a fuzz input sends, by index modulo their number.
const (
	authNone = iota
	authAdmin
	authAgent
	authIntegration
	authGarbage
	authRevoked
	authChoices
)

// fuzzTarget is the real API, with a worker on a task queue of its own,
// that every fuzz input of one process is sent to. Paths of inputs name
// its cases as {live} (a running case) and {closed} (a completed one).
type fuzzTarget struct {
	base    string
	auth    [authChoices]string
	live    string
	closed  string
	logs    *logBuffer
	db      *store.Store
	tc      client.Client
	httpc   *http.Client
	mu      sync.Mutex
	opened  []string
	created []int64
}

// logBuffer keeps what the API and the worker logged (warnings and
// errors) since the last reset, to show with a failing input. Nothing
// may log through *testing.F while the fuzz target runs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		b.buf.Reset()
	}
	return b.buf.Write(p)
}

func (b *logBuffer) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > 4000 {
		s = "..." + s[len(s)-4000:]
	}
	return s
}

// newFuzzTarget starts the API and a worker for the whole fuzz run of this
// process; they stop, and what the inputs opened is ended, when tb ends.
func newFuzzTarget(tb testing.TB) *fuzzTarget {
	tb.Helper()
	cfg := stacktest.Config(tb)
	stacktest.Store(tb) // migrated, and a clear failure when Postgres is down
	ft := &fuzzTarget{logs: &logBuffer{}, httpc: &http.Client{Timeout: time.Minute}}
	logger := slog.New(slog.NewTextHandler(ft.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Long-lived dependencies: the fuzz run outlives stacktest's contexts.
	db, err := store.Open(context.Background(), cfg.DatabaseURL)
	require.NoError(tb, err)
	tb.Cleanup(db.Close)
	ft.db = db
	opts, err := cfg.Temporal.ClientOptions(logger, nil)
	require.NoError(tb, err)
	ft.tc, err = client.Dial(opts)
	require.NoError(tb, err, "temporal at %s", cfg.Temporal.Address)
	tb.Cleanup(ft.tc.Close)
	cfg.Temporal.TaskQueue = startCaseWorker(tb, ft.tc, cfg, db)
	ft.base = serveAPI(tb, cfg, logger)
	tb.Cleanup(ft.endWhatInputsMade)

	ft.auth[authAdmin] = "Bearer " + newAPIKey(tb, db, store.RoleAdmin).Secret
	ft.auth[authAgent] = "Bearer " + newAPIKey(tb, db, store.RoleAgent).Secret
	ft.auth[authIntegration] = "Bearer " + newAPIKey(tb, db, store.RoleIntegration).Secret
	ft.auth[authGarbage] = "Bearer hk_garbage"
	revoked := newAPIKey(tb, db, store.RoleAdmin)
	revokeKey(db, revoked.ID)
	ft.auth[authRevoked] = "Bearer " + revoked.Secret

	ft.live = ft.openCase(tb)
	ft.closed = ft.openCase(tb)
	for _, step := range []struct{ action, body string }{
		{"resolve", `{"resolution": "done"}`},
		{"csat", `{"rating": 3}`},
		{"close", ``},
	} {
		r := ft.send(tb, http.MethodPost, "/v1/cases/"+ft.closed+"/"+step.action, []byte(step.body), "application/json", authAdmin, "")
		require.Equal(tb, http.StatusOK, r.Status, "%s %s", step.action, r)
	}
	require.Eventually(tb, func() bool {
		d, err := ft.tc.DescribeWorkflowExecution(context.Background(), cases.CaseWorkflowID(ft.closed), "")
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	}, 30*time.Second, 100*time.Millisecond, "the closed case %s never completed", ft.closed)
	return ft
}

// serveAPI runs the API on a free port with logger, for any testing.TB
// (startAPI takes a *testing.T and logs through it, which a fuzz target
// may not), and answers its base URL; it stops when tb ends.
func serveAPI(tb testing.TB, cfg config.Config, logger *slog.Logger) string {
	tb.Helper()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Inbound.SMTPAddr = ""
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, logger, ready) }()
	select {
	case addr := <-ready:
		tb.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("api shutdown: %v", err)
			}
		})
		return "http://" + addr
	case err := <-done:
		cancel()
		tb.Fatalf("api did not start: %v", err)
		return ""
	}
}

// openCase opens a case as admin and answers its id.
func (ft *fuzzTarget) openCase(tb testing.TB) string {
	tb.Helper()
	body, err := json.Marshal(newCaseBody(vocab.CategoryLoginFailure))
	require.NoError(tb, err)
	r := ft.send(tb, http.MethodPost, "/v1/cases", body, "application/json", authAdmin, "")
	require.Equal(tb, http.StatusCreated, r.Status, "%s", r)
	var v cases.CaseView
	require.NoError(tb, json.Unmarshal(r.Body, &v))
	return v.ID
}

// send sends one request; a transport error fails tb.
func (ft *fuzzTarget) send(tb testing.TB, method, path string, body []byte, contentType string, auth int, idempotencyKey string) reply {
	tb.Helper()
	r, err := ft.try(method, path, body, contentType, auth, idempotencyKey)
	require.NoError(tb, err, "%s %s", method, path)
	return r
}

func (ft *fuzzTarget) try(method, path string, body []byte, contentType string, auth int, idempotencyKey string) (reply, error) {
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, ft.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a := ft.auth[auth]; a != "" {
		req.Header.Set("Authorization", a)
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := ft.httpc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{Status: resp.StatusCode, Header: resp.Header, Body: data}
	ft.remember(method, path, r)
	return r, nil
}

// remember notes the cases and keys an input created, to end them.
func (ft *fuzzTarget) remember(method, path string, r reply) {
	if method != http.MethodPost || r.Status != http.StatusCreated {
		return
	}
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if id, ok := strings.CutPrefix(r.Header.Get("Location"), "/v1/cases/"); ok {
		ft.opened = append(ft.opened, id)
		return
	}
	var k struct {
		ID   int64  `json:"id"`
		Role string `json:"role"`
		Key  string `json:"key"`
	}
	if json.Unmarshal(r.Body, &k) == nil && k.ID > 0 && k.Key != "" {
		ft.created = append(ft.created, k.ID)
	}
}

// endWhatInputsMade terminates the cases the inputs opened (their worker
// stops with the run) and revokes the keys they created.
func (ft *fuzzTarget) endWhatInputsMade() {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range append(ft.opened, ft.live) {
		_ = ft.tc.TerminateWorkflow(ctx, cases.CaseWorkflowID(id), "", "fuzz run over")
	}
	for _, id := range ft.created {
		revokeKey(ft.db, id)
	}
}

// sendable reports whether net/http can send v as a header value: no
// control characters but tab (the client refuses them before sending).
func sendable(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// FuzzHandlers sends arbitrary requests through the real router to the real
// stack: no input may answer a 5xx (the stack is up, so not even a 503),
// and every 4xx is a problem+json whose status member is the HTTP status.
func FuzzHandlers(f *testing.F) {
	ft := newFuzzTarget(f)

	validCase, err := json.Marshal(newCaseBody(vocab.CategoryLockedAccount))
	require.NoError(f, err)
	const jsonType = "application/json"
	for _, seed := range []struct {
		method      string
		path        string
		body        string
		contentType string
		auth        int
		key         string
	}{
		{"GET", "/v1/cases/{live}", "", "", authAdmin, ""},
		{"GET", "/v1/cases/{closed}", "", "", authIntegration, ""},
		{"GET", "/v1/cases/{live}/timeline", "", "", authAgent, ""},
		{"GET", "/v1/cases/{closed}/timeline", "", "", authAdmin, ""},
		{"GET", "/v1/cases?status=open&priority=p1&team=tier1_support&breached=false&limit=2", "", "", authAgent, ""},
		{"GET", "/v1/cases?q=%22locked+account%22+-spam&due_before=2030-01-01T00:00:00Z&cursor=eyJkIjpudWxsLCJpIjoiQyJ9", "", "", authAdmin, ""},
		{"GET", "/v1/cases?limit=0&cursor=%%%&breached=maybe", "", "", authAdmin, ""},
		{"POST", "/v1/cases", string(validCase), jsonType, authIntegration, "seed-open"},
		{"POST", "/v1/cases", `{"category":"pony","subject":"","customer":{"id":"c","email":"nope","locale":"de"},"extra":1}`, jsonType, authAdmin, ""},
		{"POST", "/v1/cases/{live}/assign", `{"assignee":"bo","team":"tier1_support"}`, jsonType, authAgent, "k1"},
		{"POST", "/v1/cases/{live}/replies", `{"body":"hello"}`, jsonType, authAgent, ""},
		{"POST", "/v1/cases/{live}/notes", `{"body": "unterminated`, jsonType, authAdmin, ""},
		{"POST", "/v1/cases/{live}/customer-messages", `{"body":"it works now"}`, "application/merge-patch+json", authIntegration, ""},
		{"POST", "/v1/cases/{live}/wait-on-customer", `{"reason":"which email?"}`, jsonType, authAdmin, ""},
		{"POST", "/v1/cases/{live}/escalate", `{"team":"trust_safety","reason":"fraud"}`, jsonType, authAdmin, ""},
		{"POST", "/v1/cases/{live}/priority", `{"priority":"p1"}`, "text/plain", authAdmin, ""},
		{"POST", "/v1/cases/{live}/resolve", `{"resolution":"done"}`, jsonType, authGarbage, ""},
		{"POST", "/v1/cases/{live}/reopen", `{"reason":"again"}`, jsonType, authRevoked, ""},
		{"POST", "/v1/cases/{closed}/close", ``, "", authAdmin, ""},
		{"POST", "/v1/cases/{closed}/csat", `{"rating":9,"comment":"x"}`, jsonType, authIntegration, ""},
		{"POST", "/v1/keys", `{"name":"fuzz-seed","role":"root"}`, jsonType, authAdmin, ""},
		{"POST", "/v1/keys", `{"name":"fuzz-seed","role":"agent"}`, jsonType, authAgent, ""},
		{"GET", "/v1/cases/C-%E2%9C%93%20..%2F..", "", "", authAdmin, ""},
		{"GET", "/v1/cases/" + strings.Repeat("A", 65) + "/timeline", "", "", authAdmin, ""},
		{"DELETE", "/v1/cases/{live}", "", "", authAdmin, ""},
		{"PUT", "/v1/keys", `{}`, jsonType, authNone, ""},
		{"OPTIONS", "/v1/cases", "", "", authNone, ""},
		{"HEAD", "/v1/cases/{live}", "", "", authAdmin, ""},
		{"POST", "/v1/cases/C-%00/notes", `{"body":"x"}`, jsonType, authAdmin, ""},
		{"POST", "/v1/cases/{live}/notes", `{"body":"clé ✓ \u00e9"}`, "application/json; charset=utf-8", authAgent, "clé-✓-1"},
		{"GET", "/healthz", "", "", authNone, ""},
		{"GET", "/readyz", "", "", authNone, ""},
		{"GET", "/openapi.yaml", "", "", authNone, ""},
	} {
		method := -1
		for i, m := range fuzzMethods {
			if m == seed.method {
				method = i
			}
		}
		require.GreaterOrEqual(f, method, 0, seed.method)
		f.Add(uint8(method), seed.path, []byte(seed.body), seed.contentType, uint8(seed.auth), seed.key)
	}

	f.Fuzz(func(t *testing.T, method uint8, path string, body []byte, contentType string, auth uint8, idempotencyKey string) {
		m := fuzzMethods[int(method)%len(fuzzMethods)]
		path = strings.NewReplacer("{live}", ft.live, "{closed}", ft.closed).Replace(path)
		if !strings.HasPrefix(path, "/") {
			path = "/" + path // never another host
		}
		if _, err := url.ParseRequestURI(ft.base + path); err != nil {
			return // not a request a client can send
		}
		if !sendable(contentType) || !sendable(idempotencyKey) {
			return
		}
		a := int(auth) % authChoices
		ft.logs.reset()
		r, err := ft.try(m, path, body, contentType, a, idempotencyKey)
		describe := func() string {
			return fmt.Sprintf("%s %q auth=%d content-type=%q idempotency-key=%q body=%q\n-> %d %q %s\nserver log:\n%s",
				m, path, a, contentType, idempotencyKey, body, r.Status, r.Header.Get("Content-Type"), r.Body, ft.logs)
		}
		if err != nil {
			t.Fatalf("no answer: %v\n%s", err, describe())
		}
		if r.Status >= 500 {
			t.Fatalf("server error\n%s", describe())
		}
		if r.Status < 400 {
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("a %d is not problem+json\n%s", r.Status, describe())
		}
		if m == http.MethodHead {
			return // no body to read
		}
		var p struct {
			Type   string `json:"type"`
			Title  string `json:"title"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatalf("problem body is not JSON: %v\n%s", err, describe())
		}
		if p.Status != r.Status || p.Type == "" || p.Title == "" {
			t.Fatalf("problem lacks type, title or status %d\n%s", r.Status, describe())
		}
	})
}

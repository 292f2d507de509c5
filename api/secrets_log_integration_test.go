//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"handoff/config"
	"handoff/stacktest"
	"handoff/standardwebhooks"
	"handoff/store"
	"handoff/worker/registry"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// lockedBuffer is a log sink the API's goroutines write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// debugLogger logs everything, down to debug, into logs.
func debugLogger(logs *lockedBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startWorkerLogged runs every workflow and activity, as stackworker does,
// on a task queue of its own with its Temporal client and activities
// logging into logs, and answers the queue.
func startWorkerLogged(t *testing.T, cfg config.Config, logs *lockedBuffer) string {
	t.Helper()
	queue := "test-secrets-" + unique()
	opts, err := cfg.Temporal.ClientOptions(debugLogger(logs), nil)
	require.NoError(t, err)
	tc, err := client.DialContext(stacktest.Context(t), opts)
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	cfg.Temporal.TaskQueue = queue
	w := worker.New(tc, queue, worker.Options{})
	require.NoError(t, registry.Register(w, registry.Deps{Config: cfg, Logger: debugLogger(logs),
		Store: stacktest.Store(t), Temporal: tc, S3: stacktest.S3(t)}))
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	return queue
}

// startAPILogged runs the API like startAPI but logs everything, down to
// debug, into logs.
func startAPILogged(t *testing.T, cfg config.Config, logs *lockedBuffer) string {
	t.Helper()
	logger := debugLogger(logs)
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Inbound.SMTPAddr = ""
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, logger, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("api did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done, "api shutdown")
	})
	return "http://" + addr
}

// configuredSecrets answers every secret the configuration holds, named by
// its field path: each string field whose name says it is a secret, a
// password or an API key, the link keys' secrets, and each payload key's
// material (inline or from its file). A whsec_ secret also counts without
// its prefix, since the bytes after it are the key.
func configuredSecrets(t *testing.T, cfg config.Config) map[string]string {
	t.Helper()
	out := map[string]string{}
	add := func(name, v string) {
		if len(v) < 8 {
			return
		}
		out[name] = v
		if k, ok := strings.CutPrefix(v, "whsec_"); ok {
			out[name+" (key)"] = k
			if raw, err := base64.StdEncoding.DecodeString(k); err == nil && len(raw) >= 8 {
				out[name+" (bytes)"] = string(raw)
			}
		}
	}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				f := v.Type().Field(i)
				walk(path+"."+f.Name, v.Field(i))
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(path+"[]", v.Index(i))
			}
		case reflect.String:
			name := path[strings.LastIndex(path, ".")+1:]
			if strings.Contains(name, "Secret") || strings.Contains(name, "Password") || name == "APIKey" {
				add(path, v.String())
			}
		}
	}
	walk("Config", reflect.ValueOf(cfg))

	keys := cfg.Temporal.PayloadKeys
	if strings.TrimSpace(keys) == "" && cfg.Temporal.PayloadKeysFile != "" {
		path := cfg.Temporal.PayloadKeysFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(stacktest.RepoRoot(t), path)
		}
		data, err := os.ReadFile(path)
		require.NoError(t, err, "payload keys file")
		keys = string(data)
	}
	n := 0
	for _, entry := range strings.FieldsFunc(keys, func(r rune) bool { return r == ',' || r == '\n' }) {
		if _, material, ok := strings.Cut(strings.TrimSpace(entry), ":"); ok {
			n++
			add(fmt.Sprintf("Config.Temporal.PayloadKeys[%d]", n), material)
		}
	}
	require.Positive(t, n, "the test knows at least one payload key")
	return out
}

// codecSignIn posts key to /codec/session at base, wants status, and
// answers the session cookie set, if any.
func codecSignIn(t *testing.T, base, key string, status int) *http.Cookie {
	t.Helper()
	req, err := http.NewRequestWithContext(stacktest.Context(t), http.MethodPost, base+"/codec/session",
		strings.NewReader(url.Values{"key": {key}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, status, resp.StatusCode)
	for _, c := range resp.Cookies() {
		if c.Name == codecCookie {
			return c
		}
	}
	return nil
}

// A whole case lifecycle, the codec server and its sign-in, inbound
// webhooks under a wrong secret, refused requests and failed logins leave no
// configured secret and no API key secret in the logs of the API and of
// the worker (its activities and its Temporal client), both in-process.
func TestNoSecretAppearsInTheAPIOrWorkerLogsOverACaseLifecycle(t *testing.T) {
	cfg := stacktest.Config(t)
	db := stacktest.Store(t)
	tc := stacktest.Temporal(t)
	logs := &lockedBuffer{}
	cfg.Temporal.TaskQueue = startWorkerLogged(t, cfg, logs)
	base := startAPILogged(t, cfg, logs)
	s := &caseStack{cfg: cfg, base: base, db: db, tc: tc, keys: map[store.Role]apiKey{}}
	for _, r := range store.Roles {
		s.keys[r] = newAPIKey(t, db, r)
	}

	body := newCaseBody(vocab.CategoryLockedAccount)
	body.AccountID = "acc-" + unique()
	c := s.open(t, store.RoleIntegration, body)
	s.act(t, store.RoleAgent, c.ID, "assign", map[string]string{"assignee": "bo"})
	s.act(t, store.RoleAgent, c.ID, "replies", map[string]string{"body": "We are looking into it."})
	s.act(t, store.RoleIntegration, c.ID, "customer-messages", map[string]string{"body": "Still locked."})
	s.act(t, store.RoleAgent, c.ID, "notes", map[string]string{"body": "Checked the login history."})
	v := s.act(t, store.RoleAgent, c.ID, "resolve", map[string]string{"resolution": "Unlocked."})
	assert.Equal(t, cases.StatusResolved, v.Status)
	s.act(t, store.RoleAgent, c.ID, "close", nil)
	s.timeline(t, c.ID)
	// The reply's email goes out from an activity; wait for it so the
	// worker's logs of sending it are in the buffer.
	require.Eventually(t, func() bool {
		msgs, err := stacktest.MailpitSearch(stacktest.Context(t), "to:"+body.Customer.Email)
		return err == nil && len(msgs) > 0
	}, 30*time.Second, 200*time.Millisecond, "the reply's email is sent")

	// A key made over the API: its secret is in the answer, never in a log.
	r := s.as(t, store.RoleAdmin, http.MethodPost, "/v1/keys", map[string]string{"name": "secrets-" + unique(), "role": "agent"})
	require.Equal(t, http.StatusCreated, r.Status, r.String())
	var made struct {
		ID  int64  `json:"id"`
		Key string `json:"key"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &made))
	require.NotEmpty(t, made.Key)
	t.Cleanup(func() { revokeKey(db, made.ID) })

	// The codec server: seal and open a payload as admin, sign in to the
	// Web UI's session (the key goes into a cookie) and open it again
	// through the cookie; an agent's sign-in is refused.
	plain := `{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"InNlY3JldHMtdGVzdCI="}]}`
	r = s.as(t, store.RoleAdmin, http.MethodPost, "/codec/encode", []byte(plain), "X-Namespace", cfg.Temporal.Namespace)
	require.Equal(t, http.StatusOK, r.Status, r.String())
	sealed := r.Body
	cookie := codecSignIn(t, base, s.keys[store.RoleAdmin].Secret, http.StatusOK)
	require.NotNil(t, cookie, "the admin's sign-in sets the session cookie")
	r, err := sendRequest(stacktest.Context(t), base, "", http.MethodPost, "/codec/decode", sealed,
		"Cookie", cookie.String(), "X-Namespace", cfg.Temporal.Namespace)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status, r.String())
	assert.Nil(t, codecSignIn(t, base, s.keys[store.RoleAgent].Secret, http.StatusForbidden))

	// Every inbound webhook refuses a body signed under another secret.
	wrong := []byte("handoff-secrets-test-not-the-secret")
	for _, path := range []string{carrierWebhookPath, paymentsWebhookPath, inboundMailPath,
		marketplaceWebhookPath, verificationWebhookPath} {
		payload := []byte(`{"type":"test"}`)
		id, ts := "msg_"+unique(), time.Now().Unix()
		r, err := sendRequest(stacktest.Context(t), base, "", http.MethodPost, path, payload,
			standardwebhooks.HeaderID, id, standardwebhooks.HeaderTimestamp, strconv.FormatInt(ts, 10),
			standardwebhooks.HeaderSignature, standardwebhooks.Sign(wrong, id, ts, payload))
		require.NoError(t, err)
		assert.GreaterOrEqual(t, r.Status, 400, "%s: %s", path, r)
		assert.Less(t, r.Status, 500, "%s: %s", path, r)
	}

	// Refusals log too: a role outside the matrix, a revoked key, a bad scheme.
	problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/keys",
		map[string]string{"name": "x", "role": "agent"}), http.StatusForbidden)
	revoked := newAPIKey(t, db, store.RoleAgent)
	revokeKey(db, revoked.ID)
	r = s.with(t, revoked.Secret, http.MethodGet, "/v1/cases/"+c.ID, nil)
	require.Equal(t, http.StatusUnauthorized, r.Status, r.String())
	r, err = sendRequest(stacktest.Context(t), base, "", http.MethodGet, "/v1/cases/"+c.ID, nil,
		"Authorization", "Basic "+s.keys[store.RoleAdmin].Secret)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, r.Status, r.String())

	got := logs.String()
	require.Contains(t, got, "api listening", "the API's logs are captured")
	require.Contains(t, got, "Started Worker", "the worker's logs are captured")
	secrets := configuredSecrets(t, cfg)
	for role, k := range s.keys {
		secrets["api key of "+string(role)] = k.Secret
	}
	secrets["revoked api key"] = revoked.Secret
	secrets["api key made over the API"] = made.Key
	// A failure names the secret and the log line, never prints either:
	// the test's own output must not leak what it looks for.
	for name, secret := range secrets {
		if i := strings.Index(got, secret); i >= 0 {
			t.Errorf("%s appears in the logs, on line %d of %d", name,
				strings.Count(got[:i], "\n")+1, strings.Count(got, "\n"))
		}
	}
	t.Logf("checked %d secrets against %d bytes of logs", len(secrets), len(got))
}

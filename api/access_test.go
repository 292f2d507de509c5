package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/ratelimit"
	"handoff/store"
)

// matrixRow is the README's row for an operation.
func matrixRow(op string) string {
	cells := []string{"`" + op + "`"}
	for _, r := range store.Roles {
		if slices.Contains(access[op], r) {
			cells = append(cells, "yes")
		} else {
			cells = append(cells, "no")
		}
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// TestReadmeRoleMatrixIsTheAccessTable keeps the README's role matrix the
// table the API enforces.
func TestReadmeRoleMatrixIsTheAccessTable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	for op := range access {
		row := matrixRow(op)
		assert.True(t, strings.Contains(string(readme), row+"\n"), "README.md lacks the role matrix row %s", row)
	}
}

// TestEveryOperationHasAnAccessRule keeps a new route from falling back to admin-only unnoticed.
func TestEveryOperationHasAnAccessRule(t *testing.T) {
	s, _ := bareServer()
	for path, item := range s.openapi.Paths {
		if !strings.HasPrefix(path, "/v1/") {
			continue // the customer pages take a signed link, no key
		}
		if item.Get != nil {
			assert.Contains(t, access, item.Get.OperationID, path)
		}
		if item.Post != nil {
			assert.Contains(t, access, item.Post.OperationID, path)
		}
		if item.Put != nil {
			assert.Contains(t, access, item.Put.OperationID, path)
		}
	}
}

var quiet = slog.New(slog.DiscardHandler)

// fakeKeys stands for the API key table: secret → role.
func fakeKeys(ctx context.Context, secret string) (store.APIKey, error) {
	if r, err := store.ParseRole(strings.TrimPrefix(secret, "key-")); err == nil {
		return store.APIKey{ID: 1, Name: "test", Role: r}, nil
	}
	if secret == "key-broken-db" {
		return store.APIKey{}, errors.New("connection refused")
	}
	return store.APIKey{}, store.ErrNotFound
}

func authServer() http.Handler {
	s := &server{registry: prometheus.NewRegistry(), lookupKey: fakeKeys, logger: quiet}
	return s.routes()
}

func call(h http.Handler, method, path, key string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestEveryRefusedRoleGets403 sends each operation with each role it does
// not allow, every "no" of the table; the refusal comes before any body
// validation or case lookup.
func TestEveryRefusedRoleGets403(t *testing.T) {
	s := &server{registry: prometheus.NewRegistry(), lookupKey: fakeKeys, logger: quiet}
	h := s.routes()
	checked := 0
	sent := map[string]bool{}
	for path, item := range s.openapi.Paths {
		if !strings.HasPrefix(path, "/v1/") {
			continue // the customer pages take a signed link, no key
		}
		concrete := strings.ReplaceAll(path, "{id}", "C-1")
		ops := map[string]string{}
		if item.Get != nil {
			ops[http.MethodGet] = item.Get.OperationID
		}
		if item.Post != nil {
			ops[http.MethodPost] = item.Post.OperationID
		}
		if item.Put != nil {
			ops[http.MethodPut] = item.Put.OperationID
		}
		for method, id := range ops {
			sent[id] = true
			for _, role := range store.Roles {
				if slices.Contains(access[id], role) {
					continue
				}
				rec := call(h, method, concrete, "key-"+string(role))
				assert.Equal(t, http.StatusForbidden, rec.Code, "%s as %s: %s", id, role, rec.Body)
				assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
				assert.Contains(t, rec.Body.String(), `"status":403`)
				checked++
			}
		}
	}
	assert.Positive(t, checked)
	refusals := 0
	for id, roles := range access {
		assert.True(t, sent[id], "%s is in the access table but no route has it", id)
		refusals += len(store.Roles) - len(roles)
	}
	assert.Equal(t, refusals, checked, "every refused cell of the table was sent")
}

func TestMissingOrUnknownKeyGets401(t *testing.T) {
	h := authServer()
	for _, key := range []string{"", "key-nobody"} {
		rec := call(h, http.MethodGet, "/v1/cases", key)
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		assert.NotEmpty(t, rec.Header().Get("WWW-Authenticate"))
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/cases", nil)
	req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestKeyCheckWithPostgresDownGets503(t *testing.T) {
	rec := call(authServer(), http.MethodGet, "/v1/cases", "key-broken-db")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Contains(t, rec.Body.String(), "postgres")
}

func TestUnknownRouteIsAProblem(t *testing.T) {
	rec := call(authServer(), http.MethodGet, "/v2/cases", "")
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
}

func TestAKeyBeyondItsRateGets429WithRetryAfter(t *testing.T) {
	s := &server{registry: prometheus.NewRegistry(), lookupKey: fakeKeys, logger: quiet,
		keyLimiter: ratelimit.New(2, 0.5)}
	h := s.routes()
	// An integration key may not list cases: the burst gets its 403s (the
	// limit comes first, before any handler), then the 429.
	for i := range 2 {
		rec := call(h, http.MethodGet, "/v1/cases", "key-integration")
		assert.Equal(t, http.StatusForbidden, rec.Code, "request %d of the burst", i)
	}
	rec := call(h, http.MethodGet, "/v1/cases", "key-integration")
	require.Equal(t, http.StatusTooManyRequests, rec.Code, rec.Body.String())
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "2", rec.Header().Get("Retry-After"), "a token comes back every 2 s")
	assert.Contains(t, rec.Body.String(), "urn:handoff:problem:rate-limited")

	// No key spends nothing: still a 401.
	assert.Equal(t, http.StatusUnauthorized, call(h, http.MethodGet, "/v1/cases", "").Code)
}

//go:build integration

package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/config"
	"handoff/stacktest"
)

// startAPI runs the API in-process on a free port against cfg and answers
// its base URL; the server stops, and run must return nil, when t ends.
func startAPI(t *testing.T, cfg config.Config) string {
	t.Helper()
	cfg.HTTPAddr = "127.0.0.1:0"
	// Tests of the inbound gateway start their own (package mailin).
	cfg.Inbound.SMTPAddr = ""
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, stacktest.Logger(t), ready) }()
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

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(stacktest.Context(t), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func TestReadyzAnswers200WhenTheStackIsUp(t *testing.T) {
	base := startAPI(t, stacktest.Config(t))
	resp, body := get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var got struct {
		Checks map[string]string `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, map[string]string{"temporal": "ok", "postgres": "ok", "s3": "ok"}, got.Checks)
}

func TestReadyzNamesPostgresWhenItIsDown(t *testing.T) {
	cfg := stacktest.Config(t)
	cfg.DatabaseURL = "postgres://postgres@127.0.0.1:1/handoff?sslmode=disable&connect_timeout=1"
	base := startAPI(t, cfg)
	resp, body := get(t, base+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(body))
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	var problem struct {
		Status int               `json:"status"`
		Detail string            `json:"detail"`
		Checks map[string]string `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(body, &problem))
	assert.Equal(t, 503, problem.Status)
	assert.Equal(t, "postgres unreachable", problem.Detail)
	assert.Equal(t, "ok", problem.Checks["temporal"])
	assert.Equal(t, "ok", problem.Checks["s3"])
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	base := startAPI(t, stacktest.Config(t))
	resp, _ := get(t, base+"/healthz")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = get(t, base+"/no/such/route")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, body := get(t, base+"/metrics")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	text := string(body)
	assert.Contains(t, text, `handoff_http_requests_total{code="200",method="GET",route="/healthz"} 1`)
	assert.Contains(t, text, `handoff_http_requests_total{code="404",method="GET",route="unmatched"} 1`)
	assert.Contains(t, text, "go_goroutines")
}

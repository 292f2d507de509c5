package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func up(name string) Check {
	return Check{Name: name, Probe: func(context.Context) error { return nil }}
}

func down(name string) Check {
	return Check{Name: name, Probe: func(context.Context) error { return errors.New("connection refused") }}
}

func ready(t *testing.T, c *Checker) (*http.Response, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	c.Ready(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	return rec.Result(), body
}

func TestReadyWhenEveryDependencyAnswers(t *testing.T) {
	resp, body := ready(t, NewChecker(time.Second, up("temporal"), up("postgres"), up("s3")))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ready", body["status"])
	assert.Equal(t, map[string]any{"temporal": "ok", "postgres": "ok", "s3": "ok"}, body["checks"])
}

func TestNotReadyNamesWhatIsDown(t *testing.T) {
	resp, body := ready(t, NewChecker(time.Second, up("temporal"), down("postgres"), up("s3")))
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "postgres unreachable", body["detail"])
	assert.EqualValues(t, 503, body["status"])
	assert.NotEmpty(t, body["type"])
	assert.NotEmpty(t, body["title"])
	checks := body["checks"].(map[string]any)
	assert.Equal(t, "ok", checks["temporal"])
	assert.Equal(t, "down: connection refused", checks["postgres"])
}

func TestSlowProbeIsCutAtTheTimeout(t *testing.T) {
	slow := Check{Name: "s3", Probe: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	results := NewChecker(10*time.Millisecond, up("temporal"), slow).Run(t.Context())
	require.Len(t, results, 2)
	assert.NoError(t, results[0].Err)
	assert.ErrorIs(t, results[1].Err, context.DeadlineExceeded)
}

func TestLiveAlwaysAnswersOK(t *testing.T) {
	rec := httptest.NewRecorder()
	Live(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":"alive"}`, rec.Body.String())
}

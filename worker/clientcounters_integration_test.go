//go:build integration

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"handoff/stacktest"
	"handoff/workflows/accountflows"
)

// getAccountOnce runs the worker's own GetAccount activity once, so its
// Postgres directory sends SQL through the worker's pool.
func getAccountOnce(ctx workflow.Context, id string) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	// A missing account fails the activity; the query was sent all the same.
	_ = workflow.ExecuteActivity(ctx, accountflows.ActivityGetAccount, id).Get(ctx, nil)
	return nil
}

// scrapeSeries answers the value of series (name{labels} as exported) on
// the metrics page at url, -1 when it is missing.
func scrapeSeries(t *testing.T, url, series string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(string(body))
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

func TestMetricsCountTheTemporalCallsSQLStatementsAndS3RequestsTheWorkerSends(t *testing.T) {
	cfg := stacktest.Config(t)
	cfg.WorkerMetricsAddr = "127.0.0.1:0"
	cfg.Temporal.TaskQueue = fmt.Sprintf("test-counters-%d", time.Now().UnixNano())
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, cfg, stacktest.Logger(t), hooks{ready: ready, register: func(r sdkworker.Registry) {
			r.RegisterWorkflow(getAccountOnce)
		}})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("worker did not start: %v", err)
	}
	defer func() { stop(); assert.NoError(t, <-done) }()
	metrics := "http://" + addr + "/metrics"

	require.Eventually(t, func() bool {
		return scrapeSeries(t, metrics, `handoff_temporal_calls_total{operation="PollWorkflowTaskQueue"}`) > 0 &&
			scrapeSeries(t, metrics, `handoff_temporal_calls_total{operation="PollActivityTaskQueue"}`) > 0
	}, 10*time.Second, 50*time.Millisecond, "the worker polls its task queue")

	resp, err := http.Get("http://" + addr + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 1.0, scrapeSeries(t, metrics, `handoff_s3_requests_total{operation="HeadBucket"}`), "one readiness check")

	before := scrapeSeries(t, metrics, "handoff_sql_statements_total")
	tc := stacktest.Temporal(t)
	tctx := stacktest.Context(t)
	we, err := tc.ExecuteWorkflow(tctx, client.StartWorkflowOptions{TaskQueue: cfg.Temporal.TaskQueue},
		getAccountOnce, "no-such-account")
	require.NoError(t, err)
	require.NoError(t, we.Get(tctx, nil))
	assert.Greater(t, scrapeSeries(t, metrics, "handoff_sql_statements_total"), before, "the activity's query")
	assert.Greater(t, scrapeSeries(t, metrics, `handoff_temporal_calls_total{operation="RespondActivityTaskFailed"}`), 0.0)
}

//go:build integration

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"handoff/stacktest"
)

// slowActivity stands for any activity still running when the worker is
// told to stop: it reports that it started, then takes its time.
type slowActivity struct {
	started chan struct{}
}

func (a *slowActivity) Slow(ctx context.Context, d time.Duration) (string, error) {
	close(a.started)
	select {
	case <-time.After(d):
		return "finished", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func slowWorkflow(ctx workflow.Context, d time.Duration) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var out string
	err := workflow.ExecuteActivity(ctx, "Slow", d).Get(ctx, &out)
	return out, err
}

func TestStoppingWorkerLetsInFlightActivityFinish(t *testing.T) {
	cfg := stacktest.Config(t)
	cfg.WorkerMetricsAddr = "127.0.0.1:0"
	// A queue of its own keeps a running `make run` worker from taking the task.
	cfg.Temporal.TaskQueue = fmt.Sprintf("test-graceful-%d", time.Now().UnixNano())
	act := &slowActivity{started: make(chan struct{})}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, cfg, stacktest.Logger(t), hooks{ready: ready, register: func(r sdkworker.Registry) {
			r.RegisterWorkflow(slowWorkflow)
			r.RegisterActivity(act)
		}})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("worker did not start: %v", err)
	}

	resp, err := http.Get("http://" + addr + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	tc := stacktest.Temporal(t)
	tctx := stacktest.Context(t)
	we, err := tc.ExecuteWorkflow(tctx, client.StartWorkflowOptions{TaskQueue: cfg.Temporal.TaskQueue}, slowWorkflow, time.Second)
	require.NoError(t, err)
	select {
	case <-act.started:
	case <-tctx.Done():
		t.Fatal("the activity never started")
	}

	stop() // as SIGTERM does
	require.NoError(t, <-done)
	// The activity finished during shutdown, so its result reached Temporal
	// without a retry; a new worker completes the workflow task that follows.
	w := sdkworker.New(tc, cfg.Temporal.TaskQueue, sdkworker.Options{})
	w.RegisterWorkflow(slowWorkflow)
	w.RegisterActivity(&slowActivity{started: make(chan struct{})})
	require.NoError(t, w.Start())
	defer w.Stop()
	var out string
	require.NoError(t, we.Get(tctx, &out))
	assert.Equal(t, "finished", out)

	desc, err := tc.DescribeWorkflowExecution(tctx, we.GetID(), we.GetRunID())
	require.NoError(t, err)
	assert.Empty(t, desc.GetPendingActivities())
}

func TestWorkerExportsTemporalSDKMetrics(t *testing.T) {
	cfg := stacktest.Config(t)
	cfg.WorkerMetricsAddr = "127.0.0.1:0"
	cfg.Temporal.TaskQueue = fmt.Sprintf("test-metrics-%d", time.Now().UnixNano())
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, stacktest.Logger(t), hooks{ready: ready}) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("worker did not start: %v", err)
	}
	defer func() { stop(); assert.NoError(t, <-done) }()

	var text string
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		text = string(b)
		return resp.StatusCode == http.StatusOK && len(text) > 0
	}, 10*time.Second, 100*time.Millisecond)
	assert.Contains(t, text, "temporal_worker_start")
	assert.Contains(t, text, `task_queue="`+cfg.Temporal.TaskQueue+`"`)
}

// Package stackworker runs Handoff's worker in an integration test: every
// workflow and activity of worker/registry on a task queue of the test's
// own, against the running stack. It is apart from stacktest because the
// registry imports the activities, whose own tests use stacktest.
package stackworker

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"

	"handoff/config"
	"handoff/stacktest"
	"handoff/worker/registry"
)

var seq atomic.Int64

// Start runs every workflow and activity on a task queue named prefix and
// a unique suffix until t ends, and answers cfg with that queue, for
// starting workflows on it.
func Start(t testing.TB, cfg config.Config, prefix string) config.Config {
	t.Helper()
	cfg.Temporal.TaskQueue = fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), seq.Add(1))
	tc := stacktest.Temporal(t)
	w := worker.New(tc, cfg.Temporal.TaskQueue, worker.Options{})
	if err := registry.Register(w, registry.Deps{Config: cfg, Logger: slog.New(slog.DiscardHandler),
		Store: stacktest.Store(t), Temporal: tc, S3: stacktest.S3(t)}); err != nil {
		t.Fatalf("register the worker: %v", err)
	}
	if err := w.Start(); err != nil {
		t.Fatalf("start a worker on %s: %v", cfg.Temporal.TaskQueue, err)
	}
	t.Cleanup(w.Stop)
	return cfg
}

// Command worker runs Handoff's Temporal worker: it polls the task queue,
// runs the workflows and activities, and serves its own /metrics, /healthz
// and /readyz.
//
//	go run ./worker
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	sdkworker "go.temporal.io/sdk/worker"

	"handoff/config"
	"handoff/connect"
	"handoff/health"
	"handoff/telemetry"
	"handoff/worker/registry"
)

func main() {
	telemetry.Main("worker", func(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
		return run(ctx, cfg, logger, hooks{})
	})
}

// hooks let tests see inside a running worker; the command leaves them empty.
type hooks struct {
	// ready receives the metrics server's address once the worker polls.
	ready chan<- string
	// register adds more workflows and activities before the worker starts.
	register func(sdkworker.Registry)
}

// run serves until ctx ends, then stops polling, lets in-flight activities
// finish within the shutdown timeout, and closes the metrics server.
func run(ctx context.Context, cfg config.Config, logger *slog.Logger, h hooks) error {
	// Eager: a worker has nothing to do without Temporal, so it fails at
	// start when Temporal does not answer.
	clients, err := connect.Services(ctx, cfg, logger, false)
	if err != nil {
		return err
	}
	defer clients.Close()
	reg, tc, db, s3c := clients.Registry, clients.Temporal, clients.Store, clients.S3

	// The sticky cache is process-global in the SDK, shared by every worker
	// of the process: it is sized before the first worker is made, and the
	// first worker to start fixes it (a later call changes nothing).
	sdkworker.SetStickyWorkflowCacheSize(cfg.StickyCacheSize)
	w := sdkworker.New(tc, cfg.Temporal.TaskQueue, sdkworker.Options{
		WorkerStopTimeout:                      cfg.ShutdownTimeout,
		MaxConcurrentWorkflowTaskPollers:       cfg.WorkflowPollers,
		MaxConcurrentActivityTaskPollers:       cfg.ActivityPollers,
		MaxConcurrentWorkflowTaskExecutionSize: cfg.WorkflowTaskSlots,
		DeploymentOptions:                      registry.DeploymentOptions(cfg),
	})
	if err := registry.Register(w, registry.Deps{Config: cfg, Logger: logger, Store: db, Temporal: tc, S3: s3c}); err != nil {
		return err
	}
	if h.register != nil {
		h.register(w)
	}

	checker := health.NewChecker(2*time.Second,
		health.Temporal(tc), health.Postgres(db.Ping), health.S3(s3c, cfg.S3.Bucket))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", health.Live)
	mux.HandleFunc("GET /readyz", checker.Ready)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", cfg.WorkerMetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on WORKER_METRICS_ADDR %s: %w", cfg.WorkerMetricsAddr, err)
	}
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()

	if err := w.Start(); err != nil {
		_ = srv.Close()
		return fmt.Errorf("start worker on task queue %s: %w", cfg.Temporal.TaskQueue, err)
	}
	logger.Info("worker started", "task_queue", cfg.Temporal.TaskQueue,
		"namespace", cfg.Temporal.Namespace, "metrics_addr", ln.Addr().String())
	if h.ready != nil {
		h.ready <- ln.Addr().String()
	}

	select {
	case <-ctx.Done():
	case err := <-srvErr:
		w.Stop()
		return fmt.Errorf("metrics server on %s: %w", cfg.WorkerMetricsAddr, err)
	}
	logger.Info("worker stopping", "shutdown_timeout", cfg.ShutdownTimeout)
	// Stop blocks until in-flight activities finish or WorkerStopTimeout passes.
	w.Stop()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop metrics server: %w", err)
	}
	logger.Info("worker stopped")
	return nil
}

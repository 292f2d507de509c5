// Package telemetry sets up what every Handoff process reports about itself:
// structured JSON logs and Prometheus metrics, including the Temporal SDK's
// and the counters of the clients package connect opens.
package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"

	"handoff/config"
)

// NewLogger answers a JSON logger writing to w at level and above, tagged
// with the process's name.
func NewLogger(w io.Writer, level slog.Level, process string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})).With("process", process)
}

// NewRegistry answers a Prometheus registry with the Go runtime and process
// collectors already registered.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// TemporalMetrics answers a Temporal SDK metrics handler whose metrics
// (temporal_request, temporal_workflow_task_*, temporal_activity_*, ...)
// are exported through reg.
func TemporalMetrics(reg prometheus.Registerer, logger *slog.Logger) (client.MetricsHandler, error) {
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter for Temporal metrics: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                provider.Meter("temporal-sdk-go"),
		UseMonotonicCounters: true,
		OnError: func(err error) {
			logger.Warn("temporal metric not recorded", "error", err)
		},
	}), nil
}

// Main is the body of a Handoff process's main: it loads the configuration
// (exit 2 naming every bad variable), logs as component, and runs run
// until SIGINT or SIGTERM cancels its context (exit 1 when run fails).
func Main(component string, run func(ctx context.Context, cfg config.Config, logger *slog.Logger) error) {
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, component+":", err)
		os.Exit(2)
	}
	logger := NewLogger(os.Stdout, cfg.LogLevel, component)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error(component+" stopped", "error", err)
		stop()
		os.Exit(1)
	}
}

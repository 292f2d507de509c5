// Package connect opens what a Handoff process talks to (Temporal, the
// Postgres read model, the S3 evidence store), each instrumented by the
// telemetry package's counters on the registry the process serves at
// /metrics. The API and the worker start the same way through Services.
package connect

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"handoff/config"
	"handoff/store"
	"handoff/telemetry"
)

// Clients are what a Handoff process connects to (Temporal, the Postgres
// read model, the S3 evidence store), each counted by ClientCounters on
// Registry, which the process serves on its /metrics.
type Clients struct {
	// Registry holds the Go runtime, process, Temporal SDK and client
	// counter metrics.
	Registry *prometheus.Registry
	Temporal client.Client
	Store    *store.Store
	S3       *s3.Client
}

// Services builds the registry and the instrumented clients from cfg. With
// lazy, the Temporal client connects on its first call, so the process can
// start, and say so on /readyz, while Temporal is still coming up; without
// it, Services dials Temporal now and fails when it does not answer. The
// Postgres pool connects lazily either way. The caller closes the answer.
func Services(ctx context.Context, cfg config.Config, logger *slog.Logger, lazy bool) (*Clients, error) {
	reg := telemetry.NewRegistry()
	metrics, err := telemetry.TemporalMetrics(reg, logger)
	if err != nil {
		return nil, err
	}
	counters, err := telemetry.NewClientCounters(reg)
	if err != nil {
		return nil, err
	}
	opts, err := cfg.Temporal.ClientOptions(logger, metrics)
	if err != nil {
		return nil, err
	}
	counters.InstrumentTemporal(&opts)
	var tc client.Client
	if lazy {
		tc, err = client.NewLazyClient(opts)
		if err != nil {
			return nil, fmt.Errorf("temporal client for %s: %w", cfg.Temporal.Address, err)
		}
	} else {
		tc, err = client.DialContext(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.Temporal.Address, err)
		}
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, store.WithTracer(counters.SQLTracer()))
	if err != nil {
		tc.Close()
		return nil, err
	}
	s3c, err := cfg.S3.NewClient(ctx, counters.InstrumentS3)
	if err != nil {
		db.Close()
		tc.Close()
		return nil, err
	}
	return &Clients{Registry: reg, Temporal: tc, Store: db, S3: s3c}, nil
}

// Close closes the Postgres pool, then the Temporal client, the reverse of
// the order Connect opened them in. The S3 client holds nothing to close.
func (c *Clients) Close() {
	c.Store.Close()
	c.Temporal.Close()
}

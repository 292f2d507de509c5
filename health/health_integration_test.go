//go:build integration

package health_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"handoff/health"
	"handoff/stacktest"
	"handoff/store"
)

func TestProbesReachTheRealStack(t *testing.T) {
	cfg := stacktest.Config(t)
	db := stacktest.Store(t)
	checker := health.NewChecker(cfg.ShutdownTimeout,
		health.Temporal(stacktest.Temporal(t)),
		health.Postgres(db.Ping),
		health.S3(stacktest.S3(t), cfg.S3.Bucket))
	for _, r := range checker.Run(stacktest.Context(t)) {
		assert.NoError(t, r.Err, r.Name)
	}
}

func TestProbesReportDependenciesThatAreDown(t *testing.T) {
	ctx := stacktest.Context(t)
	cfg := stacktest.Config(t)
	opts, err := cfg.Temporal.ClientOptions(stacktest.Logger(t), nil)
	require.NoError(t, err)
	opts.HostPort = "127.0.0.1:1" // nothing listens on port 1
	tc, err := client.NewLazyClient(opts)
	require.NoError(t, err)
	defer tc.Close()
	db, err := store.Open(ctx, "postgres://postgres@127.0.0.1:1/handoff?sslmode=disable&connect_timeout=2")
	require.NoError(t, err)
	defer db.Close()

	checks := []health.Check{
		health.Temporal(tc),
		health.Postgres(db.Ping),
		health.S3(stacktest.S3(t), "handoff-no-such-bucket"),
	}
	for _, c := range checks {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := c.Probe(pctx)
		cancel()
		assert.Error(t, err, c.Name)
	}
}

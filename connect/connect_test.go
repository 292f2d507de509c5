package connect

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"handoff/codec"
	"handoff/config"
)

// counterValue answers the sum of the series of counter name on reg.
func counterValue(t *testing.T, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	sum := 0.0
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// downAddr answers a loopback address nothing listens on.
func downAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// connectConfig answers settings with Temporal and Postgres down and S3 at
// s3Endpoint.
func connectConfig(t *testing.T, s3Endpoint string) config.Config {
	t.Helper()
	key, err := codec.NewKeyLine("test")
	if err != nil {
		t.Fatal(err)
	}
	return config.Config{
		Temporal:    config.Temporal{Address: downAddr(t), Namespace: "default", PayloadKeys: key},
		DatabaseURL: "postgres://handoff:handoff@" + downAddr(t) + "/handoff",
		S3: config.S3{Endpoint: s3Endpoint, Bucket: "evidence", Region: "us-east-1",
			AccessKeyID: "key", SecretAccessKey: "secret", UsePathStyle: true},
	}
}

func TestServicesLazilyStartsWithTemporalDownAndCountsOnItsRegistry(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	clients, err := Services(t.Context(), connectConfig(t, srv.URL), slog.New(slog.DiscardHandler), true)
	require.NoError(t, err, "the API must start while Temporal and Postgres are down")
	t.Cleanup(clients.Close)

	_, err = clients.S3.HeadBucket(t.Context(), &s3.HeadBucketInput{Bucket: aws.String("evidence")})
	require.NoError(t, err)
	assert.Equal(t, 1.0, counterValue(t, clients.Registry, "handoff_s3_requests_total"))

	// The call fails, nothing listens; it was sent all the same, so the
	// client counters and the SDK's own metrics both saw it.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, _ = clients.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
	assert.Positive(t, counterValue(t, clients.Registry, "handoff_temporal_calls_total"))
	assert.Positive(t, counterValue(t, clients.Registry, "temporal_request_total"))
}

func TestServicesEagerlyFailsWithTemporalDown(t *testing.T) {
	cfg := connectConfig(t, "http://127.0.0.1:1")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := Services(ctx, cfg, slog.New(slog.DiscardHandler), false)
	require.ErrorContains(t, err, "connect to Temporal at "+cfg.Temporal.Address+": ")
}

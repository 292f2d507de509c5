package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"

	"handoff/config"
)

// counterValue answers the value reg exports for the counter name with the
// given label pairs, 0 when it has no such series yet.
func counterValue(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func newCounters(t *testing.T) (*ClientCounters, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	c, err := NewClientCounters(reg)
	require.NoError(t, err)
	return c, reg
}

func TestTemporalCallsCountEachGRPCCallByMethodName(t *testing.T) {
	c, reg := newCounters(t)
	invoked := 0
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
		invoked++
		return nil
	}
	const service = "/temporal.api.workflowservice.v1.WorkflowService/"
	for _, method := range []string{"StartWorkflowExecution", "UpdateWorkflowExecution", "UpdateWorkflowExecution", "QueryWorkflow"} {
		require.NoError(t, c.unaryInterceptor(t.Context(), service+method, nil, nil, nil, invoker))
	}
	// A failed call went out all the same; its error reaches the caller.
	refused := errors.New("unavailable")
	err := c.unaryInterceptor(t.Context(), service+"QueryWorkflow", nil, nil, nil,
		func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return refused })
	require.ErrorIs(t, err, refused)

	assert.Equal(t, 4, invoked)
	assert.Equal(t, 1.0, counterValue(t, reg, "handoff_temporal_calls_total", "operation", "StartWorkflowExecution"))
	assert.Equal(t, 2.0, counterValue(t, reg, "handoff_temporal_calls_total", "operation", "UpdateWorkflowExecution"))
	assert.Equal(t, 2.0, counterValue(t, reg, "handoff_temporal_calls_total", "operation", "QueryWorkflow"))
}

func TestTemporalCallsCountStreams(t *testing.T) {
	c, reg := newCounters(t)
	streamer := func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
		return nil, nil
	}
	_, err := c.streamInterceptor(t.Context(), &grpc.StreamDesc{}, nil, "/grpc.health.v1.Health/Watch", streamer)
	require.NoError(t, err)
	assert.Equal(t, 1.0, counterValue(t, reg, "handoff_temporal_calls_total", "operation", "Watch"))
}

func TestInstrumentTemporalKeepsTheCallersDialOptions(t *testing.T) {
	c, _ := newCounters(t)
	opts := client.Options{ConnectionOptions: client.ConnectionOptions{
		DialOptions: []grpc.DialOption{grpc.WithUserAgent("test")},
	}}
	c.InstrumentTemporal(&opts)
	// The caller's option, then the unary and the stream interceptors.
	assert.Len(t, opts.ConnectionOptions.DialOptions, 3)
}

func TestSQLTracerCountsStatementsBatchEntriesAndCopies(t *testing.T) {
	c, reg := newCounters(t)
	tracer := c.SQLTracer()
	ctx := t.Context()

	tracer.TraceQueryEnd(tracer.TraceQueryStart(ctx, nil, pgx.TraceQueryStartData{SQL: "SELECT 1"}), nil, pgx.TraceQueryEndData{})
	assert.Equal(t, 1.0, counterValue(t, reg, "handoff_sql_statements_total"))

	batch := &pgx.Batch{}
	batch.Queue("SELECT 1")
	batch.Queue("SELECT 2")
	batch.Queue("SELECT 3")
	bt := tracer.(pgx.BatchTracer)
	bctx := bt.TraceBatchStart(ctx, nil, pgx.TraceBatchStartData{Batch: batch})
	for range 3 {
		bt.TraceBatchQuery(bctx, nil, pgx.TraceBatchQueryData{})
	}
	bt.TraceBatchEnd(bctx, nil, pgx.TraceBatchEndData{})
	assert.Equal(t, 4.0, counterValue(t, reg, "handoff_sql_statements_total"))

	ct := tracer.(pgx.CopyFromTracer)
	ct.TraceCopyFromEnd(ct.TraceCopyFromStart(ctx, nil, pgx.TraceCopyFromStartData{}), nil, pgx.TraceCopyFromEndData{})
	assert.Equal(t, 5.0, counterValue(t, reg, "handoff_sql_statements_total"))
}

// fakeS3 answers every request with 200 and an empty body, except the first
// failing ones, which answer 503 so the SDK retries them.
type fakeS3 struct {
	failing  atomic.Int32
	requests atomic.Int32
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	_, _ = io.Copy(io.Discard, r.Body)
	if f.failing.Add(-1) >= 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func newFakeS3Client(t *testing.T, c *ClientCounters) (*s3.Client, *fakeS3) {
	t.Helper()
	fake := &fakeS3{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	cfg := config.S3{Endpoint: srv.URL, Bucket: "evidence", Region: "us-east-1",
		AccessKeyID: "key", SecretAccessKey: "secret", UsePathStyle: true}
	noWait := func(o *s3.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	client, err := cfg.NewClient(t.Context(), c.InstrumentS3, noWait)
	require.NoError(t, err)
	return client, fake
}

func TestS3RequestsCountEachAttemptByOperation(t *testing.T) {
	c, reg := newCounters(t)
	s3c, fake := newFakeS3Client(t, c)
	ctx := t.Context()

	_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("evidence"), Key: aws.String("a.txt"),
		Body: strings.NewReader("hello")})
	require.NoError(t, err)
	assert.Equal(t, 1.0, counterValue(t, reg, "handoff_s3_requests_total", "operation", "PutObject"))

	fake.failing.Store(2)
	_, err = s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("evidence")})
	require.NoError(t, err)
	assert.Equal(t, 3.0, counterValue(t, reg, "handoff_s3_requests_total", "operation", "HeadBucket"),
		"two refused attempts and the one that passed")
	assert.Equal(t, int32(4), fake.requests.Load(), "the counter matches what the server saw")
}

func TestS3PresigningSendsAndCountsNothing(t *testing.T) {
	c, reg := newCounters(t)
	s3c, fake := newFakeS3Client(t, c)
	_, err := s3.NewPresignClient(s3c).PresignGetObject(t.Context(),
		&s3.GetObjectInput{Bucket: aws.String("evidence"), Key: aws.String("a.txt")})
	require.NoError(t, err)
	assert.Equal(t, int32(0), fake.requests.Load())
	assert.Equal(t, 0.0, counterValue(t, reg, "handoff_s3_requests_total", "operation", "GetObject"))
}

func TestClientCountersOnTheSameRegistryShareTheirSeries(t *testing.T) {
	first, reg := newCounters(t)
	second, err := NewClientCounters(reg)
	require.NoError(t, err)
	first.SQLTracer().TraceQueryStart(t.Context(), nil, pgx.TraceQueryStartData{})
	second.SQLTracer().TraceQueryStart(t.Context(), nil, pgx.TraceQueryStartData{})
	assert.Equal(t, 2.0, counterValue(t, reg, "handoff_sql_statements_total"))
}

func TestClientCountersOnTheirOwnRegistriesAreApart(t *testing.T) {
	api, apiReg := newCounters(t)
	_, workerReg := newCounters(t)
	api.SQLTracer().TraceQueryStart(t.Context(), nil, pgx.TraceQueryStartData{})
	assert.Equal(t, 1.0, counterValue(t, apiReg, "handoff_sql_statements_total"))
	assert.Equal(t, 0.0, counterValue(t, workerReg, "handoff_sql_statements_total"))
}

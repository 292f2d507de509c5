package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
)

// ClientCounters counts what a process sends to the systems it depends on,
// so a benchmark can divide the counters' change by the API calls it made:
//
//   - handoff_temporal_calls_total{operation}: gRPC calls of the Temporal
//     client, each retry attempt counted (operation: StartWorkflowExecution,
//     PollWorkflowTaskQueue, ...);
//   - handoff_sql_statements_total: SQL statements sent by the pgx pool
//     (a batch counts each queued statement, a COPY counts one);
//   - handoff_s3_requests_total{operation}: S3 requests, each retry attempt
//     counted (operation: PutObject, UploadPart, ...).
//
// Each process makes its own on its own registry, so the API's /metrics and
// the worker's show what each sent.
type ClientCounters struct {
	temporalCalls *prometheus.CounterVec
	sqlStatements prometheus.Counter
	s3Requests    *prometheus.CounterVec
}

// NewClientCounters registers the counters on reg. Calling it again with the
// same registry answers counters sharing the ones already registered.
func NewClientCounters(reg prometheus.Registerer) (*ClientCounters, error) {
	temporalCalls, err := registerOnce(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "handoff_temporal_calls_total",
		Help: "gRPC calls the Temporal client sent, retry attempts included, by gRPC method.",
	}, []string{"operation"}))
	if err != nil {
		return nil, err
	}
	sqlStatements, err := registerOnce(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "handoff_sql_statements_total",
		Help: "SQL statements sent by the Postgres pool (each statement of a batch, one per COPY).",
	}))
	if err != nil {
		return nil, err
	}
	s3Requests, err := registerOnce(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "handoff_s3_requests_total",
		Help: "S3 requests sent, retry attempts included, by S3 operation.",
	}, []string{"operation"}))
	if err != nil {
		return nil, err
	}
	return &ClientCounters{temporalCalls: temporalCalls, sqlStatements: sqlStatements, s3Requests: s3Requests}, nil
}

// registerOnce registers c on reg, or answers the equal collector reg
// already holds.
func registerOnce[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register client counter: %w", err)
}

// InstrumentTemporal makes the client built from opts count its gRPC calls.
// The SDK chains its own interceptors (retries among them) before the ones
// of DialOptions, so each attempt sent is counted.
func (c *ClientCounters) InstrumentTemporal(opts *client.Options) {
	opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions,
		grpc.WithChainUnaryInterceptor(c.unaryInterceptor),
		grpc.WithChainStreamInterceptor(c.streamInterceptor))
}

func (c *ClientCounters) unaryInterceptor(ctx context.Context, method string, req, reply any,
	cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	c.temporalCalls.WithLabelValues(grpcOperation(method)).Inc()
	return invoker(ctx, method, req, reply, cc, opts...)
}

func (c *ClientCounters) streamInterceptor(ctx context.Context, desc *grpc.StreamDesc,
	cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	c.temporalCalls.WithLabelValues(grpcOperation(method)).Inc()
	return streamer(ctx, desc, cc, method, opts...)
}

// grpcOperation answers the method's own name from its full name
// ("/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution").
func grpcOperation(fullMethod string) string {
	return fullMethod[strings.LastIndexByte(fullMethod, '/')+1:]
}

// SQLTracer answers a pgx tracer counting the statements a pool sends; pass
// it to store.Open with store.WithTracer. Pings and the pool's health checks
// bypass pgx's tracers and are not counted.
func (c *ClientCounters) SQLTracer() pgx.QueryTracer { return sqlTracer{c.sqlStatements} }

// sqlTracer counts when a statement starts, so failed statements count too:
// they reached Postgres all the same.
type sqlTracer struct{ statements prometheus.Counter }

var (
	_ pgx.QueryTracer    = sqlTracer{}
	_ pgx.BatchTracer    = sqlTracer{}
	_ pgx.CopyFromTracer = sqlTracer{}
)

func (t sqlTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.statements.Inc()
	return ctx
}

func (sqlTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart counts the whole batch at once: SendBatch sends every
// queued statement, while TraceBatchQuery only fires for the results read.
func (t sqlTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	if data.Batch != nil {
		t.statements.Add(float64(data.Batch.Len()))
	}
	return ctx
}

func (sqlTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (sqlTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (t sqlTracer) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	t.statements.Inc()
	return ctx
}

func (sqlTracer) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// InstrumentS3 makes an S3 client count its requests; pass it to
// config.S3.NewClient or s3.NewFromConfig. The counting middleware sits in
// the deserialize step, under the retry loop, so each attempt sent is
// counted; presigning sends nothing and counts nothing.
func (c *ClientCounters) InstrumentS3(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("handoff.CountS3Requests",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				c.s3Requests.WithLabelValues(awsmiddleware.GetOperationName(ctx)).Inc()
				return next.HandleDeserialize(ctx, in)
			}), middleware.After)
	})
}

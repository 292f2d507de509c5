//go:build integration

package telemetry

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"handoff/stacktest"
	"handoff/store"
)

func TestSQLStatementsCountEveryStatementThePoolSends(t *testing.T) {
	c, reg := newCounters(t)
	ctx := stacktest.Context(t)
	db, err := store.Open(ctx, stacktest.Config(t).DatabaseURL, store.WithTracer(c.SQLTracer()))
	require.NoError(t, err)
	t.Cleanup(db.Close)
	statements := func() float64 { return counterValue(t, reg, "handoff_sql_statements_total") }

	require.NoError(t, db.Ping(ctx))
	assert.Equal(t, 0.0, statements(), "a ping is no statement")

	_, err = db.Pool().Exec(ctx, "SELECT 1")
	require.NoError(t, err)
	assert.Equal(t, 1.0, statements(), "exec")

	var n int
	require.NoError(t, db.Pool().QueryRow(ctx, "SELECT $1::int", 2).Scan(&n))
	assert.Equal(t, 2.0, statements(), "query row")

	_, err = db.Pool().Exec(ctx, "SELECT * FROM no_such_table")
	require.Error(t, err)
	assert.Equal(t, 3.0, statements(), "a refused statement was sent all the same")

	tx, err := db.Pool().Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "SELECT 1")
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
	assert.Equal(t, 6.0, statements(), "begin, the statement, commit")

	batch := &pgx.Batch{}
	for i := range 3 {
		batch.Queue("SELECT $1::int", i)
	}
	require.NoError(t, db.Pool().SendBatch(ctx, batch).Close())
	assert.Equal(t, 9.0, statements(), "each statement of a batch")

	conn, err := db.Pool().Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "CREATE TEMP TABLE counted (n int)")
	require.NoError(t, err)
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{"counted"}, []string{"n"},
		pgx.CopyFromRows([][]any{{1}, {2}, {3}}))
	require.NoError(t, err)
	require.Equal(t, int64(3), copied)
	_, err = conn.Exec(ctx, "DROP TABLE counted")
	require.NoError(t, err)
	assert.Equal(t, 12.0, statements(), "create, one COPY for its three rows, drop")
}

func TestTemporalCallsCountEveryCallTheClientSends(t *testing.T) {
	c, reg := newCounters(t)
	cfg := stacktest.Config(t)
	ctx := stacktest.Context(t)
	opts, err := cfg.Temporal.ClientOptions(stacktest.Logger(t), nil)
	require.NoError(t, err)
	c.InstrumentTemporal(&opts)
	tc, err := client.DialContext(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	calls := func(operation string) float64 {
		return counterValue(t, reg, "handoff_temporal_calls_total", "operation", operation)
	}
	assert.Equal(t, 1.0, calls("GetSystemInfo"), "dialling asks the server's capabilities once")

	_, err = tc.WorkflowService().DescribeNamespace(ctx,
		&workflowservice.DescribeNamespaceRequest{Namespace: cfg.Temporal.Namespace})
	require.NoError(t, err)
	assert.Equal(t, 1.0, calls("DescribeNamespace"))

	id := "no-such-workflow-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	for range 2 {
		_, err = tc.DescribeWorkflowExecution(ctx, id, "")
		var notFound *serviceerror.NotFound
		require.True(t, errors.As(err, &notFound), "describe %s: %v", id, err)
	}
	assert.Equal(t, 2.0, calls("DescribeWorkflowExecution"), "NotFound is not retried: one call each")
}

func TestS3RequestsCountEveryRequestSentToMinIO(t *testing.T) {
	c, reg := newCounters(t)
	cfg := stacktest.Config(t)
	ctx := stacktest.Context(t)
	s3c, err := cfg.S3.NewClient(ctx, c.InstrumentS3)
	require.NoError(t, err)
	requests := func(operation string) float64 {
		return counterValue(t, reg, "handoff_s3_requests_total", "operation", operation)
	}

	_, err = s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.S3.Bucket)})
	require.NoError(t, err)
	assert.Equal(t, 1.0, requests("HeadBucket"))

	key := "no-such-object-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	_, err = s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(cfg.S3.Bucket), Key: aws.String(key)})
	var noKey *types.NoSuchKey
	require.True(t, errors.As(err, &noKey), "get %s: %v", key, err)
	assert.Equal(t, 1.0, requests("GetObject"), "NoSuchKey is not retried")
	assert.Equal(t, 1.0, requests("HeadBucket"))
}

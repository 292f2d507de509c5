package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
)

// closedAddr answers a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// The errors are the ones the clients really answer when their server is
// down, wrapped the way the store and the workflows' openers wrap them.
func TestA503NamesThePartOfTheStackThatFailed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	pool, err := pgxpool.New(ctx, "postgres://postgres@"+closedAddr(t)+"/handoff?connect_timeout=2")
	require.NoError(t, err)
	defer pool.Close()
	_, pgErr := pool.Exec(ctx, "SELECT 1")
	require.Error(t, pgErr)

	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://" + closedAddr(t)), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), Retryer: aws.NopRetryer{},
	})
	_, s3Err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("evidence")})
	require.Error(t, s3Err)

	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("list cases: %w", pgErr), "Postgres is unavailable"},
		{fmt.Errorf("upload evidence: %w", s3Err), "S3 is unavailable"},
		{fmt.Errorf("open case C-1: %w", serviceerror.NewUnavailable("connection refused")), "Temporal is unavailable"},
		{errors.Join(errors.New("first"), fmt.Errorf("then: %w", pgErr)), "Postgres is unavailable"},
		{fmt.Errorf("update: %w", context.DeadlineExceeded), "a dependency is unavailable"},
		{errors.New("something else"), "a dependency is unavailable"},
	} {
		p := unavailable(c.err, "")
		assert.Equal(t, 503, p.Status)
		assert.Contains(t, p.Detail, c.want, c.err.Error())
		assert.Contains(t, p.Detail, "retry with the same Idempotency-Key")
	}
	p := unavailable(fmt.Errorf("update: %w", context.DeadlineExceeded), depTemporal)
	assert.Contains(t, p.Detail, "Temporal did not answer in time")
}

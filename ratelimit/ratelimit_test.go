package ratelimit

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLimiterAllowsABurstThenAnswersTheWait(t *testing.T) {
	l := New(3, 0.5)
	now := time.Unix(0, 0)
	for i := range 3 {
		_, ok := l.Allow("k", now)
		require.True(t, ok, "request %d of the burst", i)
	}
	wait, ok := l.Allow("k", now)
	assert.False(t, ok, "the bucket is empty")
	assert.Equal(t, 2*time.Second, wait, "one request comes back every two seconds")

	_, ok = l.Allow("k", now.Add(time.Second))
	assert.False(t, ok, "half a request is not one")
	_, ok = l.Allow("k", now.Add(2*time.Second))
	assert.True(t, ok, "the bucket refills")
}

func TestLimiterKeepsEachKeyApart(t *testing.T) {
	l := New(1, 1)
	now := time.Unix(0, 0)
	_, ok := l.Allow("a", now)
	require.True(t, ok)
	_, ok = l.Allow("a", now)
	require.False(t, ok)
	_, ok = l.Allow("b", now)
	assert.True(t, ok, "another key has its own bucket")
}

func TestLimiterRefillsNoFurtherThanTheBurst(t *testing.T) {
	l := New(2, 1)
	now := time.Unix(0, 0)
	_, ok := l.Allow("k", now)
	require.True(t, ok)
	later := now.Add(time.Hour)
	for range 2 {
		_, ok = l.Allow("k", later)
		require.True(t, ok)
	}
	_, ok = l.Allow("k", later)
	assert.False(t, ok, "an hour idle holds a burst, not 3600 requests")
}

func TestLimiterForgetsRefilledBuckets(t *testing.T) {
	l := New(2, 1)
	now := time.Unix(0, 0)
	for i := range maxBuckets {
		_, ok := l.Allow(fmt.Sprint("k", i), now)
		require.True(t, ok)
	}
	_, ok := l.Allow("later", now.Add(time.Minute))
	require.True(t, ok)
	assert.Len(t, l.buckets, 1, "the refilled buckets are forgotten")
}

// Package ratelimit holds a token bucket per key, in memory: the customer
// pages limit requests per client address and per link with it, the SMTP
// gateway messages per sender.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Limiter is a token bucket per key: each key holds up to burst requests and
// regains rate a second. It is safe for concurrent use; its state lives in
// one process and is lost on restart, which is enough to slow a guesser or
// a mail loop down.
type Limiter struct {
	mu      sync.Mutex
	burst   float64
	rate    float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets is how many keys a Limiter holds before it forgets the full
// ones (those of keys seen long enough ago to have refilled).
const maxBuckets = 10000

// New answers a Limiter whose keys each hold up to burst requests and regain
// rate requests a second (rate must be above zero).
func New(burst int, rate float64) *Limiter {
	return &Limiter{burst: float64(burst), rate: rate, buckets: map[string]*bucket{}}
}

// Allow takes a request from key's bucket at now and answers true, or
// answers false and how long until the bucket holds one.
func (l *Limiter) Allow(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
	}
	b.tokens--
	return 0, true
}

// sweep forgets the buckets that have refilled: a new one is the same.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

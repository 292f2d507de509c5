package main

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"handoff/ratelimit"
)

// limitKeys slows down each API key to its share (API_RATE_BURST,
// API_RATE_PER_SECOND): beyond it a request is refused with a 429 and a
// Retry-After, before it reaches a handler, so one integration's loop
// cannot starve the rest. It runs after authenticate, on the key it found;
// the limit is per API process.
func limitKeys(l *ratelimit.Limiter, now func() time.Time) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if l == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := r.Context().Value(callerKey{}).(caller)
			wait, ok := l.Allow(strconv.FormatInt(c.KeyID, 10), now())
			if !ok {
				seconds := max(1, int(math.Ceil(wait.Seconds())))
				w.Header().Set("Retry-After", strconv.Itoa(seconds))
				writeProblem(w, newProblem(http.StatusTooManyRequests,
					fmt.Sprintf("API key %s sent more requests than its rate allows; retry after %d s", c.Name, seconds)))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

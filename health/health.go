// Package health answers whether a process is alive and whether the
// services it depends on (Temporal, Postgres, S3) can be reached.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"
)

// Check probes one dependency; a nil error means it is reachable.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// Result is what one check found.
type Result struct {
	Name string
	Err  error
}

// Checker runs a process's dependency checks side by side.
type Checker struct {
	checks  []Check
	timeout time.Duration
}

// NewChecker answers a checker that gives each probe at most timeout.
func NewChecker(timeout time.Duration, checks ...Check) *Checker {
	return &Checker{checks: checks, timeout: timeout}
}

// Run probes every dependency at once and answers the results in the order
// the checks were given.
func (c *Checker) Run(ctx context.Context) []Result {
	results := make([]Result, len(c.checks))
	var wg sync.WaitGroup
	for i, ch := range c.checks {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			results[i] = Result{Name: ch.Name, Err: ch.Probe(pctx)}
		})
	}
	wg.Wait()
	return results
}

// Live answers 200 while the process can serve HTTP at all.
func Live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, "application/json", map[string]string{"status": "alive"})
}

// Ready answers 200 when every dependency is reachable, else 503 with a
// problem+json body whose detail names what is down and whose checks
// member gives each dependency's state.
func (c *Checker) Ready(w http.ResponseWriter, r *http.Request) {
	results := c.Run(r.Context())
	states := make(map[string]string, len(results))
	var down []string
	for _, res := range results {
		if res.Err != nil {
			states[res.Name] = "down: " + res.Err.Error()
			down = append(down, res.Name)
			continue
		}
		states[res.Name] = "ok"
	}
	if len(down) == 0 {
		writeJSON(w, http.StatusOK, "application/json", map[string]any{"status": "ready", "checks": states})
		return
	}
	writeJSON(w, http.StatusServiceUnavailable, "application/problem+json", map[string]any{
		"type":   "urn:handoff:problem:dependency-unavailable",
		"title":  "Dependency unavailable",
		"status": http.StatusServiceUnavailable,
		"detail": strings.Join(down, ", ") + " unreachable",
		"checks": states,
	})
}

func writeJSON(w http.ResponseWriter, status int, contentType string, body any) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// Temporal checks that the Temporal frontend answers its health check.
func Temporal(c client.Client) Check {
	return Check{Name: "temporal", Probe: func(ctx context.Context) error {
		if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			return fmt.Errorf("temporal health check: %w", err)
		}
		return nil
	}}
}

// Postgres checks that Postgres answers a round trip through ping.
func Postgres(ping func(context.Context) error) Check {
	return Check{Name: "postgres", Probe: ping}
}

// S3 checks that the evidence bucket exists and the credentials may see it.
func S3(c *s3.Client, bucket string) Check {
	return Check{Name: "s3", Probe: func(ctx context.Context) error {
		if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
			return fmt.Errorf("head bucket %s: %w", bucket, err)
		}
		return nil
	}}
}

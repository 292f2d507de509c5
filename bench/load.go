package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"handoff/workflows"
)

// metricStateTransitions is the Temporal server's histogram of state
// transitions per persisted update; its _sum is every transition.
const metricStateTransitions = "state_transition_count_sum"

// Throughput measures cases and state transitions per second beside the bare engine.
var Throughput = Part{
	Name: "throughput",
	What: "standard lifecycles and state transitions per second, divided by a bare no-op workflow with one no-op activity, A/B alternated",
	Run:  runThroughput,
}

// drive runs fn from concurrency goroutines until d passes, and answers how
// many runs succeeded; the first error stops it.
func drive(ctx context.Context, concurrency int, d time.Duration, fn func(context.Context) error) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var done atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range max(concurrency, 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := fn(ctx); err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						first = errors.Join(first, err)
						mu.Unlock()
						cancel()
					}
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return done.Load(), first
}

func runThroughput(ctx context.Context, env *Env, opts Options) (res Result, err error) {
	res = Result{Part: "throughput"}
	stop := Watch(ctx, 200*time.Millisecond, env.APIProc, env.WorkerProc)
	defer func() { res.Usage = stop() }()
	rounds := 2
	phase := max(opts.Duration/time.Duration(2*rounds), 2*time.Second)
	var handoffCases, bareRuns int64
	var handoffSecs, bareSecs, handoffTransitions, bareTransitions float64
	for range rounds {
		// A: Handoff's standard lifecycle through the API.
		before, err := scrape(ctx, env.TemporalMetrics)
		if err != nil {
			return res, err
		}
		start := time.Now()
		n, err := drive(ctx, opts.Concurrency, phase, func(ctx context.Context) error {
			_, _, err := env.standardLifecycle(ctx)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("handoff phase: %w", err)
		}
		handoffSecs += time.Since(start).Seconds()
		handoffCases += n
		after, err := scrape(ctx, env.TemporalMetrics)
		if err != nil {
			return res, err
		}
		handoffTransitions += delta(before, after, metricStateTransitions)

		// B: the bare engine, same concurrency, same servers.
		before = after
		start = time.Now()
		n, err = drive(ctx, opts.Concurrency, phase, func(ctx context.Context) error {
			run, err := env.Temporal.ExecuteWorkflow(ctx, env.bareOptions("bare"), bareWorkflowName)
			if err != nil {
				return err
			}
			return run.Get(ctx, nil)
		})
		if err != nil {
			return res, fmt.Errorf("bare phase: %w", err)
		}
		bareSecs += time.Since(start).Seconds()
		bareRuns += n
		after, err = scrape(ctx, env.TemporalMetrics)
		if err != nil {
			return res, err
		}
		bareTransitions += delta(before, after, metricStateTransitions)
	}
	casesPerSec, barePerSec := float64(handoffCases)/handoffSecs, float64(bareRuns)/bareSecs
	res.Add("standard lifecycles per second", casesPerSec, "cases/s")
	res.Note(fmt.Sprintf("%d lifecycles of 7 API calls, concurrency %d", handoffCases, opts.Concurrency))
	res.Add("bare workflows per second", barePerSec, "runs/s")
	res.Add("lifecycles per second / bare workflows per second", Ratio(casesPerSec, barePerSec), "ratio")
	if env.TemporalMetrics != "" {
		ht, bt := handoffTransitions/handoffSecs, bareTransitions/bareSecs
		res.Add("state transitions per second (handoff)", ht, "transitions/s")
		res.Add("state transitions per second (bare)", bt, "transitions/s")
		res.AddTarget("state transitions per second / bare", Ratio(ht, bt), "ratio", 0.7, false)
	}
	return res, nil
}

// Latency measures API latency beside the bare engine's calls.
var Latency = Part{
	Name: "latency",
	What: "p50/p99 of opening a case and of a reply, divided by a bare start and a bare update; reply latency at the 1st and the Nth action on one case",
	Run:  runLatency,
}

func runLatency(ctx context.Context, env *Env, opts Options) (res Result, err error) {
	res = Result{Part: "latency"}
	stop := Watch(ctx, 200*time.Millisecond, env.APIProc, env.WorkerProc)
	defer func() { res.Usage = stop() }()
	samples := max(int(opts.Duration/(40*time.Millisecond)), 50)

	// Opening a case against a bare start, alternated in blocks of 10.
	var opens, starts []time.Duration
	var opened []string
	for len(opens) < samples {
		for range 10 {
			t := time.Now()
			v, err := env.openCase(ctx, workflows.CategoryLoginFailure, workflows.P4)
			if err != nil {
				return res, err
			}
			opens = append(opens, time.Since(t))
			opened = append(opened, v.ID)
		}
		for range 10 {
			opts := env.bareOptions("start")
			t := time.Now()
			if _, err := env.Temporal.ExecuteWorkflow(ctx, opts, trivialWorkflowName); err != nil {
				return res, err
			}
			starts = append(starts, time.Since(t))
			_ = env.Temporal.SignalWorkflow(ctx, opts.ID, "", trivialDoneSignal, nil)
		}
	}
	addRatio(&res, "POST /v1/cases", opens, "bare StartWorkflowExecution", starts)

	// A reply against a bare update, each on a fresh case or workflow every 10.
	var replies, updates []time.Duration
	for i := 0; len(replies) < samples; i++ {
		id := opened[i%len(opened)]
		opts := env.bareOptions("update")
		if _, err := env.Temporal.ExecuteWorkflow(ctx, opts, trivialWorkflowName); err != nil {
			return res, err
		}
		for range 10 {
			t := time.Now()
			if err := env.act(ctx, id, "replies", map[string]string{"body": "On it."}); err != nil {
				return res, err
			}
			replies = append(replies, time.Since(t))
			t = time.Now()
			h, err := env.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: opts.ID, UpdateName: trivialUpdateName, WaitForStage: client.WorkflowUpdateStageCompleted})
			if err == nil {
				err = h.Get(ctx, nil)
			}
			if err != nil {
				return res, fmt.Errorf("bare update: %w", err)
			}
			updates = append(updates, time.Since(t))
		}
		_ = env.Temporal.SignalWorkflow(ctx, opts.ID, "", trivialDoneSignal, nil)
	}
	addRatio(&res, "reply", replies, "bare update", updates)

	// One case taking many actions: does its history slow it down?
	long, err := env.openCase(ctx, workflows.CategoryLoginFailure, workflows.P4)
	if err != nil {
		return res, err
	}
	n := max(opts.LongCase, 20)
	var each []time.Duration
	for i := range n {
		t := time.Now()
		if err := env.act(ctx, long.ID, "replies", map[string]string{"body": fmt.Sprintf("reply %d", i+1)}); err != nil {
			return res, fmt.Errorf("action %d on %s: %w", i+1, long.ID, err)
		}
		each = append(each, time.Since(t))
	}
	first, last := Percentile(each[:10], 50), Percentile(each[n-10:], 50)
	res.Add("reply latency at the 1st action (median of replies 1-10)", Ms(first), "ms")
	res.Add(fmt.Sprintf("reply latency at the %dth action (median of the last 10)", n), Ms(last), "ms")
	res.Add(fmt.Sprintf("%dth / 1st", n), Ratio(Ms(last), Ms(first)), "ratio")
	for _, id := range append(opened, long.ID) {
		_ = env.Temporal.TerminateWorkflow(ctx, workflows.CaseWorkflowID(id), "", "bench over")
	}
	return res, nil
}

// addRatio adds p50 and p99 of a and b and their ratios; the p99 ratio has
// the target of 1.5.
func addRatio(res *Result, a string, as []time.Duration, b string, bs []time.Duration) {
	for _, p := range []float64{50, 99} {
		pa, pb := Percentile(as, p), Percentile(bs, p)
		label := fmt.Sprintf("p%.0f", p)
		res.Add(label+" "+a, Ms(pa), "ms")
		res.Add(label+" "+b, Ms(pb), "ms")
		if p == 99 {
			res.AddTarget(label+" "+a+" / "+b, Ratio(Ms(pa), Ms(pb)), "ratio", 1.5, true)
		} else {
			res.Add(label+" "+a+" / "+b, Ratio(Ms(pa), Ms(pb)), "ratio")
		}
	}
	res.Note(fmt.Sprintf("%d and %d samples", len(as), len(bs)))
}

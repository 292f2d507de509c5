package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// Throughput measures cases and state transitions per second beside the bare engine.
var Throughput = Part{
	Name: "throughput",
	What: "standard lifecycles and state transitions per second, divided by a bare no-op workflow with one no-op activity, A/B alternated",
	Run:  runThroughput,
}

// drive runs fn from concurrency goroutines, starting no new run after d,
// and answers how many runs succeeded and how long until the last ended.
// Runs are never cut off: each has a minute of its own, and the first
// error stops the rest.
func drive(ctx context.Context, concurrency int, d time.Duration, fn func(context.Context) error) (int64, time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var done atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range max(concurrency, 1) {
		wg.Go(func() {
			for ctx.Err() == nil && time.Since(start) < d {
				rctx, rcancel := context.WithTimeout(ctx, time.Minute)
				err := fn(rctx)
				rcancel()
				if err != nil {
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
	return done.Load(), time.Since(start), first
}

func runThroughput(ctx context.Context, env *Env, opts Options) (res Result, err error) {
	res = Result{Part: "throughput"}
	stop := Watch(ctx, 200*time.Millisecond, env.underTest()...)
	defer func() { res.Usage = stop() }()
	rounds := 2
	phase := max(opts.Duration/time.Duration(2*rounds), 2*time.Second)
	var handoffIDs, bareIDs ids
	var handoffSecs, bareSecs float64
	for range rounds {
		// A: Handoff's standard lifecycle through the API.
		round := &ids{}
		_, took, err := drive(ctx, opts.Concurrency, phase, func(ctx context.Context) error {
			id, _, err := env.standardLifecycle(ctx)
			if err == nil {
				round.add(cases.CaseWorkflowID(id))
			}
			return err
		})
		if err != nil {
			return res, fmt.Errorf("handoff phase: %w", err)
		}
		handoffSecs += took.Seconds()
		// Counted now: what the cases did inside the phase.
		if err := round.countTransitions(ctx, env); err != nil {
			return res, err
		}
		handoffIDs.merge(round)

		// B: the bare engine, same concurrency, same servers.
		round = &ids{}
		_, took, err = drive(ctx, opts.Concurrency, phase, func(ctx context.Context) error {
			o := env.bareOptions("bare")
			run, err := env.Temporal.ExecuteWorkflow(ctx, o, bareWorkflowName)
			if err != nil {
				return err
			}
			if err := run.Get(ctx, nil); err != nil {
				return err
			}
			round.add(o.ID)
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("bare phase: %w", err)
		}
		bareSecs += took.Seconds()
		if err := round.countTransitions(ctx, env); err != nil {
			return res, err
		}
		bareIDs.merge(round)
	}
	casesPerSec, barePerSec := float64(len(handoffIDs.list))/handoffSecs, float64(len(bareIDs.list))/bareSecs
	res.Add("standard lifecycles per second", casesPerSec, "cases/s")
	res.Note(fmt.Sprintf("%d lifecycles of 7 API calls, concurrency %d", len(handoffIDs.list), opts.Concurrency))
	res.Add("bare workflows per second", barePerSec, "runs/s")
	res.Note(fmt.Sprintf("%d runs of a no-op workflow with one no-op activity", len(bareIDs.list)))
	res.Add("lifecycles per second / bare workflows per second", Ratio(casesPerSec, barePerSec), "ratio")
	ht, bt := float64(handoffIDs.transitions)/handoffSecs, float64(bareIDs.transitions)/bareSecs
	res.Add("state transitions per second (handoff)", ht, "transitions/s")
	res.Note(fmt.Sprintf("%.1f per lifecycle", Ratio(float64(handoffIDs.transitions), float64(len(handoffIDs.list)))))
	res.Add("state transitions per second (bare)", bt, "transitions/s")
	res.Note(fmt.Sprintf("%.1f per run", Ratio(float64(bareIDs.transitions), float64(len(bareIDs.list)))))
	res.AddTarget("state transitions per second / bare", Ratio(ht, bt), "ratio", 0.7, false)
	return res, nil
}

// ids collects the workflows a phase ran and their state transitions, as
// the server counts them for each execution.
type ids struct {
	mu          sync.Mutex
	list        []string
	transitions int64
}

func (s *ids) add(id string) {
	s.mu.Lock()
	s.list = append(s.list, id)
	s.mu.Unlock()
}

func (s *ids) merge(o *ids) {
	s.list = append(s.list, o.list...)
	s.transitions += o.transitions
}

// countTransitions adds up the state transitions of every workflow in s.
func (s *ids) countTransitions(ctx context.Context, env *Env) error {
	for _, id := range s.list {
		d, err := env.Temporal.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			return fmt.Errorf("describe %s: %w", id, err)
		}
		s.transitions += d.GetWorkflowExecutionInfo().GetStateTransitionCount()
	}
	return nil
}

// Latency measures API latency beside the bare engine's calls.
var Latency = Part{
	Name: "latency",
	What: "p50/p99 of opening a case and of a reply, divided by a bare start and a bare update; reply latency at the 1st and the Nth action on one case",
	Run:  runLatency,
}

func runLatency(ctx context.Context, env *Env, opts Options) (res Result, err error) {
	res = Result{Part: "latency"}
	stop := Watch(ctx, 200*time.Millisecond, env.underTest()...)
	defer func() { res.Usage = stop() }()
	samples := max(int(opts.Duration/(40*time.Millisecond)), 50)

	// Opening a case against a bare start, alternated in blocks of 10.
	var opens, starts []time.Duration
	var opened []string
	for len(opens) < samples {
		for range 10 {
			t := time.Now()
			v, err := env.openCase(ctx, vocab.CategoryLoginFailure, vocab.P4)
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
	long, err := env.openCase(ctx, vocab.CategoryLoginFailure, vocab.P4)
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
	// The engine's own growth: as many updates on one trivial workflow.
	bare, err := env.updatesOnOne(ctx, n)
	if err != nil {
		return res, err
	}
	bFirst, bLast := Percentile(bare[:10], 50), Percentile(bare[n-10:], 50)
	res.Add(fmt.Sprintf("bare update latency: %dth / 1st on one workflow", n), Ratio(Ms(bLast), Ms(bFirst)), "ratio")
	res.Note(fmt.Sprintf("%.1f ms then %.1f ms", Ms(bFirst), Ms(bLast)))
	for _, id := range append(opened, long.ID) {
		_ = env.Temporal.TerminateWorkflow(ctx, cases.CaseWorkflowID(id), "", "bench over")
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

// updatesOnOne sends n updates to one trivial workflow and answers each one's latency.
func (e *Env) updatesOnOne(ctx context.Context, n int) ([]time.Duration, error) {
	o := e.bareOptions("long")
	if _, err := e.Temporal.ExecuteWorkflow(ctx, o, trivialWorkflowName); err != nil {
		return nil, err
	}
	defer func() { _ = e.Temporal.SignalWorkflow(ctx, o.ID, "", trivialDoneSignal, nil) }()
	out := make([]time.Duration, 0, n)
	for range n {
		t := time.Now()
		h, err := e.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: o.ID, UpdateName: trivialUpdateName, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			return nil, fmt.Errorf("bare update on %s: %w", o.ID, err)
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	batchpb "go.temporal.io/api/batch/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"handoff/workflows/vocab"
)

// Held measures what the worker's memory does as open cases pile up.
var Held = Part{
	Name: "held",
	What: "worker RSS with N cases open at once (p4 general questions, no deadline during the run), sampled at every 10% of N, " +
		"and RSS per workflow in the sticky cache; memory is bounded when the growth from N/2 to N is about 0 with a cache below N/2",
	Run: runHeld,
}

// heldCleanupTimeout bounds the wait for the batch that terminates the held
// cases; the batch goes on in the server after it (the dev server's batcher
// terminates some 50 workflows a second).
const heldCleanupTimeout = 5 * time.Minute

// heldDrainWithin bounds the wait for the worker to catch up with the
// opening before the last sample.
const heldDrainWithin = 15 * time.Minute

// heldQuietFor is how long a held case runs without a deadline under
// heldPolicy: its first-response warning, half of the p4 target.
const heldQuietFor = 36 * time.Hour

// heldPolicy is the standard policy with p4 targets far enough away that no
// held case's warning falls while a big run opens them (100,000 cases take
// about an hour on a two-core machine).
func heldPolicy() string {
	const p4 = "  - {priority: p4, calendar: 24x7, first_response: 1h, next_response: 1h, resolution: 8h}\n"
	return strings.Replace(standardPolicy(), p4,
		"  - {priority: p4, calendar: 24x7, first_response: 72h, next_response: 72h, resolution: 240h}\n", 1)
}

func runHeld(ctx context.Context, env *Env, opts Options) (res Result, err error) {
	res = Result{Part: "held"}
	n := max(opts.Held, 1)
	cache := env.Config.StickyCacheSize
	policy, err := writePolicy(env.policyDir(), "held.yaml", heldPolicy())
	if err != nil {
		return res, err
	}
	// The restart also starts the worker with an empty cache: RSS before
	// opening is a fresh worker's.
	if err := env.Restart(ctx, map[string]string{"SLA_POLICY_FILE": policy}); err != nil {
		return res, err
	}
	workers := env.workers()
	stop := Watch(ctx, 200*time.Millisecond, env.underTest()...)
	defer func() {
		res.Usage = stop()
		// The held cases would otherwise stay open, timers armed, for the
		// parts and runs after this one.
		terminateRunning(context.WithoutCancel(ctx), env)
		if err := env.Restart(context.WithoutCancel(ctx), nil); err != nil {
			env.Logger.Error("restart after held", "error", err)
		}
	}()

	before, err := countRunning(ctx, env)
	if err != nil {
		return res, err
	}
	rss0, err := workersRSS(workers)
	if err != nil {
		return res, err
	}
	// The first worker's Go runtime, before and at N: what a cached
	// workflow holds besides RSS (its coroutines' goroutines and stacks).
	go0, err := scrape(ctx, env.WorkerMetrics)
	if err != nil {
		return res, err
	}
	marks := sampleMarks(n)
	samples := make(map[int]int64, len(marks))
	env.Logger.Info("opening held cases", "n", n, "concurrency", opts.HeldConcurrency, "sticky_cache", cache, "workers", len(workers))
	// The cases open in tenths; after each, the worker takes every task the
	// opening queued (first tasks, their activities) before the sample, so
	// a sample is the memory of that many cases open and run, not of a
	// worker still behind the API.
	start := time.Now()
	var lagging []int
	opened := 0
	for _, at := range sortedKeys(marks) {
		if err := forEach(at-opened, opts.HeldConcurrency, func(i int) error {
			if _, err := env.openCase(ctx, vocab.CategoryGeneralQuestion, vocab.P4); err != nil {
				return fmt.Errorf("open held case %d of %d: %w", opened+i+1, n, err)
			}
			return nil
		}); err != nil {
			return res, err
		}
		opened = at
		if _, drained, err := awaitDrained(ctx, env, heldDrainWithin); err != nil {
			return res, err
		} else if !drained {
			lagging = append(lagging, at)
		}
		rss, err := workersRSS(workers)
		if err != nil {
			return res, err
		}
		samples[at] = rss
		env.Logger.Info("held cases open", "open", at, "of", n, "worker_rss_mib", int(mib(rss)))
	}
	took := time.Since(start)

	// Visibility may lag the starts a little (SQL visibility a second).
	running, err := awaitRunning(ctx, env, before+int64(n), 15*time.Second)
	if err != nil {
		return res, err
	}
	rssN := samples[n]
	rssHalf := samples[mark(5, n)]

	res.Add("cases open (Temporal visibility)", float64(running-before), "cases")
	switch {
	case running-before < int64(n):
		res.Note(fmt.Sprintf("visibility counted %d of the %d opened after 15 s (%d running before this part)", running-before, n, before))
	case before > 0:
		res.Note(fmt.Sprintf("%d running on the task queue, %d of them before this part", running, before))
	}
	res.Add("worker RSS before opening", mib(rss0), "MiB")
	res.Add("worker RSS at N/2", mib(rssHalf), "MiB")
	res.Add("worker RSS at N", mib(rssN), "MiB")
	if len(lagging) == 0 {
		res.Note("each sample once the task queue had no backlog")
	} else {
		res.Note(fmt.Sprintf("the task queue still had a backlog after %s at the samples of %v open", heldDrainWithin, lagging))
	}
	growth := mib(rssN - rssHalf)
	capacity := cache * len(workers)
	if boundedExpected(n, capacity) {
		res.AddTarget("RSS growth from N/2 to N", growth, "MiB", 0.1*mib(rssHalf), true)
		res.Note("target: 10% of the RSS at N/2, the cache being full before N/2")
	} else {
		res.Add("RSS growth from N/2 to N", growth, "MiB")
		res.Note("no target: the cache is larger than N/2, so every case opened is still cached")
	}
	res.Add("sticky cache size", float64(cache), "workflows")
	if len(workers) > 1 {
		res.Note(fmt.Sprintf("per worker process, %d workers: the figures are their sums", len(workers)))
	}
	res.Add("RSS per cached workflow", perCachedKiB(rss0, rssN, n, capacity), "KiB")
	res.Note(fmt.Sprintf("(RSS at N - RSS before) / min(N, cache x workers) = / %d", min(n, capacity)))
	if goN, err := scrape(ctx, env.WorkerMetrics); err == nil && env.WorkerMetrics != "" {
		held := float64(min(n, cache))
		res.Add("goroutines per cached workflow", delta(go0, goN, "go_goroutines")/held, "goroutines")
		res.Note("the first worker's go_goroutines growth / the workflows its cache holds")
		res.Add("goroutine stacks per cached workflow", delta(go0, goN, "go_memstats_stack_inuse_bytes")/1024/held, "KiB")
		res.Add("Go heap in use per cached workflow", delta(go0, goN, "go_memstats_heap_inuse_bytes")/1024/held, "KiB")
		res.Note("live objects and garbage not yet collected; RSS also holds the heap's room to grow before the next GC")
	}
	res.Add("opening rate, the worker keeping up", float64(n)/took.Seconds(), "cases/s")
	note := fmt.Sprintf("not a speed figure: N over the opening with the waits for the worker at every tenth, %d clients", max(opts.HeldConcurrency, 1))
	if took >= heldQuietFor {
		// The held policy's p4 warning falls heldQuietFor after the open:
		// the first cases' warnings ran during the samples.
		note += fmt.Sprintf("; opening took %s, past the %s before the first SLA warnings", took.Round(time.Second), heldQuietFor)
	}
	res.Note(note)
	res.Plans = append(res.Plans, sampleTable(n, marks, samples, rss0))
	return res, nil
}

// sampleMarks answers the counts of opened cases at which the worker's RSS
// is sampled: every 10% of n, rounded up (the 5th is N/2 rounded up, the
// 10th n); fewer than ten for n below 10.
func sampleMarks(n int) map[int]bool {
	out := map[int]bool{}
	for k := 1; k <= 10; k++ {
		out[mark(k, n)] = true
	}
	return out
}

// mark answers k tenths of n, rounded up.
func mark(k, n int) int { return (k*n + 9) / 10 }

// boundedExpected says whether the cache's capacity is full before half
// the cases are open, so that the RSS should stop growing after N/2.
func boundedExpected(n, capacity int) bool { return capacity <= n/2 }

// perCachedKiB answers the RSS the workers grew by for each workflow their
// caches can hold with n cases open, in KiB: (after - before) / min(n, capacity).
func perCachedKiB(before, after int64, n, capacity int) float64 {
	held := min(n, capacity)
	if held <= 0 {
		return Ratio(0, 0)
	}
	return float64(after-before) / 1024 / float64(held)
}

// sortedKeys answers the marks in increasing order.
func sortedKeys(marks map[int]bool) []int {
	out := make([]int, 0, len(marks))
	for k := range marks {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sampleTable prints the RSS samples in the order of the marks.
func sampleTable(n int, marks map[int]bool, samples map[int]int64, before int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "worker RSS while opening %d cases: before %.1f MiB\n", n, mib(before))
	for k := 1; k <= n; k++ {
		if !marks[k] {
			continue
		}
		fmt.Fprintf(&b, "%7d open: %.1f MiB\n", k, mib(samples[k]))
	}
	return b.String()
}

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// workersRSS answers the resident memory of every worker, summed.
func workersRSS(workers []*Proc) (int64, error) {
	var sum int64
	for _, w := range workers {
		rss, err := w.RSS()
		if err != nil {
			return 0, fmt.Errorf("RSS of %s (pid %d): %w", w.Name, w.PID, err)
		}
		sum += rss
	}
	return sum, nil
}

// runningQuery selects the workflows running on the bench's task queue.
func runningQuery(taskQueue string) string {
	return fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus = 'Running'", taskQueue)
}

// countRunning answers how many workflows run on the bench's task queue,
// from Temporal's visibility.
func countRunning(ctx context.Context, env *Env) (int64, error) {
	resp, err := env.Temporal.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: env.Config.Temporal.Namespace, Query: runningQuery(env.TaskQueue)})
	if err != nil {
		return 0, fmt.Errorf("count running workflows on %s: %w", env.TaskQueue, err)
	}
	return resp.GetCount(), nil
}

// awaitRunning counts the running workflows until there are at least want
// or within has passed, and answers the last count.
func awaitRunning(ctx context.Context, env *Env, want int64, within time.Duration) (int64, error) {
	deadline := time.Now().Add(within)
	for {
		got, err := countRunning(ctx, env)
		if err != nil || got >= want || time.Now().After(deadline) {
			return got, err
		}
		select {
		case <-ctx.Done():
			return got, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// terminateRunning terminates every workflow running on the bench's task
// queue in one batch operation and waits, up to heldCleanupTimeout, until
// none runs; it logs what went wrong rather than failing the part.
func terminateRunning(ctx context.Context, env *Env) {
	ns := env.Config.Temporal.Namespace
	jobID := "bench-held-" + env.TaskQueue + "-" + time.Now().UTC().Format("20060102T150405")
	_, err := env.Temporal.WorkflowService().StartBatchOperation(ctx, &workflowservice.StartBatchOperationRequest{
		Namespace:       ns,
		VisibilityQuery: runningQuery(env.TaskQueue),
		JobId:           jobID,
		Reason:          "bench held part done",
		Operation: &workflowservice.StartBatchOperationRequest_TerminationOperation{
			TerminationOperation: &batchpb.BatchOperationTermination{Identity: "handoff-bench"},
		},
	})
	if err != nil {
		env.Logger.Error("terminate the held cases: start the batch operation", "job_id", jobID, "error", err)
		return
	}
	deadline := time.Now().Add(heldCleanupTimeout)
	for {
		running, err := countRunning(ctx, env)
		if err == nil && running == 0 {
			env.Logger.Info("held cases terminated", "job_id", jobID)
			return
		}
		desc, derr := env.Temporal.WorkflowService().DescribeBatchOperation(ctx,
			&workflowservice.DescribeBatchOperationRequest{Namespace: ns, JobId: jobID})
		if derr == nil && desc.GetState() == enumspb.BATCH_OPERATION_STATE_FAILED {
			env.Logger.Error("terminate the held cases: the batch operation failed", "job_id", jobID,
				"completed", desc.GetCompleteOperationCount(), "failed", desc.GetFailureOperationCount(), "running", running)
			return
		}
		if time.Now().After(deadline) {
			env.Logger.Warn("terminate the held cases: still running after the wait; the batch goes on in the server",
				"job_id", jobID, "wait", heldCleanupTimeout, "running", running, "count_error", err,
				"batch_state", desc.GetState().String(), "completed", desc.GetCompleteOperationCount())
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

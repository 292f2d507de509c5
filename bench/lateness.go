package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// Lateness measures how late SLA escalations land when many deadlines fall
// at the same moment.
var Lateness = Part{
	Name: "lateness",
	What: "with N cases due at the same moment, p50/p99/max between each deadline and its recorded breach",
	Run:  runLateness,
}

func runLateness(ctx context.Context, env *Env, opts Options) (Result, error) {
	res := Result{Part: "lateness"}
	defer func() {
		// Back to the standard policy for the parts after this one.
		if err := env.Restart(context.WithoutCancel(ctx), nil); err != nil {
			env.Logger.Error("restart after lateness", "error", err)
		}
	}()
	for _, n := range opts.Lateness {
		if err := latenessAt(ctx, env, opts, n, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func latenessAt(ctx context.Context, env *Env, opts Options, n int, res *Result) error {
	// Opening takes a while, and how long depends on the server (a cluster
	// on Postgres opens slower than the dev server on SQLite): measure it
	// first. The calendar opens once every case is open, at the next whole
	// minute after half as long again; each case is then due
	// latenessTarget later, at the same moment.
	perCase, err := openRate(ctx, env, opts.Concurrency)
	if err != nil {
		return err
	}
	// Both bursts start on a settled engine: the cases' after the sample's
	// terminations, the bare timers' after the cases'.
	caseWait, caseSettled, err := settle(ctx, env)
	if err != nil {
		return err
	}
	openFor := time.Duration(n) * perCase
	estimate := openFor*3/2 + 5*time.Second
	opensAt := time.Now().Add(estimate).Truncate(time.Minute).Add(time.Minute)
	if opensAt.Add(2*time.Minute).Day() != opensAt.Day() {
		return fmt.Errorf("lateness: the burst would cross midnight UTC; run it again after 00:02")
	}
	policy, err := writePolicy(env.policyDir(), fmt.Sprintf("lateness-%d.yaml", n), simultaneousPolicy(opensAt))
	if err != nil {
		return err
	}
	if err := env.Restart(ctx, map[string]string{"SLA_POLICY_FILE": policy}); err != nil {
		return err
	}
	due := opensAt.Add(latenessTarget)
	env.Logger.Info("opening cases due at the same moment", "n", n, "due", due.Format(time.TimeOnly))
	ids := make([]string, n)
	opening := time.Now()
	if err := forEach(n, opts.Concurrency, func(i int) error {
		v, err := env.openCase(ctx, vocab.CategoryGeneralQuestion, vocab.P4)
		ids[i] = v.ID
		return err
	}); err != nil {
		return fmt.Errorf("open %d cases: %w", n, err)
	}
	if time.Now().After(opensAt) {
		return fmt.Errorf("lateness: opening %d cases ran past %s; lower N or raise the concurrency", n, opensAt.Format(time.TimeOnly))
	}
	openFor = time.Since(opening)
	stop := Watch(ctx, 200*time.Millisecond, env.underTest()...)
	// Wait for the deadline, then for every breach to be in the read model.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(due)):
	}
	// Every breach counts, however late: the wait ends when all are in or
	// none has come for breachStall, so a slow engine's tail is measured
	// rather than cut off.
	var late []time.Duration
	lastGain, lastCount := time.Now(), -1
	for {
		late, err = breachLateness(ctx, env, ids)
		if err != nil {
			return err
		}
		if len(late) > lastCount {
			lastGain, lastCount = time.Now(), len(late)
		}
		if len(late) == n || time.Since(lastGain) > breachStall || time.Since(due) > breachWaitMax {
			break
		}
		if err := sleepCtx(ctx, time.Second); err != nil {
			return err
		}
	}
	usage := stop()
	res.Usage = append(res.Usage, usage...)
	label := fmt.Sprintf("N=%d ", n)
	res.Add(label+"breaches recorded", float64(len(late)), "cases")
	res.Note(settleNote("opened", caseWait, caseSettled))
	res.Add(label+"p50 lateness", Ms(Percentile(late, 50)), "ms")
	if n >= 10000 {
		res.AddTarget(label+"p99 lateness", Ms(Percentile(late, 99)), "ms", latenessP99Target, true)
	} else {
		res.Add(label+"p99 lateness", Ms(Percentile(late, 99)), "ms")
	}
	res.Add(label+"max lateness", Ms(Percentile(late, 100)), "ms")
	if len(late) < n {
		res.Note(fmt.Sprintf("%d breaches missing after the wait (none for %s, or %s past the deadline)", n-len(late), breachStall, breachWaitMax))
	}
	terminate(ctx, env, ids)
	bareWait, bareSettled, err := settle(ctx, env)
	if err != nil {
		return err
	}

	bare, err := bareLateness(ctx, env, n, opts.Concurrency, openFor)
	if err != nil {
		return err
	}
	res.Add(label+"bare timers: p50 lateness", Ms(Percentile(bare, 50)), "ms")
	res.Note(settleNote(fmt.Sprintf("%d no-op workflows sleeping to one moment, same server, started", n), bareWait, bareSettled))
	res.Add(label+"bare timers: p99 lateness", Ms(Percentile(bare, 99)), "ms")
	res.Add(label+"bare timers: max lateness", Ms(Percentile(bare, 100)), "ms")
	ratio := Ratio(Ms(Percentile(late, 99)), Ms(Percentile(bare, 99)))
	if n >= 10000 {
		res.AddTarget(label+"p99 lateness / bare p99", ratio, "ratio", latenessBareTarget, true)
	} else {
		res.Add(label+"p99 lateness / bare p99", ratio, "ratio")
	}
	return nil
}

// bareLateness starts n bare workflows that sleep to the same moment and
// answers how late each woke up.
func bareLateness(ctx context.Context, env *Env, n, concurrency int, openFor time.Duration) ([]time.Duration, error) {
	concurrency = max(concurrency, 1)
	// A bare start is no slower than opening a case through the API, which
	// took openFor for the same n.
	until := time.Now().Add(openFor*3/2 + 8*time.Second)
	runs := make([]client.WorkflowRun, n)
	if err := forEach(n, concurrency, func(i int) error {
		run, err := env.Temporal.ExecuteWorkflow(ctx, env.bareOptions("sleep"), sleepWorkflowName, until)
		if err != nil {
			return fmt.Errorf("start bare sleeper: %w", err)
		}
		runs[i] = run
		return nil
	}); err != nil {
		return nil, err
	}
	if time.Now().After(until) {
		return nil, fmt.Errorf("lateness: starting %d bare sleepers ran past their moment", n)
	}
	out := make([]time.Duration, 0, n)
	for _, run := range runs {
		var late time.Duration
		if err := run.Get(ctx, &late); err != nil {
			return nil, fmt.Errorf("bare sleeper %s: %w", run.GetID(), err)
		}
		out = append(out, late)
	}
	return out, nil
}

// breachStall ends the wait for breaches when none has been recorded for
// that long; breachWaitMax bounds the wait after the deadline in any case.
const (
	breachStall   = time.Minute
	breachWaitMax = 45 * time.Minute
)

// The targets at 10,000 simultaneous deadlines: the breach recorded within
// 2 s at p99, and no more than 1.3 times as late as bare timers of the
// same run on the same server.
const (
	latenessP99Target  = 2000
	latenessBareTarget = 1.3
)

// openRateSample is how many cases openRate opens to time them.
const openRateSample = 200

// openRate opens openRateSample cases at concurrency under the policy in
// force, terminates them, and answers the time per case it took.
func openRate(ctx context.Context, env *Env, concurrency int) (time.Duration, error) {
	ids := make([]string, openRateSample)
	start := time.Now()
	if err := forEach(openRateSample, concurrency, func(i int) error {
		v, err := env.openCase(ctx, vocab.CategoryGeneralQuestion, vocab.P4)
		ids[i] = v.ID
		return err
	}); err != nil {
		return 0, fmt.Errorf("time the opening of cases: %w", err)
	}
	perCase := time.Since(start) / openRateSample
	terminate(ctx, env, ids)
	return perCase, nil
}

// breachLateness answers, for each case of ids that has breached, how long
// after its deadline the breach was recorded (from the read model).
func breachLateness(ctx context.Context, env *Env, ids []string) ([]time.Duration, error) {
	rows, err := env.DB.Query(ctx, `
SELECT extract(epoch FROM (at - (payload->>'due_at')::timestamptz))
FROM case_events WHERE case_id = ANY($1) AND kind = 'sla_breach' AND payload->>'level' = '1'`, ids)
	if err != nil {
		return nil, fmt.Errorf("read breaches: %w", err)
	}
	defer rows.Close()
	var out []time.Duration
	for rows.Next() {
		var secs float64
		if err := rows.Scan(&secs); err != nil {
			return nil, fmt.Errorf("read breaches: %w", err)
		}
		out = append(out, time.Duration(secs*float64(time.Second)))
	}
	return out, rows.Err()
}

// terminate ends the bench's cases, a few at a time.
func terminate(ctx context.Context, env *Env, ids []string) {
	_ = forEach(len(ids), 8, func(i int) error {
		_ = env.Temporal.TerminateWorkflow(ctx, cases.CaseWorkflowID(ids[i]), "", "bench over")
		return nil
	})
}

// forEach runs fn for every i below n from concurrency goroutines, and
// answers the first error; after one, no new i starts.
func forEach(n, concurrency int, fn func(i int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range max(concurrency, 1) {
		wg.Go(func() {
			for {
				mu.Lock()
				stop := first != nil
				mu.Unlock()
				i := int(next.Add(1)) - 1
				if stop || i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

package bench

import (
	"context"
	"fmt"
	"time"
)

// settleSlack is how late a probe timer may wake for the engine to count as
// caught up: well above the time a quiet server takes (tens of
// milliseconds), well below the seconds a backlog of timer or transfer
// tasks adds.
const settleSlack = 500 * time.Millisecond

// settleWithin bounds the wait for a quiet engine; a server still busy after
// it is measured as it is, with a note.
const settleWithin = 3 * time.Minute

// settle waits until the engine has caught up with what the last step left
// behind (terminations, their visibility updates and timer deletions), so
// that a burst of deadlines starts on a quiet server: no workflow runs on
// the task queue under test, and a bare workflow's one-second timer wakes
// within settleSlack of its moment twice in a row. It answers how long it
// waited and whether the engine settled.
func settle(ctx context.Context, env *Env) (time.Duration, bool, error) {
	start := time.Now()
	deadline := start.Add(settleWithin)
	quiet := 0
	for quiet < 2 {
		if time.Now().After(deadline) {
			return time.Since(start), false, nil
		}
		running, err := countRunning(ctx, env)
		if err != nil {
			return 0, false, err
		}
		if running > 0 {
			quiet = 0
			if err := sleepCtx(ctx, time.Second); err != nil {
				return 0, false, err
			}
			continue
		}
		late, err := probeTimer(ctx, env)
		if err != nil {
			return 0, false, err
		}
		if late <= settleSlack {
			quiet++
		} else {
			quiet = 0
		}
	}
	return time.Since(start), true, nil
}

// probeTimer runs one bare sleeper due a second from now and answers how
// late it woke.
func probeTimer(ctx context.Context, env *Env) (time.Duration, error) {
	run, err := env.Temporal.ExecuteWorkflow(ctx, env.bareOptions("settle"), sleepWorkflowName, time.Now().Add(time.Second))
	if err != nil {
		return 0, fmt.Errorf("start the settle probe: %w", err)
	}
	var late time.Duration
	if err := run.Get(ctx, &late); err != nil {
		return 0, fmt.Errorf("settle probe %s: %w", run.GetID(), err)
	}
	return late, nil
}

// settleNote describes a settle wait for a part's notes.
func settleNote(what string, waited time.Duration, ok bool) string {
	if !ok {
		return fmt.Sprintf("%s: the engine was still busy after %s (probe timers later than %s); measured as it was",
			what, waited.Round(time.Second), settleSlack)
	}
	return fmt.Sprintf("%s after %s for the engine to settle (no case running, probe timers within %s)",
		what, waited.Round(time.Second), settleSlack)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

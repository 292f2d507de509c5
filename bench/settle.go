package bench

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
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

// backlog answers the approximate count of tasks waiting on the task queue
// under test for a worker, workflow and activity tasks together.
func backlog(ctx context.Context, env *Env) (int64, error) {
	var sum int64
	for _, kind := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		resp, err := env.Temporal.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace:     env.Config.Temporal.Namespace,
			TaskQueue:     &taskqueuepb.TaskQueue{Name: env.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			TaskQueueType: kind,
			ReportStats:   true,
		})
		if err != nil {
			return 0, fmt.Errorf("describe task queue %s (%s): %w", env.TaskQueue, kind, err)
		}
		sum += resp.GetStats().GetApproximateBacklogCount()
	}
	return sum, nil
}

// awaitDrained waits until the task queue under test has had no backlog on
// three looks two seconds apart, or within has passed; it answers how long
// it waited and whether the queue drained.
func awaitDrained(ctx context.Context, env *Env, within time.Duration) (time.Duration, bool, error) {
	start := time.Now()
	empty := 0
	for empty < 3 {
		if time.Since(start) > within {
			return time.Since(start), false, nil
		}
		n, err := backlog(ctx, env)
		if err != nil {
			return 0, false, err
		}
		if n == 0 {
			empty++
		} else {
			empty = 0
		}
		if err := sleepCtx(ctx, 2*time.Second); err != nil {
			return 0, false, err
		}
	}
	return time.Since(start), true, nil
}

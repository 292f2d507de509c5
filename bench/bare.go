package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Names of the bare baseline's workflows, activity and update.
const (
	bareWorkflowName    = "BenchBareWorkflow"
	trivialWorkflowName = "BenchTrivialWorkflow"
	bareActivityName    = "BenchNoop"
	trivialUpdateName   = "touch"
	trivialDoneSignal   = "done"
	sleepWorkflowName   = "BenchSleepUntil"
)

// sleepUntil is the baseline of an SLA deadline: a timer to a moment, and
// how late the workflow woke up after it.
func sleepUntil(ctx workflow.Context, until time.Time) (time.Duration, error) {
	if err := workflow.Sleep(ctx, until.Sub(workflow.Now(ctx))); err != nil {
		return 0, err
	}
	return workflow.Now(ctx).Sub(until), nil
}

// bareWorkflow is the baseline of a case: one no-op activity.
func bareWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return workflow.ExecuteActivity(ctx, bareActivityName).Get(ctx, nil)
}

// trivialWorkflow is the baseline of an action: an update that only counts.
func trivialWorkflow(ctx workflow.Context) (int, error) {
	n := 0
	if err := workflow.SetUpdateHandler(ctx, trivialUpdateName, func(ctx workflow.Context) (int, error) {
		n++
		return n, nil
	}); err != nil {
		return 0, fmt.Errorf("register update: %w", err)
	}
	done := false
	workflow.Go(ctx, func(ctx workflow.Context) {
		workflow.GetSignalChannel(ctx, trivialDoneSignal).Receive(ctx, nil)
		done = true
	})
	ok, err := workflow.AwaitWithTimeout(ctx, time.Hour, func() bool { return done })
	if err != nil || !ok {
		return n, err
	}
	return n, workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

func noop(context.Context) error { return nil }

// StartBare runs the bare baseline's worker on env.BareQueue, with the
// SDK's default options like the worker under test; the answered stop ends it.
func StartBare(env *Env) (stop func(), err error) {
	w := sdkworker.New(env.Temporal, env.BareQueue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: bareWorkflowName})
	w.RegisterWorkflowWithOptions(trivialWorkflow, workflow.RegisterOptions{Name: trivialWorkflowName})
	w.RegisterWorkflowWithOptions(sleepUntil, workflow.RegisterOptions{Name: sleepWorkflowName})
	w.RegisterActivityWithOptions(noop, activity.RegisterOptions{Name: bareActivityName})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start the bare worker on %s: %w", env.BareQueue, err)
	}
	return w.Stop, nil
}

var bareSeq atomic.Int64

func (e *Env) bareOptions(prefix string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:        fmt.Sprintf("bench-%s-%d-%d", prefix, time.Now().UnixNano(), bareSeq.Add(1)),
		TaskQueue: e.BareQueue,
	}
}

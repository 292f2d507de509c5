package vocab

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ProjectReadModel writes a workflow's changes to its read model, in order,
// as a local activity in the workflow task of each change: a burst of
// changes is written as one batch, and the row is current as soon as the
// task ends. newest answers the newest timeline event, *projected the
// newest written; write runs the area's projection activity on lctx (the
// local activity options) for the events from (exclusive) to upto
// (inclusive). It runs until the workflow ends.
func ProjectReadModel(ctx workflow.Context, summary string, newest func() int, projected *int,
	write func(lctx workflow.Context, from, upto int) workflow.Future) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
		Summary: summary,
	})
	for {
		if err := workflow.Await(ctx, func() bool { return newest() > *projected }); err != nil {
			return
		}
		upto := newest()
		if err := write(lctx, *projected, upto).Get(ctx, nil); err != nil {
			// Only a non-retryable refusal gets here; skipping it keeps the
			// workflow moving, and the next change writes the whole row again.
			workflow.GetLogger(ctx).Error("read model not written", "summary", summary, "upto", upto, "error", err)
		}
		*projected = upto
	}
}

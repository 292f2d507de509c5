package vocab

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// changeProjectionRetries is the workflow.GetVersion change id under which
// a read model write that failed for a retryable reason (Postgres down
// longer than the local activity's own retries) is tried again after a
// durable timer instead of being skipped. Histories recorded before it
// replay the skip.
const changeProjectionRetries = "projection-retries"

// projectionRetryWait bounds the durable wait between two failed batches:
// it starts at projectionRetryFirst and doubles up to projectionRetryMax.
const (
	projectionRetryFirst = 5 * time.Second
	projectionRetryMax   = time.Minute
)

// ProjectReadModel writes a workflow's changes to its read model, in order,
// as a local activity in the workflow task of each change: a burst of
// changes is written as one batch, and the row is current as soon as the
// task ends. newest answers the newest timeline event, *projected the
// newest written; write runs the area's projection activity on lctx (the
// local activity options) for the events from (exclusive) to upto
// (inclusive). It runs until the workflow ends.
//
// A batch is never skipped for a retryable failure: the local activity
// tries three times inside the workflow task, and when that is not
// enough the loop waits on a durable timer (so updates and signals keep
// being handled meanwhile) and writes again from the same place, with
// every change made in between. Only a non-retryable refusal skips a
// batch; the next change writes the whole row again.
func ProjectReadModel(ctx workflow.Context, summary string, newest func() int, projected *int,
	write func(lctx workflow.Context, from, upto int) workflow.Future) {
	// A few quick tries in the task: a dropped connection is over in
	// milliseconds. An outage is waited out on the timer below instead, so
	// it does not hold the workflow task, and with it the updates and
	// queries waiting on it, for seconds at every change.
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Second,
			MaximumAttempts:    3,
		},
		Summary: summary,
	})
	wait := projectionRetryFirst
	for {
		if err := workflow.Await(ctx, func() bool { return newest() > *projected }); err != nil {
			return
		}
		upto := newest()
		err := write(lctx, *projected, upto).Get(ctx, nil)
		if err == nil {
			*projected, wait = upto, projectionRetryFirst
			continue
		}
		var refused *temporal.ApplicationError
		if errors.As(err, &refused) && refused.NonRetryable() ||
			workflow.GetVersion(ctx, changeProjectionRetries, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			workflow.GetLogger(ctx).Error("read model refused a batch; the next change writes the row again",
				"summary", summary, "upto", upto, "error", err)
			*projected = upto
			continue
		}
		workflow.GetLogger(ctx).Warn("read model not written; trying again", "summary", summary,
			"from", *projected, "upto", upto, "wait", wait, "error", err)
		if err := workflow.Sleep(ctx, wait); err != nil {
			return
		}
		wait = min(2*wait, projectionRetryMax)
	}
}

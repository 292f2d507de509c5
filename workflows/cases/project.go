package cases

import (
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// changeReadModel is the workflow.GetVersion change id under which cases
// began writing their read model; older histories replay without it.
const changeReadModel = "project-read-model"

// project writes each change to the read model, in order, as a local
// activity in the same workflow task as the change: a burst of actions is
// written as one batch, and the row is current as soon as the task ends.
func (c *supportCase) project(ctx workflow.Context) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
		Summary: "project case to Postgres",
	})
	for {
		if err := workflow.Await(ctx, func() bool { return c.view.LastSeq > c.projectedSeq }); err != nil {
			return
		}
		upto := c.view.LastSeq
		in := ProjectionInput{Case: c.result(), Events: slices.Clone(c.timeline[c.projectedSeq:upto])}
		if err := workflow.ExecuteLocalActivity(lctx, ActivityProjectCase, in).Get(ctx, nil); err != nil {
			// Only a non-retryable refusal gets here; skipping it keeps the
			// case moving, and the next change writes the whole row again.
			workflow.GetLogger(ctx).Error("read model not written", "case", c.view.ID, "upto", upto, "error", err)
		}
		c.projectedSeq = upto
	}
}

// caughtUp reports that the read model has every event of the timeline.
func (c *supportCase) caughtUp() bool {
	return !c.projects || c.projectedSeq == c.view.LastSeq
}

package deliveries

import (
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// project writes each change to the read model, in order, as a local
// activity in the same workflow task as the change.
func (d *delivery) project(ctx workflow.Context) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
		Summary: "project delivery to Postgres",
	})
	for {
		if err := workflow.Await(ctx, func() bool { return d.view.LastSeq > d.projectedSeq }); err != nil {
			return
		}
		upto := d.view.LastSeq
		in := ProjectionInput{Delivery: d.result(), Events: slices.Clone(d.timeline[d.projectedSeq:upto])}
		if err := workflow.ExecuteLocalActivity(lctx, ActivityProjectDelivery, in).Get(ctx, nil); err != nil {
			// Only a non-retryable refusal gets here; the next change
			// writes the whole row again.
			workflow.GetLogger(ctx).Error("read model not written", "delivery", d.view.ID, "upto", upto, "error", err)
		}
		d.projectedSeq = upto
	}
}

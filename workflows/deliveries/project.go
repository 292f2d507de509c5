package deliveries

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// project writes each change to the read model (vocab.ProjectReadModel).
func (d *delivery) project(ctx workflow.Context) {
	vocab.ProjectReadModel(ctx, "project delivery to Postgres", func() int { return d.view.LastSeq }, &d.projectedSeq,
		func(lctx workflow.Context, from, upto int) workflow.Future {
			in := ProjectionInput{Delivery: d.result(), Events: slices.Clone(d.timeline[from:upto])}
			return workflow.ExecuteLocalActivity(lctx, ActivityProjectDelivery, in)
		})
}

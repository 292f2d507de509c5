package disputes

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// changeReadModel is the workflow.GetVersion change id under which
// disputes began writing their read model; older histories replay without it.
const changeReadModel = "read-model"

// project writes each change to the read model (vocab.ProjectReadModel).
func (d *dispute) project(ctx workflow.Context) {
	vocab.ProjectReadModel(ctx, "project dispute to Postgres", func() int { return d.view.LastSeq }, &d.projectedSeq,
		func(lctx workflow.Context, from, upto int) workflow.Future {
			in := ProjectionInput{Dispute: d.result(), Events: slices.Clone(d.timeline[from:upto])}
			return workflow.ExecuteLocalActivity(lctx, ActivityProjectDispute, in)
		})
}

// caughtUp reports that the read model has every event of the timeline.
func (d *dispute) caughtUp() bool {
	return !d.projects || d.projectedSeq == d.view.LastSeq
}

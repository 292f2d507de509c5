package returns

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// changeReadModel is the workflow.GetVersion change id under which returns
// began writing their read model; older histories replay without it.
const changeReadModel = "read-model"

// project writes each change to the read model (vocab.ProjectReadModel).
func (r *itemReturn) project(ctx workflow.Context) {
	vocab.ProjectReadModel(ctx, "project return to Postgres", func() int { return r.view.LastSeq }, &r.projectedSeq,
		func(lctx workflow.Context, from, upto int) workflow.Future {
			in := ProjectionInput{Return: r.result(), Events: slices.Clone(r.timeline[from:upto])}
			return workflow.ExecuteLocalActivity(lctx, ActivityProjectReturn, in)
		})
}

// caughtUp reports that the read model has every event of the timeline.
func (r *itemReturn) caughtUp() bool {
	return !r.projects || r.projectedSeq == r.view.LastSeq
}

package cases

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// changeReadModel is the workflow.GetVersion change id under which cases
// began writing their read model; older histories replay without it.
const changeReadModel = "project-read-model"

// project writes each change to the read model (vocab.ProjectReadModel).
func (c *supportCase) project(ctx workflow.Context) {
	vocab.ProjectReadModel(ctx, "project case to Postgres", func() int { return c.view.LastSeq }, &c.projectedSeq,
		func(lctx workflow.Context, from, upto int) workflow.Future {
			in := ProjectionInput{Case: c.result(), Events: slices.Clone(c.timeline[from:upto])}
			return workflow.ExecuteLocalActivity(lctx, ActivityProjectCase, in)
		})
}

// caughtUp reports that the read model has every event of the timeline.
func (c *supportCase) caughtUp() bool {
	return !c.projects || c.projectedSeq == c.view.LastSeq
}

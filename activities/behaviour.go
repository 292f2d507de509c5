package activities

import (
	"context"

	"go.temporal.io/sdk/client"

	"handoff/workflows/fraud"
)

// Behaviour hands what one workflow saw of a party (a dispute the seller
// lost) to that party's fraud watch, starting the watch under the policy
// file's fraud rules when none runs.
type Behaviour struct {
	temporal  client.Client
	taskQueue string
	policy    fraud.Policy
}

// NewBehaviour answers the activity that reports behaviour through c to
// watches on taskQueue, started under policy.
func NewBehaviour(c client.Client, taskQueue string, policy fraud.Policy) *Behaviour {
	return &Behaviour{temporal: c, taskQueue: taskQueue, policy: policy}
}

// ReportBehaviour signals r to its party's watch, starting it when none
// runs (activity fraud.ActivityReportBehaviour). The watch counts a
// behaviour id once, so a retry after a lost answer counts nothing more.
func (b *Behaviour) ReportBehaviour(ctx context.Context, r fraud.Report) error {
	_, err := fraud.SignalWithStart(ctx, b.temporal, b.taskQueue, b.policy, r)
	return err
}

package deliveries

import "go.temporal.io/sdk/workflow"

// DeliveryRevision is the newest revision of AccountDelivery's behaviour,
// as cases.CaseRevision is of a case's. Deliveries started through
// NewInput carry it in their input, and every change of deliveryChanges up
// to it is on for them without a version marker (workflow.GetVersion
// records one and upserts the TemporalChangeVersion search attribute in a
// new execution, a billable action). Deliveries started under an earlier
// revision (or none) ask workflow.GetVersion, once at the start of each
// run, so their recorded histories replay as they ran.
//
// A new change adds a GetVersion change id to deliveryChanges at
// DeliveryRevision+1 and raises DeliveryRevision.
const DeliveryRevision = 1

// changeCauseIDs is the change under which a notification's id names what
// caused it (the update, the deadline, the signal) instead of its event's
// timeline number: a workflow task tried again after a worker died in it
// may record a deadline's event first, and under numbered ids the action's
// notification would go out a second time under another id. A cause is
// the same in every try of the task.
const changeCauseIDs = "notification-ids-from-causes"

// deliveryChanges maps every GetVersion change id of AccountDelivery to the
// revision from which it is on without asking.
var deliveryChanges = map[string]int{
	changeCauseIDs: 1,
}

// has reports whether the delivery behaves as change describes: outright
// when its input's revision includes it, else as workflow.GetVersion
// decides (version 1 in a new execution, the recorded version in a
// replay). Call it in setup, the start of a run, only.
func (d *delivery) has(ctx workflow.Context, change string) bool {
	if since, ok := deliveryChanges[change]; ok && d.in.Revision >= since {
		return true
	}
	return workflow.GetVersion(ctx, change, workflow.DefaultVersion, 1) >= 1
}

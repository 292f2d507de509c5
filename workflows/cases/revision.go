package cases

import "go.temporal.io/sdk/workflow"

// CaseRevision is the newest revision of SupportCase's behaviour. Cases
// opened through NewCaseInput carry it in their input, and every change of
// caseChanges up to it is on for them without a version marker:
// workflow.GetVersion records a marker and upserts the TemporalChangeVersion
// search attribute in a new execution, and each upsert is a billable
// action. Cases opened under an earlier revision (or none) ask
// workflow.GetVersion, so their recorded histories replay as they ran.
//
// A new change adds a GetVersion change id to caseChanges at
// CaseRevision+1 and raises CaseRevision: cases already running decide by
// their marker, cases opened afterwards take it outright.
const CaseRevision = 4

// caseChanges maps every GetVersion change id of SupportCase to the
// revision from which it is on without asking.
var caseChanges = map[string]int{
	changeReadModel:          1,
	changeAlertTeamOnFailure: 1,
	changeAccountFlows:       1,
	changeLazySLA:            1,
	changeNotifyInTask:       1,
	changeStaffHearCustomer:  2,
	changeOverdueFirst:       3,
	changeCauseIDs:           4,
}

// has reports whether the case behaves as change describes: outright when
// its input's revision includes it, else as workflow.GetVersion decides
// (version 1 in a new execution, the recorded version in a replay).
func (c *supportCase) has(ctx workflow.Context, change string) bool {
	if since, ok := caseChanges[change]; ok && c.in.Revision >= since {
		return true
	}
	return workflow.GetVersion(ctx, change, workflow.DefaultVersion, 1) >= 1
}

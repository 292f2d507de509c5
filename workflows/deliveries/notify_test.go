package deliveries

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// sentIDs answers the ids of the notifications sent, by event, and fails
// when two notifications share an id (the delivery log would send only
// the first).
func (dt *deliveryTest) sentIDs() map[string][]string {
	dt.mu.Lock()
	defer dt.mu.Unlock()
	seen := map[string]bool{}
	ids := map[string][]string{}
	for _, n := range dt.sent {
		assert.False(dt.t, seen[n.ID], "two notifications under %s", n.ID)
		seen[n.ID] = true
		ids[n.Event] = append(ids[n.Event], n.ID)
	}
	return ids
}

// ms is t in Unix milliseconds, as a deadline's cause names it.
func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// A delivery's notification ids name their cause: the update, the
// deadline by its kind and due time, the nth linked-case outcome. A
// workflow task tried again after a deadline passed names them as the
// first try did.
func TestADeliveryNotificationIsNamedAfterItsCause(t *testing.T) {
	dt := newDeliveryTest(t)
	in := testInput()
	require.Equal(t, DeliveryRevision, in.Revision, "NewInput starts a delivery under the newest revision")
	deliveredAt := startedAt.Add(time.Minute)
	confirmBy := deliveredAt.Add(in.ConfirmationWindow)
	dt.delivered(time.Minute) // add-evidence-1, deliver-2
	dt.at(time.Minute+in.ConfirmationWindow+time.Hour, func() {
		dt.mustUpdate(UpdateReportProblem, ProblemInput{Actor: "integration:shop", Description: "the seller took it back"}) // report-problem-3
	})
	dt.at(time.Minute+in.ConfirmationWindow+2*time.Hour, func() {
		dt.env.SignalWorkflow(SignalLinkedCase, vocab.LinkedCaseOutcome{CaseID: "C-A", Outcome: vocab.OutcomeRecovered,
			Actor: "account_manager:al", Detail: "account recovery C-A-1 completed"})
	})
	final := dt.run(in)
	assert.Equal(t, "warranty ended", final.RetireReason)
	assert.Equal(t, []string{EventDelivered, EventReminder, EventConfirmedByDefault, EventProblemReported, EventRecovered,
		EventWarrantyEnding, EventRetired}, dt.told())
	ends := deliveredAt.Add(in.Warranty)
	assert.Equal(t, map[string][]string{
		EventDelivered:          {"delivery/D-1/update/deliver-2/account_delivered/customer"},
		EventReminder:           {"delivery/D-1/deadline/reminder/" + ms(confirmBy.Add(-in.ConfirmationWindow/2)) + "/delivery_reminder/customer"},
		EventConfirmedByDefault: {"delivery/D-1/deadline/confirm_by_default/" + ms(confirmBy) + "/delivery_confirmed_by_default/customer"},
		EventProblemReported:    {"delivery/D-1/update/report-problem-3/delivery_problem_received/customer"},
		EventRecovered:          {"delivery/D-1/linked-case/1/delivery_recovered/customer"},
		EventWarrantyEnding:     {"delivery/D-1/deadline/warranty_notice/" + ms(ends.Add(-in.WarrantyNotice)) + "/warranty_ending/customer"},
		EventRetired:            {"delivery/D-1/deadline/warranty_end/" + ms(ends) + "/delivery_retired/customer"},
	}, dt.sentIDs())
	assert.Equal(t, "delivery/D-1/deadline/reminder/1772575260000/delivery_reminder/customer", dt.sentIDs()[EventReminder][0],
		"a deadline is named by its kind and its due time in Unix milliseconds (2026-03-03 22:01 UTC)")
}

// A retirement the retire update asks for is named after the update, and
// an outcome carried into the next run keeps its place among the
// channel's: the run before took one already.
func TestACarriedOutcomeIsNamedByItsPlaceAmongAllRuns(t *testing.T) {
	in := testInput()
	in.Carried = carriedUnderReview(in)
	in.Carried.OutcomesTaken = 1
	dt := newDeliveryTest(t)
	dt.env.SetStartTime(startedAt.Add(2 * time.Hour))
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateRetire, ReasonInput{Actor: "trust_safety:tess", Reason: "order refunded"}) // retire-1
	})
	dt.run(in)
	assert.Equal(t, map[string][]string{
		EventRecovered: {"delivery/D-1/linked-case/2/delivery_recovered/customer"},
		EventRetired:   {"delivery/D-1/update/retire-1/delivery_retired/customer"},
	}, dt.sentIDs())
}

// Deliveries started before notifications were named by cause keep
// numbered ids, as their recorded histories sent them.
func TestADeliveryOfAnEarlierRevisionKeepsNumberedNotificationIDs(t *testing.T) {
	dt := newDeliveryTest(t)
	dt.env.OnGetVersion(changeCauseIDs, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	in := testInput()
	in.Revision = 0
	dt.delivered(time.Minute)
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateRetire, ReasonInput{Actor: "trust_safety:tess", Reason: "order refunded"})
	})
	dt.run(in)
	assert.Equal(t, map[string][]string{
		EventDelivered: {"delivery/D-1/3/customer"},
		EventRetired:   {"delivery/D-1/4/customer"},
	}, dt.sentIDs())
}

// A delivery of an earlier revision whose run starts anew (a
// continue-as-new, or a start under a new worker) takes the change: its
// version marker says so.
func TestADeliveryOfAnEarlierRevisionInANewRunNamesItsCauses(t *testing.T) {
	dt := newDeliveryTest(t)
	in := testInput()
	in.Revision = 0
	dt.delivered(time.Minute)
	dt.run(in)
	assert.Equal(t, "delivery/D-1/update/deliver-2/account_delivered/customer", dt.sentIDs()[EventDelivered][0])
}

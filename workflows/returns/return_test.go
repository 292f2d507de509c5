package returns

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/fraud"
	"handoff/workflows/vocab"
)

// deliveredAt is a Monday 10:00 UTC; the buyer asks five days later.
var (
	deliveredAt = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	openedAt    = deliveredAt.Add(5 * 24 * time.Hour)
	paid        = vocab.Money{Minor: 4999, Currency: "EUR"}
)

const day = 24 * time.Hour

func testInput() Input {
	return Input{
		ID: "R-1", CaseID: "C-1", OrderID: "ord-1",
		Buyer:    vocab.Customer{ID: "buy-1", Email: "bea@example.com", Name: "Bea", Locale: "fr"},
		SellerID: "sel-1", Item: Item{SKU: "KET-BLUE", Name: "Blue kettle", Returnable: true},
		Paid: paid, DeliveredAt: deliveredAt, Reason: ReasonDefective, Description: "it leaks",
		From:        vocab.Address{Name: "Bea Martin", Line1: "3 rue des Lilas", City: "Lyon", PostalCode: "69003", Country: "FR"},
		To:          vocab.Address{Name: "Kettle Shop", Line1: "1 Industrial Way", City: "Lille", PostalCode: "59000", Country: "FR"},
		WeightGrams: 1200, Policy: DefaultPolicy(), OpenedAt: openedAt,
	}
}

// returnTest drives one Return on the SDK's test environment, whose clock
// jumps to the next timer whenever the workflow is blocked. The carrier,
// the payment provider and the case are mocks that record what they got.
type returnTest struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu      sync.Mutex
	events  []vocab.CaseEvent
	labels  []vocab.LabelRequest
	refunds []vocab.RefundRequest
	upserts []temporal.SearchAttributes
	// reports are what the return told the buyer's fraud watch.
	reports []fraud.Report
	// labelErr and refundErr make the activity fail; refundStatus is the
	// movement's status the provider answers (succeeded by default).
	labelErr     error
	refundErr    error
	refundStatus string
	steps        int
}

func newReturnTest(t *testing.T) *returnTest {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	rt := &returnTest{t: t, env: s.NewTestWorkflowEnvironment(), refundStatus: vocab.MovementSucceeded}
	env := rt.env
	env.SetStartTime(openedAt)
	env.RegisterWorkflowWithOptions(Return, workflow.RegisterOptions{Name: WorkflowType})
	// activities.Commerce needs the carrier and the provider; the names are
	// registered so the mocks below can stand in for them.
	env.RegisterActivityWithOptions(func(context.Context, vocab.LabelRequest) (vocab.Label, error) {
		return vocab.Label{}, errors.New("not mocked")
	}, activity.RegisterOptions{Name: vocab.ActivityCreateReturnLabel})
	env.RegisterActivityWithOptions(func(context.Context, vocab.RefundRequest) (vocab.Movement, error) {
		return vocab.Movement{}, errors.New("not mocked")
	}, activity.RegisterOptions{Name: vocab.ActivityRefund})
	// The read model is written by a stand-in that keeps nothing.
	env.RegisterActivityWithOptions(func(context.Context, ProjectionInput) error { return nil },
		activity.RegisterOptions{Name: ActivityProjectReturn})
	env.RegisterActivityWithOptions(func(_ context.Context, r fraud.Report) error {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		rt.reports = append(rt.reports, r)
		return nil
	}, activity.RegisterOptions{Name: fraud.ActivityReportBehaviour})
	env.OnActivity(vocab.ActivityCreateReturnLabel, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req vocab.LabelRequest) (vocab.Label, error) {
			rt.mu.Lock()
			defer rt.mu.Unlock()
			rt.labels = append(rt.labels, req)
			if rt.labelErr != nil {
				return vocab.Label{}, rt.labelErr
			}
			return vocab.Label{ID: "L-1", TrackingNumber: "TRK-1", URL: "https://labels.example/L-1.pdf"}, nil
		})
	env.OnActivity(vocab.ActivityRefund, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req vocab.RefundRequest) (vocab.Movement, error) {
			rt.mu.Lock()
			defer rt.mu.Unlock()
			rt.refunds = append(rt.refunds, req)
			if rt.refundErr != nil {
				return vocab.Movement{}, rt.refundErr
			}
			return vocab.Movement{ID: "mv-1", Kind: "refund", Status: rt.refundStatus, Amount: req.Amount}, nil
		})
	env.OnSignalExternalWorkflow(mock.Anything, vocab.CaseWorkflowID("C-1"), "", vocab.SignalCaseEvent, mock.Anything).Return(
		func(_, _, _, _ string, arg any) error {
			rt.mu.Lock()
			defer rt.mu.Unlock()
			rt.events = append(rt.events, arg.(vocab.CaseEvent))
			return nil
		})
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		rt.upserts = append(rt.upserts, args.Get(0).(temporal.SearchAttributes))
	}).Return()
	return rt
}

// at runs fn once the return has run for d.
func (rt *returnTest) at(d time.Duration, fn func()) { rt.env.RegisterDelayedCallback(fn, d) }

func (rt *returnTest) update(name string, arg any, check func(View, error)) {
	rt.steps++
	rt.env.UpdateWorkflow(name, name+"-"+strconv.Itoa(rt.steps), &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { check(View{}, err) },
		OnComplete: func(v any, err error) {
			rv, _ := v.(View)
			check(rv, err)
		},
	}, arg)
}

func (rt *returnTest) mustUpdate(name string, arg any) {
	rt.update(name, arg, func(_ View, err error) { require.NoError(rt.t, err, name) })
}

// refused checks the update is refused with an error of errType saying
// contains, and that it left no trace: no timeline event, no case event.
// The environment runs updates after the callback that sends them, one at
// a time, so the trace is checked once the refusal is in; call refused
// before any accepted update sent in the same callback.
func (rt *returnTest) refused(name string, arg any, errType, contains string) {
	before, reported := rt.view().LastSeq, len(rt.caseEvents())
	rt.update(name, arg, func(_ View, err error) {
		var appErr *temporal.ApplicationError
		require.True(rt.t, errors.As(err, &appErr), "%s: want a refusal, got %v", name, err)
		assert.Equal(rt.t, errType, appErr.Type(), name)
		assert.Contains(rt.t, appErr.Error(), contains)
		assert.Equal(rt.t, before, rt.view().LastSeq, "a refused %s leaves no timeline event", name)
		assert.Len(rt.t, rt.caseEvents(), reported, "a refused %s reports nothing", name)
	})
}

func (rt *returnTest) view() View {
	res, err := rt.env.QueryWorkflow(QueryReturn)
	require.NoError(rt.t, err)
	var v View
	require.NoError(rt.t, res.Get(&v))
	return v
}

func (rt *returnTest) run(in Input) View {
	rt.env.ExecuteWorkflow(WorkflowType, in)
	require.True(rt.t, rt.env.IsWorkflowCompleted())
	require.NoError(rt.t, rt.env.GetWorkflowError())
	var v View
	require.NoError(rt.t, rt.env.GetWorkflowResult(&v))
	return v
}

// track signals a carrier event about the return's parcel TRK-1.
func (rt *returnTest) track(id, kind string) {
	rt.env.SignalWorkflow(SignalTracking, vocab.TrackingEvent{ID: id, Kind: kind, TrackingNumber: "TRK-1"})
}

// receivedAt ships the parcel at ship and has it delivered at arrive.
func (rt *returnTest) receivedAt(ship, arrive time.Duration) {
	rt.at(ship, func() { rt.track("ev-ship", vocab.TrackingShipped) })
	rt.at(arrive, func() { rt.track("ev-delivered", vocab.TrackingDelivered) })
}

func (rt *returnTest) caseEvents() []vocab.CaseEvent {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]vocab.CaseEvent(nil), rt.events...)
}

// caseKinds answers the kinds reported to the case, in order.
func (rt *returnTest) caseKinds() []string {
	var out []string
	for _, ev := range rt.caseEvents() {
		out = append(out, ev.Kind)
	}
	return out
}

// told answers the notices the case was asked to send, in order.
func (rt *returnTest) told() []vocab.Notice {
	var out []vocab.Notice
	for _, ev := range rt.caseEvents() {
		out = append(out, ev.Tell...)
	}
	return out
}

// toldEvents answers the events of told.
func (rt *returnTest) toldEvents() []string {
	var out []string
	for _, n := range rt.told() {
		out = append(out, n.Event)
	}
	return out
}

// escalations answers the case events that asked for an escalation.
func (rt *returnTest) escalations() []vocab.CaseEvent {
	var out []vocab.CaseEvent
	for _, ev := range rt.caseEvents() {
		if ev.EscalateTo != "" {
			out = append(out, ev)
		}
	}
	return out
}

func (rt *returnTest) refundRequests() []vocab.RefundRequest {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]vocab.RefundRequest(nil), rt.refunds...)
}

func kinds(events []vocab.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

func find(events []vocab.Event, kind string) vocab.Event {
	for _, e := range events {
		if e.Kind == kind {
			return e
		}
	}
	return vocab.Event{}
}

func count[T comparable](xs []T, x T) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

func TestAReturnShippedReceivedAndInspectedIsRefundedInFull(t *testing.T) {
	rt := newReturnTest(t)
	shipBy := openedAt.Add(14 * day)
	var shippedAt time.Time
	rt.at(time.Hour, func() {
		v := rt.view()
		assert.Equal(t, StatusLabelSent, v.Status)
		require.NotNil(t, v.Label)
		assert.Equal(t, "TRK-1", v.TrackingNumber)
		assert.Equal(t, shipBy, v.ShipBy.UTC())
		assert.Equal(t, shipBy, v.RespondBy.UTC(), "the return waits on the buyer to ship")
		assert.Contains(t, v.NextAction, "ships the item")
		// The carrier's scan happened half an hour before it reached us.
		shippedAt = rt.env.Now().Add(-30 * time.Minute).UTC()
		rt.env.SignalWorkflow(SignalTracking, vocab.TrackingEvent{ID: "ev-1", Kind: vocab.TrackingShipped, TrackingNumber: "TRK-1", At: shippedAt})
	})
	rt.at(2*time.Hour, func() {
		v := rt.view()
		assert.Equal(t, StatusShipped, v.Status)
		assert.Equal(t, shippedAt, v.ShippedAt.UTC())
		assert.Equal(t, shippedAt.Add(21*day), v.ArriveBy.UTC())
		rt.track("ev-2", vocab.TrackingInTransit)
		rt.track("ev-3", vocab.TrackingDelivered)
	})
	rt.at(3*time.Hour, func() {
		v := rt.view()
		assert.Equal(t, StatusReceived, v.Status)
		assert.Equal(t, v.ReceivedAt.Add(48*time.Hour), v.InspectBy.UTC())
		assert.Equal(t, v.InspectBy.UTC(), v.RespondBy.UTC(), "the return waits on the seller to inspect")
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundFull})
	})
	final := rt.run(testInput())

	assert.Equal(t, StatusRefunded, final.Status)
	assert.Equal(t, paid, final.Amount)
	assert.Nil(t, final.RespondBy)
	assert.Equal(t, "mv-1", final.Refund.ID)
	assert.Equal(t, []string{EventRequested, EventLabelSent, EventShipped, EventInTransit, EventReceived, EventInspected, EventRefunded},
		kinds(final.Timeline))
	assert.Equal(t, len(final.Timeline), final.LastSeq)

	rt.env.AssertActivityNumberOfCalls(t, vocab.ActivityRefund, 1)
	refunds := rt.refundRequests()
	require.Len(t, refunds, 1)
	assert.Equal(t, "return/R-1/refund", refunds[0].Key)
	assert.Equal(t, paid, refunds[0].Amount)
	assert.Equal(t, "ord-1", refunds[0].OrderID)
	assert.Equal(t, "buy-1", refunds[0].BuyerID)
	assert.False(t, refunds[0].StoreCredit)
	rt.mu.Lock()
	require.Len(t, rt.labels, 1)
	assert.Equal(t, "return/R-1/label", rt.labels[0].Key)
	assert.Equal(t, "Lyon", rt.labels[0].From.City)
	assert.Equal(t, "Lille", rt.labels[0].To.City)
	assert.Equal(t, 1200, rt.labels[0].WeightGrams)
	require.Len(t, rt.reports, 1, "the buyer's fraud watch hears of the refund request once")
	assert.Equal(t, fraud.PartyBuyer, rt.reports[0].Party)
	assert.Equal(t, fraud.KindRefundRequested, rt.reports[0].Behaviour.Kind)
	assert.Equal(t, "return/R-1/refund-requested", rt.reports[0].Behaviour.ID)
	rt.mu.Unlock()

	// The case heard every step but the in-transit scan, in order, each
	// naming the return, and told the buyer of the label and the refund.
	assert.Equal(t, []string{EventRequested, EventLabelSent, EventShipped, EventReceived, EventInspected, EventRefunded}, rt.caseKinds())
	for _, ev := range rt.caseEvents() {
		assert.Equal(t, "R-1", ev.Payload["return_id"], ev.Kind)
	}
	assert.Equal(t, []vocab.Notice{
		{Audience: vocab.AudienceCustomer, Event: NoticeLabel, Detail: "https://labels.example/L-1.pdf\nTRK-1"},
		{Audience: vocab.AudienceCustomer, Event: EventRefunded, Detail: "49.99 EUR"},
	}, rt.told())
	assert.Empty(t, rt.escalations())
	assert.Equal(t, "seller:sel-1", rt.caseEvents()[4].Actor, "the inspection is the seller's")
}

// The search attributes follow the return with one upsert per change:
// ReturnStatus as a one-item list, RespondBy the deadline waited on.
func TestSearchAttributesFollowTheReturnOneUpsertPerChange(t *testing.T) {
	rt := newReturnTest(t)
	rt.receivedAt(time.Hour, 2*time.Hour)
	rt.at(3*time.Hour, func() {
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundFull})
	})
	assert.Nil(t, rt.run(testInput()).RespondBy)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var statuses []string
	var respondBy []string
	for _, sa := range rt.upserts {
		status, ok := sa.GetKeywordList(vocab.ReturnStatusKey)
		require.True(t, ok, "every change here moves the status")
		require.Len(t, status, 1)
		statuses = append(statuses, status[0])
		// An unset reads as absent: the final view shows it cleared.
		if at, set := sa.GetTime(vocab.RespondByKey); set {
			respondBy = append(respondBy, at.UTC().Format(time.RFC3339))
		} else {
			respondBy = append(respondBy, "-")
		}
	}
	assert.Equal(t, []string{"label_sent", "shipped", "received", "refunding", "refunded"}, statuses)
	assert.Equal(t, []string{
		"2026-03-21T10:00:00Z", // ship by
		"2026-03-28T11:00:00Z", // arrive by: shipped + 21 days
		"2026-03-09T12:00:00Z", // inspect by: received + 48 hours
		"-", "-",
	}, respondBy)
}

func TestADuplicateTrackingEventChangesNothing(t *testing.T) {
	rt := newReturnTest(t)
	var seq, reported int
	rt.at(time.Hour, func() { rt.track("ev-1", vocab.TrackingShipped) })
	rt.at(2*time.Hour, func() {
		v := rt.view()
		require.Equal(t, StatusShipped, v.Status)
		rt.track("ev-5", vocab.TrackingInTransit)
	})
	rt.at(150*time.Minute, func() {
		v := rt.view()
		seq, reported = v.LastSeq, len(rt.caseEvents())
		rt.track("ev-1", vocab.TrackingShipped)
		rt.track("ev-5", vocab.TrackingInTransit)
		// Another parcel's delivery is not this return's.
		rt.env.SignalWorkflow(SignalTracking, vocab.TrackingEvent{ID: "ev-9", Kind: vocab.TrackingDelivered, TrackingNumber: "TRK-OTHER"})
	})
	rt.at(3*time.Hour, func() {
		v := rt.view()
		assert.Equal(t, StatusShipped, v.Status)
		assert.Equal(t, seq, v.LastSeq, "no timeline event")
		assert.Len(t, rt.caseEvents(), reported, "nothing reported")
		assert.Equal(t, openedAt.Add(time.Hour), v.ShippedAt.UTC(), "the first event's time stands")
		// The delivered event, sent twice, receives the return once.
		rt.track("ev-2", vocab.TrackingDelivered)
		rt.track("ev-2", vocab.TrackingDelivered)
	})
	rt.at(4*time.Hour, func() {
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundFull})
	})
	final := rt.run(testInput())
	assert.Equal(t, StatusRefunded, final.Status)
	assert.Equal(t, 1, count(kinds(final.Timeline), EventShipped))
	assert.Equal(t, 1, count(kinds(final.Timeline), EventInTransit), "the scan sent twice is on the timeline once")
	assert.Equal(t, 1, count(kinds(final.Timeline), EventReceived))
	assert.Equal(t, 1, count(rt.caseKinds(), EventReceived))
}

func TestADeliveredScanAloneShipsAndReceivesTheReturn(t *testing.T) {
	rt := newReturnTest(t)
	rt.at(time.Hour, func() { rt.track("ev-1", vocab.TrackingDelivered) })
	rt.at(2*time.Hour, func() {
		assert.Equal(t, StatusReceived, rt.view().Status)
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundFull})
	})
	final := rt.run(testInput())
	assert.Equal(t, []string{EventRequested, EventLabelSent, EventShipped, EventReceived, EventInspected, EventRefunded},
		kinds(final.Timeline))
	assert.Equal(t, vocab.TrackingDelivered, find(final.Timeline, EventShipped).Payload["scan"], "shipped, as implied by the delivery")
}

func TestANeverShippedReturnIsRemindedOnceThenEnds(t *testing.T) {
	rt := newReturnTest(t)
	shipBy := openedAt.Add(14 * day)
	rt.at(11*day-time.Minute, func() {
		assert.NotContains(t, rt.toldEvents(), EventReminder, "not before 3 days ahead of the deadline")
	})
	rt.at(11*day+time.Minute, func() {
		assert.Equal(t, 1, count(rt.toldEvents(), EventReminder))
		assert.Equal(t, StatusLabelSent, rt.view().Status)
	})
	final := rt.run(testInput())
	assert.Equal(t, StatusNotShipped, final.Status)
	assert.Equal(t, "not shipped by 2026-03-21 10:00 UTC", final.StatusReason)
	assert.Nil(t, final.RespondBy)
	assert.Equal(t, shipBy, find(final.Timeline, EventNotShipped).At.UTC())
	assert.Equal(t, []string{NoticeLabel, EventReminder, EventNotShipped}, rt.toldEvents(), "one reminder, then the end")
	told := rt.told()
	assert.Equal(t, "2026-03-21 10:00 UTC", told[1].Detail, "the reminder says the deadline")
	assert.Equal(t, vocab.SystemActor, find(final.Timeline, EventReminder).Actor)
	assert.Empty(t, rt.refundRequests())
}

func TestALateParcelEscalatesOnceAndTheReturnKeepsWaiting(t *testing.T) {
	rt := newReturnTest(t)
	rt.at(time.Hour, func() { rt.track("ev-1", vocab.TrackingShipped) })
	rt.at(time.Hour+21*day+time.Minute, func() {
		v := rt.view()
		assert.Equal(t, StatusShipped, v.Status, "the return keeps waiting, past the ship-by deadline too")
		assert.Nil(t, v.RespondBy, "no deadline is waited on any more")
		esc := rt.escalations()
		require.Len(t, esc, 1)
		assert.Equal(t, EventArrivalOverdue, esc[0].Kind)
		assert.Equal(t, vocab.TeamTrustSafety, esc[0].EscalateTo)
		assert.Contains(t, esc[0].Reason, "TRK-1")
	})
	rt.at(40*day, func() {
		assert.Len(t, rt.escalations(), 1, "escalated once")
		rt.track("ev-2", vocab.TrackingDelivered)
	})
	rt.at(40*day+time.Hour, func() {
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundFull})
	})
	final := rt.run(testInput())
	assert.Equal(t, StatusRefunded, final.Status)
	assert.NotContains(t, rt.toldEvents(), EventNotShipped)
}

func TestNoInspectionInTimeRefundsByPolicyAsTheSystem(t *testing.T) {
	rt := newReturnTest(t)
	rt.receivedAt(time.Hour, 2*time.Hour)
	final := rt.run(testInput())
	assert.Equal(t, StatusRefunded, final.Status)
	require.NotNil(t, final.Inspection)
	assert.Equal(t, Inspection{Actor: vocab.SystemActor, Outcome: OutcomeRefundFull, ByPolicy: true,
		Reason: "not inspected by 2026-03-09 12:00 UTC", At: openedAt.Add(2*time.Hour + 48*time.Hour)},
		Inspection{Actor: final.Inspection.Actor, Outcome: final.Inspection.Outcome, ByPolicy: final.Inspection.ByPolicy,
			Reason: final.Inspection.Reason, At: final.Inspection.At.UTC()})
	e := find(final.Timeline, EventInspected)
	assert.Equal(t, vocab.SystemActor, e.Actor)
	assert.Equal(t, "true", e.Payload["by_policy"])
	assert.Equal(t, paid, rt.refundRequests()[0].Amount)
}

func TestAPolicyThatRejectsUninspectedReturnsRejectsThem(t *testing.T) {
	rt := newReturnTest(t)
	in := testInput()
	in.Policy.OnNoInspection = OutcomeReject
	rt.receivedAt(time.Hour, 2*time.Hour)
	final := rt.run(in)
	assert.Equal(t, StatusRejected, final.Status)
	assert.Empty(t, rt.refundRequests())
	require.Len(t, rt.escalations(), 1)
	assert.Contains(t, rt.escalations()[0].Reason, "the return policy rejected")
}

func TestAPartialRefundPaysTheAmountGivenWithItsReason(t *testing.T) {
	rt := newReturnTest(t)
	rt.receivedAt(time.Hour, 2*time.Hour)
	rt.at(3*time.Hour, func() {
		rt.refused(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundPartial,
			Amount: vocab.Money{Minor: 1500, Currency: "EUR"}}, vocab.ErrInvalidArgument, "reason: must not be empty")
		rt.refused(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundPartial,
			Amount: vocab.Money{Minor: 1500, Currency: "USD"}, Reason: "scratched"}, vocab.ErrInvalidArgument, `amount.currency: want "EUR"`)
		rt.refused(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundPartial,
			Reason: "scratched"}, vocab.ErrInvalidArgument, "amount")
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundPartial,
			Amount: vocab.Money{Minor: 1500, Currency: "EUR"}, Reason: "scratched lid"})
	})
	final := rt.run(testInput())
	assert.Equal(t, StatusRefunded, final.Status)
	assert.Equal(t, vocab.Money{Minor: 1500, Currency: "EUR"}, final.Amount)
	refunds := rt.refundRequests()
	require.Len(t, refunds, 1)
	assert.Equal(t, int64(1500), refunds[0].Amount.Minor)
	assert.Contains(t, refunds[0].Reason, "scratched lid")
	e := find(final.Timeline, EventInspected)
	assert.Equal(t, "refund_partial", e.Payload["outcome"])
	assert.Equal(t, "scratched lid", e.Payload["reason"])
	assert.Equal(t, "15.00 EUR", rt.told()[1].Detail)
}

func TestStoreCreditCreditsThePaidAmountToTheBuyersBalance(t *testing.T) {
	rt := newReturnTest(t)
	rt.receivedAt(time.Hour, 2*time.Hour)
	rt.at(3*time.Hour, func() {
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeStoreCredit})
	})
	final := rt.run(testInput())
	assert.Equal(t, StatusRefunded, final.Status)
	assert.True(t, final.StoreCredit)
	refunds := rt.refundRequests()
	require.Len(t, refunds, 1)
	assert.True(t, refunds[0].StoreCredit)
	assert.Equal(t, paid, refunds[0].Amount)
	assert.Equal(t, []string{NoticeLabel, NoticeCredited}, rt.toldEvents())
	assert.Equal(t, "49.99 EUR", rt.told()[1].Detail)
}

// approvalInput is a return whose policy asks trust and safety to approve
// refunds above 20.00 EUR.
func approvalInput() Input {
	in := testInput()
	in.Policy.ApprovalAbove = vocab.Money{Minor: 2000, Currency: "EUR"}
	return in
}

func TestARefundAboveTheLimitIsPaidOnceApproved(t *testing.T) {
	rt := newReturnTest(t)
	rt.receivedAt(time.Hour, 2*time.Hour)
	rt.at(3*time.Hour, func() {
		rt.refused(UpdateApproveRefund, ApprovalInput{Actor: "trust_safety:tess", Approve: true},
			vocab.ErrInvalidTransition, "cannot approve the refund: the return is received")
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundFull})
	})
	rt.at(10*day, func() {
		v := rt.view()
		assert.Equal(t, StatusAwaitingApproval, v.Status, "no deadline moves an approval on")
		assert.Empty(t, rt.refundRequests(), "nothing is paid before the approval")
		esc := rt.escalations()
		require.Len(t, esc, 1)
		assert.Equal(t, EventApprovalRequested, esc[0].Kind)
		assert.Equal(t, vocab.TeamTrustSafety, esc[0].EscalateTo)
		assert.Contains(t, esc[0].Reason, "refund of 49.99 EUR")
		assert.Contains(t, esc[0].Reason, "needs approval")
		rt.refused(UpdateApproveRefund, ApprovalInput{Actor: "trust_safety:tess"}, vocab.ErrInvalidArgument, "reason: must not be empty")
		rt.mustUpdate(UpdateApproveRefund, ApprovalInput{Actor: "trust_safety:tess", Approve: true})
	})
	final := rt.run(approvalInput())
	assert.Equal(t, StatusRefunded, final.Status)
	assert.Equal(t, "trust_safety:tess", final.Approval.Actor)
	assert.Len(t, rt.refundRequests(), 1)
	assert.Equal(t, []string{EventRequested, EventLabelSent, EventShipped, EventReceived, EventInspected,
		EventApprovalRequested, EventApproved, EventRefunded}, rt.caseKinds())
}

func TestARefundUnderTheLimitNeedsNoApproval(t *testing.T) {
	rt := newReturnTest(t)
	rt.receivedAt(time.Hour, 2*time.Hour)
	rt.at(3*time.Hour, func() {
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundPartial,
			Amount: vocab.Money{Minor: 2000, Currency: "EUR"}, Reason: "missing its lid"})
	})
	final := rt.run(approvalInput())
	assert.Equal(t, StatusRefunded, final.Status, "the limit itself is not above the limit")
	assert.NotContains(t, kinds(final.Timeline), EventApprovalRequested)
}

func TestADeniedRefundRejectsTheReturn(t *testing.T) {
	rt := newReturnTest(t)
	rt.receivedAt(time.Hour, 2*time.Hour)
	rt.at(3*time.Hour, func() {
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundFull})
	})
	rt.at(4*time.Hour, func() {
		rt.mustUpdate(UpdateApproveRefund, ApprovalInput{Actor: "trust_safety:tess", Reason: "serial returner, item not the one sold"})
	})
	final := rt.run(approvalInput())
	assert.Equal(t, StatusRejected, final.Status)
	assert.Equal(t, "serial returner, item not the one sold", final.StatusReason)
	rt.env.AssertActivityNotCalled(t, vocab.ActivityRefund, mock.Anything, mock.Anything)
	assert.Equal(t, vocab.Notice{Audience: vocab.AudienceCustomer, Event: EventRejected, Detail: "serial returner, item not the one sold"},
		rt.told()[len(rt.told())-1])
	assert.Equal(t, EventDenied, rt.caseKinds()[len(rt.caseKinds())-1])
}

func TestAPendingRefundIsSettledByItsPaymentResultOnce(t *testing.T) {
	rt := newReturnTest(t)
	rt.refundStatus = vocab.MovementPending
	rt.receivedAt(time.Hour, 2*time.Hour)
	rt.at(3*time.Hour, func() {
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundFull})
	})
	rt.at(5*day, func() {
		v := rt.view()
		assert.Equal(t, StatusRefunding, v.Status)
		assert.Equal(t, vocab.MovementPending, v.Refund.Status)
		assert.Nil(t, v.RespondBy)
		assert.Contains(t, rt.caseKinds(), EventRefundPending)
		// Another movement's result is not this refund's.
		rt.env.SignalWorkflow(SignalPaymentResult, vocab.PaymentResult{EventID: "pe-0", MovementID: "mv-9", Key: "return/R-9/refund", Status: vocab.MovementSucceeded})
	})
	rt.at(5*day+time.Hour, func() {
		assert.Equal(t, StatusRefunding, rt.view().Status)
		result := vocab.PaymentResult{EventID: "pe-1", MovementID: "mv-1", Key: "return/R-1/refund", Status: vocab.MovementSucceeded}
		rt.env.SignalWorkflow(SignalPaymentResult, result)
		rt.env.SignalWorkflow(SignalPaymentResult, result)
	})
	final := rt.run(testInput())
	assert.Equal(t, StatusRefunded, final.Status)
	assert.Equal(t, vocab.MovementSucceeded, final.Refund.Status)
	assert.Equal(t, 1, count(kinds(final.Timeline), EventRefunded))
	assert.Equal(t, paymentsActor, find(final.Timeline, EventRefunded).Actor)
	assert.Equal(t, 1, count(rt.toldEvents(), EventRefunded))
	rt.env.AssertActivityNumberOfCalls(t, vocab.ActivityRefund, 1)
}

func TestAPendingRefundTheProviderFailsEndsRefundFailed(t *testing.T) {
	rt := newReturnTest(t)
	rt.refundStatus = vocab.MovementPending
	rt.receivedAt(time.Hour, 2*time.Hour)
	rt.at(3*time.Hour, func() {
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundFull})
	})
	rt.at(4*time.Hour, func() {
		rt.env.SignalWorkflow(SignalPaymentResult, vocab.PaymentResult{EventID: "pe-1", MovementID: "mv-1",
			Key: "return/R-1/refund", Status: vocab.MovementFailed, Reason: "account closed"})
	})
	final := rt.run(testInput())
	assert.Equal(t, StatusRefundFailed, final.Status)
	require.Len(t, rt.escalations(), 1)
	assert.Contains(t, rt.escalations()[0].Reason, "account closed")
}

func TestARefusedRefundFailsAndEscalatesTheCase(t *testing.T) {
	rt := newReturnTest(t)
	rt.refundErr = temporal.NewApplicationError("card expired", vocab.ErrTypePaymentRefused)
	rt.receivedAt(time.Hour, 2*time.Hour)
	rt.at(3*time.Hour, func() {
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundFull})
	})
	final := rt.run(testInput())
	assert.Equal(t, StatusRefundFailed, final.Status)
	assert.Equal(t, "card expired", final.StatusReason)
	rt.env.AssertActivityNumberOfCalls(t, vocab.ActivityRefund, 1) // a refusal is not retried
	esc := rt.escalations()
	require.Len(t, esc, 1)
	assert.Equal(t, EventRefundFailed, esc[0].Kind)
	assert.Equal(t, vocab.TeamTrustSafety, esc[0].EscalateTo)
	assert.Contains(t, esc[0].Reason, "refund of 49.99 EUR")
	assert.Contains(t, esc[0].Reason, "card expired")
	assert.Equal(t, "true", esc[0].Payload["refused"])
	assert.NotContains(t, rt.toldEvents(), EventRefunded)
}

func TestARefusedLabelEscalatesAndKeepsTheReturnRequested(t *testing.T) {
	rt := newReturnTest(t)
	rt.labelErr = temporal.NewApplicationError("address not served", vocab.ErrTypePaymentRefused)
	rt.at(time.Hour, func() {
		v := rt.view()
		assert.Equal(t, StatusRequested, v.Status)
		assert.Contains(t, v.StatusReason, "address not served")
		assert.Nil(t, v.RespondBy)
		esc := rt.escalations()
		require.Len(t, esc, 1)
		assert.Equal(t, EventLabelFailed, esc[0].Kind)
		assert.Equal(t, vocab.TeamTrustSafety, esc[0].EscalateTo)
		assert.Contains(t, esc[0].Reason, "address not served")
		rt.mustUpdate(UpdateCancel, CancelInput{Actor: "trust_safety:tess", Reason: "refunded by hand"})
	})
	final := rt.run(testInput())
	assert.Equal(t, StatusCancelled, final.Status)
	assert.Empty(t, rt.told(), "the buyer got no label")
	rt.env.AssertActivityNumberOfCalls(t, vocab.ActivityCreateReturnLabel, 1)
}

func TestAnIneligibleReturnEndsAtOnceAndTellsTheBuyerWhy(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*Input)
		why    string
	}{
		"outside the window": {func(in *Input) { in.OpenedAt = deliveredAt.Add(30*day + time.Second) },
			"the return window closed 2026-04-01 10:00 UTC"},
		"not returnable": {func(in *Input) { in.Item.Returnable = false }, "Blue kettle cannot be returned (final sale)"},
		"unknown reason": {func(in *Input) { in.Reason = "too_expensive" }, `"too_expensive" is not a reason a return is accepted for`},
	} {
		t.Run(name, func(t *testing.T) {
			rt := newReturnTest(t)
			in := testInput()
			tc.change(&in)
			rt.env.SetStartTime(in.OpenedAt)
			final := rt.run(in)
			assert.Equal(t, StatusIneligible, final.Status)
			assert.Equal(t, tc.why, final.StatusReason)
			assert.Equal(t, []string{EventRequested, EventIneligible}, rt.caseKinds())
			assert.Equal(t, []vocab.Notice{{Audience: vocab.AudienceCustomer, Event: EventIneligible, Detail: tc.why}}, rt.told())
			rt.env.AssertActivityNotCalled(t, vocab.ActivityCreateReturnLabel, mock.Anything, mock.Anything)
		})
	}
}

// The window's last moment still takes a return; the buyer cancels it
// before shipping.
func TestCancelBeforeShippingEndsTheReturn(t *testing.T) {
	rt := newReturnTest(t)
	in := testInput()
	in.OpenedAt = deliveredAt.Add(30 * day)
	rt.env.SetStartTime(in.OpenedAt)
	rt.at(time.Hour, func() {
		assert.Equal(t, StatusLabelSent, rt.view().Status, "asked at the window's last moment")
		rt.refused(UpdateCancel, CancelInput{}, vocab.ErrInvalidArgument, "actor: must not be empty")
		rt.mustUpdate(UpdateCancel, CancelInput{Actor: "customer:buy-1", Reason: "kept it after all"})
	})
	final := rt.run(in)
	assert.Equal(t, StatusCancelled, final.Status)
	assert.Equal(t, "kept it after all", final.StatusReason)
	assert.Nil(t, final.RespondBy)
	assert.Equal(t, EventCancelled, rt.caseKinds()[len(rt.caseKinds())-1])
	assert.Equal(t, "customer:buy-1", find(final.Timeline, EventCancelled).Actor)
	assert.Equal(t, []string{NoticeLabel}, rt.toldEvents(), "no reminder once cancelled")
}

// Refused updates leave no trace; the seller's rejection, once received,
// ends the return and takes their reason to trust and safety.
func TestValidatorsRefuseOutOfTurnAndMalformedUpdates(t *testing.T) {
	rt := newReturnTest(t)
	rt.at(time.Hour, func() {
		rt.refused(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundFull},
			vocab.ErrInvalidTransition, "cannot inspect: the return is label_sent")
		rt.track("ev-1", vocab.TrackingShipped)
	})
	rt.at(2*time.Hour, func() {
		rt.refused(UpdateCancel, CancelInput{Actor: "customer:buy-1"}, vocab.ErrInvalidTransition, "cannot cancel: the return is shipped")
		rt.track("ev-2", vocab.TrackingDelivered)
	})
	rt.at(3*time.Hour, func() {
		rt.refused(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundPartial,
			Amount: vocab.Money{Minor: 5000, Currency: "EUR"}, Reason: "worn"}, vocab.ErrInvalidArgument,
			"amount: want 1 to 4999 minor units (49.99 EUR was paid), got 5000")
		rt.refused(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundPartial,
			Amount: vocab.Money{Minor: 0, Currency: "EUR"}, Reason: "worn"}, vocab.ErrInvalidArgument, "got 0")
		rt.refused(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: "keep"}, vocab.ErrInvalidArgument, `outcome: want`)
		rt.refused(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundFull, Amount: paid},
			vocab.ErrInvalidArgument, "only a refund_partial takes an amount")
		rt.refused(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeReject}, vocab.ErrInvalidArgument, "reason: must not be empty")
		rt.refused(UpdateInspect, InspectInput{Outcome: OutcomeRefundFull}, vocab.ErrInvalidArgument, "actor: must not be empty")
		assert.Equal(t, StatusReceived, rt.view().Status)
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeReject, Reason: "not the item we sold"})
	})
	final := rt.run(testInput())
	assert.Equal(t, StatusRejected, final.Status)
	assert.Equal(t, "not the item we sold", final.StatusReason)
	assert.Empty(t, rt.refundRequests())
	assert.Equal(t, vocab.Notice{Audience: vocab.AudienceCustomer, Event: EventRejected, Detail: "not the item we sold"}, rt.told()[1])
	esc := rt.escalations()
	require.Len(t, esc, 1)
	assert.Equal(t, EventRejected, esc[0].Kind)
	assert.Equal(t, "the seller rejected return R-1 (order ord-1): not the item we sold", esc[0].Reason)
	assert.Equal(t, []string{EventRequested, EventLabelSent, EventShipped, EventReceived, EventInspected, EventRejected},
		kinds(final.Timeline), "the refusals left nothing on the timeline")
}

func TestAnInvalidInputFailsTheWorkflowBeforeAnything(t *testing.T) {
	rt := newReturnTest(t)
	in := testInput()
	in.CaseID = ""
	rt.env.ExecuteWorkflow(WorkflowType, in)
	require.True(t, rt.env.IsWorkflowCompleted())
	err := rt.env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, vocab.ErrInvalidArgument, appErr.Type())
	assert.Contains(t, appErr.Error(), "case_id: must not be empty")
	assert.Empty(t, rt.caseEvents())
}

func TestChildOptionsStartTheReturnOnceAndSearchable(t *testing.T) {
	opts := ChildOptions(testInput(), "handoff")
	assert.Equal(t, "return/R-1", opts.WorkflowID)
	assert.Equal(t, "handoff", opts.TaskQueue)
	assert.Equal(t, "Return R-1 · order ord-1", opts.StaticSummary)
	assert.Equal(t, enumspb.PARENT_CLOSE_POLICY_ABANDON, opts.ParentClosePolicy, "a refund under way outlives its case")
	assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, opts.WorkflowIDReusePolicy)
	status, ok := opts.TypedSearchAttributes.GetKeywordList(vocab.ReturnStatusKey)
	require.True(t, ok)
	assert.Equal(t, []string{"requested"}, status)
	for key, want := range map[temporal.SearchAttributeKeyKeyword]string{
		vocab.SellerIDKey: "sel-1", vocab.OrderIDKey: "ord-1", vocab.CustomerIDKey: "buy-1",
	} {
		got, _ := opts.TypedSearchAttributes.GetKeyword(key)
		assert.Equal(t, want, got, key.GetName())
	}
}

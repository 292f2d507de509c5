package deliveries

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// startedAt is a Monday 10:00 UTC.
var startedAt = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func testInput() DeliveryInput {
	in, err := NewInput(sla.DefaultDeliveryPolicy, StartRequest{
		ID: "D-1", AccountID: "acc-1", OrderID: "ord-1",
		Buyer:    vocab.Customer{ID: "buy-1", Email: "bea@example.com", Name: "Bea", Locale: "fr"},
		SellerID: "sel-1", Product: "valorant", AllowedUse: "personal play, no resale", Region: "EU",
		RecoveryPath: RecoveryPath{Email: "bea@example.com", BackupCodesHeld: true, ResetBy: "buyer",
			Instructions: "Change the password, then add MFA."},
		StartedBy: "integration:shop",
	}, startedAt)
	if err != nil {
		panic(err)
	}
	return in
}

// deliveryTest drives one AccountDelivery on the SDK's test environment,
// whose clock jumps to the next timer whenever the workflow is blocked.
type deliveryTest struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu        sync.Mutex
	sent      []vocab.Notification
	opened    []vocab.OpenCaseRequest
	projected []ProjectionInput
	steps     int
}

func newDeliveryTest(t *testing.T) *deliveryTest {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	dt := &deliveryTest{t: t, env: s.NewTestWorkflowEnvironment()}
	dt.env.SetStartTime(startedAt)
	dt.env.RegisterWorkflowWithOptions(AccountDelivery, workflow.RegisterOptions{Name: WorkflowType})
	dt.env.RegisterActivityWithOptions(func(ctx context.Context, n vocab.Notification) error {
		dt.mu.Lock()
		defer dt.mu.Unlock()
		dt.sent = append(dt.sent, n)
		return nil
	}, activity.RegisterOptions{Name: vocab.ActivityNotify})
	dt.env.RegisterActivityWithOptions(func(ctx context.Context, r vocab.OpenCaseRequest) (vocab.OpenCaseResult, error) {
		dt.mu.Lock()
		defer dt.mu.Unlock()
		dt.opened = append(dt.opened, r)
		return vocab.OpenCaseResult{CaseID: "C-" + string(rune('A'+len(dt.opened)-1))}, nil
	}, activity.RegisterOptions{Name: vocab.ActivityOpenCase})
	dt.env.RegisterActivityWithOptions(func(ctx context.Context, in ProjectionInput) error {
		dt.mu.Lock()
		defer dt.mu.Unlock()
		dt.projected = append(dt.projected, in)
		return nil
	}, activity.RegisterOptions{Name: ActivityProjectDelivery})
	return dt
}

// at runs fn once the delivery has run for d.
func (dt *deliveryTest) at(d time.Duration, fn func()) { dt.env.RegisterDelayedCallback(fn, d) }

func (dt *deliveryTest) update(name string, arg any, check func(DeliveryView, error)) {
	dt.steps++
	dt.env.UpdateWorkflow(name, name+"-"+itoa(dt.steps), &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { check(DeliveryView{}, err) },
		OnComplete: func(v any, err error) {
			dv, _ := v.(DeliveryView)
			check(dv, err)
		},
	}, arg)
}

func (dt *deliveryTest) mustUpdate(name string, arg any) {
	dt.update(name, arg, func(_ DeliveryView, err error) { require.NoError(dt.t, err, name) })
}

func (dt *deliveryTest) refused(name string, arg any, contains string) {
	dt.update(name, arg, func(_ DeliveryView, err error) {
		var appErr *temporal.ApplicationError
		require.True(dt.t, errors.As(err, &appErr), "%s: want a refusal, got %v", name, err)
		assert.Contains(dt.t, appErr.Error(), contains)
	})
}

func (dt *deliveryTest) view() DeliveryView {
	res, err := dt.env.QueryWorkflow(QueryDelivery)
	require.NoError(dt.t, err)
	var v DeliveryView
	require.NoError(dt.t, res.Get(&v))
	return v
}

func (dt *deliveryTest) run(in DeliveryInput) DeliveryView {
	dt.env.ExecuteWorkflow(WorkflowType, in)
	require.True(dt.t, dt.env.IsWorkflowCompleted())
	require.NoError(dt.t, dt.env.GetWorkflowError())
	var v DeliveryView
	require.NoError(dt.t, dt.env.GetWorkflowResult(&v))
	return v
}

// told answers the events the buyer was told about, in order.
func (dt *deliveryTest) told() []string {
	dt.mu.Lock()
	defer dt.mu.Unlock()
	var out []string
	for _, n := range dt.sent {
		out = append(out, n.Event)
	}
	return out
}

func kinds(events []vocab.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

var screenshot = vocab.EvidenceInput{Actor: "integration:shop", Evidence: vocab.Evidence{
	ID: "E-1", Kind: "delivery_screenshot", Key: "deliveries/D-1/E-1", Size: 1234, ContentType: "image/png",
	SHA256: "00000000000000000000000000000000000000000000000000000000000000aa"}}

// delivered attaches the screenshot and delivers at d.
func (dt *deliveryTest) delivered(d time.Duration) {
	dt.at(d, func() {
		dt.mustUpdate(UpdateAddEvidence, screenshot)
		dt.mustUpdate(UpdateDeliver, ActorInput{Actor: "integration:shop", Note: "credentials sent"})
	})
}

func TestDeliveryNeedsEvidenceAndAnswersTheSixHandoffQuestions(t *testing.T) {
	dt := newDeliveryTest(t)
	dt.at(time.Minute, func() {
		v := dt.view()
		assert.Equal(t, StatusReady, v.Status)
		assert.Equal(t, []string{"delivered_at", "latest_communication"}, v.Handoff.Missing)
		dt.refused(UpdateDeliver, ActorInput{Actor: "integration:shop"}, "without delivery evidence")
		dt.refused(UpdateConfirm, ActorInput{Actor: "integration:shop"}, "cannot confirm: the delivery is ready")
		dt.refused(UpdateReportProblem, ProblemInput{Actor: "integration:shop", Description: "x"}, "the delivery is ready")
	})
	dt.delivered(2 * time.Minute)
	dt.at(3*time.Minute, func() {
		v := dt.view()
		h := v.Handoff
		assert.Equal(t, StatusDelivered, v.Status)
		assert.Equal(t, "acc-1", h.AccountID)
		assert.Equal(t, "ord-1", h.OrderID)
		require.NotNil(t, h.DeliveredAt)
		assert.Equal(t, startedAt.Add(2*time.Minute), h.DeliveredAt.UTC())
		assert.Equal(t, "buyer", h.RecoveryPath.ResetBy)
		assert.Equal(t, "personal play, no resale", h.AllowedUse)
		require.NotNil(t, h.LatestCommunication)
		assert.Equal(t, EventDelivered, h.LatestCommunication.Kind)
		assert.Empty(t, h.Missing, "all six answers are known once delivered")
		assert.Equal(t, h.DeliveredAt.Add(72*time.Hour), v.ConfirmBy.UTC())
		assert.Equal(t, h.DeliveredAt.Add(14*24*time.Hour), v.WarrantyEndsAt.UTC())
		assert.Contains(t, v.NextAction, "the buyer confirms")
		dt.refused(UpdateDeliver, ActorInput{Actor: "integration:shop"}, "cannot deliver: the delivery is delivered")
		dt.mustUpdate(UpdateConfirm, ActorInput{Actor: "integration:shop", Note: "works"})
	})
	dt.at(4*time.Minute, func() {
		v := dt.view()
		assert.True(t, v.Confirmed)
		assert.Nil(t, v.ConfirmBy, "a confirmed delivery has no window left")
		assert.Equal(t, "integration:shop", v.ConfirmedBy)
		dt.refused(UpdateConfirm, ActorInput{Actor: "integration:shop"}, "already confirmed")
	})
	final := dt.run(testInput())
	assert.Equal(t, StatusRetired, final.Status)
	assert.Equal(t, "warranty ended", final.RetireReason)
	assert.Equal(t, []string{EventDelivered, EventWarrantyEnding, EventRetired}, dt.told())
	dt.mu.Lock()
	defer dt.mu.Unlock()
	assert.Equal(t, "delivery/D-1/update/deliver-5/account_delivered/customer", dt.sent[0].ID, "the deliver update names the notification")
	assert.Equal(t, "Change the password, then add MFA.", dt.sent[0].Delivery.RecoveryInstructions)
	assert.Equal(t, "fr", dt.sent[0].Case.Customer.Locale)
}

func TestSilenceRemindsAtHalfTheWindowThenConfirmsByDefault(t *testing.T) {
	dt := newDeliveryTest(t)
	dt.delivered(time.Minute)
	dt.at(time.Minute+35*time.Hour, func() {
		assert.NotContains(t, dt.told(), EventReminder, "not before half the window")
	})
	dt.at(time.Minute+37*time.Hour, func() {
		assert.Contains(t, dt.told(), EventReminder)
		assert.False(t, dt.view().Confirmed)
	})
	dt.at(time.Minute+73*time.Hour, func() {
		v := dt.view()
		assert.True(t, v.Confirmed)
		assert.Equal(t, vocab.SystemActor, v.ConfirmedBy)
		assert.Contains(t, kinds(v.Timeline), EventConfirmedByDefault, "the timeline says it was confirmed by default")
		dt.mustUpdate(UpdateRetire, ReasonInput{Actor: "trust_safety:tess", Reason: "order refunded"})
	})
	final := dt.run(testInput())
	assert.Equal(t, []string{EventDelivered, EventReminder, EventConfirmedByDefault, EventRetired}, dt.told())
	assert.Equal(t, "order refunded", final.RetireReason)
	assert.Equal(t, 1, slices.Index(kinds(final.Timeline), EventEvidenceAdded))
}

func TestAProblemOpensALinkedCaseWhoseResolutionReturnsTheDeliveryToDelivered(t *testing.T) {
	dt := newDeliveryTest(t)
	dt.delivered(time.Minute)
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateReportProblem, ProblemInput{Actor: "integration:shop", Description: "Le mot de passe ne marche pas"})
	})
	dt.at(2*time.Hour, func() {
		v := dt.view()
		assert.Equal(t, StatusUnderReview, v.Status)
		require.Len(t, v.LinkedCases, 1)
		assert.Equal(t, LinkedCase{CaseID: "C-A", Reason: LinkProblemReport, Open: true}, v.LinkedCases[0])
		assert.Contains(t, v.NextAction, "C-A")
		assert.Nil(t, v.ConfirmBy, "a problem stops the confirmation by default")
		assert.Equal(t, directionFromBuyer, v.Handoff.LatestCommunication.Direction)
		dt.refused(UpdateReportProblem, ProblemInput{Actor: "integration:shop", Description: "again"}, "the delivery is under_review")
		dt.env.SignalWorkflow(SignalLinkedCase, vocab.LinkedCaseOutcome{CaseID: "C-A", Outcome: vocab.OutcomeResolved,
			Actor: "agent:bo", Detail: "new password sent"})
	})
	dt.at(80*time.Hour, func() {
		v := dt.view()
		assert.Equal(t, StatusDelivered, v.Status)
		assert.False(t, v.Confirmed, "no confirmation by default after a problem")
		assert.False(t, v.LinkedCases[0].Open)
		dt.mustUpdate(UpdateRetire, ReasonInput{Actor: "trust_safety:tess", Reason: "done"})
	})
	dt.run(testInput())
	assert.Contains(t, dt.told(), EventProblemReported)
	dt.mu.Lock()
	defer dt.mu.Unlock()
	require.Len(t, dt.opened, 1)
	r := dt.opened[0]
	assert.Equal(t, vocab.CategoryAccountDeliveryIssue, r.Category)
	assert.Equal(t, "D-1", r.DeliveryID)
	assert.Equal(t, "ord-1", r.OrderID)
	assert.Equal(t, "buy-1", r.Customer.ID, "the case is the buyer's")
	for _, answer := range []string{"Account: acc-1", "Order: ord-1", "Delivered at: 2026-03-02T10:01:00Z", "reset by buyer",
		"Allowed use: personal play", "Latest communication"} {
		assert.Contains(t, r.Description, answer, "the case carries the handoff record")
	}
	assert.Equal(t, "delivery/D-1/case/1", r.Key)
}

func TestARecoveryInTheLinkedCaseMakesTheDeliveryRecovered(t *testing.T) {
	dt := newDeliveryTest(t)
	dt.delivered(time.Minute)
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateReportProblem, ProblemInput{Actor: "integration:shop", Description: "the seller took it back"})
	})
	dt.at(2*time.Hour, func() {
		dt.env.SignalWorkflow(SignalLinkedCase, vocab.LinkedCaseOutcome{CaseID: "C-A", Outcome: vocab.OutcomeRecovered,
			Actor: "account_manager:al", Detail: "account recovery C-A-1 completed"})
	})
	dt.at(3*time.Hour, func() {
		v := dt.view()
		assert.Equal(t, StatusRecovered, v.Status)
		assert.Contains(t, v.NextAction, "recovered")
		// The case resolves afterwards: recorded, the delivery stays recovered.
		dt.env.SignalWorkflow(SignalLinkedCase, vocab.LinkedCaseOutcome{CaseID: "C-A", Outcome: vocab.OutcomeResolved, Actor: "account_manager:al"})
	})
	dt.at(4*time.Hour, func() {
		assert.Equal(t, StatusRecovered, dt.view().Status)
		dt.mustUpdate(UpdateRetire, ReasonInput{Actor: "trust_safety:tess", Reason: "done"})
	})
	dt.run(testInput())
	assert.Equal(t, []string{EventDelivered, EventProblemReported, EventRecovered, EventRetired}, dt.told())
}

func TestASuspiciousSignalPutsALiveDeliveryUnderReviewWithASecurityCase(t *testing.T) {
	dt := newDeliveryTest(t)
	dt.at(time.Minute, func() {
		// Before the delivery a signal is only recorded.
		dt.env.SignalWorkflow(SignalAccountSignal, AccountSignal{Kind: "new_device", ReportedBy: "integration:shop"})
	})
	dt.delivered(2 * time.Minute)
	dt.at(time.Hour, func() {
		assert.Equal(t, StatusDelivered, dt.view().Status)
		dt.env.SignalWorkflow(SignalAccountSignal, AccountSignal{Kind: "credential_change", Detail: "recovery started from the seller's device", ReportedBy: "integration:shop"})
	})
	dt.at(2*time.Hour, func() {
		v := dt.view()
		assert.Equal(t, StatusUnderReview, v.Status)
		require.Len(t, v.LinkedCases, 1)
		assert.Equal(t, LinkSellerSignal, v.LinkedCases[0].Reason)
		dt.mustUpdate(UpdateRetire, ReasonInput{Actor: "trust_safety:tess", Reason: "seller fraud"})
	})
	final := dt.run(testInput())
	assert.Equal(t, 1, slices.Index(kinds(final.Timeline), EventAccountSignal), "the early signal is on the timeline")
	dt.mu.Lock()
	defer dt.mu.Unlock()
	require.Len(t, dt.opened, 1)
	assert.Equal(t, vocab.CategorySecurityAlert, dt.opened[0].Category)
	assert.Equal(t, "acc-1", dt.opened[0].AccountID)
	assert.Contains(t, dt.opened[0].Description, "recovery started from the seller's device")
}

func TestWaitingOnTheBuyerEndsWithTheirConfirmation(t *testing.T) {
	dt := newDeliveryTest(t)
	dt.delivered(time.Minute)
	dt.at(time.Hour, func() {
		dt.refused(UpdateWaitOnBuyer, ReasonInput{Actor: "agent:bo"}, "reason: must not be empty")
		dt.mustUpdate(UpdateWaitOnBuyer, ReasonInput{Actor: "agent:bo", Reason: "add MFA"})
	})
	dt.at(2*time.Hour, func() {
		assert.Contains(t, dt.view().NextAction, "add MFA")
		dt.refused(UpdateWaitOnBuyer, ReasonInput{Actor: "agent:bo", Reason: "again"}, "the delivery is waiting_customer")
		dt.mustUpdate(UpdateConfirm, ActorInput{Actor: "integration:shop"})
	})
	dt.at(3*time.Hour, func() {
		assert.Equal(t, StatusDelivered, dt.view().Status)
		dt.mustUpdate(UpdateRetire, ReasonInput{Actor: "trust_safety:tess", Reason: "done"})
	})
	assert.Equal(t, StatusRetired, dt.run(testInput()).Status)
}

func TestAnExtendedWarrantyRetiresLaterAndWarnsAgain(t *testing.T) {
	dt := newDeliveryTest(t)
	dt.delivered(time.Minute)
	dt.at(time.Hour, func() {
		dt.refused(UpdateExtendWarranty, ExtendInput{Actor: "trust_safety:tess", By: -time.Hour, Reason: "x"}, "by: want a positive duration")
		dt.mustUpdate(UpdateExtendWarranty, ExtendInput{Actor: "trust_safety:tess", By: 30 * 24 * time.Hour, Reason: "bought 1 month more"})
	})
	dt.at(15*24*time.Hour, func() {
		assert.Equal(t, StatusDelivered, dt.view().Status, "still under the extended warranty")
	})
	final := dt.run(testInput())
	assert.Equal(t, startedAt.Add(time.Minute+44*24*time.Hour), final.RetiredAt.UTC())
	assert.Equal(t, EventDelivered, dt.told()[0])
	assert.Equal(t, 1, count(dt.told(), EventWarrantyEnding))
}

func TestRetiringEarlyTellsABuyerWhoHadTheAccount(t *testing.T) {
	dt := newDeliveryTest(t)
	dt.at(time.Minute, func() {
		dt.refused(UpdateRetire, ReasonInput{Actor: "trust_safety:tess"}, "reason: must not be empty")
		dt.mustUpdate(UpdateRetire, ReasonInput{Actor: "trust_safety:tess", Reason: "order cancelled"})
	})
	final := dt.run(testInput())
	assert.Equal(t, StatusRetired, final.Status)
	assert.Empty(t, dt.told(), "nothing was delivered, nobody to tell")
	assert.Contains(t, final.NextAction, "order cancelled")
}

// A long warranty hands over to a new run; an update and a signal that
// arrive around the handover are not lost.
func TestContinueAsNewKeepsThePendingUpdateAndSignal(t *testing.T) {
	dt := newDeliveryTest(t)
	in := testInput()
	in.ContinueAfter = 5
	dt.delivered(time.Minute)
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateReportProblem, ProblemInput{Actor: "integration:shop", Description: "locked out"})
		dt.env.SignalWorkflow(SignalLinkedCase, vocab.LinkedCaseOutcome{CaseID: "C-A", Outcome: vocab.OutcomeRecovered, Actor: "account_manager:al"})
	})
	var next DeliveryInput
	dt.env.ExecuteWorkflow(WorkflowType, in)
	require.True(t, dt.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, dt.env.GetWorkflowError(), &can, "the run hands over")
	require.NoError(t, converterFromPayloads(can, &next))
	require.NotNil(t, next.Carried)
	assert.Equal(t, WorkflowType, can.WorkflowType.Name)
	carried := next.Carried.View
	assert.Equal(t, "acc-1", carried.Handoff.AccountID)
	// Whatever the handover found, nothing is lost: the report was taken
	// (under review, linked case) and the outcome either acted on or carried.
	require.Len(t, carried.LinkedCases, 1)
	if carried.Status != StatusRecovered {
		assert.Equal(t, StatusUnderReview, carried.Status)
		require.Len(t, next.Carried.Outcomes, 1, "the outcome signal is carried")
	}

	// The next run takes over: it acts on what was carried and retires at the warranty's end.
	dt2 := newDeliveryTest(t)
	dt2.env.SetStartTime(startedAt.Add(2 * time.Hour))
	next.ContinueAfter = 0
	final := dt2.run(next)
	assert.Equal(t, StatusRetired, final.Status)
	assert.Equal(t, "warranty ended", final.RetireReason)
	assert.Contains(t, kinds(final.Timeline), EventRecovered)
	assert.Equal(t, 1, count(kinds(final.Timeline), EventDelivered), "the first run's timeline came along")
}

func count(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

// carriedUnderReview is what a run of in hands the next while under
// review: delivered a minute after the start, a problem reported, its case
// linked and its recovery outcome not yet acted on.
func carriedUnderReview(in DeliveryInput) *Carried {
	delivered := startedAt.Add(time.Minute)
	ends := delivered.Add(in.Warranty)
	return &Carried{
		View: DeliveryView{ID: "D-1", Status: StatusUnderReview, Buyer: in.Buyer, SellerID: in.SellerID, Product: in.Product,
			Handoff: HandoffRecord{AccountID: in.AccountID, OrderID: in.OrderID, DeliveredAt: &delivered,
				RecoveryPath: in.RecoveryPath, AllowedUse: in.AllowedUse},
			WarrantyEndsAt: &ends, Evidence: []vocab.Evidence{screenshot.Evidence},
			LinkedCases: []LinkedCase{{CaseID: "C-A", Reason: LinkProblemReport, Open: true}}, LastSeq: 5},
		Timeline: []vocab.Event{{Seq: 1, Kind: EventStarted}, {Seq: 2, Kind: EventEvidenceAdded}, {Seq: 3, Kind: EventDelivered},
			{Seq: 4, Kind: EventProblemReported}, {Seq: 5, Kind: EventCaseLinked}},
		Outcomes:  []vocab.LinkedCaseOutcome{{CaseID: "C-A", Outcome: vocab.OutcomeRecovered, Actor: "account_manager:al"}},
		Projected: 5,
	}
}

// converterFromPayloads decodes the input a continue-as-new carries.
func converterFromPayloads(can *workflow.ContinueAsNewError, out any) error {
	return converter.GetDefaultDataConverter().FromPayloads(can.Input, out)
}

// What a run could not act on before it continued as new is acted on first
// by the next: a case outcome and an account signal carried in the input.
func TestTheNextRunActsOnTheReportsItWasHandedFirst(t *testing.T) {
	in := testInput()
	in.Carried = carriedUnderReview(in)
	in.Carried.Signals = []AccountSignal{{Kind: "new_device", ReportedBy: "integration:shop"}}
	dt := newDeliveryTest(t)
	dt.env.SetStartTime(startedAt.Add(2 * time.Hour))
	final := dt.run(in)
	k := kinds(final.Timeline)
	assert.Equal(t, []string{EventRecovered, EventAccountSignal, EventCaseLinked}, k[5:8],
		"the outcome, then the signal (the recovered account goes under review again with a security case)")
	assert.Equal(t, StatusRetired, final.Status)
	dt.mu.Lock()
	defer dt.mu.Unlock()
	require.Len(t, dt.opened, 1)
	assert.Equal(t, "delivery/D-1/case/2", dt.opened[0].Key, "the second linked case of the delivery")
	assert.Equal(t, 6, dt.projected[0].Events[0].Seq, "the read model is not written again from the start")
}

func TestInitialViewIsTheDeliveryAfterItsFirstTask(t *testing.T) {
	in := testInput()
	want, ok := InitialView(in)
	require.True(t, ok)
	dt := newDeliveryTest(t)
	var got DeliveryView
	dt.at(time.Second, func() {
		got = dt.view()
		got.Timeline = nil
		dt.mustUpdate(UpdateRetire, ReasonInput{Actor: "trust_safety:tess", Reason: "done"})
	})
	dt.run(in)
	assert.Equal(t, want, got)
	in.StartedAt = time.Time{}
	_, ok = InitialView(in)
	assert.False(t, ok, "without the start time the API reads the workflow")
}

func TestADisputeAboutTheDeliveryPutsItUnderReviewUntilItsCaseResolves(t *testing.T) {
	dt := newDeliveryTest(t)
	dt.delivered(time.Minute)
	dt.at(time.Hour, func() {
		dt.env.SignalWorkflow(SignalLinkedCase, vocab.LinkedCaseOutcome{CaseID: "C-D", Outcome: vocab.OutcomeDisputed,
			Actor: "agent:bo", Detail: "dispute C-D-D1 opened: account_taken_back"})
	})
	dt.at(2*time.Hour, func() {
		v := dt.view()
		assert.Equal(t, StatusUnderReview, v.Status)
		assert.Equal(t, []LinkedCase{{CaseID: "C-D", Reason: LinkDispute, Open: true}}, v.LinkedCases)
		assert.Nil(t, v.ConfirmBy, "a dispute stops the confirmation by default")
		dt.env.SignalWorkflow(SignalLinkedCase, vocab.LinkedCaseOutcome{CaseID: "C-D", Outcome: vocab.OutcomeResolved, Actor: "trust_safety:tess"})
	})
	dt.at(3*time.Hour, func() {
		assert.Equal(t, StatusDelivered, dt.view().Status)
		dt.mustUpdate(UpdateRetire, ReasonInput{Actor: "trust_safety:tess", Reason: "done"})
	})
	v := dt.run(testInput())
	assert.Contains(t, kinds(v.Timeline), EventDisputed)
}

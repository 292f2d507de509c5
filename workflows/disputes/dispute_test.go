package disputes

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/fraud"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

var (
	// openedAt is Friday 22 May 2026 16:00 in Paris; Monday 25 May (Whit
	// Monday) is a holiday there.
	openedAt = time.Date(2026, 5, 22, 14, 0, 0, 0, time.UTC)
	// sellerDue is three business days later: Thursday 28 May 16:00 in Paris.
	sellerDue = time.Date(2026, 5, 28, 14, 0, 0, 0, time.UTC)

	weekday     = []sla.Span{{Start: 9 * 60, End: 18 * 60}}
	parisSeller = sla.Calendar{Name: "fr-sellers", TimeZone: "Europe/Paris",
		Week:     [7][]sla.Span{time.Monday: weekday, time.Tuesday: weekday, time.Wednesday: weekday, time.Thursday: weekday, time.Friday: weekday},
		Holidays: []string{"2026-05-25"}}

	disputed = vocab.Money{Minor: 5000, Currency: "EUR"}
)

const (
	refund1 = "dispute/DP-1/refund-1"
	refund2 = "dispute/DP-1/refund-2"
	release = "dispute/DP-1/release"
)

func eur(minor int64) vocab.Money { return vocab.Money{Minor: minor, Currency: "EUR"} }

func testInput() Input {
	return Input{
		ID: "DP-1", CaseID: "C-1", OpenedBy: "buyer:buy-1", OrderID: "ord-1",
		Buyer:    vocab.Customer{ID: "buy-1", Email: "bea@example.com", Name: "Bea", Locale: "fr"},
		SellerID: "sel-1", SellerRegion: "FR", Amount: disputed, Reason: ReasonNotReceived,
		Description: "The account never arrived.", DeliveryID: "D-9",
		Evidence: []vocab.Evidence{{ID: "E-1", Kind: "support_message", Key: "cases/C-1/E-1", Size: 10, ContentType: "text/plain",
			SHA256: "00000000000000000000000000000000000000000000000000000000000000aa"}},
		Policy: DefaultPolicy(parisSeller), OpenedAt: openedAt,
	}
}

// disputeTest drives one Dispute on the SDK's test environment, whose
// clock jumps to the next timer whenever the workflow is blocked. The
// payment activities and the case's signal are mocked; every call is kept.
type disputeTest struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu       sync.Mutex
	events   []vocab.CaseEvent
	holds    []vocab.HoldRequest
	refunds  []vocab.RefundRequest
	releases []vocab.ReleaseRequest
	// calls names every money call in order: hold, refund, release.
	calls   []string
	upserts []temporal.SearchAttributes
	// lost are the reports to the seller's fraud watch.
	lost []fraud.Report

	hold    func(vocab.HoldRequest) (vocab.Movement, error)
	refund  func(vocab.RefundRequest) (vocab.Movement, error)
	release func(vocab.ReleaseRequest) (vocab.Movement, error)
	steps   int
	// holdCall is the hold's mock, for a test to delay it with After.
	holdCall *testsuite.MockCallWrapper
}

func newDisputeTest(t *testing.T) *disputeTest {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	dt := &disputeTest{t: t, env: s.NewTestWorkflowEnvironment()}
	dt.env.SetStartTime(openedAt)
	dt.env.RegisterWorkflowWithOptions(Dispute, workflow.RegisterOptions{Name: WorkflowType})
	dt.hold = func(r vocab.HoldRequest) (vocab.Movement, error) {
		return vocab.Movement{ID: "hold-1", Kind: "hold", Status: vocab.MovementHeld, Amount: r.Amount}, nil
	}
	dt.refund = func(r vocab.RefundRequest) (vocab.Movement, error) {
		return vocab.Movement{ID: "ref-" + r.Key, Kind: "refund", Status: vocab.MovementSucceeded, Amount: r.Amount}, nil
	}
	dt.release = func(r vocab.ReleaseRequest) (vocab.Movement, error) {
		return vocab.Movement{ID: "rel-1", Kind: "release", Status: vocab.MovementReleased, Amount: disputed}, nil
	}
	// The activities are registered by name, then mocked.
	dt.env.RegisterActivityWithOptions(func(context.Context, vocab.HoldRequest) (vocab.Movement, error) { return vocab.Movement{}, nil },
		activity.RegisterOptions{Name: vocab.ActivityHoldFunds})
	dt.env.RegisterActivityWithOptions(func(context.Context, vocab.RefundRequest) (vocab.Movement, error) { return vocab.Movement{}, nil },
		activity.RegisterOptions{Name: vocab.ActivityRefund})
	dt.env.RegisterActivityWithOptions(func(context.Context, vocab.ReleaseRequest) (vocab.Movement, error) { return vocab.Movement{}, nil },
		activity.RegisterOptions{Name: vocab.ActivityReleaseFunds})
	// The read model is written by a stand-in that keeps nothing.
	dt.env.RegisterActivityWithOptions(func(context.Context, ProjectionInput) error { return nil },
		activity.RegisterOptions{Name: ActivityProjectDispute})
	dt.env.RegisterActivityWithOptions(func(_ context.Context, r fraud.Report) error {
		dt.mu.Lock()
		defer dt.mu.Unlock()
		dt.lost = append(dt.lost, r)
		return nil
	}, activity.RegisterOptions{Name: fraud.ActivityReportBehaviour})
	dt.holdCall = dt.env.OnActivity(vocab.ActivityHoldFunds, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r vocab.HoldRequest) (vocab.Movement, error) {
			dt.mu.Lock()
			defer dt.mu.Unlock()
			dt.holds, dt.calls = append(dt.holds, r), append(dt.calls, "hold")
			return dt.hold(r)
		})
	dt.env.OnActivity(vocab.ActivityRefund, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r vocab.RefundRequest) (vocab.Movement, error) {
			dt.mu.Lock()
			defer dt.mu.Unlock()
			dt.refunds, dt.calls = append(dt.refunds, r), append(dt.calls, "refund")
			return dt.refund(r)
		})
	dt.env.OnActivity(vocab.ActivityReleaseFunds, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r vocab.ReleaseRequest) (vocab.Movement, error) {
			dt.mu.Lock()
			defer dt.mu.Unlock()
			dt.releases, dt.calls = append(dt.releases, r), append(dt.calls, "release")
			return dt.release(r)
		})
	dt.env.OnSignalExternalWorkflow(mock.Anything, vocab.CaseWorkflowID("C-1"), "", vocab.SignalCaseEvent, mock.Anything).
		Run(func(args mock.Arguments) {
			dt.mu.Lock()
			defer dt.mu.Unlock()
			dt.events = append(dt.events, args.Get(4).(vocab.CaseEvent))
		}).Return(nil)
	dt.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		dt.mu.Lock()
		defer dt.mu.Unlock()
		dt.upserts = append(dt.upserts, args.Get(0).(temporal.SearchAttributes))
	}).Return(nil)
	return dt
}

// refused is a provider's refusal, as activities.Commerce answers it.
func refused(what string) error {
	return temporal.NewNonRetryableApplicationError(what+": insufficient funds", vocab.ErrTypePaymentRefused, nil)
}

// at runs fn once the dispute has run for d.
func (dt *disputeTest) at(d time.Duration, fn func()) { dt.env.RegisterDelayedCallback(fn, d) }

// atTime runs fn at the instant t.
func (dt *disputeTest) atTime(t time.Time, fn func()) { dt.at(t.Sub(openedAt), fn) }

func (dt *disputeTest) update(name string, arg any, check func(View, error)) {
	dt.steps++
	dt.env.UpdateWorkflow(name, name+"-"+strconv.Itoa(dt.steps), &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { check(View{}, err) },
		OnComplete: func(v any, err error) {
			dv, _ := v.(View)
			check(dv, err)
		},
	}, arg)
}

func (dt *disputeTest) mustUpdate(name string, arg any) {
	dt.update(name, arg, func(_ View, err error) { require.NoError(dt.t, err, name) })
}

// refusedUpdate checks the validator refuses with the error type and message.
func (dt *disputeTest) refusedUpdate(name string, arg any, errType, contains string) {
	dt.update(name, arg, func(_ View, err error) {
		var appErr *temporal.ApplicationError
		require.True(dt.t, errors.As(err, &appErr), "%s: want a refusal, got %v", name, err)
		assert.Equal(dt.t, errType, appErr.Type(), "%s: %v", name, err)
		assert.Contains(dt.t, appErr.Error(), contains)
	})
}

func (dt *disputeTest) view() View {
	res, err := dt.env.QueryWorkflow(QueryDispute)
	require.NoError(dt.t, err)
	var v View
	require.NoError(dt.t, res.Get(&v))
	return v
}

func (dt *disputeTest) run(in Input) View {
	dt.env.ExecuteWorkflow(WorkflowType, in)
	require.True(dt.t, dt.env.IsWorkflowCompleted())
	require.NoError(dt.t, dt.env.GetWorkflowError())
	var v View
	require.NoError(dt.t, dt.env.GetWorkflowResult(&v))
	return v
}

// reported answers the kinds of the events the case heard, in order.
func (dt *disputeTest) reported() []string {
	dt.mu.Lock()
	defer dt.mu.Unlock()
	out := make([]string, len(dt.events))
	for i, e := range dt.events {
		out[i] = e.Kind
	}
	return out
}

// reportedEvent answers the case event of kind; it must have been reported.
func (dt *disputeTest) reportedEvent(kind string) vocab.CaseEvent {
	dt.mu.Lock()
	defer dt.mu.Unlock()
	i := slices.IndexFunc(dt.events, func(e vocab.CaseEvent) bool { return e.Kind == kind })
	require.GreaterOrEqual(dt.t, i, 0, "the case never heard %s", kind)
	return dt.events[i]
}

// escalations answers the kinds of the case events that escalated the case.
func (dt *disputeTest) escalations() []string {
	dt.mu.Lock()
	defer dt.mu.Unlock()
	var out []string
	for _, e := range dt.events {
		if e.EscalateTo != "" {
			assert.Equal(dt.t, vocab.TeamTrustSafety, e.EscalateTo)
			out = append(out, e.Kind)
		}
	}
	return out
}

// notices answers every notice the case was asked to send, in order.
func (dt *disputeTest) notices() []vocab.Notice {
	dt.mu.Lock()
	defer dt.mu.Unlock()
	var out []vocab.Notice
	for _, e := range dt.events {
		out = append(out, e.Tell...)
	}
	return out
}

// told answers the events of the notices sent to audience, in order.
func (dt *disputeTest) told(audience string) []string {
	var out []string
	for _, n := range dt.notices() {
		if n.Audience == audience {
			out = append(out, n.Event)
		}
	}
	return out
}

// notice answers the first notice of event.
func (dt *disputeTest) notice(event string) vocab.Notice {
	ns := dt.notices()
	i := slices.IndexFunc(ns, func(n vocab.Notice) bool { return n.Event == event })
	require.GreaterOrEqual(dt.t, i, 0, "nobody was told %s", event)
	return ns[i]
}

func kinds(events []vocab.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

func eventOf(t *testing.T, events []vocab.Event, kind string) vocab.Event {
	i := slices.IndexFunc(events, func(e vocab.Event) bool { return e.Kind == kind })
	require.GreaterOrEqual(t, i, 0, "no %s on the timeline", kind)
	return events[i]
}

func TestASellerWhoAcceptsRefundsTheBuyerInFullOnceAndTheHoldCoversIt(t *testing.T) {
	dt := newDisputeTest(t)
	dt.at(time.Hour, func() {
		v := dt.view()
		assert.Equal(t, StatusAwaitingSeller, v.Status)
		assert.Equal(t, PartySeller, v.Awaiting)
		assert.True(t, sellerDue.Equal(*v.RespondBy), "the seller's deadline: %v", v.RespondBy)
		assert.Equal(t, HoldHeld, v.Funds.HoldState)
		dt.mustUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondAccept})
	})
	final := dt.run(testInput())

	assert.Equal(t, StatusClosed, final.Status)
	dt.mu.Lock()
	require.Len(t, dt.holds, 1)
	assert.Equal(t, vocab.HoldRequest{Key: "dispute/DP-1/hold", SellerID: "sel-1", OrderID: "ord-1", Amount: disputed,
		Reason: "dispute DP-1: not_received"}, dt.holds[0])
	require.Len(t, dt.refunds, 1, "one refund, whatever the appeal window did")
	assert.Equal(t, refund1, dt.refunds[0].Key)
	assert.Equal(t, disputed, dt.refunds[0].Amount)
	assert.Equal(t, "buy-1", dt.refunds[0].BuyerID)
	assert.Empty(t, dt.releases, "a full refund keeps the seller's hold")
	assert.Empty(t, dt.lost, "a refund the seller accepted is no dispute lost")
	dt.mu.Unlock()

	assert.Equal(t, HoldKept, final.Funds.HoldState)
	assert.Equal(t, disputed, final.Funds.Refunded)
	require.NotNil(t, final.Decision)
	assert.Equal(t, Decision{N: 1, Outcome: OutcomeRefundFull, Amount: disputed, Reason: "the seller accepted the buyer's claim",
		Party: PartySeller, Actor: "seller:sel-1", At: openedAt.Add(time.Hour)}, *final.Decision)
	want := []string{EventOpened, EventSellerAccepted, EventDecision, EventRefunded, EventHoldKept, EventResolved, EventClosed}
	assert.Equal(t, want, kinds(final.Timeline))
	assert.Equal(t, want, dt.reported(), "the case hears every step, in order")
	assert.Equal(t, openedAt.Add(time.Hour+30*24*time.Hour), eventOf(t, final.Timeline, EventClosed).At.UTC(),
		"the appeal window runs 30 days from the decision")

	opened := dt.reportedEvent(EventOpened)
	assert.Equal(t, "DP-1", opened.Payload["dispute_id"])
	assert.Equal(t, "sel-1", opened.Payload["seller_id"])
	assert.Equal(t, "2026-05-28T14:00:00Z", opened.Payload["respond_by"])
	assert.Equal(t, "D-9", opened.Payload["delivery_id"])
	assert.Equal(t, "hold-1", opened.Payload["hold_id"])
	seller := dt.notice(NoticeSeller)
	assert.Equal(t, vocab.AudienceCustomer, seller.Audience, "the seller is reached through the marketplace route of the customer audience")
	assert.Contains(t, seller.Detail, "seller sel-1: ")
	assert.Contains(t, seller.Detail, "Answer by Thu 28 May 2026 16:00 Europe/Paris")
	decided := dt.notice(NoticeDecided)
	assert.Equal(t, vocab.AudienceCustomer, decided.Audience)
	assert.Contains(t, decided.Detail, "Outcome: refund_full")
	assert.Contains(t, decided.Detail, "refunded now 50.00 EUR")
	assert.Empty(t, dt.escalations(), "nobody had to step in")
}

func TestAnAcceptedPartialOfferRefundsThatAmountThenReleasesTheHold(t *testing.T) {
	dt := newDisputeTest(t)
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondOfferPartial, Amount: eur(2000)})
	})
	dt.at(2*time.Hour, func() {
		v := dt.view()
		assert.Equal(t, StatusAwaitingBuyer, v.Status)
		assert.Equal(t, PartyBuyer, v.Awaiting)
		assert.Equal(t, openedAt.Add(time.Hour+72*time.Hour), v.RespondBy.UTC(), "the buyer has 72 hours")
		offer := dt.notice(NoticeOffer)
		assert.Equal(t, vocab.AudienceCustomer, offer.Audience)
		assert.Contains(t, offer.Detail, "20.00 EUR of the 50.00 EUR")
		dt.mustUpdate(UpdateBuyerAnswer, BuyerAnswer{Actor: "buyer:buy-1", Answer: AnswerAcceptOffer})
	})
	final := dt.run(testInput())

	dt.mu.Lock()
	assert.Equal(t, []string{"hold", "refund", "release"}, dt.calls, "the refund comes before the release")
	require.Len(t, dt.refunds, 1)
	assert.Equal(t, refund1, dt.refunds[0].Key)
	assert.Equal(t, eur(2000), dt.refunds[0].Amount)
	require.Len(t, dt.releases, 1)
	assert.Equal(t, vocab.ReleaseRequest{Key: release, HoldID: "hold-1", Reason: "dispute DP-1: refund_partial"}, dt.releases[0])
	dt.mu.Unlock()
	assert.Equal(t, HoldReleased, final.Funds.HoldState)
	assert.Equal(t, eur(2000), final.Funds.Refunded)
	assert.Equal(t, "accepted", final.Offer.Answer)
	assert.Equal(t, PartyBuyer, final.Decision.Party)
	assert.Equal(t, StatusClosed, final.Status)
}

func TestADeclinedOfferGoesToTrustAndSafetyWhoDecides(t *testing.T) {
	dt := newDisputeTest(t)
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondOfferPartial, Amount: eur(1000)})
	})
	dt.at(2*time.Hour, func() {
		dt.mustUpdate(UpdateBuyerAnswer, BuyerAnswer{Actor: "buyer:buy-1", Answer: AnswerDeclineOffer})
	})
	dt.at(3*time.Hour, func() {
		v := dt.view()
		assert.Equal(t, StatusUnderReview, v.Status)
		assert.Equal(t, PartyTrustSafety, v.Awaiting)
		assert.Equal(t, openedAt.Add(2*time.Hour+5*24*time.Hour), v.RespondBy.UTC(), "the review is due in five days")
		assert.Equal(t, []string{NoticeReviewNeeded}, dt.told(vocab.AudienceTeam), "trust & safety is told a decision is needed")
		dt.mustUpdate(UpdateDecide, DecideInput{Actor: "trust_safety:tess", Outcome: OutcomeRefundPartial, Amount: eur(3500),
			Reason: "the account arrived late and incomplete"})
	})
	final := dt.run(testInput())

	dt.mu.Lock()
	require.Len(t, dt.refunds, 1)
	assert.Equal(t, eur(3500), dt.refunds[0].Amount, "the decision's amount, not the declined offer's")
	assert.Equal(t, refund1, dt.refunds[0].Key)
	require.Len(t, dt.releases, 1)
	dt.mu.Unlock()
	assert.Equal(t, "declined", final.Offer.Answer)
	assert.Equal(t, PartyTrustSafety, final.Decision.Party)
	assert.Equal(t, "trust_safety:tess", final.Decision.Actor)
	assert.Contains(t, dt.notice(NoticeDecided).Detail, "reason: the account arrived late and incomplete")
	assert.Empty(t, dt.escalations(), "decided in time: no escalation")
}

func TestAnUnansweredDisputeEscalatesAtTheThirdBusinessDayAndDecidesForTheBuyer(t *testing.T) {
	dt := newDisputeTest(t)
	in := testInput()
	require.NoError(t, dt.env.SetTypedSearchAttributesOnStart(ChildOptions(in, vocab.TaskQueue).TypedSearchAttributes))
	dt.atTime(sellerDue.Add(-time.Minute), func() {
		v := dt.view()
		assert.Equal(t, StatusAwaitingSeller, v.Status, "Monday is a holiday: Thursday 16:00 is the deadline, not Wednesday")
		assert.NotContains(t, dt.reported(), EventSellerLate)
		assert.Empty(t, dt.escalations())
	})
	dt.atTime(sellerDue.Add(time.Minute), func() {
		dt.refusedUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondAccept},
			vocab.ErrInvalidTransition, "past the seller's deadline (Thu 28 May 2026 16:00 Europe/Paris)")
	})
	final := dt.run(in)

	late := eventOf(t, final.Timeline, EventSellerLate)
	assert.Equal(t, sellerDue, late.At.UTC(), "the marketplace steps in exactly at the deadline")
	assert.Equal(t, []string{EventSellerLate}, dt.escalations())
	ev := dt.reportedEvent(EventSellerLate)
	assert.Contains(t, ev.Reason, "the seller did not answer by Thu 28 May 2026 16:00 Europe/Paris")
	assert.Contains(t, dt.told(vocab.AudienceCustomer), NoticeSellerLate)
	assert.Contains(t, dt.notice(NoticeSellerLate).Detail, "full refund of 50.00 EUR")

	require.NotNil(t, final.Decision)
	assert.Equal(t, PartySystem, final.Decision.Party, "the policy's decision")
	assert.Equal(t, vocab.SystemActor, final.Decision.Actor)
	assert.Equal(t, OutcomeRefundFull, final.Decision.Outcome)
	dt.mu.Lock()
	require.Len(t, dt.refunds, 1)
	assert.Equal(t, disputed, dt.refunds[0].Amount)
	upserts := slices.Clone(dt.upserts)
	require.Len(t, dt.lost, 1, "the seller's fraud watch hears of the lost dispute once")
	assert.Equal(t, fraud.Report{Party: fraud.PartySeller, PartyID: "sel-1", Behaviour: fraud.Behaviour{
		ID: "dispute/DP-1/lost", Kind: fraud.KindDisputeLost, At: sellerDue, Amount: disputed, ReportedBy: vocab.SystemActor,
		Detail: "dispute DP-1 on order ord-1 (not_received): refund_full by system"}}, dt.lost[0])
	dt.mu.Unlock()

	// One upsert per transition, carrying what changed: executing (no one
	// awaited), resolved (the appeal window's end), closed (none).
	require.Len(t, upserts, 3)
	status := func(sa temporal.SearchAttributes) string {
		s, _ := sa.GetKeywordList(vocab.DisputeStatusKey)
		return slices.Concat(s, []string{""})[0]
	}
	assert.Equal(t, string(StatusExecuting), status(upserts[0]))
	assert.False(t, upserts[0].ContainsKey(vocab.RespondByKey), "nobody is awaited while the money moves")
	assert.False(t, upserts[0].ContainsKey(vocab.SellerIDKey), "the ids came with the start options")
	assert.Equal(t, string(StatusResolved), status(upserts[1]))
	until, ok := upserts[1].GetTime(vocab.RespondByKey)
	require.True(t, ok)
	assert.Equal(t, sellerDue.Add(30*24*time.Hour), until)
	assert.Equal(t, string(StatusClosed), status(upserts[2]))
	assert.False(t, upserts[2].ContainsKey(vocab.RespondByKey))
}

func TestSilenceWithoutADecisionByPolicyGoesToReviewWhoseDelayEscalatesOnce(t *testing.T) {
	dt := newDisputeTest(t)
	in := testInput()
	in.Policy.DecideForBuyerOnSilence = false
	reviewDue := sellerDue.Add(5 * 24 * time.Hour)
	dt.atTime(sellerDue.Add(time.Hour), func() {
		v := dt.view()
		assert.Equal(t, StatusUnderReview, v.Status)
		assert.Empty(t, dt.told(vocab.AudienceTeam), "the escalation tells the team; no second message")
		assert.Equal(t, []string{EventSellerLate}, dt.escalations())
	})
	dt.atTime(reviewDue.Add(-time.Minute), func() {
		assert.Equal(t, []string{EventSellerLate}, dt.escalations(), "not overdue yet")
	})
	dt.atTime(reviewDue.Add(10*24*time.Hour), func() {
		assert.Equal(t, []string{EventSellerLate, EventReviewOverdue}, dt.escalations(), "overdue escalates once, however long")
		assert.True(t, dt.view().ReviewOverdue)
		dt.mustUpdate(UpdateDecide, DecideInput{Actor: "trust_safety:tess", Outcome: OutcomeDeny, Reason: "tracking shows delivery"})
	})
	final := dt.run(in)

	assert.Equal(t, reviewDue, eventOf(t, final.Timeline, EventReviewOverdue).At.UTC())
	dt.mu.Lock()
	assert.Empty(t, dt.refunds, "a denied claim refunds nothing")
	require.Len(t, dt.releases, 1, "the seller gets the hold back")
	dt.mu.Unlock()
	assert.Equal(t, HoldReleased, final.Funds.HoldState)
	assert.Contains(t, dt.notice(NoticeDecided).Detail, "refunded now 0.00 EUR")
}

func TestAnAppealReopensTheReviewOnceAndTheFinalDecisionRefundsOnlyTheDifference(t *testing.T) {
	dt := newDisputeTest(t)
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondOfferPartial, Amount: eur(2000)})
	})
	dt.at(2*time.Hour, func() {
		dt.mustUpdate(UpdateBuyerAnswer, BuyerAnswer{Actor: "buyer:buy-1", Answer: AnswerAcceptOffer})
	})
	dt.at(3*24*time.Hour, func() {
		v := dt.view()
		require.Equal(t, StatusResolved, v.Status)
		assert.Equal(t, AwaitingEitherParty, v.Awaiting)
		assert.Equal(t, openedAt.Add(2*time.Hour+30*24*time.Hour), v.AppealUntil.UTC())
		dt.refusedUpdate(UpdateAppeal, AppealInput{Actor: "buyer:buy-1", Party: "arbiter", Reason: "x"}, vocab.ErrInvalidArgument, "party")
		dt.refusedUpdate(UpdateAppeal, AppealInput{Actor: "buyer:buy-1", Party: PartyBuyer}, vocab.ErrInvalidArgument, "reason")
		dt.mustUpdate(UpdateAppeal, AppealInput{Actor: "buyer:buy-1", Party: PartyBuyer, Reason: "the seller never delivered anything"})
	})
	dt.at(3*24*time.Hour+time.Hour, func() {
		v := dt.view()
		assert.Equal(t, StatusUnderReview, v.Status)
		assert.Equal(t, 1, v.AppealsUsed)
		assert.Equal(t, []string{EventAppealed}, dt.escalations())
		assert.Contains(t, dt.notice(NoticeAppealOpen).Detail, "its next decision is final")
		dt.refusedUpdate(UpdateAppeal, AppealInput{Actor: "seller:sel-1", Party: PartySeller, Reason: "me too"},
			vocab.ErrInvalidTransition, "already appealed once")
		dt.mustUpdate(UpdateDecide, DecideInput{Actor: "trust_safety:tess", Outcome: OutcomeRefundFull, Reason: "nothing was delivered"})
	})
	final := dt.run(testInput())

	dt.mu.Lock()
	require.Len(t, dt.refunds, 2)
	assert.Equal(t, refund1, dt.refunds[0].Key)
	assert.Equal(t, eur(2000), dt.refunds[0].Amount)
	assert.Equal(t, refund2, dt.refunds[1].Key, "the second decision's refund has its own key")
	assert.Equal(t, eur(3000), dt.refunds[1].Amount, "only what the buyer has not had yet")
	assert.Len(t, dt.releases, 1, "the hold was released once, by the first decision")
	dt.mu.Unlock()
	assert.Equal(t, disputed, final.Funds.Refunded)
	assert.Equal(t, StatusClosed, final.Status)
	require.Len(t, final.Decisions, 2)
	assert.True(t, final.Decisions[1].Final)
	assert.Equal(t, openedAt.Add(3*24*time.Hour+time.Hour), eventOf(t, final.Timeline, EventClosed).At.UTC(),
		"a final decision closes the dispute at once")
	assert.Nil(t, final.AppealUntil)
}

func TestASellerWhoWinsTheAppealOfAFullRefundGetsTheKeptHoldAndNoSecondRefundIsMade(t *testing.T) {
	dt := newDisputeTest(t)
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondAccept})
	})
	dt.at(2*24*time.Hour, func() {
		assert.Equal(t, HoldKept, dt.view().Funds.HoldState)
		dt.mustUpdate(UpdateAppeal, AppealInput{Actor: "seller:sel-1", Party: PartySeller, Reason: "I accepted by mistake"})
	})
	dt.at(2*24*time.Hour+time.Hour, func() {
		dt.mustUpdate(UpdateDecide, DecideInput{Actor: "trust_safety:tess", Outcome: OutcomeReleaseToSeller, Reason: "delivered as shown"})
	})
	final := dt.run(testInput())
	dt.mu.Lock()
	defer dt.mu.Unlock()
	require.Len(t, dt.refunds, 1, "a refund is never taken back nor repeated")
	require.Len(t, dt.releases, 1, "the kept hold goes to the seller")
	assert.Equal(t, HoldReleased, final.Funds.HoldState)
}

func TestARefusedRefundReleasesNothingAndEscalates(t *testing.T) {
	dt := newDisputeTest(t)
	dt.refund = func(r vocab.RefundRequest) (vocab.Movement, error) {
		return vocab.Movement{}, refused("refund " + r.Key)
	}
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondOfferPartial, Amount: eur(2000)})
		dt.mustUpdate(UpdateBuyerAnswer, BuyerAnswer{Actor: "buyer:buy-1", Answer: AnswerAcceptOffer})
	})
	final := dt.run(testInput())

	assert.Equal(t, StatusExecutionFailed, final.Status)
	dt.mu.Lock()
	assert.Len(t, dt.refunds, 1, "a refusal is not retried")
	assert.Empty(t, dt.releases, "no release without the refund")
	dt.mu.Unlock()
	assert.Equal(t, HoldHeld, final.Funds.HoldState)
	assert.Zero(t, final.Funds.Refunded.Minor)
	assert.Contains(t, final.Failure, "insufficient funds")
	assert.Equal(t, []string{EventExecutionFailed}, dt.escalations())
	ev := dt.reportedEvent(EventExecutionFailed)
	assert.Equal(t, "refund", ev.Payload["step"])
	assert.Contains(t, ev.Reason, "nothing was released")
	assert.NotContains(t, dt.told(vocab.AudienceCustomer), NoticeDecided, "the buyer is not told of a refund that did not happen")
	assert.Nil(t, final.RespondBy)
}

func TestAReleaseRefusedAfterTheRefundFailsTheExecution(t *testing.T) {
	dt := newDisputeTest(t)
	dt.release = func(r vocab.ReleaseRequest) (vocab.Movement, error) {
		return vocab.Movement{}, refused("release " + r.Key)
	}
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondOfferPartial, Amount: eur(2000)})
		dt.mustUpdate(UpdateBuyerAnswer, BuyerAnswer{Actor: "buyer:buy-1", Answer: AnswerAcceptOffer})
	})
	final := dt.run(testInput())

	assert.Equal(t, StatusExecutionFailed, final.Status)
	assert.Equal(t, eur(2000), final.Funds.Refunded, "the refund stands and is recorded")
	assert.Equal(t, HoldHeld, final.Funds.HoldState)
	assert.Contains(t, final.Failure, "could not be released")
	dt.mu.Lock()
	assert.Len(t, dt.releases, 1, "a refusal is not retried")
	dt.mu.Unlock()
	assert.Equal(t, []string{EventExecutionFailed}, dt.escalations())
	assert.Equal(t, "release", dt.reportedEvent(EventExecutionFailed).Payload["step"])
	assert.Contains(t, kinds(final.Timeline), EventRefunded)
}

func TestAPendingRefundWaitsForItsPaymentResult(t *testing.T) {
	dt := newDisputeTest(t)
	dt.refund = func(r vocab.RefundRequest) (vocab.Movement, error) {
		return vocab.Movement{ID: "ref-9", Kind: "refund", Status: vocab.MovementPending, Amount: r.Amount}, nil
	}
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondAccept})
	})
	dt.at(2*time.Hour, func() {
		v := dt.view()
		assert.Equal(t, StatusExecuting, v.Status, "the refund is pending")
		assert.Contains(t, kinds(v.Timeline), EventRefundPending)
		// Another movement's result, a result that settles nothing, then
		// a copy of that provider event saying otherwise: all ignored.
		dt.env.SignalWorkflow(SignalPaymentResult, vocab.PaymentResult{EventID: "evt-1", Key: "return/R-1/refund", Status: vocab.MovementFailed})
		dt.env.SignalWorkflow(SignalPaymentResult, vocab.PaymentResult{EventID: "evt-2", Key: refund1, Status: vocab.MovementPending})
		dt.env.SignalWorkflow(SignalPaymentResult, vocab.PaymentResult{EventID: "evt-2", Key: refund1, Status: vocab.MovementFailed})
	})
	dt.at(3*time.Hour, func() {
		assert.Equal(t, StatusExecuting, dt.view().Status, "still pending")
		dt.env.SignalWorkflow(SignalPaymentResult, vocab.PaymentResult{EventID: "evt-3", MovementID: "ref-9", Key: refund1, Status: vocab.MovementSucceeded})
	})
	dt.at(4*time.Hour, func() {
		assert.Equal(t, StatusResolved, dt.view().Status)
	})
	final := dt.run(testInput())
	assert.Equal(t, disputed, final.Funds.Refunded)
	require.Len(t, final.Funds.Refunds, 1)
	assert.Equal(t, vocab.MovementSucceeded, final.Funds.Refunds[0].Status)
	assert.Equal(t, openedAt.Add(3*time.Hour), eventOf(t, final.Timeline, EventRefunded).At.UTC())
	assert.Equal(t, StatusClosed, final.Status)
}

func TestARefusedHoldIsRecordedAndTheDisputeGoesOn(t *testing.T) {
	dt := newDisputeTest(t)
	dt.hold = func(r vocab.HoldRequest) (vocab.Movement, error) { return vocab.Movement{}, refused("hold " + r.Key) }
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondOfferPartial, Amount: eur(2000)})
		dt.mustUpdate(UpdateBuyerAnswer, BuyerAnswer{Actor: "buyer:buy-1", Answer: AnswerAcceptOffer})
	})
	final := dt.run(testInput())
	assert.Equal(t, HoldNone, final.Funds.HoldState)
	assert.Contains(t, final.Funds.HoldError, "insufficient funds")
	assert.Equal(t, "none", dt.reportedEvent(EventOpened).Payload["hold"])
	dt.mu.Lock()
	defer dt.mu.Unlock()
	assert.Len(t, dt.refunds, 1, "the buyer is refunded all the same")
	assert.Empty(t, dt.releases, "no hold, nothing to release")
	assert.Equal(t, StatusClosed, final.Status)
}

func TestAnUnansweredOfferGoesToReview(t *testing.T) {
	dt := newDisputeTest(t)
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondOfferPartial, Amount: eur(2000)})
	})
	answerBy := openedAt.Add(time.Hour + 72*time.Hour)
	dt.atTime(answerBy.Add(time.Minute), func() {
		dt.refusedUpdate(UpdateBuyerAnswer, BuyerAnswer{Actor: "buyer:buy-1", Answer: AnswerAcceptOffer},
			vocab.ErrInvalidTransition, "the dispute is under_review")
		assert.Equal(t, StatusUnderReview, dt.view().Status)
		dt.mustUpdate(UpdateDecide, DecideInput{Actor: "trust_safety:tess", Outcome: OutcomeRefundFull, Reason: "no delivery proof"})
	})
	final := dt.run(testInput())
	assert.Equal(t, answerBy, eventOf(t, final.Timeline, EventOfferExpired).At.UTC())
	assert.Equal(t, "expired", final.Offer.Answer)
	assert.Equal(t, disputed, final.Funds.Refunded)
}

func TestRefusedUpdatesLeaveNoTrace(t *testing.T) {
	dt := newDisputeTest(t)
	var before View
	var heard int
	dt.at(time.Hour, func() {
		before = dt.view()
		heard = len(dt.reported())
		seller := func(r SellerResponse) SellerResponse { r.Actor = "seller:sel-1"; return r }
		dt.refusedUpdate(UpdateSellerRespond, seller(SellerResponse{Kind: "shrug"}), vocab.ErrInvalidArgument, "kind")
		dt.refusedUpdate(UpdateSellerRespond, SellerResponse{Kind: RespondAccept}, vocab.ErrInvalidArgument, "actor")
		dt.refusedUpdate(UpdateSellerRespond, seller(SellerResponse{Kind: RespondOfferPartial, Amount: disputed}),
			vocab.ErrInvalidArgument, "amount: want 0.01 EUR to 49.99 EUR")
		dt.refusedUpdate(UpdateSellerRespond, seller(SellerResponse{Kind: RespondOfferPartial, Amount: eur(0)}),
			vocab.ErrInvalidArgument, "amount: want")
		dt.refusedUpdate(UpdateSellerRespond, seller(SellerResponse{Kind: RespondOfferPartial, Amount: vocab.Money{Minor: 100, Currency: "USD"}}),
			vocab.ErrInvalidArgument, "amount.currency")
		dt.refusedUpdate(UpdateSellerRespond, seller(SellerResponse{Kind: RespondContest}), vocab.ErrInvalidArgument, "statement")
		dt.refusedUpdate(UpdateBuyerAnswer, BuyerAnswer{Actor: "buyer:buy-1", Answer: AnswerAcceptOffer},
			vocab.ErrInvalidTransition, "cannot answer the offer: the dispute is awaiting_seller")
		dt.refusedUpdate(UpdateDecide, DecideInput{Actor: "trust_safety:tess", Outcome: OutcomeDeny, Reason: "x"},
			vocab.ErrInvalidTransition, "cannot decide: the dispute is awaiting_seller")
		dt.refusedUpdate(UpdateAppeal, AppealInput{Actor: "buyer:buy-1", Party: PartyBuyer, Reason: "x"},
			vocab.ErrInvalidTransition, "cannot appeal: the dispute is awaiting_seller")
		dt.mustUpdate(UpdateSellerRespond, seller(SellerResponse{Kind: RespondContest, Statement: "Delivered on the 20th",
			EvidenceIDs: []string{"E-7"}}))
	})
	dt.at(2*time.Hour, func() {
		v := dt.view()
		assert.Equal(t, before.LastSeq+2, v.LastSeq, "only the contest and its review are on the timeline")
		assert.Equal(t, []string{EventContested, EventReviewStarted}, kinds(v.Timeline[before.LastSeq:]))
		assert.Equal(t, []string{EventContested, EventReviewStarted}, dt.reported()[heard:], "the case heard nothing of the refusals")
		decide := func(d DecideInput) DecideInput { d.Actor = "trust_safety:tess"; return d }
		dt.refusedUpdate(UpdateDecide, decide(DecideInput{Outcome: OutcomeDeny}), vocab.ErrInvalidArgument, "reason")
		dt.refusedUpdate(UpdateDecide, decide(DecideInput{Outcome: "split", Reason: "x"}), vocab.ErrInvalidArgument, "outcome")
		dt.refusedUpdate(UpdateDecide, decide(DecideInput{Outcome: OutcomeRefundPartial, Amount: eur(5001), Reason: "x"}),
			vocab.ErrInvalidArgument, "amount: want 0.01 EUR to 50.00 EUR")
		dt.refusedUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondAccept},
			vocab.ErrInvalidTransition, "cannot respond: the dispute is under_review")
		dt.mustUpdate(UpdateDecide, decide(DecideInput{Outcome: OutcomeRefundPartial, Amount: disputed, Reason: "all of it, as a partial"}))
	})
	dt.at(3*time.Hour, func() {
		v := dt.view()
		assert.Equal(t, StatusResolved, v.Status)
		assert.Equal(t, "Delivered on the 20th", v.SellerResponse.Statement)
		assert.Equal(t, "E-7", eventOf(t, v.Timeline, EventContested).Payload["evidence_ids"])
	})
	final := dt.run(testInput())
	assert.Equal(t, StatusClosed, final.Status)
}

func TestASellerAnswerDuringTheOpeningIsTakenOnceTheHoldIsPlaced(t *testing.T) {
	dt := newDisputeTest(t)
	dt.holdCall.After(10 * time.Minute)
	var answered View
	dt.at(time.Minute, func() {
		dt.update(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondAccept}, func(v View, err error) {
			require.NoError(t, err, "an answer while the hold is placed waits, it is not refused")
			answered = v
		})
	})
	final := dt.run(testInput())
	assert.Equal(t, HoldKept, final.Funds.HoldState)
	require.NotNil(t, answered.SellerResponse)
	dt.mu.Lock()
	defer dt.mu.Unlock()
	assert.Equal(t, []string{"hold", "refund"}, dt.calls, "the refund comes after the hold")
}

package fraud

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
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/accountflows"
	"handoff/workflows/sellers"
	"handoff/workflows/vocab"
)

// startedAt is a Monday 10:00 UTC.
var startedAt = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// watchTest drives one FraudWatch on the SDK's test environment, whose
// clock jumps to the next timer whenever the workflow is blocked. The
// activities are stand-ins registered by name; every call is kept with
// the moment it came.
type watchTest struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu        sync.Mutex
	opened    []vocab.OpenCaseRequest
	holds     []vocab.PayoutHoldRequest
	releases  []vocab.ReleaseRequest
	releaseAt []time.Time
	locks     []accountflows.AccountRequest
	projected []vocab.PayoutHold
	events    []vocab.CaseEvent
	standings []sellers.Standing
	upserts   []temporal.SearchAttributes
	steps     int
}

func newWatchTest(t *testing.T) *watchTest {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	wt := &watchTest{t: t, env: s.NewTestWorkflowEnvironment()}
	env := wt.env
	env.SetStartTime(startedAt)
	env.RegisterWorkflowWithOptions(FraudWatch, workflow.RegisterOptions{Name: WorkflowType})
	env.RegisterActivityWithOptions(func(_ context.Context, r vocab.OpenCaseRequest) (vocab.OpenCaseResult, error) {
		wt.mu.Lock()
		defer wt.mu.Unlock()
		wt.opened = append(wt.opened, r)
		return vocab.OpenCaseResult{CaseID: "C-" + strconv.Itoa(len(wt.opened))}, nil
	}, activity.RegisterOptions{Name: vocab.ActivityOpenCase})
	env.RegisterActivityWithOptions(func(_ context.Context, r vocab.PayoutHoldRequest) (vocab.Movement, error) {
		wt.mu.Lock()
		defer wt.mu.Unlock()
		wt.holds = append(wt.holds, r)
		return vocab.Movement{ID: "ph-" + strconv.Itoa(len(wt.holds)), Kind: vocab.MovementPayoutHold, Status: vocab.MovementHeld}, nil
	}, activity.RegisterOptions{Name: vocab.ActivityHoldPayouts})
	env.RegisterActivityWithOptions(func(_ context.Context, r vocab.ReleaseRequest) (vocab.Movement, error) {
		wt.mu.Lock()
		defer wt.mu.Unlock()
		wt.releases, wt.releaseAt = append(wt.releases, r), append(wt.releaseAt, env.Now().UTC())
		return vocab.Movement{ID: "rel-" + strconv.Itoa(len(wt.releases)), Kind: "release", Status: vocab.MovementReleased}, nil
	}, activity.RegisterOptions{Name: vocab.ActivityReleaseFunds})
	env.RegisterActivityWithOptions(func(_ context.Context, r accountflows.AccountRequest) (accountflows.LockResult, error) {
		wt.mu.Lock()
		defer wt.mu.Unlock()
		wt.locks = append(wt.locks, r)
		return accountflows.LockResult{Account: accountflows.AccountState{ID: r.AccountID, Status: accountflows.AccountLocked}, SessionsRevoked: 2}, nil
	}, activity.RegisterOptions{Name: accountflows.ActivityLockAccount})
	env.RegisterActivityWithOptions(func(_ context.Context, h vocab.PayoutHold) error {
		wt.mu.Lock()
		defer wt.mu.Unlock()
		wt.projected = append(wt.projected, h)
		return nil
	}, activity.RegisterOptions{Name: vocab.ActivityProjectPayoutHold})
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", vocab.SignalCaseEvent, mock.Anything).
		Run(func(args mock.Arguments) {
			wt.mu.Lock()
			defer wt.mu.Unlock()
			wt.events = append(wt.events, args.Get(4).(vocab.CaseEvent))
		}).Return(nil)
	env.OnSignalExternalWorkflow(mock.Anything, vocab.SellerWorkflowID("S-1"), "", sellers.SignalStanding, mock.Anything).
		Run(func(args mock.Arguments) {
			wt.mu.Lock()
			defer wt.mu.Unlock()
			wt.standings = append(wt.standings, args.Get(4).(sellers.Standing))
		}).Return(nil)
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		wt.mu.Lock()
		defer wt.mu.Unlock()
		wt.upserts = append(wt.upserts, args.Get(0).(temporal.SearchAttributes))
	}).Return(nil)
	return wt
}

func sellerInput() Input { return Input{Party: PartySeller, PartyID: "S-1", Policy: DefaultPolicy()} }

// at runs fn once the watch has run for d.
func (wt *watchTest) at(d time.Duration, fn func()) { wt.env.RegisterDelayedCallback(fn, d) }

// signal reports a behaviour of kind with id after d.
func (wt *watchTest) signal(d time.Duration, id, kind string) {
	wt.at(d, func() {
		wt.env.SignalWorkflow(SignalBehaviour, Behaviour{ID: id, Kind: kind, Detail: "order ord-" + id, ReportedBy: "integration:shop"})
	})
}

// update runs update name with arg after d and hands check its answer or refusal.
func (wt *watchTest) update(d time.Duration, name string, arg any, check func(any, error)) {
	wt.steps++
	id := name + "-" + strconv.Itoa(wt.steps)
	wt.at(d, func() {
		wt.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { check(nil, err) },
			OnComplete: check,
		}, arg)
	})
}

func (wt *watchTest) mustUpdate(d time.Duration, name string, arg any) {
	wt.update(d, name, arg, func(_ any, err error) { require.NoError(wt.t, err, name) })
}

// refusedUpdate checks the validator refuses with the error type and message.
func (wt *watchTest) refusedUpdate(d time.Duration, name string, arg any, errType, contains string) {
	wt.update(d, name, arg, func(_ any, err error) {
		var appErr *temporal.ApplicationError
		require.True(wt.t, errors.As(err, &appErr), "%s: want a refusal, got %v", name, err)
		assert.Equal(wt.t, errType, appErr.Type(), "%s: %v", name, err)
		assert.Contains(wt.t, appErr.Error(), contains)
	})
}

// viewAt queries the watch after d into *v.
func (wt *watchTest) viewAt(d time.Duration, v *View) {
	wt.at(d, func() {
		res, err := wt.env.QueryWorkflow(QueryWatch)
		require.NoError(wt.t, err)
		require.NoError(wt.t, res.Get(v))
	})
}

func (wt *watchTest) run(in Input) View {
	wt.env.ExecuteWorkflow(WorkflowType, in)
	require.True(wt.t, wt.env.IsWorkflowCompleted())
	require.NoError(wt.t, wt.env.GetWorkflowError())
	var v View
	require.NoError(wt.t, wt.env.GetWorkflowResult(&v))
	return v
}

// reported answers the kinds of the events the cases heard, in order.
func (wt *watchTest) reported() []string {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	out := make([]string, len(wt.events))
	for i, e := range wt.events {
		out[i] = e.Kind
	}
	return out
}

// escalations answers the case events that escalated their case.
func (wt *watchTest) escalations() []vocab.CaseEvent {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	var out []vocab.CaseEvent
	for _, e := range wt.events {
		if e.EscalateTo != "" {
			out = append(out, e)
		}
	}
	return out
}

func count(kinds []string, kind string) int {
	n := 0
	for _, k := range kinds {
		if k == kind {
			n++
		}
	}
	return n
}

// threeLostDisputes reports three disputes lost an hour apart: the third
// fires disputes_lost three hours in.
func (wt *watchTest) threeLostDisputes() {
	for i := range 3 {
		wt.signal(time.Duration(i+1)*time.Hour, "dl-"+strconv.Itoa(i+1), KindDisputeLost)
	}
}

func TestThreeLostDisputesOpenOneCaseAndHoldTheSellersPayoutsOnce(t *testing.T) {
	wt := newWatchTest(t)
	wt.threeLostDisputes()
	wt.signal(4*time.Hour, "dl-4", KindDisputeLost)
	wt.signal(5*time.Hour, "cb-1", KindChargeback)
	var reviewing View
	wt.viewAt(6*time.Hour, &reviewing)
	wt.mustUpdate(20*day, UpdateDecide, Decision{Actor: "trust_safety:tess", Outcome: OutcomeRelease, Reason: "cleared"})
	wt.run(sellerInput())

	require.Len(t, wt.opened, 1, "one case for the burst, however many signals join it")
	open := wt.opened[0]
	assert.Equal(t, vocab.CategoryFraudReport, open.Category)
	assert.Equal(t, "S-1", open.AccountID)
	assert.Contains(t, open.Subject, "disputes_lost")
	assert.Contains(t, open.Subject, "seller S-1")
	assert.Contains(t, open.Description, "dl-1")
	assert.Contains(t, open.Description, "dl-3")
	assert.Regexp(t, `^fraud/seller-S-1/.+/burst-1$`, open.Key)

	require.Len(t, wt.holds, 1, "one hold for the burst")
	assert.Equal(t, open.Key+"/hold", wt.holds[0].Key)
	assert.Equal(t, vocab.HoldReasonFraudReview, wt.holds[0].Reason)
	assert.Equal(t, "S-1", wt.holds[0].SellerID)

	assert.Equal(t, StatusReviewing, reviewing.Status)
	assert.Equal(t, "C-1", reviewing.CaseID)
	assert.Equal(t, "disputes_lost", reviewing.FiredRule)
	require.NotNil(t, reviewing.Hold)
	h := reviewing.Hold
	assert.Equal(t, vocab.PayoutHoldHeld, h.State)
	assert.Equal(t, "ph-1", h.ID)
	assert.Equal(t, "C-1", h.CaseID)
	assert.Equal(t, WorkflowID(PartySeller, "S-1"), h.Owner)
	require.NotNil(t, h.Until)
	assert.Equal(t, startedAt.Add(3*time.Hour+14*day), *h.Until)
	require.NotNil(t, reviewing.ReviewDue)
	assert.Equal(t, startedAt.Add(3*time.Hour+3*day), *reviewing.ReviewDue)
	rule := reviewing.Rules[slices.IndexFunc(reviewing.Rules, func(r RuleCount) bool { return r.Name == "disputes_lost" })]
	assert.Equal(t, 4, rule.Count)

	kinds := wt.reported()
	assert.Equal(t, []string{EventCaseOpened, EventPayoutsHeld, EventSignal, EventSignal}, kinds[:4],
		"the case hears its opening, the hold, then the signals that joined it")
	wt.mu.Lock()
	defer wt.mu.Unlock()
	require.NotEmpty(t, wt.projected)
	assert.Equal(t, vocab.PayoutHoldHeld, wt.projected[0].State, "the read model has the hold as placed")
	require.NotEmpty(t, wt.upserts)
	held, _ := wt.upserts[0].GetBool(vocab.PayoutHoldKey)
	assert.True(t, held, "the watch says it holds payouts")
}

func TestSignalsSpreadWiderThanTheWindowOpenNothing(t *testing.T) {
	wt := newWatchTest(t)
	wt.signal(time.Hour, "dl-1", KindDisputeLost)
	wt.signal(16*day, "dl-2", KindDisputeLost)
	wt.signal(32*day, "dl-3", KindDisputeLost)
	v := wt.run(sellerInput())
	assert.Empty(t, wt.opened)
	assert.Empty(t, wt.holds)
	assert.Equal(t, StatusWatching, v.Status)
	assert.Len(t, v.Recent, 1, "the watch ended a quiet window after the last signal")
	assert.Equal(t, 3, count(kindsOf(v.Timeline), EventSignal))
}

func TestADuplicateSignalIsCountedOnce(t *testing.T) {
	wt := newWatchTest(t)
	wt.signal(time.Hour, "dl-1", KindDisputeLost)
	wt.signal(2*time.Hour, "dl-1", KindDisputeLost)
	wt.signal(3*time.Hour, "dl-2", KindDisputeLost)
	var before View
	wt.viewAt(4*time.Hour, &before)
	wt.signal(5*time.Hour, "dl-3", KindDisputeLost)
	wt.mustUpdate(6*time.Hour, UpdateDecide, Decision{Actor: "trust_safety:tess", Outcome: OutcomeRelease, Reason: "the disputes were the buyer's fault"})
	wt.run(sellerInput())
	assert.Len(t, before.Recent, 2, "the repeated id is one signal")
	assert.Equal(t, StatusWatching, before.Status)
	require.Len(t, wt.opened, 1, "the third distinct signal opens the case")
}

func TestAReleaseDecisionReleasesTheHoldOnce(t *testing.T) {
	wt := newWatchTest(t)
	wt.threeLostDisputes()
	var decided View
	wt.update(5*time.Hour, UpdateDecide, Decision{Actor: "trust_safety:tess", Outcome: OutcomeRelease, Reason: "buyer abuse, not the seller"},
		func(v any, err error) {
			require.NoError(t, err)
			decided = v.(View)
		})
	wt.refusedUpdate(6*time.Hour, UpdateDecide, Decision{Actor: "trust_safety:tess", Outcome: OutcomeRelease, Reason: "again"},
		vocab.ErrInvalidTransition, "no burst awaits a decision")
	wt.refusedUpdate(7*time.Hour, vocab.UpdateReleaseHold, vocab.HoldChange{Actor: "trust_safety:tess", Reason: "again"},
		vocab.ErrInvalidTransition, "released")
	v := wt.run(sellerInput())

	require.Len(t, wt.releases, 1, "released once: not again at the hold's end")
	assert.Equal(t, wt.holds[0].Key+"/release", wt.releases[0].Key)
	assert.Equal(t, "ph-1", wt.releases[0].HoldID)
	assert.Equal(t, StatusDecided, decided.Status)
	require.NotNil(t, decided.Hold)
	assert.Equal(t, vocab.PayoutHoldReleased, decided.Hold.State, "the decision answers once carried out")
	assert.Equal(t, "trust_safety:tess", decided.Hold.ReleasedBy)
	require.Len(t, v.Decisions, 1)
	assert.Equal(t, Verdict{Burst: 1, CaseID: "C-1", Actor: "trust_safety:tess", Outcome: OutcomeRelease,
		Reason: "buyer abuse, not the seller", At: startedAt.Add(5 * time.Hour)}, v.Decisions[0])
	assert.Empty(t, wt.locks, "no suspension asked")
	kinds := wt.reported()
	assert.Equal(t, 1, count(kinds, EventDecision))
	assert.Equal(t, 1, count(kinds, EventHoldReleased))
	wt.mu.Lock()
	defer wt.mu.Unlock()
	last, _ := wt.upserts[len(wt.upserts)-1].GetBool(vocab.PayoutHoldKey)
	assert.False(t, last, "the watch no longer holds payouts")
	assert.Equal(t, vocab.PayoutHoldReleased, wt.projected[len(wt.projected)-1].State)
}

func TestKeepAndSuspendKeepsTheHoldLocksTheAccountAndSuspendsTheSeller(t *testing.T) {
	wt := newWatchTest(t)
	wt.threeLostDisputes()
	var kept View
	wt.update(5*time.Hour, UpdateDecide, Decision{Actor: "trust_safety:tess", Outcome: OutcomeKeep, Suspend: true, Reason: "selling stolen accounts"},
		func(v any, err error) {
			require.NoError(t, err)
			kept = v.(View)
		})
	// Past the policy's 14 days the kept hold still holds; trust_safety
	// releases it by hand on day 40.
	var later View
	wt.viewAt(20*day, &later)
	wt.update(40*day, vocab.UpdateReleaseHold, vocab.HoldChange{Actor: "trust_safety:tess", HoldID: "ph-1", Reason: "chargebacks settled", CaseID: "C-PAY"},
		func(v any, err error) {
			require.NoError(t, err)
			assert.Equal(t, vocab.PayoutHoldReleased, v.(vocab.PayoutHold).State)
		})
	wt.run(sellerInput())

	require.NotNil(t, kept.Hold)
	assert.Equal(t, vocab.PayoutHoldHeld, kept.Hold.State)
	assert.Nil(t, kept.Hold.Until, "a kept hold has no end")
	assert.Equal(t, vocab.PayoutHoldHeld, later.Hold.State, "not released at the policy's end")
	require.Len(t, wt.releases, 1, "only trust_safety's release")
	assert.Equal(t, startedAt.Add(40*day), wt.releaseAt[0])

	require.Len(t, wt.locks, 1)
	assert.Equal(t, "S-1", wt.locks[0].AccountID)
	assert.Equal(t, wt.opened[0].Key+"/lock", wt.locks[0].Key)
	assert.Contains(t, wt.locks[0].Reason, "selling stolen accounts")
	require.Len(t, wt.standings, 1)
	assert.Equal(t, sellers.Standing{Suspend: true, Actor: "trust_safety:tess", Reason: wt.locks[0].Reason, CaseID: "C-1"}, wt.standings[0])
	kinds := wt.reported()
	assert.Equal(t, 1, count(kinds, EventHoldKept))
	assert.Equal(t, 1, count(kinds, EventSuspended))
	// The release is told to the hold's case and to the case it was asked from.
	assert.Equal(t, 2, count(kinds, EventHoldReleased))
}

func TestAnOverdueReviewEscalatesOnce(t *testing.T) {
	wt := newWatchTest(t)
	wt.threeLostDisputes()
	var overdue View
	wt.viewAt(3*time.Hour+3*day+time.Minute, &overdue)
	wt.mustUpdate(10*day, UpdateDecide, Decision{Actor: "trust_safety:tess", Outcome: OutcomeRelease, Reason: "cleared"})
	wt.run(sellerInput())
	esc := wt.escalations()
	require.Len(t, esc, 1, "one escalation per review")
	assert.Equal(t, EventReviewOverdue, esc[0].Kind)
	assert.Equal(t, vocab.TeamTrustSafety, esc[0].EscalateTo)
	assert.Contains(t, esc[0].Reason, "disputes_lost")
	assert.True(t, overdue.ReviewOverdue)
	assert.Equal(t, StatusReviewing, overdue.Status)
}

func TestAnUndecidedHoldIsReleasedAtItsEnd(t *testing.T) {
	wt := newWatchTest(t)
	wt.threeLostDisputes()
	var released View
	wt.viewAt(15*day, &released)
	// The review goes on without the hold until someone decides.
	wt.mustUpdate(20*day, UpdateDecide, Decision{Actor: "trust_safety:tess", Outcome: OutcomeRelease, Reason: "cleared"})
	wt.run(sellerInput())
	v := released
	require.Len(t, wt.releases, 1)
	assert.Equal(t, startedAt.Add(3*time.Hour+14*day), wt.releaseAt[0])
	assert.Equal(t, wt.holds[0].Key+"/release", wt.releases[0].Key)
	require.NotNil(t, v.Hold)
	assert.Equal(t, vocab.PayoutHoldReleased, v.Hold.State)
	assert.Equal(t, vocab.SystemActor, v.Hold.ReleasedBy)
	assert.Equal(t, StatusReviewing, v.Status, "the review still awaits its decision")
	assert.Contains(t, wt.reported(), EventHoldReleased)
}

func TestExtendingTheHoldMovesItsEnd(t *testing.T) {
	wt := newWatchTest(t)
	wt.threeLostDisputes()
	until := startedAt.Add(20 * day)
	wt.refusedUpdate(day, vocab.UpdateExtendHold, vocab.HoldChange{Actor: "trust_safety:tess", Reason: "more time", Until: startedAt.Add(10 * day)},
		vocab.ErrInvalidArgument, "until:")
	wt.refusedUpdate(day, vocab.UpdateExtendHold, vocab.HoldChange{Actor: "trust_safety:tess", Until: until},
		vocab.ErrInvalidArgument, "reason:")
	wt.refusedUpdate(day, vocab.UpdateExtendHold, vocab.HoldChange{Actor: "trust_safety:tess", HoldID: "ph-9", Reason: "more time", Until: until},
		vocab.ErrInvalidArgument, "hold_id:")
	wt.update(day, vocab.UpdateExtendHold, vocab.HoldChange{Actor: "trust_safety:tess", Reason: "waiting on the bank", Until: until},
		func(v any, err error) {
			require.NoError(t, err)
			require.NotNil(t, v.(vocab.PayoutHold).Until)
			assert.Equal(t, until, *v.(vocab.PayoutHold).Until)
		})
	wt.mustUpdate(25*day, UpdateDecide, Decision{Actor: "trust_safety:tess", Outcome: OutcomeRelease, Reason: "cleared"})
	wt.run(sellerInput())
	require.Len(t, wt.releases, 1)
	assert.Equal(t, until, wt.releaseAt[0], "released at the new end, not the policy's")
	assert.Contains(t, wt.reported(), EventHoldExtended)
}

func TestABuyerBurstOpensACaseWithoutAHold(t *testing.T) {
	wt := newWatchTest(t)
	for i := range 3 {
		wt.signal(time.Duration(i+1)*time.Hour, "cb-"+strconv.Itoa(i+1), KindChargeback)
	}
	wt.refusedUpdate(4*time.Hour, vocab.UpdateReleaseHold, vocab.HoldChange{Actor: "trust_safety:tess", Reason: "none"},
		vocab.ErrInvalidTransition, "holding no payouts")
	wt.mustUpdate(5*time.Hour, UpdateDecide, Decision{Actor: "trust_safety:tess", Outcome: OutcomeKeep, Suspend: true, Reason: "card testing"})
	v := wt.run(Input{Party: PartyBuyer, PartyID: "B-1", Policy: DefaultPolicy()})
	require.Len(t, wt.opened, 1)
	assert.Equal(t, "B-1", wt.opened[0].AccountID)
	assert.Contains(t, wt.opened[0].Subject, "buyer B-1")
	assert.Contains(t, wt.opened[0].Subject, "chargebacks")
	assert.Empty(t, wt.holds, "a buyer has no payouts to hold")
	assert.Nil(t, v.Hold)
	require.Len(t, wt.locks, 1)
	assert.Equal(t, "B-1", wt.locks[0].AccountID)
	assert.Empty(t, wt.standings, "a buyer has no seller standing")
	assert.Empty(t, wt.upserts, "a buyer's watch keeps no PayoutHold attribute")
}

func TestAPayoutRedirectFiresOnlyInItsOrder(t *testing.T) {
	wt := newWatchTest(t)
	wt.signal(time.Hour, "lp-1", KindLargePayout)
	wt.signal(2*time.Hour, "pd-1", KindPayoutDestinationChanged)
	var notYet View
	wt.viewAt(3*time.Hour, &notYet)
	wt.signal(30*time.Hour, "lp-2", KindLargePayout)
	wt.mustUpdate(31*time.Hour, UpdateDecide, Decision{Actor: "trust_safety:tess", Outcome: OutcomeRelease, Reason: "the seller moved banks"})
	wt.run(sellerInput())
	assert.Equal(t, StatusWatching, notYet.Status, "a payout before the change is no redirect")
	require.Len(t, wt.opened, 1)
	assert.Contains(t, wt.opened[0].Subject, "payout_redirect")
}

func TestBadDecisionsAreRefused(t *testing.T) {
	wt := newWatchTest(t)
	good := Decision{Actor: "trust_safety:tess", Outcome: OutcomeRelease, Reason: "fine"}
	wt.refusedUpdate(30*time.Minute, UpdateDecide, good, vocab.ErrInvalidTransition, "watching")
	wt.threeLostDisputes()
	wt.refusedUpdate(4*time.Hour, UpdateDecide, Decision{Actor: "trust_safety:tess", Outcome: "ban", Reason: "x"},
		vocab.ErrInvalidArgument, "outcome:")
	wt.refusedUpdate(4*time.Hour, UpdateDecide, Decision{Actor: "trust_safety:tess", Outcome: OutcomeKeep, Reason: "  "},
		vocab.ErrInvalidArgument, "reason:")
	wt.refusedUpdate(4*time.Hour, UpdateDecide, Decision{Outcome: OutcomeKeep, Reason: "x"},
		vocab.ErrInvalidArgument, "actor:")
	wt.mustUpdate(5*time.Hour, UpdateDecide, good)
	v := wt.run(sellerInput())
	assert.Len(t, v.Decisions, 1, "only the good decision was taken")
}

func TestABadInputIsRefusedNamingTheFields(t *testing.T) {
	wt := newWatchTest(t)
	in := Input{Party: "shop", Policy: Policy{Rules: []Rule{{Name: "x", Kinds: []string{"refund"}, Window: time.Hour}}}}
	wt.env.ExecuteWorkflow(WorkflowType, in)
	err := wt.env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	assert.Equal(t, vocab.ErrInvalidArgument, appErr.Type())
	for _, field := range []string{"party:", "party_id:", "policy.rules[0].kinds:", "policy.rules[0].threshold:", "policy.review_within:"} {
		assert.Contains(t, appErr.Error(), field)
	}
}

func TestTheWatchContinuesAsNewCarryingItsBurst(t *testing.T) {
	wt := newWatchTest(t)
	wt.threeLostDisputes()
	for i := range signalsPerRun {
		wt.signal(4*time.Hour+time.Duration(i)*time.Second, "rr-"+strconv.Itoa(i), KindRefundRequested)
	}
	wt.env.ExecuteWorkflow(WorkflowType, sellerInput())
	var cont *workflow.ContinueAsNewError
	require.True(t, errors.As(wt.env.GetWorkflowError(), &cont), "%v", wt.env.GetWorkflowError())
	var next Input
	require.NoError(t, converterArg(cont, &next))
	require.NotNil(t, next.Carried)
	c := next.Carried
	assert.Equal(t, StatusReviewing, c.View.Status)
	assert.Equal(t, "C-1", c.View.CaseID)
	require.NotNil(t, c.View.Hold)
	assert.Equal(t, vocab.PayoutHoldHeld, c.View.Hold.State)
	assert.NotEmpty(t, c.Chain)
	assert.LessOrEqual(t, len(c.Timeline), timelineKept)
	assert.Contains(t, c.Seen, "dl-1")
	assert.Len(t, wt.opened, 1, "the refunds joined the open burst")
}

// converterArg decodes the continued run's input.
func converterArg(cont *workflow.ContinueAsNewError, out *Input) error {
	return converter.GetDefaultDataConverter().FromPayloads(cont.Input, out)
}

func kindsOf(events []vocab.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

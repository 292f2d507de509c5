package sellers

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

	"handoff/workflows/vocab"
)

// sellerStart is when the seller signed up: Monday 1 June 2026 09:00 UTC.
var sellerStart = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

const (
	pollEvery    = time.Hour
	reviewWithin = 48 * time.Hour
	holdKey      = "verification/s-1/hold"
	reviewCase   = "C-7"
)

func testSeller() vocab.Customer {
	return vocab.Customer{Email: "sam@example.com", Name: "Sam", Locale: "en"}
}

func testIdentity() Identity {
	return Identity{LegalName: "Sam Seller SARL", Country: "FR", DocumentIDs: []string{"E-1"}, PayoutAccountLast4: "4242"}
}

func verificationInput() VerificationInput {
	return VerificationInput{SellerID: "s-1", Seller: testSeller(), Identity: testIdentity(),
		Policy:       VerificationPolicy{HoldPayouts: true, PollEvery: pollEvery, ReviewWithin: reviewWithin},
		OnboardingID: OnboardingWorkflowID("s-1")}
}

// caseSignal is one case event a seller workflow reported, and to whom.
type caseSignal struct {
	workflowID string
	event      vocab.CaseEvent
}

// verificationTest drives one SellerVerification on the SDK's test
// environment, whose clock jumps to the next timer whenever the workflow
// is blocked. The payment and verification adapters, the review case and
// the onboarding's signal are mocked; every call is kept.
type verificationTest struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu       sync.Mutex
	holds    []vocab.PayoutHoldRequest
	releases []vocab.ReleaseRequest
	checks   []IdentityCheckRequest
	// gets are the times the provider was asked for a check.
	gets      []time.Time
	opened    []vocab.OpenCaseRequest
	sent      []vocab.Notification
	projected []vocab.PayoutHold
	told      []VerificationStatus
	cases     []caseSignal
	upserts   []temporal.SearchAttributes

	// start and get answer the provider's side of the check.
	start func(IdentityCheckRequest) CheckResult
	get   func(n int) CheckResult
	// releaseCall is the release's mock, for a test to delay it with After.
	releaseCall *testsuite.MockCallWrapper
	// steps counts the updates sent, answered those that were refused or
	// completed: every update must be answered by the end.
	steps, answered int
}

func newVerificationTest(t *testing.T) *verificationTest {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	vt := &verificationTest{t: t, env: s.NewTestWorkflowEnvironment()}
	vt.env.SetStartTime(sellerStart)
	vt.env.RegisterWorkflowWithOptions(SellerVerification, workflow.RegisterOptions{Name: WorkflowSellerVerification})
	vt.start = func(r IdentityCheckRequest) CheckResult {
		return CheckResult{ID: "chk-1", SellerID: r.SellerID, Status: CheckPending}
	}
	vt.get = func(int) CheckResult { return CheckResult{ID: "chk-1", SellerID: "s-1", Status: CheckPending} }

	// The adapters' activities are registered by name, then mocked.
	vt.env.RegisterActivityWithOptions(func(context.Context, vocab.PayoutHoldRequest) (vocab.Movement, error) { return vocab.Movement{}, nil },
		activity.RegisterOptions{Name: vocab.ActivityHoldPayouts})
	vt.env.RegisterActivityWithOptions(func(context.Context, vocab.ReleaseRequest) (vocab.Movement, error) { return vocab.Movement{}, nil },
		activity.RegisterOptions{Name: vocab.ActivityReleaseFunds})
	vt.env.RegisterActivityWithOptions(func(context.Context, IdentityCheckRequest) (CheckResult, error) { return CheckResult{}, nil },
		activity.RegisterOptions{Name: ActivityStartIdentityCheck})
	vt.env.RegisterActivityWithOptions(func(context.Context, string) (CheckResult, error) { return CheckResult{}, nil },
		activity.RegisterOptions{Name: ActivityGetIdentityCheck})
	// The review case, the seller's messages and the read model are
	// stand-ins that keep what they are given.
	vt.env.RegisterActivityWithOptions(func(_ context.Context, r vocab.OpenCaseRequest) (vocab.OpenCaseResult, error) {
		vt.mu.Lock()
		defer vt.mu.Unlock()
		vt.opened = append(vt.opened, r)
		return vocab.OpenCaseResult{CaseID: reviewCase}, nil
	}, activity.RegisterOptions{Name: vocab.ActivityOpenCase})
	vt.env.RegisterActivityWithOptions(func(_ context.Context, n vocab.Notification) error {
		vt.mu.Lock()
		defer vt.mu.Unlock()
		vt.sent = append(vt.sent, n)
		return nil
	}, activity.RegisterOptions{Name: vocab.ActivityNotify})
	vt.env.RegisterActivityWithOptions(func(_ context.Context, h vocab.PayoutHold) error {
		vt.mu.Lock()
		defer vt.mu.Unlock()
		vt.projected = append(vt.projected, h)
		return nil
	}, activity.RegisterOptions{Name: vocab.ActivityProjectPayoutHold})

	vt.env.OnActivity(vocab.ActivityHoldPayouts, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r vocab.PayoutHoldRequest) (vocab.Movement, error) {
			vt.mu.Lock()
			defer vt.mu.Unlock()
			vt.holds = append(vt.holds, r)
			return vocab.Movement{ID: "hold-1", Kind: vocab.MovementPayoutHold, Status: vocab.MovementHeld}, nil
		})
	vt.releaseCall = vt.env.OnActivity(vocab.ActivityReleaseFunds, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r vocab.ReleaseRequest) (vocab.Movement, error) {
			vt.mu.Lock()
			defer vt.mu.Unlock()
			vt.releases = append(vt.releases, r)
			return vocab.Movement{ID: "rel-1", Kind: "release", Status: vocab.MovementReleased}, nil
		})
	vt.env.OnActivity(ActivityStartIdentityCheck, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r IdentityCheckRequest) (CheckResult, error) {
			vt.mu.Lock()
			defer vt.mu.Unlock()
			vt.checks = append(vt.checks, r)
			return vt.start(r), nil
		})
	vt.env.OnActivity(ActivityGetIdentityCheck, mock.Anything, mock.Anything).Return(
		func(_ context.Context, id string) (CheckResult, error) {
			vt.mu.Lock()
			defer vt.mu.Unlock()
			vt.gets = append(vt.gets, vt.env.Now().UTC())
			return vt.get(len(vt.gets)), nil
		})

	vt.env.OnSignalExternalWorkflow(mock.Anything, OnboardingWorkflowID("s-1"), "", SignalVerification, mock.Anything).
		Run(func(args mock.Arguments) {
			vt.mu.Lock()
			defer vt.mu.Unlock()
			vt.told = append(vt.told, args.Get(4).(VerificationStatus))
		}).Return(nil)
	vt.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", vocab.SignalCaseEvent, mock.Anything).
		Run(func(args mock.Arguments) {
			vt.mu.Lock()
			defer vt.mu.Unlock()
			vt.cases = append(vt.cases, caseSignal{workflowID: args.String(1), event: args.Get(4).(vocab.CaseEvent)})
		}).Return(nil)
	vt.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		vt.mu.Lock()
		defer vt.mu.Unlock()
		vt.upserts = append(vt.upserts, args.Get(0).(temporal.SearchAttributes))
	}).Return(nil)
	return vt
}

// at runs fn once the verification has run for d.
func (vt *verificationTest) at(d time.Duration, fn func()) { vt.env.RegisterDelayedCallback(fn, d) }

func (vt *verificationTest) update(name string, arg any, check func(any, error)) {
	vt.steps++
	vt.env.UpdateWorkflow(name, name+"-"+strconv.Itoa(vt.steps), &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) {
			vt.answered++
			check(nil, err)
		},
		OnComplete: func(v any, err error) {
			vt.answered++
			check(v, err)
		},
	}, arg)
}

// decide takes trust_safety's decision; it must be accepted.
func (vt *verificationTest) decide(d VerificationDecision) {
	vt.update(UpdateDecide, d, func(v any, err error) {
		require.NoError(vt.t, err, UpdateDecide)
		view, ok := v.(VerificationView)
		require.True(vt.t, ok, "the decision answers the verification")
		assert.NotEqual(vt.t, VerificationNeedsReview, view.Status, "answered once the decision was acted on")
		if view.Status == VerificationPassed && view.Hold != nil {
			assert.Equal(vt.t, vocab.PayoutHoldReleased, view.Hold.State, "a pass answers with its hold released")
		}
	})
}

// refused checks the validator refuses the update with the error type.
func (vt *verificationTest) refused(name string, arg any, errType, contains string) {
	vt.steps++
	accepted := false
	vt.env.UpdateWorkflow(name, name+"-"+strconv.Itoa(vt.steps), &testsuite.TestUpdateCallback{
		OnAccept: func() { accepted = true },
		OnReject: func(err error) {
			vt.answered++
			var appErr *temporal.ApplicationError
			require.True(vt.t, errors.As(err, &appErr), "%s: want a refusal, got %v", name, err)
			assert.Equal(vt.t, errType, appErr.Type(), "%s: %v", name, err)
			assert.Contains(vt.t, appErr.Error(), contains)
		},
		OnComplete: func(any, error) {
			vt.answered++
			assert.False(vt.t, accepted, "%s: want it refused by the validator", name)
		},
	}, arg)
}

func (vt *verificationTest) view() VerificationView {
	res, err := vt.env.QueryWorkflow(QueryVerification)
	require.NoError(vt.t, err)
	var v VerificationView
	require.NoError(vt.t, res.Get(&v))
	return v
}

func (vt *verificationTest) run(in VerificationInput) VerificationView {
	require.NoError(vt.t, vt.env.SetTypedSearchAttributesOnStart(childOptions(in, vocab.TaskQueue).TypedSearchAttributes))
	vt.env.ExecuteWorkflow(WorkflowSellerVerification, in)
	require.True(vt.t, vt.env.IsWorkflowCompleted())
	require.NoError(vt.t, vt.env.GetWorkflowError())
	assert.Equal(vt.t, vt.steps, vt.answered, "every update was answered")
	var v VerificationView
	require.NoError(vt.t, vt.env.GetWorkflowResult(&v))
	return v
}

// signalDecision delivers the provider's decision webhook.
func (vt *verificationTest) signalDecision(r CheckResult) {
	vt.env.SignalWorkflow(SignalCheckDecided, r)
}

// notices answers the events the seller was told about, in order.
func (vt *verificationTest) notices() []string {
	vt.mu.Lock()
	defer vt.mu.Unlock()
	var out []string
	for _, n := range vt.sent {
		out = append(out, n.Event)
	}
	return out
}

// notice answers the first message of event.
func (vt *verificationTest) notice(event string) vocab.Notification {
	vt.mu.Lock()
	defer vt.mu.Unlock()
	i := slices.IndexFunc(vt.sent, func(n vocab.Notification) bool { return n.Event == event })
	require.GreaterOrEqual(vt.t, i, 0, "the seller was never told %s", event)
	return vt.sent[i]
}

// toldStatuses answers the statuses the onboarding heard, in order.
func (vt *verificationTest) toldStatuses() []string {
	vt.mu.Lock()
	defer vt.mu.Unlock()
	var out []string
	for _, s := range vt.told {
		out = append(out, s.Status)
	}
	return out
}

// lastTold answers the last status the onboarding heard.
func (vt *verificationTest) lastTold() VerificationStatus {
	vt.mu.Lock()
	defer vt.mu.Unlock()
	require.NotEmpty(vt.t, vt.told, "the onboarding heard nothing")
	return vt.told[len(vt.told)-1]
}

// escalations answers the case events that escalated a case.
func (vt *verificationTest) escalations() []caseSignal {
	vt.mu.Lock()
	defer vt.mu.Unlock()
	var out []caseSignal
	for _, c := range vt.cases {
		if c.event.EscalateTo != "" {
			out = append(out, c)
		}
	}
	return out
}

// payoutHeldAttr answers the last PayoutHold value the workflow
// published, or the start's when it published none.
func (vt *verificationTest) payoutHeldAttr(started bool) bool {
	vt.mu.Lock()
	defer vt.mu.Unlock()
	held := started
	for _, sa := range vt.upserts {
		if v, ok := sa.GetBool(vocab.PayoutHoldKey); ok {
			held = v
		}
	}
	return held
}

func (vt *verificationTest) releaseCount() int {
	vt.mu.Lock()
	defer vt.mu.Unlock()
	return len(vt.releases)
}

func (vt *verificationTest) getCount() int {
	vt.mu.Lock()
	defer vt.mu.Unlock()
	return len(vt.gets)
}

// timelineEvent answers the only event of kind in events.
func timelineEvent(t *testing.T, events []vocab.Event, kind string) vocab.Event {
	t.Helper()
	var found []vocab.Event
	for _, e := range events {
		if e.Kind == kind {
			found = append(found, e)
		}
	}
	require.Len(t, found, 1, "want one %s in the timeline", kind)
	return found[0]
}

// eventCount answers how many events of kind events holds.
func eventCount(events []vocab.Event, kind string) int {
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// Its notice's id is that of a run before changeCauseIDs, numbered by the
// timeline; TestTheVerificationNoticeIsNamedAfterItsCheck has the new.
func TestVerificationPassReleasesThePayoutHoldOnce(t *testing.T) {
	vt := newVerificationTest(t)
	vt.env.OnGetVersion(changeCauseIDs, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	vt.start = func(r IdentityCheckRequest) CheckResult {
		return CheckResult{ID: "chk-1", SellerID: r.SellerID, Status: CheckPassed, DecidedAt: sellerStart}
	}
	final := vt.run(verificationInput())

	assert.Equal(t, VerificationPassed, final.Status)
	assert.Equal(t, "chk-1", final.CheckID)
	vt.mu.Lock()
	require.Len(t, vt.holds, 1)
	assert.Equal(t, vocab.PayoutHoldRequest{Key: holdKey, SellerID: "s-1", Reason: vocab.HoldReasonVerification}, vt.holds[0])
	require.Len(t, vt.checks, 1)
	assert.Equal(t, "verification/s-1/check", vt.checks[0].Key)
	assert.Equal(t, testIdentity(), vt.checks[0].Identity)
	require.Len(t, vt.releases, 1)
	assert.Equal(t, holdKey+"/release", vt.releases[0].Key)
	assert.Equal(t, "hold-1", vt.releases[0].HoldID)
	assert.Empty(t, vt.gets, "a check passed at once is never polled")
	assert.Empty(t, vt.opened)
	require.NotEmpty(t, vt.projected)
	assert.Equal(t, vocab.PayoutHoldReleased, vt.projected[len(vt.projected)-1].State, "the read model ends with the released hold")
	vt.mu.Unlock()

	require.NotNil(t, final.Hold)
	assert.Equal(t, vocab.PayoutHoldReleased, final.Hold.State)
	assert.Equal(t, vocab.SystemActor, final.Hold.ReleasedBy)
	assert.Equal(t, "identity verified", final.Hold.ReleaseReason)
	assert.Equal(t, 1, eventCount(final.Timeline, EventPayoutsHeld))
	assert.Equal(t, 1, eventCount(final.Timeline, EventPayoutsReleased))

	assert.Equal(t, []string{NoticeVerified}, vt.notices())
	n := vt.notice(NoticeVerified)
	assert.Equal(t, vocab.AudienceCustomer, n.Audience)
	assert.Equal(t, "verification/s-1/"+strconv.Itoa(final.LastSeq)+"/customer", n.ID, "before changeCauseIDs, the id names the event: sent once")
	assert.Equal(t, "s-1", n.Case.Customer.ID, "the seller is the customer")

	assert.Equal(t, []string{VerificationPassed}, vt.toldStatuses())
	assert.Equal(t, "chk-1", vt.lastTold().CheckID)
	assert.False(t, vt.payoutHeldAttr(true), "PayoutHold ends false")
}

func TestLateDecisionArrivesByWebhook(t *testing.T) {
	vt := newVerificationTest(t)
	vt.at(10*time.Minute, func() {
		v := vt.view()
		assert.Equal(t, VerificationChecking, v.Status)
		require.NotNil(t, v.Hold)
		assert.Equal(t, vocab.PayoutHoldHeld, v.Hold.State)
		// A webhook of an earlier attempt is not this check's decision.
		vt.signalDecision(CheckResult{ID: "chk-0", SellerID: "s-1", Status: CheckFailed, Reasons: []string{"old"}})
	})
	vt.at(20*time.Minute, func() {
		assert.Equal(t, VerificationChecking, vt.view().Status, "another check's webhook is dropped")
		vt.signalDecision(CheckResult{ID: "chk-1", SellerID: "s-1", Status: CheckPassed})
	})
	final := vt.run(verificationInput())

	assert.Equal(t, VerificationPassed, final.Status)
	assert.Equal(t, 0, vt.getCount(), "the webhook came before PollEvery: the provider is not asked")
	assert.Equal(t, 1, vt.releaseCount())
	decided := timelineEvent(t, final.Timeline, EventCheckDecided)
	assert.Equal(t, sellerStart.Add(20*time.Minute), decided.At.UTC())
	assert.Equal(t, "provider", decided.Actor)
	assert.Equal(t, []string{VerificationChecking, VerificationPassed}, vt.toldStatuses())
	assert.Equal(t, []string{NoticeVerified}, vt.notices())
}

func TestLostWebhookIsCaughtByPolling(t *testing.T) {
	vt := newVerificationTest(t)
	vt.get = func(n int) CheckResult {
		if n < 2 {
			return CheckResult{ID: "chk-1", SellerID: "s-1", Status: CheckPending}
		}
		return CheckResult{ID: "chk-1", SellerID: "s-1", Status: CheckPassed}
	}
	vt.at(pollEvery-time.Minute, func() {
		assert.Equal(t, 0, vt.getCount(), "the provider is not asked before PollEvery")
	})
	final := vt.run(verificationInput())

	assert.Equal(t, VerificationPassed, final.Status)
	vt.mu.Lock()
	assert.Equal(t, []time.Time{sellerStart.Add(pollEvery), sellerStart.Add(2 * pollEvery)}, vt.gets,
		"asked every PollEvery until it decides")
	vt.mu.Unlock()
	assert.Equal(t, 1, vt.releaseCount())
	assert.Equal(t, sellerStart.Add(2*pollEvery), timelineEvent(t, final.Timeline, EventCheckDecided).At.UTC())
}

func TestNeedsReviewOpensOneCaseAndTrustSafetyDecides(t *testing.T) {
	vt := newVerificationTest(t)
	vt.start = func(r IdentityCheckRequest) CheckResult {
		return CheckResult{ID: "chk-1", SellerID: r.SellerID, Status: CheckNeedsReview, Reasons: []string{"document blurred"}}
	}
	var before VerificationView
	vt.at(time.Hour, func() {
		before = vt.view()
		assert.Equal(t, VerificationNeedsReview, before.Status)
		assert.Equal(t, reviewCase, before.CaseID)
		require.NotNil(t, before.ReviewDue)
		assert.Equal(t, sellerStart.Add(reviewWithin), before.ReviewDue.UTC())
		require.NotNil(t, before.Hold)
		assert.Equal(t, reviewCase, before.Hold.CaseID, "the hold names its review case")
		vt.refused(UpdateDecide, VerificationDecision{Actor: "trust_safety:tess", Outcome: "maybe", Reason: "unsure"},
			vocab.ErrInvalidArgument, "outcome")
		vt.refused(UpdateDecide, VerificationDecision{Actor: "trust_safety:tess", Outcome: DecisionPass},
			vocab.ErrInvalidArgument, "reason")
	})
	vt.at(2*time.Hour, func() {
		v := vt.view()
		assert.Equal(t, VerificationNeedsReview, v.Status, "a refused decision changes nothing")
		assert.Equal(t, before.LastSeq, v.LastSeq)
		assert.Nil(t, v.Decision)
		vt.decide(VerificationDecision{Actor: "trust_safety:tess", Outcome: DecisionPass, Reason: "documents checked by hand"})
		vt.refused(UpdateDecide, VerificationDecision{Actor: "trust_safety:rob", Outcome: DecisionFail, Reason: "second opinion"},
			vocab.ErrInvalidTransition, "cannot decide")
	})
	final := vt.run(verificationInput())

	assert.Equal(t, VerificationPassed, final.Status)
	require.NotNil(t, final.Decision)
	assert.Equal(t, "trust_safety:tess", final.Decision.Actor)
	assert.Equal(t, DecisionPass, final.Decision.Outcome)
	assert.Equal(t, sellerStart.Add(2*time.Hour), final.Decision.At.UTC())
	assert.Equal(t, 1, eventCount(final.Timeline, EventVerificationDecision))
	vt.mu.Lock()
	require.Len(t, vt.opened, 1)
	assert.Equal(t, vocab.CategorySellerOnboarding, vt.opened[0].Category)
	assert.Equal(t, "verification/s-1/review-case", vt.opened[0].Key)
	assert.Contains(t, vt.opened[0].Description, "document blurred")
	require.NotNil(t, vt.opened[0].Customer)
	assert.Equal(t, "s-1", vt.opened[0].Customer.ID)
	require.Len(t, vt.releases, 1)
	assert.Equal(t, holdKey+"/release", vt.releases[0].Key)
	require.Len(t, vt.cases, 1, "the case hears how the check ended")
	assert.Equal(t, vocab.CaseWorkflowID(reviewCase), vt.cases[0].workflowID)
	assert.Equal(t, EventCheckDecided, vt.cases[0].event.Kind)
	assert.Equal(t, CheckPassed, vt.cases[0].event.Payload["status"])
	vt.mu.Unlock()
	assert.Empty(t, vt.escalations(), "decided in time")
	assert.Equal(t, []string{VerificationNeedsReview, VerificationPassed}, vt.toldStatuses())
	assert.Equal(t, reviewCase, vt.lastTold().CaseID)
	assert.Equal(t, "trust_safety:tess", vt.lastTold().Actor)
	assert.Equal(t, []string{NoticeVerified}, vt.notices())
}

func TestOverdueReviewEscalatesOnce(t *testing.T) {
	vt := newVerificationTest(t)
	vt.start = func(r IdentityCheckRequest) CheckResult {
		return CheckResult{ID: "chk-1", SellerID: r.SellerID, Status: CheckNeedsReview, Reasons: []string{"name mismatch"}}
	}
	vt.at(reviewWithin-time.Minute, func() {
		assert.Empty(t, vt.escalations(), "not overdue yet")
		assert.False(t, vt.view().ReviewOverdue)
	})
	vt.at(reviewWithin+time.Minute, func() {
		esc := vt.escalations()
		require.Len(t, esc, 1)
		assert.Equal(t, vocab.CaseWorkflowID(reviewCase), esc[0].workflowID)
		assert.Equal(t, vocab.TeamTrustSafety, esc[0].event.EscalateTo)
		assert.Equal(t, EventReviewOverdue, esc[0].event.Kind)
		assert.True(t, vt.view().ReviewOverdue)
	})
	vt.at(reviewWithin+30*24*time.Hour, func() {
		assert.Len(t, vt.escalations(), 1, "overdue escalates once, however long")
		assert.Equal(t, VerificationNeedsReview, vt.view().Status)
		vt.decide(VerificationDecision{Actor: "trust_safety:tess", Outcome: DecisionFail, Reason: "documents forged"})
	})
	vt.at(reviewWithin+31*24*time.Hour, func() {
		assert.Equal(t, 0, vt.releaseCount(), "a failed seller's payouts stay held")
		v := vt.view()
		require.NotNil(t, v.Hold)
		assert.Equal(t, vocab.PayoutHoldHeld, v.Hold.State)
		assert.True(t, vt.payoutHeldAttr(true))
		vt.update(vocab.UpdateReleaseHold, vocab.HoldChange{Actor: "trust_safety:tess", HoldID: "hold-1", Reason: "closing balance checked"},
			func(_ any, err error) { require.NoError(t, err) })
	})
	final := vt.run(verificationInput())

	assert.Equal(t, VerificationFailed, final.Status)
	assert.Equal(t, []string{"documents forged"}, final.Reasons)
	overdue := timelineEvent(t, final.Timeline, EventReviewOverdue)
	assert.Equal(t, sellerStart.Add(reviewWithin), overdue.At.UTC(), "escalated exactly at the review deadline")
	assert.Equal(t, []string{NoticeVerificationFailed}, vt.notices())
	assert.Contains(t, vt.notice(NoticeVerificationFailed).Detail, "documents forged")
	assert.Equal(t, 1, vt.releaseCount(), "trust_safety's release, once")
	assert.Equal(t, VerificationFailed, vt.lastTold().Status)
}

func TestFailKeepsTheHoldAndTellsTheSellerWhy(t *testing.T) {
	vt := newVerificationTest(t)
	vt.start = func(r IdentityCheckRequest) CheckResult {
		return CheckResult{ID: "chk-1", SellerID: r.SellerID, Status: CheckFailed,
			Reasons: []string{"name does not match the document", "document expired"}}
	}
	vt.at(90*24*time.Hour, func() {
		assert.Equal(t, VerificationFailed, vt.view().Status)
		assert.Equal(t, 0, vt.releaseCount(), "the hold outlives the fail until trust_safety releases it")
		assert.True(t, vt.payoutHeldAttr(true), "PayoutHold stays true")
		vt.update(vocab.UpdateReleaseHold, vocab.HoldChange{Actor: "trust_safety:tess", HoldID: "hold-1", Reason: "closing balance checked"},
			func(_ any, err error) { require.NoError(t, err) })
	})
	final := vt.run(verificationInput())

	assert.Equal(t, VerificationFailed, final.Status)
	assert.Equal(t, 1, vt.releaseCount())
	require.NotNil(t, final.Hold)
	assert.Equal(t, vocab.PayoutHoldReleased, final.Hold.State)
	assert.Equal(t, "trust_safety:tess", final.Hold.ReleasedBy)
	assert.Equal(t, []string{NoticeVerificationFailed}, vt.notices())
	detail := vt.notice(NoticeVerificationFailed).Detail
	assert.Contains(t, detail, "name does not match the document")
	assert.Contains(t, detail, "document expired")
	told := vt.lastTold()
	assert.Equal(t, VerificationFailed, told.Status)
	assert.Equal(t, []string{"name does not match the document", "document expired"}, told.Reasons)
	vt.mu.Lock()
	assert.Empty(t, vt.opened, "a clear fail needs no review case")
	vt.mu.Unlock()
}

func TestTrustSafetyReleasesTheHoldBeforeThePass(t *testing.T) {
	vt := newVerificationTest(t)
	release := vocab.HoldChange{Actor: "trust_safety:tess", HoldID: "hold-1", Reason: "long-standing seller", CaseID: "C-3"}
	vt.at(10*time.Minute, func() {
		vt.refused(vocab.UpdateExtendHold, vocab.HoldChange{Actor: "trust_safety:tess", HoldID: "hold-1", Reason: "more time",
			Until: sellerStart.Add(24 * time.Hour)}, vocab.ErrInvalidTransition, "cannot extend-hold")
		unknown := release
		unknown.HoldID = "hold-9"
		vt.refused(vocab.UpdateReleaseHold, unknown, vocab.ErrInvalidArgument, "hold-9")
		vt.update(vocab.UpdateReleaseHold, release, func(v any, err error) {
			require.NoError(t, err)
			h, ok := v.(vocab.PayoutHold)
			require.True(t, ok, "the release answers the hold")
			assert.Equal(t, vocab.PayoutHoldReleased, h.State)
			assert.Equal(t, "trust_safety:tess", h.ReleasedBy)
		})
	})
	vt.at(20*time.Minute, func() {
		v := vt.view()
		assert.Equal(t, VerificationChecking, v.Status, "the check goes on")
		assert.Equal(t, vocab.PayoutHoldReleased, v.Hold.State)
		assert.False(t, vt.payoutHeldAttr(true), "PayoutHold is false once released")
		vt.refused(vocab.UpdateReleaseHold, release, vocab.ErrInvalidTransition, "released")
		vt.signalDecision(CheckResult{ID: "chk-1", SellerID: "s-1", Status: CheckPassed})
	})
	final := vt.run(verificationInput())

	assert.Equal(t, VerificationPassed, final.Status)
	vt.mu.Lock()
	require.Len(t, vt.releases, 1, "the pass releases nothing more")
	assert.Equal(t, "long-standing seller", vt.releases[0].Reason)
	require.Len(t, vt.cases, 1)
	assert.Equal(t, vocab.CaseWorkflowID("C-3"), vt.cases[0].workflowID, "the seller_payment case hears of the release")
	assert.Equal(t, EventPayoutsReleased, vt.cases[0].event.Kind)
	vt.mu.Unlock()
	require.NotNil(t, final.Hold)
	assert.Equal(t, "trust_safety:tess", final.Hold.ReleasedBy)
	assert.Equal(t, "long-standing seller", final.Hold.ReleaseReason)
	assert.Equal(t, sellerStart.Add(10*time.Minute), final.Hold.ReleasedAt.UTC())
	assert.Equal(t, "trust_safety:tess", timelineEvent(t, final.Timeline, EventPayoutsReleased).Actor)
	assert.Equal(t, []string{NoticeVerified}, vt.notices())
}

func TestAPassDuringTrustSafetysReleaseReleasesOnce(t *testing.T) {
	vt := newVerificationTest(t)
	// The provider takes five minutes to release: the pass comes meanwhile.
	vt.releaseCall.After(5 * time.Minute)
	vt.at(10*time.Minute, func() {
		vt.update(vocab.UpdateReleaseHold, vocab.HoldChange{Actor: "trust_safety:tess", HoldID: "hold-1", Reason: "long-standing seller"},
			func(_ any, err error) { require.NoError(t, err) })
	})
	vt.at(12*time.Minute, func() {
		vt.signalDecision(CheckResult{ID: "chk-1", SellerID: "s-1", Status: CheckPassed})
	})
	final := vt.run(verificationInput())

	assert.Equal(t, VerificationPassed, final.Status)
	assert.Equal(t, 1, vt.releaseCount(), "one release, however the two meet")
	assert.Equal(t, 1, eventCount(final.Timeline, EventPayoutsReleased))
	assert.Equal(t, "trust_safety:tess", final.Hold.ReleasedBy)
}

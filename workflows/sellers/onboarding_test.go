package sellers

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

const onboardingCase = "C-9"

func onboardingInput(steps ...StepPolicy) OnboardingInput {
	if len(steps) == 0 {
		steps = []StepPolicy{
			{Name: StepAccountCreated, Due: 24 * time.Hour, EscalateAfter: 24 * time.Hour},
			{Name: StepIdentityVerified, Due: 72 * time.Hour, EscalateAfter: 48 * time.Hour},
			{Name: StepPayoutVerified, Due: 72 * time.Hour, EscalateAfter: 48 * time.Hour},
			{Name: StepFirstListing, Due: 7 * 24 * time.Hour, EscalateAfter: 7 * 24 * time.Hour},
			{Name: StepFirstOrderShipped, Due: 30 * 24 * time.Hour, EscalateAfter: 14 * 24 * time.Hour},
		}
	}
	return OnboardingInput{SellerID: "s-1", Seller: testSeller(), Region: "fr", Identity: testIdentity(),
		Policy:    Policy{Steps: steps, Verification: VerificationPolicy{HoldPayouts: true, PollEvery: pollEvery, ReviewWithin: reviewWithin}},
		StartedAt: sellerStart, StartedBy: "api:signup"}
}

// onboardingTest drives one SellerOnboarding on the SDK's test
// environment. Its verification child is mocked (the test signals the
// check's statuses itself); the case, the seller's messages and the read
// model are stand-ins that keep what they are given.
type onboardingTest struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu        sync.Mutex
	children  []VerificationInput
	sent      []vocab.Notification
	opened    []vocab.OpenCaseRequest
	projected []SellerProjection
	cases     []caseSignal
}

func newOnboardingTest(t *testing.T) *onboardingTest {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	ot := &onboardingTest{t: t, env: s.NewTestWorkflowEnvironment()}
	ot.env.SetStartTime(sellerStart)
	ot.env.RegisterWorkflowWithOptions(SellerOnboarding, workflow.RegisterOptions{Name: WorkflowSellerOnboarding})
	ot.env.RegisterWorkflowWithOptions(SellerVerification, workflow.RegisterOptions{Name: WorkflowSellerVerification})
	ot.env.RegisterActivityWithOptions(func(_ context.Context, n vocab.Notification) error {
		ot.mu.Lock()
		defer ot.mu.Unlock()
		ot.sent = append(ot.sent, n)
		return nil
	}, activity.RegisterOptions{Name: vocab.ActivityNotify})
	ot.env.RegisterActivityWithOptions(func(_ context.Context, r vocab.OpenCaseRequest) (vocab.OpenCaseResult, error) {
		ot.mu.Lock()
		defer ot.mu.Unlock()
		ot.opened = append(ot.opened, r)
		return vocab.OpenCaseResult{CaseID: onboardingCase}, nil
	}, activity.RegisterOptions{Name: vocab.ActivityOpenCase})
	ot.env.RegisterActivityWithOptions(func(_ context.Context, p SellerProjection) error {
		ot.mu.Lock()
		defer ot.mu.Unlock()
		ot.projected = append(ot.projected, p)
		return nil
	}, activity.RegisterOptions{Name: ActivityProjectSeller})
	// The child only has to start: the test tells the onboarding how the
	// check goes.
	ot.env.OnWorkflow(WorkflowSellerVerification, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in VerificationInput) (VerificationView, error) {
			ot.mu.Lock()
			defer ot.mu.Unlock()
			ot.children = append(ot.children, in)
			return VerificationView{SellerID: in.SellerID, Status: VerificationChecking}, nil
		})
	ot.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", vocab.SignalCaseEvent, mock.Anything).
		Run(func(args mock.Arguments) {
			ot.mu.Lock()
			defer ot.mu.Unlock()
			ot.cases = append(ot.cases, caseSignal{workflowID: args.String(1), event: args.Get(4).(vocab.CaseEvent)})
		}).Return(nil)
	return ot
}

// at runs fn once the onboarding has run for d.
func (ot *onboardingTest) at(d time.Duration, fn func()) { ot.env.RegisterDelayedCallback(fn, d) }

// event delivers the marketplace's event id of kind at d.
func (ot *onboardingTest) event(d time.Duration, id, kind string) {
	ot.at(d, func() {
		ot.env.SignalWorkflow(SignalSellerEvent, SellerEvent{ID: id, Kind: kind, At: sellerStart.Add(d)})
	})
}

// verification tells the onboarding, at d, where the check is.
func (ot *onboardingTest) verification(d time.Duration, status string, reasons ...string) {
	ot.at(d, func() {
		ot.env.SignalWorkflow(SignalVerification, VerificationStatus{Status: status, CheckID: "chk-1", Reasons: reasons,
			Actor: "provider", At: sellerStart.Add(d)})
	})
}

// closeAt fails the check at d: the onboarding only ends when the seller
// is closed.
func (ot *onboardingTest) closeAt(d time.Duration) {
	ot.verification(d, VerificationFailed, "test over")
}

func (ot *onboardingTest) view() SellerView {
	res, err := ot.env.QueryWorkflow(QuerySeller)
	require.NoError(ot.t, err)
	var v SellerView
	require.NoError(ot.t, res.Get(&v))
	return v
}

func (ot *onboardingTest) run(in OnboardingInput) SellerView {
	ot.env.SetStartWorkflowOptions(StartOptions(in, vocab.TaskQueue))
	ot.env.ExecuteWorkflow(WorkflowSellerOnboarding, in)
	require.True(ot.t, ot.env.IsWorkflowCompleted())
	require.NoError(ot.t, ot.env.GetWorkflowError())
	var v SellerView
	require.NoError(ot.t, ot.env.GetWorkflowResult(&v))
	return v
}

// reminders answers the steps the seller was reminded of, in order.
func (ot *onboardingTest) reminders() []string {
	ot.mu.Lock()
	defer ot.mu.Unlock()
	var out []string
	for _, n := range ot.sent {
		require.Equal(ot.t, NoticeStepReminder, n.Event, "the onboarding only sends reminders")
		out = append(out, n.Detail)
	}
	return out
}

func (ot *onboardingTest) openedCases() []vocab.OpenCaseRequest {
	ot.mu.Lock()
	defer ot.mu.Unlock()
	return slices.Clone(ot.opened)
}

// reported answers the kinds of the events the onboarding case heard.
func (ot *onboardingTest) reported() []string {
	ot.mu.Lock()
	defer ot.mu.Unlock()
	var out []string
	for _, c := range ot.cases {
		assert.Equal(ot.t, vocab.CaseWorkflowID(onboardingCase), c.workflowID)
		out = append(out, c.event.Kind)
	}
	return out
}

func stepOf(t *testing.T, v SellerView, name string) Step {
	t.Helper()
	i := slices.IndexFunc(v.Steps, func(s Step) bool { return s.Name == name })
	require.GreaterOrEqual(t, i, 0, "no step %s", name)
	return v.Steps[i]
}

// Its reminders' ids are those of a run before changeCauseIDs, numbered
// by the timeline; TestAStepReminderIsNamedAfterItsDeadline has the new.
func TestStalledStepRemindsThenOpensOneCase(t *testing.T) {
	ot := newOnboardingTest(t)
	ot.env.OnGetVersion(changeCauseIDs, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	in := onboardingInput(
		StepPolicy{Name: StepAccountCreated, Due: 24 * time.Hour, EscalateAfter: 24 * time.Hour},
		StepPolicy{Name: StepIdentityVerified, Due: 72 * time.Hour, EscalateAfter: 48 * time.Hour},
		StepPolicy{Name: StepPayoutVerified, Due: 72 * time.Hour, EscalateAfter: 48 * time.Hour},
		StepPolicy{Name: StepFirstListing, Due: time.Hour, EscalateAfter: time.Hour},
		StepPolicy{Name: StepFirstOrderShipped, Due: 3 * time.Hour, EscalateAfter: time.Hour},
	)
	ot.event(time.Minute, "e-1", EventKindAccountCreated)
	ot.event(2*time.Minute, "e-2", EventKindPayoutDetailsVerified)
	ot.at(time.Hour-time.Minute, func() {
		assert.Empty(t, ot.reminders(), "not due yet")
	})
	ot.at(time.Hour+time.Minute, func() {
		assert.Equal(t, []string{StepFirstListing}, ot.reminders(), "one reminder, naming the step")
		assert.Equal(t, StepOverdue, stepOf(t, ot.view(), StepFirstListing).Status)
		assert.Empty(t, ot.openedCases(), "the seller gets EscalateAfter to act on the reminder")
	})
	ot.at(2*time.Hour-time.Minute, func() {
		assert.Empty(t, ot.openedCases())
	})
	ot.at(2*time.Hour+time.Minute, func() {
		opened := ot.openedCases()
		require.Len(t, opened, 1)
		assert.Equal(t, "seller/s-1/onboarding-case", opened[0].Key)
		assert.Equal(t, vocab.CategorySellerOnboarding, opened[0].Category)
		assert.Contains(t, opened[0].Subject, StepFirstListing)
		require.NotNil(t, opened[0].Customer)
		assert.Equal(t, "s-1", opened[0].Customer.ID)
		v := ot.view()
		assert.Equal(t, onboardingCase, v.CaseID)
		listing := stepOf(t, v, StepFirstListing)
		assert.Equal(t, StepStalled, listing.Status)
		require.NotNil(t, listing.StalledAt)
		assert.Equal(t, sellerStart.Add(2*time.Hour), listing.StalledAt.UTC())
		assert.Len(t, ot.reminders(), 1, "the stall reminds nobody again")
	})
	ot.at(3*time.Hour+time.Minute, func() {
		assert.Equal(t, []string{StepFirstListing, StepFirstOrderShipped}, ot.reminders())
	})
	ot.at(4*time.Hour+time.Minute, func() {
		assert.Len(t, ot.openedCases(), 1, "a second stall joins the seller's case")
		assert.Equal(t, []string{EventStepStalled}, ot.reported())
		ot.mu.Lock()
		assert.Equal(t, StepFirstOrderShipped, ot.cases[0].event.Payload["steps"])
		assert.Equal(t, "s-1", ot.cases[0].event.Payload["seller_id"])
		ot.mu.Unlock()
	})
	ot.event(5*time.Hour, "e-3", EventKindListingPublished)
	ot.at(5*time.Hour+time.Minute, func() {
		assert.Equal(t, []string{EventStepStalled, EventStepDone}, ot.reported(), "the case hears a stalled step is done")
		assert.Equal(t, StepDone, stepOf(t, ot.view(), StepFirstListing).Status)
	})
	ot.closeAt(6 * time.Hour)
	final := ot.run(in)

	assert.Len(t, ot.openedCases(), 1)
	assert.Len(t, ot.reminders(), 2)
	assert.Equal(t, 1, eventCount(final.Timeline, EventCaseOpened))
	assert.Equal(t, 2, eventCount(final.Timeline, EventStepOverdue))
	assert.Equal(t, 2, eventCount(final.Timeline, EventStepStalled))
	ot.mu.Lock()
	first := ot.sent[0]
	ot.mu.Unlock()
	assert.Equal(t, vocab.AudienceCustomer, first.Audience)
	assert.Equal(t, vocab.CategorySellerOnboarding, first.Case.Category)
	assert.Equal(t, "s-1", first.Case.Customer.ID)
	overdue := timelineEvent(t, final.Timeline[:slices.IndexFunc(final.Timeline, func(e vocab.Event) bool {
		return e.Kind == EventStepStalled
	})], EventStepOverdue)
	assert.Equal(t, "seller/s-1/"+strconv.Itoa(overdue.Seq)+"/customer", first.ID, "before changeCauseIDs, the reminder's id names its event")
}

func TestEventsCompleteStepsOnceAndTheSellerBecomesActive(t *testing.T) {
	ot := newOnboardingTest(t)
	ot.at(time.Second, func() {
		v := ot.view()
		assert.Equal(t, SellerStatusOnboarding, v.Status)
		assert.Len(t, v.Steps, len(Steps))
	})
	ot.event(time.Minute, "e-1", EventKindAccountCreated)
	ot.event(2*time.Minute, "e-2", EventKindPayoutDetailsVerified)
	// A redelivery of e-2 under another kind is still e-2.
	ot.event(3*time.Minute, "e-2", EventKindListingPublished)
	ot.event(4*time.Minute, "e-3", "profile_updated")
	ot.at(4*time.Minute+time.Second, func() {
		v := ot.view()
		assert.Equal(t, StepPending, stepOf(t, v, StepFirstListing).Status, "a seen id changes nothing")
		assert.Equal(t, 2, eventCount(v.Timeline, EventStepDone), "an unknown kind is ignored")
	})
	ot.event(5*time.Minute, "e-4", EventKindListingPublished)
	ot.verification(6*time.Minute, VerificationPassed)
	ot.at(6*time.Minute+time.Second, func() {
		v := ot.view()
		assert.Equal(t, SellerStatusOnboarding, v.Status, "one step is still open")
		assert.Equal(t, StepDone, stepOf(t, v, StepIdentityVerified).Status)
		assert.Equal(t, VerificationPassed, v.Verification.Status)
	})
	ot.event(7*time.Minute, "e-5", EventKindOrderShipped)
	ot.event(8*time.Minute, "e-6", EventKindOrderShipped)
	ot.event(9*time.Minute, "e-1", EventKindAccountCreated)
	var active SellerView
	ot.at(10*time.Minute, func() {
		active = ot.view()
	})
	ot.closeAt(11 * time.Minute)
	ot.run(onboardingInput())

	assert.Equal(t, SellerStatusActive, active.Status)
	assert.Equal(t, 1, eventCount(active.Timeline, EventOnboarded))
	assert.Equal(t, sellerStart.Add(7*time.Minute), timelineEvent(t, active.Timeline, EventOnboarded).At.UTC())
	assert.Equal(t, len(Steps), eventCount(active.Timeline, EventStepDone), "each step once")
	for _, s := range active.Steps {
		assert.Equal(t, StepDone, s.Status, s.Name)
	}
	listing := stepOf(t, active, StepFirstListing)
	require.NotNil(t, listing.DoneAt)
	assert.Equal(t, sellerStart.Add(5*time.Minute), listing.DoneAt.UTC(), "done by e-4, not by the redelivered e-2")
	shipped := stepOf(t, active, StepFirstOrderShipped)
	assert.Equal(t, sellerStart.Add(7*time.Minute), shipped.DoneAt.UTC())
	assert.Empty(t, ot.reminders(), "every step done before its deadline")
	assert.Empty(t, ot.openedCases())
}

func TestFailedVerificationClosesTheSeller(t *testing.T) {
	ot := newOnboardingTest(t)
	ot.event(time.Minute, "e-1", EventKindAccountCreated)
	ot.verification(2*time.Minute, VerificationChecking)
	ot.verification(2*time.Hour, VerificationFailed, "document expired")
	final := ot.run(onboardingInput())

	assert.Equal(t, SellerStatusClosed, final.Status)
	assert.Contains(t, final.Reason, "document expired")
	assert.Equal(t, VerificationFailed, final.Verification.Status)
	closed := timelineEvent(t, final.Timeline, EventClosed)
	assert.Equal(t, sellerStart.Add(2*time.Hour), closed.At.UTC())
	assert.Equal(t, "provider", closed.Actor)
	assert.Equal(t, final.LastSeq, final.Timeline[len(final.Timeline)-1].Seq, "the result carries the whole timeline")
	assert.Equal(t, StepPending, stepOf(t, final, StepIdentityVerified).Status)

	ot.mu.Lock()
	defer ot.mu.Unlock()
	require.Len(t, ot.children, 1, "the identity check started once")
	child := ot.children[0]
	assert.Equal(t, "s-1", child.SellerID)
	assert.Equal(t, OnboardingWorkflowID("s-1"), child.OnboardingID, "the check reports to this onboarding")
	assert.Equal(t, onboardingInput().Policy.Verification, child.Policy)
	assert.Equal(t, testIdentity(), child.Identity)
	assert.Empty(t, ot.cases, "no case was open to tell")
	require.NotEmpty(t, ot.projected)
	assert.Equal(t, SellerStatusClosed, ot.projected[len(ot.projected)-1].Seller.Status, "the read model ends closed")
}

func TestSuspensionAndReinstatement(t *testing.T) {
	ot := newOnboardingTest(t)
	standing := func(d time.Duration, s Standing) {
		ot.at(d, func() { ot.env.SignalWorkflow(SignalStanding, s) })
	}
	ot.event(time.Minute, "e-1", EventKindAccountCreated)
	ot.event(2*time.Minute, "e-2", EventKindPayoutDetailsVerified)
	ot.verification(3*time.Minute, VerificationPassed)
	ot.event(4*time.Minute, "e-3", EventKindListingPublished)
	standing(time.Hour, Standing{Suspend: true, Actor: "trust_safety:tess", Reason: "fraud report", CaseID: "C-4"})
	standing(2*time.Hour, Standing{Suspend: true, Actor: "fraud", Reason: "second report"})
	ot.at(2*time.Hour+time.Minute, func() {
		v := ot.view()
		assert.Equal(t, SellerStatusSuspended, v.Status)
		assert.Equal(t, "fraud report", v.Reason, "a suspended seller is not suspended again")
		assert.Equal(t, 1, eventCount(v.Timeline, EventSuspended))
	})
	// The last step completes while suspended: the seller stays suspended.
	ot.event(3*time.Hour, "e-4", EventKindOrderShipped)
	ot.at(3*time.Hour+time.Minute, func() {
		v := ot.view()
		assert.Equal(t, SellerStatusSuspended, v.Status)
		assert.Equal(t, 1, eventCount(v.Timeline, EventOnboarded), "the checklist is complete, once")
	})
	standing(4*time.Hour, Standing{Actor: "trust_safety:tess", Reason: "report unfounded", CaseID: "C-4"})
	standing(5*time.Hour, Standing{Actor: "trust_safety:tess", Reason: "again"})
	var reinstated SellerView
	ot.at(5*time.Hour+time.Minute, func() { reinstated = ot.view() })
	ot.closeAt(6 * time.Hour)
	final := ot.run(onboardingInput())

	assert.Equal(t, SellerStatusActive, reinstated.Status, "reinstated with every step done")
	assert.Empty(t, reinstated.Reason)
	assert.Equal(t, 1, eventCount(reinstated.Timeline, EventReinstated), "an active seller is not reinstated again")
	assert.Equal(t, 1, eventCount(reinstated.Timeline, EventOnboarded))
	suspended := timelineEvent(t, final.Timeline, EventSuspended)
	assert.Equal(t, "trust_safety:tess", suspended.Actor)
	assert.Equal(t, "C-4", suspended.Payload["case_id"])
	assert.Equal(t, sellerStart.Add(4*time.Hour), timelineEvent(t, final.Timeline, EventReinstated).At.UTC())
	assert.Equal(t, SellerStatusClosed, final.Status)
}

func TestSuspensionDuringOnboardingReinstatesToOnboarding(t *testing.T) {
	ot := newOnboardingTest(t)
	ot.event(time.Minute, "e-1", EventKindAccountCreated)
	ot.at(time.Hour, func() {
		ot.env.SignalWorkflow(SignalStanding, Standing{Suspend: true, Actor: "fraud", Reason: "velocity"})
	})
	ot.at(2*time.Hour, func() {
		ot.env.SignalWorkflow(SignalStanding, Standing{Actor: "trust_safety:tess", Reason: "cleared"})
	})
	var v SellerView
	ot.at(2*time.Hour+time.Minute, func() { v = ot.view() })
	ot.closeAt(3 * time.Hour)
	ot.run(onboardingInput())

	assert.Equal(t, SellerStatusOnboarding, v.Status, "steps are still open")
	assert.Zero(t, eventCount(v.Timeline, EventOnboarded))
}

func TestProjectionCarriesEveryEventOnce(t *testing.T) {
	ot := newOnboardingTest(t)
	in := onboardingInput(
		StepPolicy{Name: StepAccountCreated, Due: time.Hour, EscalateAfter: time.Hour},
		StepPolicy{Name: StepIdentityVerified, Due: 72 * time.Hour, EscalateAfter: 48 * time.Hour},
		StepPolicy{Name: StepFirstListing, Due: time.Hour, EscalateAfter: time.Hour},
	)
	ot.event(time.Minute, "e-1", EventKindAccountCreated)
	ot.event(time.Minute, "e-1", EventKindAccountCreated)
	ot.verification(2*time.Minute, VerificationChecking)
	ot.verification(3*time.Minute, VerificationNeedsReview)
	ot.at(3*time.Hour, func() {
		ot.env.SignalWorkflow(SignalStanding, Standing{Suspend: true, Actor: "fraud", Reason: "velocity"})
		ot.env.SignalWorkflow(SignalSellerEvent, SellerEvent{ID: "e-2", Kind: EventKindListingPublished})
		ot.env.SignalWorkflow(SignalStanding, Standing{Actor: "trust_safety:tess", Reason: "cleared"})
	})
	ot.verification(4*time.Hour, VerificationPassed)
	ot.closeAt(5 * time.Hour)
	final := ot.run(in)

	ot.mu.Lock()
	defer ot.mu.Unlock()
	require.NotEmpty(t, ot.projected)
	seen := map[int]int{}
	for _, p := range ot.projected {
		assert.Empty(t, p.Seller.Timeline, "the row carries no timeline")
		for _, e := range p.Events {
			seen[e.Seq]++
			assert.LessOrEqual(t, e.Seq, p.Seller.LastSeq, "no event newer than its row")
		}
	}
	require.Greater(t, final.LastSeq, 10)
	for seq := 1; seq <= final.LastSeq; seq++ {
		assert.Equal(t, 1, seen[seq], "event %d projected once", seq)
	}
	assert.Len(t, seen, final.LastSeq)
	last := ot.projected[len(ot.projected)-1]
	assert.Equal(t, final.LastSeq, last.Seller.LastSeq, "the read model ends current")
	assert.Equal(t, SellerStatusClosed, last.Seller.Status)
}

func TestOnboardingContinuesAsNewWithItsState(t *testing.T) {
	ot := newOnboardingTest(t)
	ot.event(time.Minute, "e-0", EventKindAccountCreated)
	ot.at(2*time.Minute, func() {
		for i := 1; i < signalsPerRun-1; i++ {
			// A redelivered event still counts towards the run's bound.
			ot.env.SignalWorkflow(SignalSellerEvent, SellerEvent{ID: "e-" + strconv.Itoa(i%300), Kind: "profile_updated"})
		}
		// The run's last signal changes the seller: the run waits for the
		// read model before it ends, and e-late comes meanwhile; it must be
		// taken, not dropped with this run.
		ot.env.SignalWorkflow(SignalSellerEvent, SellerEvent{ID: "e-listing", Kind: EventKindListingPublished})
		ot.env.SignalWorkflow(SignalSellerEvent, SellerEvent{ID: "e-late", Kind: EventKindPayoutDetailsVerified})
	})
	ot.env.SetStartWorkflowOptions(StartOptions(onboardingInput(), vocab.TaskQueue))
	ot.env.ExecuteWorkflow(WorkflowSellerOnboarding, onboardingInput())
	require.True(t, ot.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(ot.env.GetWorkflowError(), &can), "want continue-as-new, got %v", ot.env.GetWorkflowError())
	assert.Equal(t, WorkflowSellerOnboarding, can.WorkflowType.Name)
	var next OnboardingInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Carried)
	assert.Equal(t, "s-1", next.SellerID)
	assert.Equal(t, sellerStart, next.StartedAt.UTC(), "deadlines keep counting from the first run")
	c := next.Carried
	assert.Equal(t, StepDone, stepOf(t, c.View, StepAccountCreated).Status)
	assert.Equal(t, c.View.LastSeq, c.Timeline[len(c.Timeline)-1].Seq)
	assert.Equal(t, StepDone, stepOf(t, c.View, StepPayoutVerified).Status, "the signal past the bound is not lost")
	assert.Equal(t, StepDone, stepOf(t, c.View, StepFirstListing).Status)
	assert.Len(t, c.SeenIDs, 302)
	assert.Contains(t, c.SeenIDs, "e-0")
	assert.LessOrEqual(t, len(c.Timeline), 50, "the carried timeline is bounded")

	ot.mu.Lock()
	last := ot.projected[len(ot.projected)-1]
	ot.mu.Unlock()
	assert.Equal(t, c.View.LastSeq, last.Seller.LastSeq, "the read model is current before the run ends")

	// The next run carries on without starting a second check.
	ot2 := newOnboardingTest(t)
	ot2.event(time.Minute, "e-0", EventKindAccountCreated)
	ot2.event(2*time.Minute, "e-new", EventKindOrderShipped)
	ot2.closeAt(3 * time.Minute)
	final := ot2.run(next)
	assert.Empty(t, ot2.children, "the check started in the first run")
	var after []vocab.Event
	for _, e := range final.Timeline {
		if e.Seq > c.View.LastSeq {
			after = append(after, e)
		}
	}
	require.NotEmpty(t, after)
	assert.Equal(t, c.View.LastSeq+1, after[0].Seq, "the sequence carries on")
	assert.Equal(t, 1, eventCount(after, EventStepDone), "e-0 was seen: only e-new completes a step")
	assert.Equal(t, StepDone, stepOf(t, final, StepFirstOrderShipped).Status)
	assert.Equal(t, StepDone, stepOf(t, final, StepPayoutVerified).Status, "carried")
}

// document is an identity document as the API stores it.
func document(id, sha string) vocab.EvidenceInput {
	return vocab.EvidenceInput{Actor: "integration:shop", Evidence: vocab.Evidence{ID: id, Kind: KindIdentityDocument,
		Key: "sellers/s-1/" + id, SHA256: strings.Repeat(sha, 64), Size: 2048, ContentType: "application/pdf", Retained: true}}
}

func TestASellerWithoutDocumentsIsCheckedOnceTheFirstArrives(t *testing.T) {
	ot := newOnboardingTest(t)
	in := onboardingInput()
	in.Identity.DocumentIDs = nil
	answered := 0
	ot.at(time.Hour, func() {
		ot.mu.Lock()
		assert.Empty(t, ot.children, "no check without a document")
		ot.mu.Unlock()
		assert.Contains(t, kindsOf(ot.view().Timeline), EventDocumentsAwaited)
		bad := document("E-0", "b")
		bad.Evidence.Kind = "other"
		ot.env.UpdateWorkflow(UpdateAddDocument, "bad", &testsuite.TestUpdateCallback{
			OnAccept:   func() { t.Error("a document of another kind was accepted") },
			OnReject:   func(err error) { answered++; assert.ErrorContains(t, err, KindIdentityDocument) },
			OnComplete: func(any, error) {},
		}, bad)
		ot.env.UpdateWorkflow(UpdateAddDocument, "doc-1", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("rejected: %v", err) },
			OnComplete: func(v any, err error) {
				answered++
				require.NoError(t, err)
				assert.False(t, v.(vocab.EvidenceResult).Duplicate)
			},
		}, document("E-1", "a"))
	})
	ot.at(2*time.Hour, func() {
		ot.env.UpdateWorkflow(UpdateAddDocument, "doc-2", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("rejected: %v", err) },
			OnComplete: func(v any, err error) {
				answered++
				require.NoError(t, err)
				r := v.(vocab.EvidenceResult)
				assert.True(t, r.Duplicate, "the same bytes again")
				assert.Equal(t, "E-1", r.Evidence.ID)
			},
		}, document("E-2", "a"))
		v := ot.view()
		require.Len(t, v.Documents, 1)
		assert.True(t, v.Documents[0].Retained)
	})
	ot.closeAt(3 * time.Hour)
	ot.run(in)
	assert.Equal(t, 3, answered, "every update was answered")
	ot.mu.Lock()
	defer ot.mu.Unlock()
	require.Len(t, ot.children, 1, "one check, started by the first document")
	assert.Equal(t, []string{"E-1"}, ot.children[0].Identity.DocumentIDs)
}

func kindsOf(events []vocab.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

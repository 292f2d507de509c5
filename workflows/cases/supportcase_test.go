package cases

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// openedAt is a Monday 10:00 UTC, far from any DST change.
var openedAt = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

var always = sla.Calendar{Name: "24x7", TimeZone: "UTC", AlwaysOpen: true}

func testPolicies(cal sla.Calendar) []sla.Policy {
	return []sla.Policy{
		{Category: "login_failure", Priority: "p1", Calendar: always, WarningThreshold: 0.8,
			Targets: sla.Targets{FirstResponse: time.Hour, NextResponse: 2 * time.Hour, Resolution: 8 * time.Hour}},
		{Category: "login_failure", Priority: "p2", Calendar: always, WarningThreshold: 0.8,
			Targets: sla.Targets{FirstResponse: 4 * time.Hour, NextResponse: 8 * time.Hour, Resolution: 24 * time.Hour}},
		{Category: "login_failure", Priority: "p3", Calendar: cal, WarningThreshold: 0.8,
			Targets: sla.Targets{FirstResponse: 8 * time.Hour, NextResponse: 16 * time.Hour, Resolution: 40 * time.Hour}},
		{Category: "login_failure", Priority: "p4", Calendar: cal, WarningThreshold: 0.8,
			Targets: sla.Targets{FirstResponse: 24 * time.Hour, NextResponse: 24 * time.Hour, Resolution: 80 * time.Hour}},
	}
}

func testInput(p vocab.Priority) CaseInput {
	return CaseInput{
		ID: "C-1", Category: vocab.CategoryLoginFailure, Priority: p, Subject: "Cannot log in",
		Description: "The code never arrives.",
		Customer:    vocab.Customer{ID: "cus-1", Email: "ada@example.com", Name: "Ada", Locale: "en"},
		AccountID:   "acc-1", Channel: "web", Team: vocab.TeamTier1Support, OpenedBy: "integration:shop",
		Policies: testPolicies(always),
		Lifecycle: sla.Lifecycle{
			AutoCloseAfterWaiting: 168 * time.Hour, ReopenWindow: 72 * time.Hour, CSATWindow: 168 * time.Hour,
		},
	}
}

// caseTest drives one SupportCase on the SDK's test environment, whose
// clock jumps to the next timer whenever the workflow is blocked.
type caseTest struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu        sync.Mutex
	sent      []vocab.Notification
	tries     []notifyTry
	projected []ProjectionInput
	// projectDown fails that many projection writes, as Postgres
	// refusing connections would.
	projectDown  int
	failCustomer bool
	steps        int
}

func newCaseTest(t *testing.T) *caseTest {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	ct := &caseTest{t: t, env: s.NewTestWorkflowEnvironment()}
	ct.env.SetStartTime(openedAt)
	ct.env.RegisterWorkflow(SupportCase)
	ct.env.RegisterActivityWithOptions(func(ctx context.Context, n vocab.Notification) error {
		ct.mu.Lock()
		defer ct.mu.Unlock()
		fail := ct.failCustomer && n.Audience == vocab.AudienceCustomer
		ct.tries = append(ct.tries, notifyTry{id: n.ID, local: activity.GetInfo(ctx).IsLocalActivity, failed: fail})
		if fail {
			return errors.New("smtp: connection refused")
		}
		ct.sent = append(ct.sent, n)
		return nil
	}, activity.RegisterOptions{Name: vocab.ActivityNotify})
	ct.env.RegisterActivityWithOptions(func(ctx context.Context, in ProjectionInput) error {
		ct.mu.Lock()
		defer ct.mu.Unlock()
		if ct.projectDown > 0 {
			ct.projectDown--
			return errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
		}
		ct.projected = append(ct.projected, in)
		return nil
	}, activity.RegisterOptions{Name: ActivityProjectCase})
	return ct
}

// notifyTry is one attempt at a notification: in the workflow task (a
// local activity) or as an activity.
type notifyTry struct {
	id            string
	local, failed bool
}

// at runs fn once the workflow's clock reaches openedAt+d.
func (ct *caseTest) at(d time.Duration, fn func()) {
	ct.env.RegisterDelayedCallback(fn, d)
}

// update sends an update; check sees its outcome once the workflow has
// handled it (a validator's refusal is the error).
func (ct *caseTest) update(name string, arg any, check func(CaseView, error)) {
	ct.steps++
	ct.env.UpdateWorkflow(name, fmt.Sprintf("%s-%d", name, ct.steps), &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { check(CaseView{}, err) },
		OnComplete: func(v any, err error) {
			view, _ := v.(CaseView)
			check(view, err)
		},
	}, arg)
}

// mustUpdate sends an update that must succeed, then runs checks on its result.
func (ct *caseTest) mustUpdate(name string, arg any, checks ...func(CaseView)) {
	ct.update(name, arg, func(v CaseView, err error) {
		if !assert.NoError(ct.t, err, name) {
			return
		}
		for _, check := range checks {
			check(v)
		}
	})
}

// refused sends an update that its validator must refuse with errType and
// a message containing contains.
func (ct *caseTest) refused(name string, arg any, errType, contains string) {
	ct.update(name, arg, func(_ CaseView, err error) {
		ct.t.Helper()
		assertRefused(ct.t, err, errType, contains)
	})
}

func (ct *caseTest) view() CaseView {
	res, err := ct.env.QueryWorkflow(QueryCase)
	require.NoError(ct.t, err)
	var v CaseView
	require.NoError(ct.t, res.Get(&v))
	return v
}

func (ct *caseTest) run(in CaseInput) CaseView {
	ct.env.ExecuteWorkflow(SupportCase, in)
	require.True(ct.t, ct.env.IsWorkflowCompleted())
	require.NoError(ct.t, ct.env.GetWorkflowError())
	var v CaseView
	require.NoError(ct.t, ct.env.GetWorkflowResult(&v))
	return v
}

func (ct *caseTest) notified(event, audience string) int {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	n := 0
	for _, s := range ct.sent {
		if s.Event == event && s.Audience == audience {
			n++
		}
	}
	return n
}

func kinds(events []vocab.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

func count(events []vocab.Event, kind string) int {
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// resolveAndClose resolves at d and lets the reopen window and survey run out.
func (ct *caseTest) resolveAt(d time.Duration) {
	ct.at(d, func() { ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "Reset the code."}) })
}

func TestFirstResponseMetInTimeCancelsItsTimers(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(10*time.Minute, func() {
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Looking into it."}, func(v CaseView) {
			assert.Equal(t, StatusOpen, v.Status)
			assert.Nil(t, v.SLA.FirstResponseDue)
			require.NotNil(t, v.FirstResponseAt)
			assert.Equal(t, openedAt.Add(10*time.Minute), v.FirstResponseAt.UTC())
		})
	})
	ct.resolveAt(30 * time.Minute)
	v := ct.run(testInput(vocab.P1))
	assert.Empty(t, v.SLA.Breaches)
	assert.Equal(t, 0, v.EscalationLevel)
	assert.Zero(t, ct.notified(EventSLAWarning, vocab.AudienceTeam))
	assert.Equal(t, StatusClosed, v.Status)
	assert.Equal(t, openedAt.Add(30*time.Minute+72*time.Hour), v.ClosedAt.UTC(), "closes when the reopen window ends")
}

func TestFirstResponseBreachEscalatesOnceThenToTheNextLevel(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(47*time.Minute, func() {
		assert.Zero(t, count(ct.view().Timeline, EventSLAWarning), "no warning before 80% of the target")
	})
	ct.at(49*time.Minute, func() {
		v := ct.view()
		assert.Equal(t, 1, count(v.Timeline, EventSLAWarning))
		assert.Equal(t, 1, ct.notified(EventSLAWarning, vocab.AudienceTeam))
		assert.Equal(t, 0, v.EscalationLevel)
	})
	ct.at(61*time.Minute, func() {
		v := ct.view()
		assert.Equal(t, StatusEscalated, v.Status)
		assert.Equal(t, LevelTeamLead, v.EscalationLevel)
		require.Len(t, v.SLA.Breaches, 1)
		assert.Equal(t, "first_response", v.SLA.Breaches[0].Target)
		assert.Equal(t, openedAt.Add(time.Hour), v.SLA.Breaches[0].DueAt.UTC())
		assert.Equal(t, 1, count(v.Timeline, EventSLABreach))
		assert.Equal(t, 1, ct.notified(EventSLABreach, vocab.AudienceTeam))
	})
	ct.at(2*time.Hour+time.Minute, func() {
		v := ct.view()
		assert.Equal(t, LevelSupportManager, v.EscalationLevel)
		assert.Equal(t, 2, count(v.Timeline, EventSLABreach))
		assert.Equal(t, 1, count(v.Timeline, EventSLAWarning), "warned once only")
	})
	ct.at(5*time.Hour, func() {
		assert.Equal(t, 2, count(ct.view().Timeline, EventSLABreach), "no breach past the top level")
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:lead", Body: "Sorry for the wait."})
	})
	ct.resolveAt(6 * time.Hour)
	v := ct.run(testInput(vocab.P1))
	assert.Equal(t, 2, ct.notified(EventSLABreach, vocab.AudienceTeam))
	assert.Len(t, v.SLA.Breaches, 2)
}

func TestWaitingOnCustomerPausesTheClock(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(30*time.Minute, func() {
		ct.mustUpdate(UpdateWaitOnCustomer, ReasonInput{Actor: "agent:bo", Reason: "Need the order number"}, func(v CaseView) {
			assert.Equal(t, StatusWaitingCustomer, v.Status)
			assert.True(t, v.SLA.Paused)
		})
	})
	ct.at(5*time.Hour+30*time.Minute, func() {
		assert.Zero(t, count(ct.view().Timeline, EventSLABreach), "no breach while waiting")
		ct.mustUpdate(UpdateCustomerMessage, MessageInput{Actor: "customer:cus-1", Body: "It is 1234"}, func(v CaseView) {
			assert.Equal(t, StatusOpen, v.Status)
			assert.False(t, v.SLA.Paused)
			require.NotNil(t, v.SLA.FirstResponseDue)
			// 30 minutes used before the wait, 30 left after it.
			assert.Equal(t, openedAt.Add(6*time.Hour), v.SLA.FirstResponseDue.UTC())
		})
	})
	ct.at(6*time.Hour+time.Second, func() {
		v := ct.view()
		require.Len(t, v.SLA.Breaches, 1)
		assert.Equal(t, openedAt.Add(6*time.Hour), v.SLA.Breaches[0].DueAt.UTC())
	})
	ct.resolveAt(7 * time.Hour)
	ct.run(testInput(vocab.P1))
}

func TestNextResponseStartsWithACustomerMessageAndIsMetByAReply(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(10*time.Minute, func() { ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Hello"}) })
	ct.at(20*time.Minute, func() {
		ct.mustUpdate(UpdateCustomerMessage, MessageInput{Actor: "customer:cus-1", Body: "Still broken"}, func(v CaseView) {
			require.NotNil(t, v.SLA.NextResponseDue)
			assert.Equal(t, openedAt.Add(20*time.Minute+2*time.Hour), v.SLA.NextResponseDue.UTC())
		})
	})
	ct.at(30*time.Minute, func() {
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Try again now"}, func(v CaseView) {
			assert.Nil(t, v.SLA.NextResponseDue)
		})
	})
	ct.resolveAt(40 * time.Minute)
	v := ct.run(testInput(vocab.P1))
	assert.Empty(t, v.SLA.Breaches)
}

func TestBusinessHoursSkipTheWeekendAndAHoliday(t *testing.T) {
	paris := sla.Calendar{Name: "eu-business", TimeZone: "Europe/Paris",
		Week: [7][]sla.Span{
			time.Monday: {{Start: 9 * 60, End: 18 * 60}}, time.Tuesday: {{Start: 9 * 60, End: 18 * 60}},
			time.Wednesday: {{Start: 9 * 60, End: 18 * 60}}, time.Thursday: {{Start: 9 * 60, End: 18 * 60}},
			time.Friday: {{Start: 9 * 60, End: 18 * 60}},
		},
		Holidays: []string{"2026-05-04"},
	}
	in := testInput(vocab.P3)
	in.Policies = testPolicies(paris)
	ct := newCaseTest(t)
	// Friday 2026-05-01 16:00 Paris (14:00 UTC): 2h count on Friday, the
	// weekend and Monday's holiday do not, 6h more on Tuesday from 09:00.
	ct.env.SetStartTime(time.Date(2026, 5, 1, 14, 0, 0, 0, time.UTC))
	ct.at(time.Minute, func() {
		v := ct.view()
		require.NotNil(t, v.SLA.FirstResponseDue)
		assert.Equal(t, time.Date(2026, 5, 5, 13, 0, 0, 0, time.UTC), v.SLA.FirstResponseDue.UTC())
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "Done"})
	})
	ct.run(in)
}

func TestPriorityChangeRecomputesTargetsKeepingTimeUsed(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(30*time.Minute, func() {
		ct.mustUpdate(UpdateChangePriority, PriorityInput{Actor: "agent:bo", Priority: vocab.P2}, func(v CaseView) {
			assert.Equal(t, vocab.P2, v.Priority)
			require.NotNil(t, v.SLA.FirstResponseDue)
			assert.Equal(t, openedAt.Add(4*time.Hour), v.SLA.FirstResponseDue.UTC())
			assert.Equal(t, openedAt.Add(24*time.Hour), v.SLA.ResolutionDue.UTC())
		})
	})
	ct.at(90*time.Minute, func() {
		assert.Empty(t, ct.view().SLA.Breaches, "the p1 deadline no longer applies")
	})
	ct.resolveAt(2 * time.Hour)
	ct.run(testInput(vocab.P1))
}

func TestWaitingCaseRemindsAtHalfTimeThenClosesItself(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(10*time.Minute, func() {
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Which browser?"})
		ct.mustUpdate(UpdateWaitOnCustomer, ReasonInput{Actor: "agent:bo", Reason: "Asked for the browser"})
	})
	ct.at(10*time.Minute+84*time.Hour-time.Second, func() {
		assert.Zero(t, ct.notified(EventCustomerReminder, vocab.AudienceCustomer))
	})
	ct.at(10*time.Minute+84*time.Hour+time.Second, func() {
		assert.Equal(t, 1, ct.notified(EventCustomerReminder, vocab.AudienceCustomer))
		assert.Equal(t, StatusWaitingCustomer, ct.view().Status)
	})
	v := ct.run(testInput(vocab.P1))
	assert.Equal(t, StatusClosed, v.Status)
	assert.Equal(t, openedAt.Add(10*time.Minute+168*time.Hour), v.ClosedAt.UTC())
	assert.Empty(t, v.SLA.Breaches)
	assert.Equal(t, 1, ct.notified(EventClosed, vocab.AudienceCustomer))
}

func TestReopenInsideTheWindowRunsTheResolutionClockAgain(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(10*time.Minute, func() { ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Fixed"}) })
	ct.resolveAt(time.Hour)
	ct.at(2*time.Hour, func() {
		ct.mustUpdate(UpdateReopen, ReasonInput{Actor: "customer:cus-1", Reason: "It broke again"}, func(v CaseView) {
			assert.Equal(t, StatusOpen, v.Status)
			require.NotNil(t, v.SLA.ResolutionDue)
			// one hour of eight was used before the resolve
			assert.Equal(t, openedAt.Add(2*time.Hour+7*time.Hour), v.SLA.ResolutionDue.UTC())
		})
	})
	ct.resolveAt(3 * time.Hour)
	ct.at(3*time.Hour+72*time.Hour+time.Second, func() {
		ct.refused(UpdateReopen, ReasonInput{Actor: "customer:cus-1", Reason: "again"}, vocab.ErrInvalidTransition, "the case is closed")
	})
	v := ct.run(testInput(vocab.P1))
	assert.Equal(t, 1, count(v.Timeline, EventReopened))
}

func TestCSATIsAcceptedOnceInsideTheSurveyWindow(t *testing.T) {
	ct := newCaseTest(t)
	ct.resolveAt(time.Hour)
	ct.at(2*time.Hour, func() {
		ct.refused(UpdateCSAT, CSATInput{Actor: "customer:cus-1", Rating: 6}, vocab.ErrInvalidArgument, "rating")
		ct.mustUpdate(UpdateCSAT, CSATInput{Actor: "customer:cus-1", Rating: 5, Comment: "Quick!"}, func(v CaseView) {
			require.NotNil(t, v.CSAT)
			assert.Equal(t, 5, v.CSAT.Rating)
		})
		ct.refused(UpdateCSAT, CSATInput{Actor: "customer:cus-1", Rating: 1}, vocab.ErrInvalidTransition, "already rated")
	})
	v := ct.run(testInput(vocab.P1))
	require.NotNil(t, v.CSAT)
	assert.Equal(t, 5, v.CSAT.Rating)
	assert.Equal(t, openedAt.Add(time.Hour+72*time.Hour), v.ClosedAt.UTC(), "rated: ends when the reopen window does")
}

func TestUnratedCaseWaitsOutTheSurveyWindow(t *testing.T) {
	ct := newCaseTest(t)
	ct.resolveAt(time.Hour)
	ct.at(time.Hour+100*time.Hour, func() {
		assert.Equal(t, StatusClosed, ct.view().Status)
		ct.mustUpdate(UpdateCSAT, CSATInput{Actor: "customer:cus-1", Rating: 3}, func(v CaseView) {
			assert.Equal(t, 3, v.CSAT.Rating, "a closed case still takes its survey answer")
		})
	})
	ct.run(testInput(vocab.P1))

	ct = newCaseTest(t)
	ct.resolveAt(time.Hour)
	ct.run(testInput(vocab.P1))
	assert.Equal(t, openedAt.Add(time.Hour+168*time.Hour), ct.env.Now().UTC(), "the workflow ends with the survey")
}

func assertRefused(t *testing.T, err error, errType, contains string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !assert.ErrorAs(t, err, &appErr) {
		return
	}
	assert.Equal(t, errType, appErr.Type())
	assert.Contains(t, appErr.Error(), contains)
}

func TestEveryRefusedMoveNamesTheCurrentStatus(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(time.Minute, func() {
		ct.refused(UpdateReopen, ReasonInput{Actor: "a", Reason: "r"}, vocab.ErrInvalidTransition, "cannot reopen: the case is new")
		ct.refused(UpdateClose, ReasonInput{Actor: "a"}, vocab.ErrInvalidTransition, "cannot close: the case is new")
		ct.refused(UpdateCSAT, CSATInput{Actor: "a", Rating: 5}, vocab.ErrInvalidTransition, "the case is new")
		ct.mustUpdate(UpdateWaitOnCustomer, ReasonInput{Actor: "a", Reason: "r"})
		ct.refused(UpdateWaitOnCustomer, ReasonInput{Actor: "a", Reason: "r"}, vocab.ErrInvalidTransition, "the case is waiting_customer")
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "a", Resolution: "done"})
		ct.refused(UpdateAssign, AssignInput{Actor: "a", Assignee: "bo"}, vocab.ErrInvalidTransition, "cannot assign: the case is resolved")
		ct.refused(UpdateReply, MessageInput{Actor: "a", Body: "b"}, vocab.ErrInvalidTransition, "the case is resolved")
		ct.refused(UpdateWaitOnCustomer, ReasonInput{Actor: "a", Reason: "r"}, vocab.ErrInvalidTransition, "the case is resolved")
		ct.refused(UpdateEscalate, EscalateInput{Actor: "a", Team: vocab.TeamSecurity, Reason: "r"}, vocab.ErrInvalidTransition, "the case is resolved")
		ct.refused(UpdateChangePriority, PriorityInput{Actor: "a", Priority: vocab.P2}, vocab.ErrInvalidTransition, "the case is resolved")
		ct.refused(UpdateResolve, ResolveInput{Actor: "a", Resolution: "r"}, vocab.ErrInvalidTransition, "the case is resolved")
		ct.mustUpdate(UpdateClose, ReasonInput{Actor: "a"})
		ct.refused(UpdateNote, MessageInput{Actor: "a", Body: "b"}, vocab.ErrInvalidTransition, "the case is closed")
		ct.refused(UpdateCustomerMessage, MessageInput{Actor: "a", Body: "b"}, vocab.ErrInvalidTransition, "the case is closed")
	})
	v := ct.run(testInput(vocab.P1))
	assert.Equal(t, StatusClosed, v.Status)
}

func TestRefusedUpdateLeavesNoTrace(t *testing.T) {
	ct := newCaseTest(t)
	var before CaseView
	ct.at(time.Minute, func() {
		before = ct.view()
		ct.refused(UpdateResolve, ResolveInput{Actor: "a", Resolution: "  "}, vocab.ErrInvalidArgument, "resolution")
		ct.refused(UpdateAssign, AssignInput{Actor: "a", Assignee: "bo", Team: "sales"}, vocab.ErrInvalidArgument, "team")
	})
	ct.at(2*time.Minute, func() {
		after := ct.view()
		assert.Equal(t, before.LastSeq, after.LastSeq)
		assert.Equal(t, before.Status, after.Status)
		assert.Equal(t, before.Team, after.Team)
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "a", Resolution: "done"})
	})
	ct.run(testInput(vocab.P1))
}

func TestEscalationNeedsTheHandoffContext(t *testing.T) {
	in := testInput(vocab.P2)
	in.AccountID = ""
	ct := newCaseTest(t)
	ct.at(time.Minute, func() {
		ct.refused(UpdateEscalate, EscalateInput{Actor: "agent:bo", Team: vocab.TeamSecurity}, vocab.ErrMissingHandoffContext, "account_id, reason")
		ct.refused(UpdateEscalate, EscalateInput{Actor: "agent:bo", Team: vocab.TeamTrustSafety, Reason: "refund"}, vocab.ErrMissingHandoffContext, "order_id")
		ct.refused(UpdateEscalate, EscalateInput{Actor: "agent:bo", Team: vocab.TeamAccountManagement, Reason: "recovery"}, vocab.ErrMissingHandoffContext, "account_id")
		ct.mustUpdate(UpdateEscalate, EscalateInput{Actor: "agent:bo", Team: vocab.TeamTier1Support, Reason: "needs a lead"}, func(v CaseView) {
			assert.Equal(t, StatusEscalated, v.Status)
			assert.Equal(t, LevelTeamLead, v.EscalationLevel)
			assert.Equal(t, vocab.TeamTier1Support, v.Team)
		})
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:lead", Resolution: "done"})
	})
	ct.run(in)
}

func TestEscalationToAnotherTeamHandsTheCaseOver(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(time.Minute, func() {
		ct.mustUpdate(UpdateAssign, AssignInput{Actor: "agent:bo", Assignee: "bo"})
		ct.mustUpdate(UpdateEscalate, EscalateInput{Actor: "agent:bo", Team: vocab.TeamAccountManagement, Reason: "needs a recovery"}, func(v CaseView) {
			assert.Equal(t, vocab.TeamAccountManagement, v.Team)
			assert.Equal(t, StatusEscalated, v.Status)
			assert.Empty(t, v.Assignee, "the receiving team assigns its own agent")
			assert.Equal(t, LevelAgent, v.EscalationLevel)
			e := ct.view().Timeline[v.LastSeq-1]
			assert.Equal(t, EventEscalated, e.Kind)
			assert.Equal(t, "The code never arrives.", e.Payload["latest_customer_message"])
			assert.Equal(t, "tier1_support", e.Payload["from_team"])
		})
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:am", Resolution: "recovered"})
	})
	ct.run(testInput(vocab.P2))
	assert.Equal(t, 1, ct.notified(EventEscalated, vocab.AudienceTeam))
}

func TestCustomerMessageSignalReopensAWaitingCase(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(time.Minute, func() {
		ct.mustUpdate(UpdateWaitOnCustomer, ReasonInput{Actor: "agent:bo", Reason: "Need details"})
	})
	ct.at(time.Hour, func() {
		ct.env.SignalWorkflow(SignalCustomerMessage, MessageInput{Actor: "email:ada@example.com", Body: "Here they are"})
	})
	ct.at(time.Hour+time.Second, func() {
		v := ct.view()
		assert.Equal(t, StatusOpen, v.Status)
		assert.Equal(t, EventCustomerMessage, v.Timeline[len(v.Timeline)-1].Kind)
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
	})
	ct.run(testInput(vocab.P1))
}

func TestFailedNotificationIsRecordedWithoutFailingTheCase(t *testing.T) {
	ct := newCaseTest(t)
	ct.failCustomer = true
	ct.at(2*time.Hour, func() {
		assert.Positive(t, count(ct.view().Timeline, EventNotifyFailed))
		ct.mu.Lock()
		ct.failCustomer = false
		ct.mu.Unlock()
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
	})
	v := ct.run(testInput(vocab.P1))
	assert.Equal(t, StatusClosed, v.Status)
	assert.True(t, slices.Contains(kinds(v.Timeline), EventNotifyFailed))
	assert.Positive(t, ct.notified(EventNotifyFailed, vocab.AudienceTeam), "the team heard of the failed delivery")
}

func TestNotificationsAreSentInTheWorkflowTaskAndByActivityOnlyAfterAFailedTry(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(time.Minute, func() {
		ct.mustUpdate(UpdateAssign, AssignInput{Actor: "agent:bo", Assignee: "bo"})
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Hi"})
	})
	ct.at(2*time.Minute, func() {
		ct.mu.Lock()
		ct.failCustomer = true
		ct.mu.Unlock()
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Still there?"})
	})
	ct.at(3*time.Minute, func() {
		ct.mu.Lock()
		ct.failCustomer = false
		ct.mu.Unlock()
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
	})
	ct.run(testInput(vocab.P1))

	tries := map[string][]notifyTry{}
	var order []string
	for _, try := range ct.tries {
		if _, ok := tries[try.id]; !ok {
			order = append(order, try.id)
		}
		tries[try.id] = append(tries[try.id], try)
	}
	require.NotEmpty(t, order)
	failedOnce := 0
	for _, id := range order {
		first := tries[id][0]
		assert.True(t, first.local, "%s is tried in the workflow task first", id)
		if !first.failed {
			assert.Len(t, tries[id], 1, "%s, sent in the task, runs no activity", id)
			continue
		}
		failedOnce++
		rest := tries[id][1:]
		require.NotEmpty(t, rest, "%s failed in the task and goes on as an activity", id)
		for _, try := range rest {
			assert.False(t, try.local, "%s retries as an activity", id)
		}
		assert.False(t, rest[len(rest)-1].failed, "%s is delivered in the end", id)
	}
	assert.Equal(t, 1, failedOnce, "only the second reply's notification failed in the task")
}

func TestReadModelGetsEveryEventOnceAndInOrder(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(time.Minute, func() {
		ct.mustUpdate(UpdateAssign, AssignInput{Actor: "agent:bo", Assignee: "bo"})
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Hi"})
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
	})
	ct.assertProjectedInOrder(ct.run(testInput(vocab.P1)))
}

// A Postgres outage longer than the local activity's own retries must not
// lose the batch it was writing: the case waits on a timer, keeps taking
// updates, and writes from the same place once Postgres answers.
func TestReadModelOutageLosesNoEvent(t *testing.T) {
	ct := newCaseTest(t)
	ct.projectDown = 40 // far more tries than one local activity makes
	ct.at(time.Minute, func() {
		ct.mustUpdate(UpdateAssign, AssignInput{Actor: "agent:bo", Assignee: "bo"})
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Hi"})
	})
	ct.at(10*time.Minute, func() {
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
	})
	v := ct.run(testInput(vocab.P1))
	assert.Zero(t, ct.projectDown, "every failing write was tried")
	// A write the workflow stopped waiting for may still land; the store
	// ignores the copy, so only the first time each event lands counts.
	seen := map[int]bool{}
	for i, p := range ct.projected {
		p.Events = slices.DeleteFunc(slices.Clone(p.Events), func(e vocab.Event) bool { return seen[e.Seq] })
		for _, e := range p.Events {
			seen[e.Seq] = true
		}
		ct.projected[i] = p
	}
	ct.assertProjectedInOrder(v)
}

// assertProjectedInOrder checks that the read model got each timeline event
// of v once, in order, and the final row last.
func (ct *caseTest) assertProjectedInOrder(v CaseView) {
	t := ct.t
	t.Helper()
	var seqs []int
	for _, p := range ct.projected {
		for _, e := range p.Events {
			seqs = append(seqs, e.Seq)
		}
		assert.Nil(t, p.Case.Timeline, "the row carries no timeline")
	}
	want := make([]int, v.LastSeq)
	for i := range want {
		want[i] = i + 1
	}
	assert.Equal(t, want, seqs)
	last := ct.projected[len(ct.projected)-1].Case
	assert.Equal(t, StatusClosed, last.Status)
	assert.Equal(t, v.LastSeq, last.LastSeq)
}

func TestAnotherTeamCannotActOnTheCase(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(time.Minute, func() {
		ct.refused(UpdateReply, MessageInput{Actor: "sec:zoe", ActorTeam: vocab.TeamSecurity, Body: "hi"},
			vocab.ErrPermissionDenied, "cannot reply: the case belongs to tier1_support, not security")
		ct.refused(UpdateResolve, ResolveInput{Actor: "ts:tom", ActorTeam: vocab.TeamTrustSafety, Resolution: "x"}, vocab.ErrPermissionDenied, "cannot resolve")
		ct.mustUpdate(UpdateNote, MessageInput{Actor: "sec:zoe", ActorTeam: vocab.TeamSecurity, Body: "seen this account before"})
		ct.mustUpdate(UpdateEscalate, EscalateInput{Actor: "agent:bo", ActorTeam: vocab.TeamTier1Support, Team: vocab.TeamSecurity, Reason: "takeover"})
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "sec:zoe", ActorTeam: vocab.TeamSecurity, Body: "we locked it"})
		ct.refused(UpdateReply, MessageInput{Actor: "agent:bo", ActorTeam: vocab.TeamTier1Support, Body: "hi"}, vocab.ErrPermissionDenied, "belongs to security")
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "admin", Resolution: "recovered"})
	})
	ct.run(testInput(vocab.P1))
}

func TestEvidenceIsRecordedOnceByChecksumAndDownloadsAreOnTheTimeline(t *testing.T) {
	ct := newCaseTest(t)
	sum := strings.Repeat("ab", 32)
	file := vocab.Evidence{ID: "E-1", Kind: "delivery_screenshot", Key: "cases/C-1/E-1", SHA256: sum, Size: 42, ContentType: "image/png"}
	ct.at(time.Minute, func() {
		ct.update(UpdateAddEvidence, vocab.EvidenceInput{Actor: "integration:shop", Evidence: file}, func(v CaseView, err error) {})
		ct.refused(UpdateAddEvidence, vocab.EvidenceInput{Actor: "x", Evidence: vocab.Evidence{ID: "E-2", Key: "k", Kind: "selfie", SHA256: sum}}, vocab.ErrInvalidArgument, "kind")
		ct.refused(UpdateRecordDownload, DownloadInput{Actor: "agent:bo", EvidenceID: "E-9"}, vocab.ErrInvalidArgument, "no evidence")
	})
	ct.at(2*time.Minute, func() {
		again := file
		again.ID, again.Key = "E-3", "cases/C-1/E-3"
		ct.env.UpdateWorkflow(UpdateAddEvidence, "again", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("refused: %v", err) },
			OnComplete: func(r any, err error) {
				require.NoError(t, err)
				res := r.(vocab.EvidenceResult)
				assert.True(t, res.Duplicate)
				assert.Equal(t, "E-1", res.Evidence.ID, "the first upload of the bytes is answered")
			},
		}, vocab.EvidenceInput{Actor: "integration:shop", Evidence: again})
		ct.env.UpdateWorkflow(UpdateRecordDownload, "dl", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("refused: %v", err) }, OnComplete: func(any, error) {},
		}, DownloadInput{Actor: "agent:bo", EvidenceID: "E-1"})
	})
	ct.at(3*time.Minute, func() {
		v := ct.view()
		require.Len(t, v.Evidence, 1)
		assert.Equal(t, "integration:shop", v.Evidence[0].UploadedBy)
		assert.Equal(t, 1, count(v.Timeline, EventEvidenceAdded))
		assert.Equal(t, 1, count(v.Timeline, EventEvidenceFetched))
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "a", Resolution: "done"})
	})
	ct.run(testInput(vocab.P1))
}

func TestSLADueAtLagsOnlyWhenTheDeadlineMovesLater(t *testing.T) {
	at := openedAt.Add(time.Hour)
	base := caseAttributes{status: "open", due: at}
	later, earlier, none := base, base, base
	later.due, earlier.due, none.due = at.Add(time.Hour), at.Add(-time.Minute), time.Time{}
	assert.True(t, base.onlyDueLater(later), "a later deadline alone is not worth an upsert")
	assert.True(t, base.onlyDueLater(none), "no deadline is later than any")
	assert.False(t, base.onlyDueLater(earlier), "an earlier deadline must show at once")
	assert.False(t, base.onlyDueLater(base), "nothing changed: nothing to skip")
	moved := later
	moved.status = "resolved"
	assert.False(t, base.onlyDueLater(moved), "another change upserts, the due time with it")
	assert.False(t, caseAttributes{status: "new"}.onlyDueLater(later), "a case without a due time gets its first")
}

func TestInitialViewIsTheCaseAfterItsFirstTask(t *testing.T) {
	for _, p := range []vocab.Priority{vocab.P1, vocab.P3} {
		t.Run(string(p), func(t *testing.T) {
			in := testInput(p)
			in.OpenedAt = openedAt
			want, ok, err := InitialView(in)
			require.NoError(t, err)
			require.True(t, ok)
			ct := newCaseTest(t)
			ct.at(time.Millisecond, func() {
				got := ct.view()
				got.Timeline = nil
				assert.Equal(t, want, got)
				ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
				ct.mustUpdate(UpdateClose, ReasonInput{Actor: "agent:bo", Reason: "done"})
			})
			ct.env.ExecuteWorkflow(SupportCase, in)
			require.NoError(t, ct.env.GetWorkflowError())
		})
	}
	security := testInput(vocab.P1)
	security.Category, security.OpenedAt = vocab.CategorySecurityAlert, openedAt
	_, ok, err := InitialView(security)
	require.NoError(t, err)
	assert.False(t, ok, "a security case's first task starts an incident: the API reads it")
}

func TestTheAcknowledgementTellsTheFirstResponseDue(t *testing.T) {
	ct := newCaseTest(t)
	ct.at(time.Minute, func() {
		ct.mu.Lock()
		defer ct.mu.Unlock()
		require.NotEmpty(t, ct.sent)
		ack := ct.sent[0]
		assert.Equal(t, EventOpened, ack.Event)
		assert.Equal(t, CaseWorkflowID("C-1")+"/1/customer", ack.ID)
		require.NotNil(t, ack.Case.FirstResponseDue)
		assert.Equal(t, openedAt.Add(time.Hour), *ack.Case.FirstResponseDue, "p1 first response is due in an hour")
	})
	ct.at(2*time.Minute, func() {
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
		ct.mustUpdate(UpdateClose, ReasonInput{Actor: "agent:bo", Reason: "done"})
	})
	ct.env.ExecuteWorkflow(SupportCase, testInput(vocab.P1))
	require.NoError(t, ct.env.GetWorkflowError())
}

func TestAConfidentialCaseNeverWritesToItsCustomer(t *testing.T) {
	for _, confidential := range []bool{false, true} {
		ct := newCaseTest(t)
		ct.at(time.Hour, func() {
			ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "reviewing the seller"})
			ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "no fraud"})
		})
		in := testInput(vocab.P2)
		in.Confidential = confidential
		v := ct.run(in)
		assert.Equal(t, StatusClosed, v.Status)
		told := ct.notified(EventOpened, vocab.AudienceCustomer) + ct.notified(EventAgentReply, vocab.AudienceCustomer) +
			ct.notified(EventResolved, vocab.AudienceCustomer)
		if confidential {
			assert.Zero(t, told, "the party under review heard of the case")
		} else {
			assert.Equal(t, 3, told, "an ordinary case tells its customer of the opening, the reply and the resolution")
		}
	}
}

// sentIDs answers the ids of the notifications sent of event to audience,
// and fails when two notifications share an id (the delivery log would
// send only the first).
func (ct *caseTest) sentIDs(event, audience string) []string {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	seen := map[string]bool{}
	var ids []string
	for _, s := range ct.sent {
		assert.False(ct.t, seen[s.ID], "two notifications under %s", s.ID)
		seen[s.ID] = true
		if s.Event == event && s.Audience == audience {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// A notification's id names its cause, so a workflow task tried again
// after a deadline passed (and recorded first) names it as the first try
// did: the reply's id is the same whether the case breached before it or
// not, while its timeline number is not.
func TestANotificationIsNamedAfterItsCauseNotItsPlaceOnTheTimeline(t *testing.T) {
	replyAt := func(d time.Duration) (id string, seq int, breach []string) {
		ct := newCaseTest(t)
		ct.at(d, func() {
			ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Try this code."}, func(v CaseView) { seq = v.LastSeq })
		})
		ct.at(d+time.Minute, func() {
			ct.env.SignalWorkflow(SignalCustomerMessage, InboundMessage{Actor: "customer:cus-1", Channel: "email", Body: "It worked."})
		})
		ct.resolveAt(d + 2*time.Minute)
		ct.run(testInput(vocab.P1))
		assert.Equal(t, []string{"case/C-1/1/customer"}, ct.sentIDs(EventOpened, vocab.AudienceCustomer),
			"the acknowledgement keeps its id: the root of the email thread")
		assert.Equal(t, []string{"case/C-1/customer-message/1/customer_message/team"}, ct.sentIDs(EventCustomerMessage, vocab.AudienceTeam),
			"the first customer-message signal is the cause")
		replies := ct.sentIDs(EventAgentReply, vocab.AudienceCustomer)
		require.Len(t, replies, 1)
		return replies[0], seq, ct.sentIDs(EventSLABreach, vocab.AudienceTeam)
	}
	early, earlySeq, none := replyAt(30 * time.Minute)
	late, lateSeq, breaches := replyAt(61 * time.Minute)
	assert.Equal(t, "case/C-1/update/reply-1/agent_reply/customer", early)
	assert.Equal(t, early, late, "the same update names the same notification")
	assert.NotEqual(t, earlySeq, lateSeq, "the breach took a timeline number before the late reply")
	assert.Empty(t, none)
	due := openedAt.Add(time.Hour).UnixMilli()
	assert.Equal(t, []string{fmt.Sprintf("case/C-1/deadline/2/first_response/%d/sla_breach/team", due)}, breaches,
		"a breach is named by its target and due time")
}

// Cases opened before notifications were named by cause keep numbered ids,
// as their recorded histories sent them.
func TestACaseOfAnEarlierRevisionKeepsNumberedNotificationIDs(t *testing.T) {
	ct := newCaseTest(t)
	var seq int
	ct.at(30*time.Minute, func() {
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Try this code."}, func(v CaseView) { seq = v.LastSeq })
	})
	ct.resolveAt(time.Hour)
	in := testInput(vocab.P1)
	in.Revision = 3
	ct.env.OnGetVersion(changeCauseIDs, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	ct.run(in)
	assert.Equal(t, []string{"case/C-1/" + strconv.Itoa(seq) + "/customer"}, ct.sentIDs(EventAgentReply, vocab.AudienceCustomer))
}

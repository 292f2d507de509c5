//go:build integration

package store_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/disputes"
	"handoff/workflows/vocab"
)

// The reports count every row of the read model, so the fixture lives in
// three weeks of the past no other test writes to (a random Monday between
// 1990 and 2014) and every report is asked for exactly those weeks. Its
// rows are written by the projections themselves and removed afterwards.

// reportFixture is the fixture's period and ids.
type reportFixture struct {
	tag    string
	monday time.Time // the first week's Monday, 00:00 UTC
	filter store.ReportFilter
}

// week1 and week2 answer an instant d after the Monday of the fixture's
// first and second week.
func (f reportFixture) week1(d time.Duration) time.Time { return f.monday.Add(d) }
func (f reportFixture) week2(d time.Duration) time.Time { return f.monday.Add(7*24*time.Hour + d) }

func (f reportFixture) id(prefix, name string) string { return prefix + "-" + f.tag + "-" + name }

func ptr[T any](v T) *T { return &v }

// newReportFixture writes five cases, five deliveries and three disputes:
//
//	case  week team                p   category        opened   first response  resolved  breached  status            csat
//	c1    1    tier1_support       p2  login_failure   +1h      30 min          120 min   no        resolved          5 "great"
//	c2    1    tier1_support       p2  login_failure   +2h      90 min          600 min   yes       closed            2 "slow"
//	c3    1    security            p1  security_alert  +1d      -               -         yes       open              -
//	c4    2    tier1_support       p3  order_issue     +1h      60 min          -         no        escalated         -
//	c5    2    account_management  p3  order_issue     +1d12h   -               -         no        waiting_customer  -
func newReportFixture(t *testing.T, db *store.Store) reportFixture {
	t.Helper()
	ctx := stacktest.Context(t)
	f := reportFixture{tag: newTag(t), monday: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*rand.IntN(1300))}
	f.filter = store.ReportFilter{From: f.monday, To: f.monday.AddDate(0, 0, 21)}
	t.Cleanup(func() {
		// A fresh context: the test's is cancelled by now.
		ctx := context.Background()
		pool := db.Pool()
		for _, q := range []string{`DELETE FROM disputes WHERE id LIKE $1`, `DELETE FROM deliveries WHERE id LIKE $1`, `DELETE FROM cases WHERE id LIKE $1`} {
			_, err := pool.Exec(ctx, q, "%-"+f.tag+"-%")
			assert.NoError(t, err)
		}
	})

	type fixtureCase struct {
		name     string
		team     vocab.Team
		priority vocab.Priority
		category vocab.Category
		opened   time.Time
		response time.Duration // 0: none
		resolved time.Duration // 0: none
		breached bool
		status   cases.Status
		csat     *cases.CSAT
		events   []vocab.Event
	}
	ev := func(seq int, kind string, at time.Time, kv ...string) vocab.Event {
		return vocab.Event{Seq: seq, Actor: "system", Kind: kind, At: at, Payload: vocab.Payload(kv...)}
	}
	fixture := []fixtureCase{
		{name: "c1", team: vocab.TeamTier1Support, priority: vocab.P2, category: vocab.CategoryLoginFailure,
			opened: f.week1(time.Hour), response: 30 * time.Minute, resolved: 120 * time.Minute, status: cases.StatusResolved,
			csat: &cases.CSAT{Rating: 5, Comment: "great", At: f.week1(3 * time.Hour)}},
		{name: "c2", team: vocab.TeamTier1Support, priority: vocab.P2, category: vocab.CategoryLoginFailure,
			opened: f.week1(2 * time.Hour), response: 90 * time.Minute, resolved: 600 * time.Minute, breached: true, status: cases.StatusClosed,
			csat:   &cases.CSAT{Rating: 2, Comment: "slow", At: f.week1(24 * time.Hour)},
			events: []vocab.Event{ev(2, cases.EventSLABreach, f.week1(10*time.Hour), "target", "resolution", "level", "1")}},
		{name: "c3", team: vocab.TeamSecurity, priority: vocab.P1, category: vocab.CategorySecurityAlert,
			opened: f.week1(24 * time.Hour), breached: true, status: cases.StatusOpen,
			events: []vocab.Event{
				ev(2, cases.EventEscalated, f.week1(25*time.Hour), "from_team", "tier1_support", "to_team", "security", "reason", "account takeover", "level", "0"),
				ev(3, cases.EventSLABreach, f.week1(26*time.Hour), "target", "first_response", "level", "1"),
				ev(4, accountflows.EventAccountLocked, f.week1(27*time.Hour), "incident_id", "I-1"),
				ev(5, accountflows.EventSecurityDecision, f.week1(29*time.Hour), "decision", accountflows.DecisionConfirmed),
				ev(6, accountflows.EventSecurityDecision, f.week2(time.Hour), "decision", accountflows.DecisionFalseAlarm),
				ev(7, accountflows.EventRecoveryCompleted, f.week2(2*time.Hour), "recovery_id", "R-1"),
				ev(8, accountflows.EventRecoveryExpired, f.week2(3*time.Hour), "recovery_id", "R-2"),
				ev(9, cases.EventAgentReply, f.week2(4*time.Hour), "body", "not counted"),
			}},
		{name: "c4", team: vocab.TeamTier1Support, priority: vocab.P3, category: vocab.CategoryOrderIssue,
			opened: f.week2(time.Hour), response: 60 * time.Minute, status: cases.StatusEscalated,
			events: []vocab.Event{ev(2, cases.EventEscalated, f.week2(3*time.Hour), "from_team", "tier1_support", "to_team", "tier1_support", "reason", "angry customer", "level", "1")}},
		{name: "c5", team: vocab.TeamAccountManagement, priority: vocab.P3, category: vocab.CategoryOrderIssue,
			opened: f.week2(36 * time.Hour), status: cases.StatusWaitingCustomer},
	}
	for _, fc := range fixture {
		c := newCase(f.tag, fc.name)
		c.Team, c.Priority, c.Category, c.Status, c.CSAT = fc.team, fc.priority, fc.category, fc.status, fc.csat
		c.CreatedAt, c.UpdatedAt = fc.opened, fc.opened.Add(time.Hour)
		if fc.response > 0 {
			c.FirstResponseAt = ptr(fc.opened.Add(fc.response))
		}
		if fc.resolved > 0 {
			c.ResolvedAt = ptr(fc.opened.Add(fc.resolved))
		}
		if fc.breached {
			c.SLA.Breaches = []cases.Breach{{Target: "first_response", DueAt: fc.opened, At: fc.opened, Level: 1}}
		}
		events := append([]vocab.Event{ev(1, cases.EventOpened, fc.opened)}, fc.events...)
		c.LastSeq = len(events)
		require.NoError(t, db.ProjectCase(ctx, cases.ProjectionInput{Case: c, Events: events}))
	}

	for i, d := range []struct {
		name    string
		started time.Time
		status  deliveries.Status
		problem bool
	}{
		{"d1", f.week1(time.Hour), deliveries.StatusDelivered, false},
		{"d2", f.week1(2 * time.Hour), deliveries.StatusUnderReview, true},
		{"d3", f.week2(time.Hour), deliveries.StatusRetired, true},
		{"d4", f.week2(2 * time.Hour), deliveries.StatusDelivered, false},
		{"d5", f.week2(3 * time.Hour), deliveries.StatusDelivered, false},
	} {
		v := deliveries.DeliveryView{ID: f.id("D", d.name), Status: d.status, SellerID: "sel-" + f.tag,
			Handoff: deliveries.HandoffRecord{AccountID: "acc-" + f.tag, OrderID: f.id("ord", d.name)},
			Buyer:   vocab.Customer{ID: "cus-" + f.tag, Email: "b@example.com"},
			Product: "account", Region: "eu", CreatedAt: d.started, UpdatedAt: d.started, LastSeq: 1}
		events := []vocab.Event{ev(1, deliveries.EventStarted, d.started)}
		if d.problem {
			events = append(events, ev(2, deliveries.EventProblemReported, d.started.Add(time.Hour), "description", "locked out"))
			v.LastSeq = 2
		}
		require.NoError(t, db.ProjectDelivery(ctx, deliveries.ProjectionInput{Delivery: v, Events: events}), "delivery %d", i)
	}

	for _, d := range []struct {
		name, caseName string
		opened         time.Time
		answer         string // the seller's event kind, empty when none
		after          time.Duration
		outcome        string // empty when undecided
	}{
		{"p1", "c4", f.week1(time.Hour), disputes.EventContested, 120 * time.Minute, disputes.OutcomeDeny},
		{"p2", "c4", f.week2(time.Hour), disputes.EventSellerAccepted, 30 * time.Minute, disputes.OutcomeRefundFull},
		{"p3", "c3", f.week2(48 * time.Hour), "", 0, ""},
	} {
		v := newBuyerDispute(f.tag, d.name)
		v.CaseID, v.OpenedAt, v.UpdatedAt = f.id("C", d.caseName), d.opened, d.opened
		events := []vocab.Event{ev(1, disputes.EventOpened, d.opened)}
		if d.answer != "" {
			events = append(events, ev(2, d.answer, d.opened.Add(d.after)),
				// A later answer of the seller is not their response time.
				ev(3, disputes.EventOfferMade, d.opened.Add(d.after+time.Hour)))
		}
		if d.outcome != "" {
			v.Decision = &disputes.Decision{N: 1, Outcome: d.outcome, Party: disputes.PartyTrustSafety, At: d.opened.Add(d.after)}
			v.Decisions = []disputes.Decision{*v.Decision}
		}
		v.LastSeq = len(events)
		require.NoError(t, db.ProjectDispute(ctx, disputes.ProjectionInput{Dispute: v, Events: events}))
	}
	return f
}

func (f reportFixture) with(change func(*store.ReportFilter)) store.ReportFilter {
	out := f.filter
	change(&out)
	return out
}

func TestSLAComplianceCountsBreachedCasesByWeekTeamPriorityAndCategory(t *testing.T) {
	db := stacktest.Store(t)
	f := newReportFixture(t, db)
	rows, err := db.SLACompliance(stacktest.Context(t), f.filter)
	require.NoError(t, err)
	w1, w2 := f.monday.Format(time.DateOnly), f.monday.AddDate(0, 0, 7).Format(time.DateOnly)
	assert.Equal(t, []store.SLARow{
		{By: "all", Key: "", Cases: 5, Breached: 2, CompliancePct: 60},
		{By: "week", Key: w1, Cases: 3, Breached: 2, CompliancePct: 33.3},
		{By: "week", Key: w2, Cases: 2, Breached: 0, CompliancePct: 100},
		{By: "team", Key: "account_management", Cases: 1, Breached: 0, CompliancePct: 100},
		{By: "team", Key: "security", Cases: 1, Breached: 1, CompliancePct: 0},
		{By: "team", Key: "tier1_support", Cases: 3, Breached: 1, CompliancePct: 66.7},
		{By: "priority", Key: "p1", Cases: 1, Breached: 1, CompliancePct: 0},
		{By: "priority", Key: "p2", Cases: 2, Breached: 1, CompliancePct: 50},
		{By: "priority", Key: "p3", Cases: 2, Breached: 0, CompliancePct: 100},
		{By: "category", Key: "login_failure", Cases: 2, Breached: 1, CompliancePct: 50},
		{By: "category", Key: "order_issue", Cases: 2, Breached: 0, CompliancePct: 100},
		{By: "category", Key: "security_alert", Cases: 1, Breached: 1, CompliancePct: 0},
	}, rows)

	rows, err = db.SLACompliance(stacktest.Context(t), f.with(func(r *store.ReportFilter) { r.Team, r.Priority = "tier1_support", "p2" }))
	require.NoError(t, err)
	assert.Equal(t, store.SLARow{By: "all", Cases: 2, Breached: 1, CompliancePct: 50}, rows[0])

	rows, err = db.SLACompliance(stacktest.Context(t), f.with(func(r *store.ReportFilter) { r.From = f.monday.AddDate(0, 0, 7) }))
	require.NoError(t, err)
	assert.Equal(t, store.SLARow{By: "all", Cases: 2, Breached: 0, CompliancePct: 100}, rows[0], "the period starts with the second week")
}

func TestResponseTimesAreTheMedianAndNinetiethPercentileOfEachWeekInMinutes(t *testing.T) {
	db := stacktest.Store(t)
	f := newReportFixture(t, db)
	rows, err := db.ResponseTimes(stacktest.Context(t), f.filter)
	require.NoError(t, err)
	// Week 1: responses 30 and 90 min, resolutions 120 and 600 min (c3 has neither).
	assert.Equal(t, []store.ResponseTimeRow{
		{Week: f.monday, Cases: 3, Responded: 2, FirstResponseP50: ptr(60.0), FirstResponseP90: ptr(84.0),
			Resolved: 2, ResolutionP50: ptr(360.0), ResolutionP90: ptr(552.0)},
		{Week: f.monday.AddDate(0, 0, 7), Cases: 2, Responded: 1, FirstResponseP50: ptr(60.0), FirstResponseP90: ptr(60.0)},
	}, rows)

	// Two filters: no histogram holds them, the cases answer.
	rows, err = db.ResponseTimes(stacktest.Context(t), f.with(func(r *store.ReportFilter) { r.Team, r.Priority = "tier1_support", "p2" }))
	require.NoError(t, err)
	assert.Equal(t, []store.ResponseTimeRow{
		{Week: f.monday, Cases: 2, Responded: 2, FirstResponseP50: ptr(60.0), FirstResponseP90: ptr(84.0),
			Resolved: 2, ResolutionP50: ptr(360.0), ResolutionP90: ptr(552.0)},
	}, rows)

	rows, err = db.ResponseTimes(stacktest.Context(t), f.with(func(r *store.ReportFilter) { r.Category = "security_alert" }))
	require.NoError(t, err)
	assert.Equal(t, []store.ResponseTimeRow{{Week: f.monday, Cases: 1}}, rows, "no response yet: no percentile")
}

func TestBacklogCountsOpenCasesByStatusAndAge(t *testing.T) {
	db := stacktest.Store(t)
	f := newReportFixture(t, db)
	now := f.week2(48 * time.Hour) // c3 is 8 days old, c4 47 hours, c5 12 hours
	rows, err := db.Backlog(stacktest.Context(t), f.filter, now)
	require.NoError(t, err)
	assert.Equal(t, []store.BacklogRow{
		{Status: "open", Age: store.AgeOver7Days, Cases: 1},
		{Status: "waiting_customer", Age: store.AgeUnder1Day, Cases: 1},
		{Status: "escalated", Age: store.Age1To3Days, Cases: 1},
	}, rows, "resolved and closed cases are no backlog")

	rows, err = db.Backlog(stacktest.Context(t), f.with(func(r *store.ReportFilter) { r.Team = "tier1_support" }), now)
	require.NoError(t, err)
	assert.Equal(t, []store.BacklogRow{{Status: "escalated", Age: store.Age1To3Days, Cases: 1}}, rows)
}

func TestEscalationsCountEachReasonTeamAndLevelWithSLABreaches(t *testing.T) {
	db := stacktest.Store(t)
	f := newReportFixture(t, db)
	rows, err := db.Escalations(stacktest.Context(t), f.filter)
	require.NoError(t, err)
	assert.Equal(t, []store.EscalationRow{
		{Kind: "escalated", Team: "security", Level: 0, Reason: "account takeover", Count: 1},
		{Kind: "escalated", Team: "tier1_support", Level: 1, Reason: "angry customer", Count: 1},
		{Kind: "sla_breach", Team: "security", Level: 1, Reason: "first_response", Count: 1},
		{Kind: "sla_breach", Team: "tier1_support", Level: 1, Reason: "resolution", Count: 1},
	}, rows)

	rows, err = db.Escalations(stacktest.Context(t), f.with(func(r *store.ReportFilter) { r.Team = "security" }))
	require.NoError(t, err)
	assert.Len(t, rows, 2, "the team escalated to")
	for _, r := range rows {
		assert.Equal(t, "security", r.Team)
	}
}

func TestCSATAveragesRatingsAndListsTheLatestComments(t *testing.T) {
	db := stacktest.Store(t)
	f := newReportFixture(t, db)
	r, err := db.CSAT(stacktest.Context(t), f.filter)
	require.NoError(t, err)
	assert.Equal(t, store.CSATReport{
		Rated: 2, Average: ptr(3.5),
		Distribution: []store.CSATCount{{Rating: 1}, {Rating: 2, Cases: 1}, {Rating: 3}, {Rating: 4}, {Rating: 5, Cases: 1}},
		Comments: []store.CSATComment{
			{CaseID: f.id("C", "c2"), Rating: 2, Comment: "slow", At: f.week1(24 * time.Hour)},
			{CaseID: f.id("C", "c1"), Rating: 5, Comment: "great", At: f.week1(3 * time.Hour)},
		},
	}, r)

	r, err = db.CSAT(stacktest.Context(t), f.with(func(r *store.ReportFilter) { r.Team = "security" }))
	require.NoError(t, err)
	assert.Equal(t, 0, r.Rated)
	assert.Nil(t, r.Average, "no answers, no average")
	assert.Len(t, r.Distribution, 5)
	assert.Empty(t, r.Comments)
}

func TestSecurityLocksCountLocksFalseAlarmUnlocksAndRecoveriesByWeek(t *testing.T) {
	db := stacktest.Store(t)
	f := newReportFixture(t, db)
	rows, err := db.SecurityLocks(stacktest.Context(t), f.filter)
	require.NoError(t, err)
	assert.Equal(t, []store.SecurityRow{
		{Week: f.monday, Locks: 1},
		{Week: f.monday.AddDate(0, 0, 7), Unlocks: 1, RecoveriesCompleted: 1, RecoveriesExpired: 1},
	}, rows, "a confirmed takeover leaves the account locked")

	rows, err = db.SecurityLocks(stacktest.Context(t), f.with(func(r *store.ReportFilter) { r.Team = "tier1_support" }))
	require.NoError(t, err)
	assert.Empty(t, rows)
}

func TestDeliveryReportCountsStatusesAndTheWeeklyProblemRate(t *testing.T) {
	db := stacktest.Store(t)
	f := newReportFixture(t, db)
	r, err := db.DeliveryReport(stacktest.Context(t), f.filter)
	require.NoError(t, err)
	assert.Equal(t, store.DeliveryStats{
		ByStatus: []store.DeliveryStatusRow{{Status: "delivered", Deliveries: 3}, {Status: "under_review", Deliveries: 1}, {Status: "retired", Deliveries: 1}},
		ByWeek: []store.DeliveryWeekRow{
			{Week: f.monday, Deliveries: 2, WithProblem: 1, ProblemRatePct: 50},
			{Week: f.monday.AddDate(0, 0, 7), Deliveries: 3, WithProblem: 1, ProblemRatePct: 33.3},
		},
	}, r)

	_, err = db.DeliveryReport(stacktest.Context(t), f.with(func(r *store.ReportFilter) { r.Team = "security" }))
	var bad *store.ReportFilterError
	require.ErrorAs(t, err, &bad)
	assert.Equal(t, "team", bad.Field, "deliveries have no team")
}

func TestDisputesCountOutcomesAndTheSellersFirstResponseTime(t *testing.T) {
	db := stacktest.Store(t)
	f := newReportFixture(t, db)
	rows, err := db.Disputes(stacktest.Context(t), f.filter)
	require.NoError(t, err)
	assert.Equal(t, []store.DisputeRow{
		{Outcome: "all", Disputes: 3, SellerResponded: 2, SellerResponseP50: ptr(75.0), SellerResponseP90: ptr(111.0)},
		{Outcome: "refund_full", Disputes: 1, SellerResponded: 1, SellerResponseP50: ptr(30.0), SellerResponseP90: ptr(30.0)},
		{Outcome: "deny", Disputes: 1, SellerResponded: 1, SellerResponseP50: ptr(120.0), SellerResponseP90: ptr(120.0)},
		{Outcome: "undecided", Disputes: 1},
	}, rows)

	rows, err = db.Disputes(stacktest.Context(t), f.with(func(r *store.ReportFilter) { r.Team = "security" }))
	require.NoError(t, err)
	assert.Equal(t, []store.DisputeRow{{Outcome: "all", Disputes: 1}, {Outcome: "undecided", Disputes: 1}}, rows, "the dispute's case's team")
}

func TestAReportRefusesAPeriodThatEndsBeforeItStarts(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	at := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := db.SLACompliance(ctx, store.ReportFilter{From: at, To: at})
	var bad *store.ReportFilterError
	require.ErrorAs(t, err, &bad)
	assert.Equal(t, "to", bad.Field)
}

func TestEveryReportExplainsItsPlan(t *testing.T) {
	db := stacktest.Store(t)
	f := newReportFixture(t, db)
	for _, name := range store.ReportNames {
		plan, err := db.ExplainReport(stacktest.Context(t), name, f.filter)
		require.NoError(t, err, name)
		assert.Contains(t, plan, "Execution Time", name)
	}
	_, err := db.ExplainReport(stacktest.Context(t), "nope", f.filter)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

//go:build integration

package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
)

// The reports read whole weeks from the rollups of migration 00014 and
// partial weeks from the rows; these tests hold the two to one answer.

// rollupSnapshot answers every non-zero rollup row of the weeks [from, to),
// one line each, sorted.
func rollupSnapshot(t *testing.T, db *store.Store, from, to time.Time) string {
	t.Helper()
	rows, err := db.Pool().Query(stacktest.Context(t), `
SELECT line FROM (
    SELECT 'case ' || concat_ws(' ', week, team, priority, category, cases, breached) AS line
    FROM report_case_weeks WHERE week >= $1 AND week < $2 AND cases <> 0
    UNION ALL
    SELECT 'duration ' || concat_ws(' ', dim, value, week, measure, bucket, n, round(minutes::numeric, 6))
    FROM report_duration_weeks WHERE week >= $1 AND week < $2 AND n <> 0
    UNION ALL
    SELECT 'subject ' || concat_ws(' ', week, category, subject_key, wording, team, priority, n)
    FROM report_subject_weeks WHERE week >= $1 AND week < $2 AND n <> 0
    UNION ALL
    SELECT 'event ' || concat_ws(' ', week, kind, team, priority, category, level, reason, n)
    FROM report_event_weeks WHERE week >= $1 AND week < $2 AND n <> 0
    UNION ALL
    SELECT 'delivery ' || concat_ws(' ', id, problem_reported)
    FROM deliveries WHERE created_at >= $1 AND created_at < $2
) l ORDER BY line`, from, to)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return strings.Join(lines, "\n")
}

func TestRollupsStayEqualToARebuildFromTheRowsAsCasesChange(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	f := newReportFixture(t, db)
	from, to := f.monday, f.monday.AddDate(0, 0, 21)
	pool := db.Pool()
	for _, q := range []struct{ sql, id string }{
		// c4 moves to the security team and p1: its case row and its
		// escalation (which names no other team) move with it.
		{`UPDATE cases SET team = 'security', priority = 'p1' WHERE id = $1`, "c4"},
		// c1 is reopened: no longer resolved.
		{`UPDATE cases SET view = view - 'resolved_at' WHERE id = $1`, "c1"},
		// c2's subject changes, and its breach event goes.
		{`UPDATE cases SET subject = 'Cannot log in since order 77' WHERE id = $1`, "c2"},
		{`DELETE FROM case_events WHERE case_id = $1 AND kind = 'sla_breach'`, "c2"},
		// c3 is deleted, its events with it.
		{`DELETE FROM cases WHERE id = $1`, "c3"},
	} {
		_, err := pool.Exec(ctx, q.sql, f.id("C", q.id))
		require.NoError(t, err, q.sql)
	}
	_, err := pool.Exec(ctx, `INSERT INTO case_events (case_id, seq, actor, kind, at, payload)
VALUES ($1, 10, 'system', 'escalated', $2, '{"to_team": "account_management", "reason": "vip", "level": 2}')`,
		f.id("C", "c4"), f.week2(5*time.Hour))
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO delivery_events (delivery_id, seq, actor, kind, at)
VALUES ($1, 2, 'buyer', 'delivery_problem_received', $2)`, f.id("D", "d1"), f.week1(3*time.Hour))
	require.NoError(t, err)

	kept := rollupSnapshot(t, db, from, to)
	require.NoError(t, db.RebuildRollups(ctx, from, to))
	assert.Equal(t, rollupSnapshot(t, db, from, to), kept, "the triggers kept what a rebuild computes")

	rows, err := db.Escalations(ctx, f.filter)
	require.NoError(t, err)
	assert.Equal(t, []store.EscalationRow{
		{Kind: "escalated", Team: "account_management", Level: 2, Reason: "vip", Count: 1},
		{Kind: "escalated", Team: "tier1_support", Level: 1, Reason: "angry customer", Count: 1},
	}, rows, "c3's escalation and breach went with it, c2's breach was removed")
	sla, err := db.SLACompliance(ctx, f.with(func(r *store.ReportFilter) { r.Team = "security" }))
	require.NoError(t, err)
	assert.Equal(t, store.SLARow{By: "all", Cases: 1, Breached: 0, CompliancePct: 100}, sla[0], "c4 counts in its new team, c3 is gone")
}

func TestAReportAnswersTheSameFromRollupsRowsOrBoth(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	f := newReportFixture(t, db)
	// Whole weeks read the rollups; a period a microsecond inside them
	// reads its first and last weeks from the rows; one inside both weeks
	// has no whole week at all.
	const µs = time.Microsecond
	periods := map[string]store.ReportFilter{
		"rollups": f.filter,
		"both":    f.with(func(r *store.ReportFilter) { r.From, r.To = f.monday.Add(µs), f.monday.AddDate(0, 0, 21).Add(-µs) }),
		"rows":    f.with(func(r *store.ReportFilter) { r.From, r.To = f.monday.Add(µs), f.monday.AddDate(0, 0, 14).Add(-µs) }),
	}
	answers := map[string]func(store.ReportFilter) (any, error){
		store.ReportSLACompliance: func(p store.ReportFilter) (any, error) { return db.SLACompliance(ctx, p) },
		store.ReportResponseTimes: func(p store.ReportFilter) (any, error) { return db.ResponseTimes(ctx, p) },
		store.ReportEscalations:   func(p store.ReportFilter) (any, error) { return db.Escalations(ctx, p) },
		store.ReportSecurity:      func(p store.ReportFilter) (any, error) { return db.SecurityLocks(ctx, p) },
		store.ReportRecurringIssues: func(p store.ReportFilter) (any, error) {
			return db.RecurringIssues(ctx, p, store.RecurringDefaultLimit)
		},
	}
	for name, answer := range answers {
		want, err := answer(periods["rollups"])
		require.NoError(t, err, name)
		assert.NotEmpty(t, want, name)
		for _, source := range []string{"both", "rows"} {
			got, err := answer(periods[source])
			require.NoError(t, err, name)
			assert.Equal(t, want, got, "%s from %s", name, source)
		}
	}
}

package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/disputes"
)

// Support analytics over the read models. Each report is one aggregate
// query (two, sent in one batch, where it answers two shapes) over a range
// of one timestamp that an index of migration 00012 answers, or over the
// weekly rollups of migration 00014 and the rows of the period's partial
// weeks (store/rollups.go): GROUP BY, percentiles and weeks are computed
// by Postgres, never by reading rows into Go; only a histogram's buckets
// are. Weeks start on Monday, 00:00 UTC; weeks without a row are left
// out. Durations are wall-clock minutes, rounded to a tenth.

// Names of the reports, as the API serves them.
const (
	ReportSLACompliance = "sla-compliance"
	ReportResponseTimes = "response-times"
	ReportBacklog       = "backlog"
	ReportEscalations   = "escalations"
	ReportCSAT          = "csat"
	ReportSecurity      = "security"
	ReportDeliveries    = "deliveries"
	ReportDisputes      = "disputes"
)

// ReportNames lists every report.
var ReportNames = []string{ReportSLACompliance, ReportResponseTimes, ReportBacklog, ReportEscalations,
	ReportCSAT, ReportSecurity, ReportDeliveries, ReportDisputes, ReportRecurringIssues}

// ReportFilter selects what a report counts. Empty strings do not filter;
// a zero From or To leaves that end of the period open. The period is
// [From, To) over the report's own instant: when a case was opened (SLA
// compliance, response times, backlog), rated (CSAT), when an event
// happened (escalations, security), when a delivery started or a dispute
// opened. Team, priority and category are the case's (for a dispute, its
// case's); deliveries take the period only.
type ReportFilter struct {
	Team, Priority, Category string
	From, To                 time.Time
}

// ReportFilterError is a filter a report cannot take; the API answers it
// as a 422 on Field.
type ReportFilterError struct {
	Field, Reason string
}

func (e *ReportFilterError) Error() string { return e.Field + ": " + e.Reason }

// check refuses a period that ends before it starts.
func (f ReportFilter) check() error {
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return &ReportFilterError{Field: "to", Reason: "must be after from"}
	}
	return nil
}

// args answers the parameters every report query takes: $1 team, $2
// priority, $3 category, $4 and $5 the period, open ends as infinities so
// the range stays an index condition in a generic plan.
func (f ReportFilter) args(extra ...any) []any {
	from := pgtype.Timestamptz{Time: f.From, Valid: true}
	if f.From.IsZero() {
		from = pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	}
	to := pgtype.Timestamptz{Time: f.To, Valid: true}
	if f.To.IsZero() {
		to = pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}
	}
	return append([]any{f.Team, f.Priority, f.Category, from, to}, extra...)
}

// period answers f.args's period alone.
func (f ReportFilter) period() []any { return f.args()[3:] }

// caseFilterSQL is the team, priority and category filter on the cases
// aliased c.
const caseFilterSQL = `($1 = '' OR c.team = $1) AND ($2 = '' OR c.priority = $2) AND ($3 = '' OR c.category = $3)`

// weekSQL answers the Monday 00:00 UTC of the week of the instant col.
func weekSQL(col string) string {
	return `date_trunc('week', ` + col + ` AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`
}

// minutesSQL answers the minutes from the instant from to the instant to.
func minutesSQL(from, to string) string {
	return `extract(epoch FROM ` + to + ` - ` + from + `)::float8 / 60`
}

// SLARow counts the cases opened in one group and how many breached an
// SLA target.
type SLARow struct {
	// By names the grouping: all, week, team, priority or category; Key is
	// the group (a week as its Monday, 2006-01-02; empty for all).
	By            string  `json:"by"`
	Key           string  `json:"key"`
	Cases         int     `json:"cases"`
	Breached      int     `json:"breached"`
	CompliancePct float64 `json:"compliance_pct" doc:"Cases that breached no target, in percent of cases."`
}

// The groupings of SLARow.By, in the order SLACompliance answers them.
const (
	SLAByAll      = "all"
	SLAByWeek     = "week"
	SLAByTeam     = "team"
	SLAByPriority = "priority"
	SLAByCategory = "category"
)

var slaCompliance = `
SELECT dim, key, cases, breached, compliance_pct FROM (
    SELECT CASE WHEN GROUPING(week) = 0 THEN 'week' WHEN GROUPING(team) = 0 THEN 'team'
                WHEN GROUPING(priority) = 0 THEN 'priority' WHEN GROUPING(category) = 0 THEN 'category'
                ELSE 'all' END AS dim,
           coalesce(to_char(week AT TIME ZONE 'UTC', 'YYYY-MM-DD'), team, priority, category, '') AS key,
           sum(cases)::int AS cases, sum(breached)::int AS breached,
           round(100.0 * (sum(cases) - sum(breached)) / sum(cases), 1)::float8 AS compliance_pct
    FROM (SELECT r.week, r.team, r.priority, r.category, r.cases, r.breached
          FROM report_case_weeks r
          WHERE ` + wholeWeeksSQL + ` AND r.cases <> 0 AND ` + rollupFilterSQL + `
          UNION ALL
          ` + partialWeeksSQL(weekSQL("c.created_at")+` AS week, c.team, c.priority, c.category, 1 AS cases, c.breached::int AS breached`,
	"cases c", "c.created_at", caseFilterSQL) + `) c
    GROUP BY GROUPING SETS ((), (week), (team), (priority), (category))
    HAVING sum(cases) > 0
) g
ORDER BY array_position(ARRAY['all', 'week', 'team', 'priority', 'category'], dim), key`

// SLACompliance answers the cases opened in f's period and their SLA
// breaches, in all, by week, team, priority and category.
func (s *Store) SLACompliance(ctx context.Context, f ReportFilter) ([]SLARow, error) {
	return reportRows(ctx, s, ReportSLACompliance, f, slaCompliance, f.rollupArgs(), func(row pgx.CollectableRow) (SLARow, error) {
		var r SLARow
		err := row.Scan(&r.By, &r.Key, &r.Cases, &r.Breached, &r.CompliancePct)
		return r, err
	})
}

// ResponseTimeRow is the first response and resolution times of the cases
// opened in one week, in minutes; a percentile is nil when no case of the
// week has the time.
type ResponseTimeRow struct {
	Week             time.Time `json:"week"`
	Cases            int       `json:"cases"`
	Responded        int       `json:"responded" doc:"Cases with a first response."`
	FirstResponseP50 *float64  `json:"first_response_p50_minutes"`
	FirstResponseP90 *float64  `json:"first_response_p90_minutes"`
	Resolved         int       `json:"resolved" doc:"Cases resolved (and not reopened since)."`
	ResolutionP50    *float64  `json:"resolution_p50_minutes"`
	ResolutionP90    *float64  `json:"resolution_p90_minutes"`
}

// responseTimesPartial is the partial weeks of the period, from the cases:
// exact percentiles.
var responseTimesPartial = `
SELECT week, count(*), count(first_response),
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY first_response),
       count(resolution),
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY resolution)
FROM (` + partialWeeksSQL(weekSQL("c.created_at")+` AS week, `+minutesSQL("c.created_at", "c.first_response_at")+` AS first_response, `+
	minutesSQL("c.created_at", "c.resolved_at")+` AS resolution`, "cases c", "c.created_at", caseFilterSQL) + `) c
GROUP BY 1`

// responseTimesWhole is the whole weeks of the period, from the rollups:
// each week's cases (as the measure cases) and its histograms' buckets in
// order, each with its count and the sum of its durations, in dimension
// $8 under value $9 (histogramDim).
var responseTimesWhole = `
SELECT r.week, 'cases', 0::smallint, sum(r.cases)::int, 0::float8
FROM report_case_weeks r
WHERE ` + wholeWeeksSQL + ` AND r.cases <> 0 AND ` + rollupFilterSQL + `
GROUP BY 1
HAVING sum(r.cases) > 0
UNION ALL
SELECT r.week, r.measure, r.bucket, r.n, r.minutes
FROM report_duration_weeks r
WHERE r.dim = $8 AND r.value = $9 AND ` + wholeWeeksSQL + ` AND r.n > 0
ORDER BY 1, 2, 3`

// histogramDim answers the dimension of report_duration_weeks that holds
// f's histograms and its value; ok is false when f filters by two or more
// (the histograms of a team's p1 cases are not kept).
func histogramDim(f ReportFilter) (dim, value string, ok bool) {
	dim, value = "all", ""
	set := 0
	for _, d := range []struct{ dim, value string }{{"team", f.Team}, {"priority", f.Priority}, {"category", f.Category}} {
		if d.value != "" {
			dim, value = d.dim, d.value
			set++
		}
	}
	return dim, value, set <= 1
}

// rowsOnly answers f.rollupArgs with no whole week: every week of the
// period read from the rows.
func (f ReportFilter) rowsOnly() []any {
	args := f.rollupArgs()
	inf := pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}
	args[6], args[7] = inf, inf // $6 and $7, after the exec mode
	return args
}

// ResponseTimes answers, per week of opening, the p50 and p90 of the time
// from opening to the first response and to the resolution. The whole
// weeks of the period are read from their histograms (within 2 % of the
// exact percentiles), its partial weeks from the cases (exact).
func (s *Store) ResponseTimes(ctx context.Context, f ReportFilter) ([]ResponseTimeRow, error) {
	// Two statements, not a batch: a batch cannot skip the statement
	// cache (rollupArgs).
	dim, value, whole := histogramDim(f)
	args := f.rollupArgs()
	if !whole {
		args = f.rowsOnly()
	}
	out, err := reportRows(ctx, s, ReportResponseTimes, f, responseTimesPartial, args, func(row pgx.CollectableRow) (ResponseTimeRow, error) {
		var r ResponseTimeRow
		var first, resolution []*float64
		if err := row.Scan(&r.Week, &r.Cases, &r.Responded, &first, &r.Resolved, &resolution); err != nil {
			return r, err
		}
		r.Week = r.Week.UTC()
		r.FirstResponseP50, r.FirstResponseP90 = percentile(first, 0), percentile(first, 1)
		r.ResolutionP50, r.ResolutionP90 = percentile(resolution, 0), percentile(resolution, 1)
		return r, nil
	})
	if err != nil || !whole {
		return out, err
	}
	rows, err := s.pool.Query(ctx, responseTimesWhole, f.rollupArgs(dim, value)...)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", ReportResponseTimes, err)
	}
	weeks := map[time.Time]*ResponseTimeRow{}
	hists := map[time.Time]map[string]*histogram{}
	var week time.Time
	var measure string
	var bucket, n int
	var minutes float64
	_, err = pgx.ForEachRow(rows, []any{&week, &measure, &bucket, &n, &minutes}, func() error {
		week = week.UTC()
		r := weeks[week]
		if r == nil {
			r = &ResponseTimeRow{Week: week}
			weeks[week] = r
			hists[week] = map[string]*histogram{"first_response": {}, "resolution": {}}
		}
		if measure == "cases" {
			r.Cases = n
		} else if h := hists[week][measure]; h != nil {
			h.add(n, minutes)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", ReportResponseTimes, err)
	}
	for w, r := range weeks {
		first, resolution := hists[w]["first_response"], hists[w]["resolution"]
		r.Responded, r.Resolved = first.total, resolution.total
		r.FirstResponseP50, r.FirstResponseP90 = first.percentile(0.5), first.percentile(0.9)
		r.ResolutionP50, r.ResolutionP90 = resolution.percentile(0.5), resolution.percentile(0.9)
		if r.Cases > 0 {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(a, b ResponseTimeRow) int { return a.Week.Compare(b.Week) })
	return out, nil
}

// Age buckets of the backlog, youngest first.
const (
	AgeUnder1Day  = "under_1d"
	Age1To3Days   = "1d_3d"
	Age3To7Days   = "3d_7d"
	AgeOver7Days  = "over_7d"
	ageBucketsSQL = `CASE WHEN age < interval '1 day' THEN 0 WHEN age < interval '3 days' THEN 1
                     WHEN age < interval '7 days' THEN 2 ELSE 3 END`
)

// AgeBuckets lists the backlog's age buckets in order.
var AgeBuckets = []string{AgeUnder1Day, Age1To3Days, Age3To7Days, AgeOver7Days}

// BacklogRow counts the open cases of one status in one age bucket.
type BacklogRow struct {
	Status string `json:"status"`
	Age    string `json:"age" enum:"under_1d,1d_3d,3d_7d,over_7d" doc:"How long ago the case was opened."`
	Cases  int    `json:"cases"`
}

// backlog repeats cases_backlog_idx's predicate word for word.
var backlog = `
SELECT status, ` + ageBucketsSQL + ` AS bucket, count(*)
FROM (SELECT c.status, $6 - c.created_at AS age
      FROM cases c
      WHERE c.status NOT IN ('resolved', 'closed')
        AND c.created_at >= $4 AND c.created_at < $5 AND ` + caseFilterSQL + `) c
GROUP BY 1, 2`

// Backlog answers the cases open now (neither resolved nor closed) that
// were opened in f's period, by status and by age at now.
func (s *Store) Backlog(ctx context.Context, f ReportFilter, now time.Time) ([]BacklogRow, error) {
	rows, err := reportRows(ctx, s, ReportBacklog, f, backlog, f.args(now), func(row pgx.CollectableRow) (BacklogRow, error) {
		var r BacklogRow
		var bucket int
		err := row.Scan(&r.Status, &bucket, &r.Cases)
		r.Age = AgeBuckets[bucket]
		return r, err
	})
	slices.SortFunc(rows, func(a, b BacklogRow) int {
		if d := order(caseStatuses, a.Status) - order(caseStatuses, b.Status); d != 0 {
			return d
		}
		return order(AgeBuckets, a.Age) - order(AgeBuckets, b.Age)
	})
	return rows, err
}

// caseStatuses are cases.Statuses as strings, the backlog's order.
var caseStatuses = func() []string {
	out := make([]string, len(cases.Statuses))
	for i, st := range cases.Statuses {
		out[i] = string(st)
	}
	return out
}()

// Kinds of EscalationRow.
const (
	// EscalationByHand is an escalation someone (or another workflow)
	// asked for; its reason is theirs.
	EscalationByHand = cases.EventEscalated
	// EscalationSLABreach is a breach that moved the case a level up; its
	// reason is the SLA target.
	EscalationSLABreach = cases.EventSLABreach
)

// EscalationRow counts the escalations of one kind to one team and level
// for one reason.
type EscalationRow struct {
	Kind   string `json:"kind" enum:"escalated,sla_breach"`
	Team   string `json:"team" doc:"The team escalated to; for a breach, the case's team."`
	Level  int    `json:"level" doc:"The escalation level reached: 0 agent, 1 team lead, 2 support manager; -1 when the event did not say."`
	Reason string `json:"reason" doc:"Why, as given; for a breach, the SLA target."`
	Count  int    `json:"escalations"`
}

// escalationTeamSQL is the team an escalation event went to.
const escalationTeamSQL = `CASE WHEN e.kind = 'escalated' THEN coalesce(e.payload ->> 'to_team', c.team) ELSE c.team END`

var escalations = `
SELECT kind, team, level, reason, sum(n)::int
FROM (SELECT r.kind, r.team, r.level, r.reason, r.n
      FROM report_event_weeks r
      WHERE ` + wholeWeeksSQL + ` AND r.kind IN ('escalated', 'sla_breach') AND r.n <> 0 AND ` + rollupFilterSQL + `
      UNION ALL
      ` + partialWeeksSQL(`e.kind, `+escalationTeamSQL+` AS team,
       coalesce(CASE WHEN e.payload ->> 'level' ~ '^[0-9]{1,4}$' THEN (e.payload ->> 'level')::int END, -1) AS level,
       coalesce(CASE WHEN e.kind = 'escalated' THEN e.payload ->> 'reason' ELSE e.payload ->> 'target' END, '') AS reason,
       1 AS n`, "case_events e JOIN cases c ON c.id = e.case_id", "e.at",
	`e.kind IN ('escalated', 'sla_breach')
       AND ($1 = '' OR `+escalationTeamSQL+` = $1) AND ($2 = '' OR c.priority = $2) AND ($3 = '' OR c.category = $3)`) + `) e
GROUP BY 1, 2, 3, 4
HAVING sum(n) > 0
ORDER BY 5 DESC, 1, 2, 3, 4`

// Escalations answers the escalations that happened in f's period, by
// kind, team, level and reason, the most frequent first. Priority and
// category are the case's now.
func (s *Store) Escalations(ctx context.Context, f ReportFilter) ([]EscalationRow, error) {
	return reportRows(ctx, s, ReportEscalations, f, escalations, f.rollupArgs(), func(row pgx.CollectableRow) (EscalationRow, error) {
		var r EscalationRow
		err := row.Scan(&r.Kind, &r.Team, &r.Level, &r.Reason, &r.Count)
		return r, err
	})
}

// CSATCommentLimit is how many of the latest comments CSAT answers.
const CSATCommentLimit = 20

// CSATReport is the survey answers given in a period.
type CSATReport struct {
	Rated int `json:"rated"`
	// Average is nil when no case was rated.
	Average      *float64      `json:"average" doc:"The mean rating, 1 to 5, to two decimals; null when none."`
	Distribution []CSATCount   `json:"distribution" doc:"Ratings 1 to 5, each with its count."`
	Comments     []CSATComment `json:"comments" doc:"The latest answers with a comment, newest first."`
}

// CSATCount counts the answers of one rating.
type CSATCount struct {
	Rating int `json:"rating"`
	Cases  int `json:"cases"`
}

// CSATComment is one answer with a comment.
type CSATComment struct {
	CaseID  string    `json:"case_id"`
	Rating  int       `json:"rating"`
	Comment string    `json:"comment"`
	At      time.Time `json:"at"`
}

var csatSummary = `
SELECT count(*), round(avg(c.csat_rating), 2)::float8,
       count(*) FILTER (WHERE c.csat_rating = 1), count(*) FILTER (WHERE c.csat_rating = 2),
       count(*) FILTER (WHERE c.csat_rating = 3), count(*) FILTER (WHERE c.csat_rating = 4),
       count(*) FILTER (WHERE c.csat_rating = 5)
FROM cases c
WHERE c.csat_at >= $4 AND c.csat_at < $5 AND ` + caseFilterSQL

var csatComments = `
SELECT c.id, c.csat_rating, c.view -> 'csat' ->> 'comment', c.csat_at
FROM cases c
WHERE c.csat_at >= $4 AND c.csat_at < $5 AND ` + caseFilterSQL + `
  AND coalesce(c.view -> 'csat' ->> 'comment', '') <> ''
ORDER BY c.csat_at DESC, c.id DESC
LIMIT ` + fmt.Sprint(CSATCommentLimit)

// CSAT answers the survey answers given in f's period: how many, their
// average, the count of each rating and the latest comments.
func (s *Store) CSAT(ctx context.Context, f ReportFilter) (CSATReport, error) {
	if err := f.check(); err != nil {
		return CSATReport{}, err
	}
	var r CSATReport
	counts := make([]int, 5)
	batch := &pgx.Batch{}
	batch.Queue(csatSummary, f.args()...).QueryRow(func(row pgx.Row) error {
		return row.Scan(&r.Rated, &r.Average, &counts[0], &counts[1], &counts[2], &counts[3], &counts[4])
	})
	batch.Queue(csatComments, f.args()...).Query(func(rows pgx.Rows) error {
		var err error
		r.Comments, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (CSATComment, error) {
			var c CSATComment
			err := row.Scan(&c.CaseID, &c.Rating, &c.Comment, &c.At)
			c.At = c.At.UTC()
			return c, err
		})
		return err
	})
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return CSATReport{}, fmt.Errorf("report %s: %w", ReportCSAT, err)
	}
	for i, n := range counts {
		r.Distribution = append(r.Distribution, CSATCount{Rating: i + 1, Cases: n})
	}
	return r, nil
}

// SecurityRow counts a week's account locks, unlocks and recoveries, as
// the account workflows reported them to their cases.
type SecurityRow struct {
	Week                time.Time `json:"week"`
	Locks               int       `json:"locks" doc:"Accounts locked under a security incident."`
	Unlocks             int       `json:"unlocks" doc:"Incidents decided false alarms, which unlock the account."`
	RecoveriesCompleted int       `json:"recoveries_completed"`
	RecoveriesExpired   int       `json:"recoveries_expired" doc:"Recovery codes that expired unused."`
	RecoveriesLocked    int       `json:"recoveries_locked" doc:"Recoveries stopped after too many wrong codes."`
}

// securityKinds are the timeline kinds the security report counts.
var securityKinds = `'` + accountflows.EventAccountLocked + `', '` + accountflows.EventSecurityDecision + `', '` +
	accountflows.EventRecoveryCompleted + `', '` + accountflows.EventRecoveryExpired + `', '` + accountflows.EventRecoveryLocked + `'`

var security = `
SELECT week,
       coalesce(sum(n) FILTER (WHERE kind = '` + accountflows.EventAccountLocked + `'), 0)::int,
       coalesce(sum(n) FILTER (WHERE kind = '` + accountflows.EventSecurityDecision + `'), 0)::int,
       coalesce(sum(n) FILTER (WHERE kind = '` + accountflows.EventRecoveryCompleted + `'), 0)::int,
       coalesce(sum(n) FILTER (WHERE kind = '` + accountflows.EventRecoveryExpired + `'), 0)::int,
       coalesce(sum(n) FILTER (WHERE kind = '` + accountflows.EventRecoveryLocked + `'), 0)::int
FROM (SELECT r.week, r.kind, r.n
      FROM report_event_weeks r
      WHERE ` + wholeWeeksSQL + ` AND r.kind IN (` + securityKinds + `) AND r.n <> 0 AND ` + rollupFilterSQL + `
      UNION ALL
      ` + partialWeeksSQL(weekSQL("e.at")+` AS week, e.kind, 1 AS n`, "case_events e JOIN cases c ON c.id = e.case_id", "e.at",
	`e.kind IN (`+securityKinds+`)
        AND (e.kind <> '`+accountflows.EventSecurityDecision+`' OR e.payload ->> 'decision' = '`+accountflows.DecisionFalseAlarm+`')
        AND `+caseFilterSQL) + `) e
GROUP BY 1
HAVING sum(n) > 0
ORDER BY 1`

// SecurityLocks answers, per week, the locks, unlocks and recoveries
// reported to the cases f selects.
func (s *Store) SecurityLocks(ctx context.Context, f ReportFilter) ([]SecurityRow, error) {
	return reportRows(ctx, s, ReportSecurity, f, security, f.rollupArgs(), func(row pgx.CollectableRow) (SecurityRow, error) {
		var r SecurityRow
		err := row.Scan(&r.Week, &r.Locks, &r.Unlocks, &r.RecoveriesCompleted, &r.RecoveriesExpired, &r.RecoveriesLocked)
		r.Week = r.Week.UTC()
		return r, err
	})
}

// DeliveryStats is the deliveries started in a period.
type DeliveryStats struct {
	ByStatus []DeliveryStatusRow `json:"by_status" doc:"Their status now."`
	ByWeek   []DeliveryWeekRow   `json:"by_week"`
}

// DeliveryStatusRow counts the deliveries in one status.
type DeliveryStatusRow struct {
	Status     string `json:"status"`
	Deliveries int    `json:"deliveries"`
}

// DeliveryWeekRow counts the deliveries started in one week and those of
// them whose buyer reported a problem.
type DeliveryWeekRow struct {
	Week           time.Time `json:"week"`
	Deliveries     int       `json:"deliveries"`
	WithProblem    int       `json:"with_problem"`
	ProblemRatePct float64   `json:"problem_rate_pct"`
}

// The deliveries' queries take the period alone, as $1 and $2.
const deliveriesByStatus = `
SELECT d.status, count(*) FROM deliveries d
WHERE d.created_at >= $1 AND d.created_at < $2
GROUP BY 1`

var deliveriesByWeek = `
SELECT ` + weekSQL("d.created_at") + `, count(*), count(*) FILTER (WHERE d.problem_reported),
       round(100.0 * count(*) FILTER (WHERE d.problem_reported) / count(*), 1)::float8
FROM deliveries d
WHERE d.created_at >= $1 AND d.created_at < $2
GROUP BY 1
ORDER BY 1`

// DeliveryReport answers the deliveries started in f's period by status now,
// and per week how many of them had a problem reported. Deliveries have no
// team, priority or category.
func (s *Store) DeliveryReport(ctx context.Context, f ReportFilter) (DeliveryStats, error) {
	if err := f.check(); err != nil {
		return DeliveryStats{}, err
	}
	for _, p := range []struct{ field, value string }{{"team", f.Team}, {"priority", f.Priority}, {"category", f.Category}} {
		if p.value != "" {
			return DeliveryStats{}, &ReportFilterError{Field: p.field, Reason: "deliveries have no " + p.field + "; filter by period only"}
		}
	}
	var r DeliveryStats
	batch := &pgx.Batch{}
	batch.Queue(deliveriesByStatus, f.period()...).Query(func(rows pgx.Rows) error {
		var err error
		r.ByStatus, err = pgx.CollectRows(rows, pgx.RowToStructByPos[DeliveryStatusRow])
		return err
	})
	batch.Queue(deliveriesByWeek, f.period()...).Query(func(rows pgx.Rows) error {
		var err error
		r.ByWeek, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (DeliveryWeekRow, error) {
			var w DeliveryWeekRow
			err := row.Scan(&w.Week, &w.Deliveries, &w.WithProblem, &w.ProblemRatePct)
			w.Week = w.Week.UTC()
			return w, err
		})
		return err
	})
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return DeliveryStats{}, fmt.Errorf("report %s: %w", ReportDeliveries, err)
	}
	statuses := make([]string, len(deliveries.Statuses))
	for i, st := range deliveries.Statuses {
		statuses[i] = string(st)
	}
	slices.SortFunc(r.ByStatus, func(a, b DeliveryStatusRow) int { return order(statuses, a.Status) - order(statuses, b.Status) })
	return r, nil
}

// Outcomes of DisputeRow besides disputes.Outcomes.
const (
	// DisputesAll is the row of every dispute.
	DisputesAll = "all"
	// DisputeUndecided is a dispute without a decision yet.
	DisputeUndecided = "undecided"
)

// DisputeRow counts the disputes of one latest outcome and how fast their
// seller answered (accepted, offered or contested), in minutes from the
// opening; the percentiles are nil when no seller answered.
type DisputeRow struct {
	Outcome           string   `json:"outcome" doc:"The latest decision's outcome, undecided, or all for every dispute."`
	Disputes          int      `json:"disputes"`
	SellerResponded   int      `json:"seller_responded"`
	SellerResponseP50 *float64 `json:"seller_response_p50_minutes"`
	SellerResponseP90 *float64 `json:"seller_response_p90_minutes"`
}

var disputeReport = `
SELECT coalesce(outcome, 'all'), count(*), count(response),
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response)
FROM (SELECT coalesce(d.view -> 'decision' ->> 'outcome', 'undecided') AS outcome,
             ` + minutesSQL("d.created_at", `(SELECT min(e.at) FROM dispute_events e
                    WHERE e.dispute_id = d.id AND e.kind IN ('`+disputes.EventSellerAccepted+`', '`+
	disputes.EventOfferMade+`', '`+disputes.EventContested+`'))`) + ` AS response
      FROM disputes d LEFT JOIN cases c ON c.id = d.case_id
      WHERE d.created_at >= $4 AND d.created_at < $5 AND ` + caseFilterSQL + `) d
GROUP BY GROUPING SETS ((), (outcome))`

// Disputes answers the disputes opened in f's period, in all and by the
// outcome of their latest decision, with their seller's response time.
func (s *Store) Disputes(ctx context.Context, f ReportFilter) ([]DisputeRow, error) {
	rows, err := reportRows(ctx, s, ReportDisputes, f, disputeReport, f.args(), func(row pgx.CollectableRow) (DisputeRow, error) {
		var r DisputeRow
		var response []*float64
		err := row.Scan(&r.Outcome, &r.Disputes, &r.SellerResponded, &response)
		r.SellerResponseP50, r.SellerResponseP90 = percentile(response, 0), percentile(response, 1)
		return r, err
	})
	outcomes := append([]string{DisputesAll}, disputes.Outcomes...)
	outcomes = append(outcomes, DisputeUndecided)
	slices.SortFunc(rows, func(a, b DisputeRow) int {
		if d := order(outcomes, a.Outcome) - order(outcomes, b.Outcome); d != 0 {
			return d
		}
		return strings.Compare(a.Outcome, b.Outcome)
	})
	return rows, err
}

// reportQuery is one statement a report runs and its arguments.
type reportQuery struct {
	sql  string
	args []any
}

// reportQueries answers the queries report runs for f, for ExplainReport.
func reportQueries(report string, f ReportFilter, now time.Time) ([]reportQuery, bool) {
	same := func(args []any, sqls ...string) []reportQuery {
		out := make([]reportQuery, len(sqls))
		for i, q := range sqls {
			out[i] = reportQuery{q, args}
		}
		return out
	}
	switch report {
	case ReportSLACompliance:
		return same(f.rollupArgs(), slaCompliance), true
	case ReportResponseTimes:
		dim, value, _ := histogramDim(f)
		return []reportQuery{{responseTimesPartial, f.rollupArgs()}, {responseTimesWhole, f.rollupArgs(dim, value)}}, true
	case ReportBacklog:
		return same(f.args(now), backlog), true
	case ReportEscalations:
		return same(f.rollupArgs(), escalations), true
	case ReportCSAT:
		return same(f.args(), csatSummary, csatComments), true
	case ReportSecurity:
		return same(f.rollupArgs(), security), true
	case ReportDeliveries:
		return same(f.period(), deliveriesByStatus, deliveriesByWeek), true
	case ReportDisputes:
		return same(f.args(), disputeReport), true
	case ReportRecurringIssues:
		return same(recurringArgs(f, RecurringDefaultLimit, false), recurringIssues), true
	}
	return nil, false
}

// ExplainReport answers the EXPLAIN (ANALYZE, BUFFERS) output of each
// query report runs for f, separated by blank lines. It executes them.
func (s *Store) ExplainReport(ctx context.Context, report string, f ReportFilter) (string, error) {
	queries, ok := reportQueries(report, f, time.Now())
	if !ok {
		return "", fmt.Errorf("explain report %q: %w", report, ErrNotFound)
	}
	var plans []string
	for _, q := range queries {
		rows, err := s.pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q.sql, q.args...)
		if err != nil {
			return "", fmt.Errorf("explain report %s: %w", report, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return "", fmt.Errorf("explain report %s: %w", report, err)
		}
		plans = append(plans, strings.Join(lines, "\n"))
	}
	return strings.Join(plans, "\n\n"), nil
}

// reportRows runs one report query after checking f and collects its rows.
func reportRows[T any](ctx context.Context, s *Store, report string, f ReportFilter, sql string, args []any,
	scan func(pgx.CollectableRow) (T, error)) ([]T, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", report, err)
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", report, err)
	}
	if out == nil {
		out = []T{} // an empty report is an empty list, not null
	}
	return out, nil
}

// percentile answers the i-th value of percentile_cont's array, rounded
// to a tenth; nil when the array or the value is NULL.
func percentile(values []*float64, i int) *float64 {
	if i >= len(values) || values[i] == nil {
		return nil
	}
	v := math.Round(*values[i]*10) / 10
	return &v
}

// order answers v's position in known, unknown values last.
func order(known []string, v string) int {
	if i := slices.Index(known, v); i >= 0 {
		return i
	}
	return len(known)
}

package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// The weekly rollups of migration 00014. A report over a period reads the
// rollup rows of the period's whole weeks and the rows themselves (cases,
// timeline events) only for its partial weeks at either end; by default
// the period starts on a Monday and ends now, so only the current week is
// read row by row. Triggers keep the rollups in the transaction that
// writes the rows: a report is as current as the read model.

// rollupArgs answers f.args with the period's whole weeks after it: $6 the
// first whole week's Monday, $7 the Monday after the last whole week, and
// extra from $8, sent without a prepared statement: a cached one turns
// generic after five runs, and a generic plan, blind to where the whole
// weeks start and end, reads the rollups and the rows alike and runs three
// times slower. An unnamed statement is planned for its values on every
// run. The rows of the partial weeks are [$4, least($6::timestamptz, $5::timestamptz)) and
// [greatest($7::timestamptz, $6::timestamptz, $4::timestamptz), $5): both empty when the period is whole weeks,
// the first the whole period when it lies inside one week.
func (f ReportFilter) rollupArgs(extra ...any) []any {
	fullFrom := pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	if !f.From.IsZero() {
		w := weekOf(f.From)
		if w.Before(f.From) {
			w = w.AddDate(0, 0, 7)
		}
		fullFrom = pgtype.Timestamptz{Time: w, Valid: true}
	}
	fullTo := pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}
	if !f.To.IsZero() {
		fullTo = pgtype.Timestamptz{Time: weekOf(f.To), Valid: true}
	}
	return append([]any{pgx.QueryExecModeExec}, f.args(append([]any{fullFrom, fullTo}, extra...)...)...)
}

// weekOf answers the Monday 00:00 UTC of t's week.
func weekOf(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

// wholeWeeksSQL is the condition on a rollup aliased r: its week is one of
// the period's whole weeks. [$6, $7) lies inside [$4, $5); the period is
// repeated so that every query gives each parameter a type.
const wholeWeeksSQL = `r.week >= $6 AND r.week < $7 AND r.week >= $4 AND r.week < $5`

// partialWeeksSQL answers `SELECT sel FROM from WHERE where` for the rows
// whose instant col lies in the period's partial weeks, as two range
// conditions on col, each one index range scan.
func partialWeeksSQL(sel, from, col, where string) string {
	return `SELECT ` + sel + ` FROM ` + from + ` WHERE ` + col + ` >= $4 AND ` + col + ` < least($6::timestamptz, $5::timestamptz) AND ` + where + `
    UNION ALL
    SELECT ` + sel + ` FROM ` + from + ` WHERE ` + col + ` >= greatest($7::timestamptz, $6::timestamptz, $4::timestamptz) AND ` + col + ` < $5 AND ` + where
}

// rollupFilterSQL is the team, priority and category filter on a rollup
// aliased r.
const rollupFilterSQL = `($1 = '' OR r.team = $1) AND ($2 = '' OR r.priority = $2) AND ($3 = '' OR r.category = $3)`

// histogram is one measure's buckets of report_duration_weeks, in
// ascending order: how many durations each holds and their mean.
type histogram struct {
	counts []int
	means  []float64
	total  int
}

func (h *histogram) add(n int, minutes float64) {
	h.counts = append(h.counts, n)
	h.means = append(h.means, minutes/float64(n))
	h.total += n
}

// percentile answers the p-th quantile (0 to 1) of the histogram's
// durations in minutes, as percentile_cont computes it over the durations
// themselves (interpolating between the two around the rank p(N-1)), each
// duration taken to be its bucket's mean: exact when the two fall in
// different buckets or a bucket holds equal durations, within a bucket's
// width (2 %) otherwise. nil when the histogram is empty.
func (h *histogram) percentile(p float64) *float64 {
	if h.total == 0 {
		return nil
	}
	rank := p * float64(h.total-1)
	lo := int(math.Floor(rank))
	v := h.nth(lo)
	if frac := rank - float64(lo); frac > 0 {
		v += frac * (h.nth(lo+1) - v)
	}
	v = math.Round(v*10) / 10
	return &v
}

// nth answers the k-th smallest duration (from 0): its bucket's mean.
func (h *histogram) nth(k int) float64 {
	for i, n := range h.counts {
		if k < n {
			return h.means[i]
		}
		k -= n
	}
	return h.means[len(h.means)-1]
}

// RebuildRollups recomputes the report rollups of the weeks from from's
// to to's (excluded) from the rows, in one transaction: after a bulk load
// that bypassed the triggers (the seed does it inside its own), or to
// check them. A zero from or to leaves that end open.
func (s *Store) RebuildRollups(ctx context.Context, from, to time.Time) error {
	period := ReportFilter{From: from, To: to}.period()
	if _, err := s.pool.Exec(ctx, `SELECT report_rollups_rebuild($1, $2)`, period...); err != nil {
		return fmt.Errorf("rebuild report rollups: %w", err)
	}
	return nil
}

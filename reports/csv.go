// Package reports writes the support reports of the read model
// (store.SLACompliance and the others) as CSV tables and SVG charts. It
// computes nothing: the numbers are Postgres's, the columns and their
// order are fixed here so a spreadsheet built on an export keeps working.
package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"handoff/store"
)

// Table is a report as text: a header row and rows of the same width.
type Table struct {
	Header []string
	Rows   [][]string
}

// WriteCSV writes t as RFC 4180 CSV, the header first.
func WriteCSV(w io.Writer, t Table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return fmt.Errorf("write csv header: %w", err)
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return fmt.Errorf("write csv rows: %w", err)
	}
	return nil
}

// SLAComplianceTable is the rows of store.SLACompliance.
func SLAComplianceTable(rows []store.SLARow) Table {
	t := Table{Header: []string{"by", "key", "cases", "breached", "compliance_pct"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{r.By, r.Key, itoa(r.Cases), itoa(r.Breached), ftoa(r.CompliancePct)})
	}
	return t
}

// ResponseTimesTable is the rows of store.ResponseTimes, in minutes.
func ResponseTimesTable(rows []store.ResponseTimeRow) Table {
	t := Table{Header: []string{"week", "cases", "responded", "first_response_p50_minutes", "first_response_p90_minutes",
		"resolved", "resolution_p50_minutes", "resolution_p90_minutes"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{day(r.Week), itoa(r.Cases), itoa(r.Responded), optional(r.FirstResponseP50),
			optional(r.FirstResponseP90), itoa(r.Resolved), optional(r.ResolutionP50), optional(r.ResolutionP90)})
	}
	return t
}

// BacklogTable is the rows of store.Backlog.
func BacklogTable(rows []store.BacklogRow) Table {
	t := Table{Header: []string{"status", "age", "cases"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{r.Status, r.Age, itoa(r.Cases)})
	}
	return t
}

// EscalationsTable is the rows of store.Escalations.
func EscalationsTable(rows []store.EscalationRow) Table {
	t := Table{Header: []string{"kind", "team", "level", "reason", "escalations"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{r.Kind, r.Team, itoa(r.Level), r.Reason, itoa(r.Count)})
	}
	return t
}

// CSATTable is store.CSAT as one table: a summary row, a row per rating,
// then a row per comment; the section column tells them apart.
func CSATTable(r store.CSATReport) Table {
	t := Table{Header: []string{"section", "rating", "cases", "average", "case_id", "at", "comment"}}
	t.Rows = append(t.Rows, []string{"summary", "", itoa(r.Rated), optional(r.Average), "", "", ""})
	for _, d := range r.Distribution {
		t.Rows = append(t.Rows, []string{"distribution", itoa(d.Rating), itoa(d.Cases), "", "", "", ""})
	}
	for _, c := range r.Comments {
		t.Rows = append(t.Rows, []string{"comment", itoa(c.Rating), "", "", c.CaseID, c.At.UTC().Format(time.RFC3339), c.Comment})
	}
	return t
}

// SecurityTable is the rows of store.SecurityLocks.
func SecurityTable(rows []store.SecurityRow) Table {
	t := Table{Header: []string{"week", "locks", "unlocks", "recoveries_completed", "recoveries_expired", "recoveries_locked"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{day(r.Week), itoa(r.Locks), itoa(r.Unlocks), itoa(r.RecoveriesCompleted),
			itoa(r.RecoveriesExpired), itoa(r.RecoveriesLocked)})
	}
	return t
}

// DeliveriesTable is store.DeliveryReport as one table: a row per status,
// then a row per week; the section column tells them apart.
func DeliveriesTable(r store.DeliveryStats) Table {
	t := Table{Header: []string{"section", "status", "week", "deliveries", "with_problem", "problem_rate_pct"}}
	for _, s := range r.ByStatus {
		t.Rows = append(t.Rows, []string{"status", s.Status, "", itoa(s.Deliveries), "", ""})
	}
	for _, w := range r.ByWeek {
		t.Rows = append(t.Rows, []string{"week", "", day(w.Week), itoa(w.Deliveries), itoa(w.WithProblem), ftoa(w.ProblemRatePct)})
	}
	return t
}

// DisputesTable is the rows of store.Disputes, in minutes.
func DisputesTable(rows []store.DisputeRow) Table {
	t := Table{Header: []string{"outcome", "disputes", "seller_responded", "seller_response_p50_minutes", "seller_response_p90_minutes"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{r.Outcome, itoa(r.Disputes), itoa(r.SellerResponded),
			optional(r.SellerResponseP50), optional(r.SellerResponseP90)})
	}
	return t
}

// RecurringIssuesTable is the issues of store.RecurringIssues, one row
// each: its weeks as week:cases pairs and its example cases in one cell
// each, space-separated, so a spreadsheet keeps one line per issue.
func RecurringIssuesTable(issues []store.RecurringIssue) Table {
	t := Table{Header: []string{"category", "subject", "cases", "cue", "article_id", "article_title", "weeks", "example_case_ids"}}
	for _, is := range issues {
		var articleID, articleTitle string
		if is.Article != nil {
			articleID, articleTitle = is.Article.ID, is.Article.Title
		}
		weeks := make([]string, len(is.Weeks))
		for i, w := range is.Weeks {
			weeks[i] = day(w.Week) + ":" + itoa(w.Cases)
		}
		t.Rows = append(t.Rows, []string{is.Category, is.Subject, itoa(is.Cases), strconv.FormatBool(is.Cue),
			articleID, articleTitle, strings.Join(weeks, " "), strings.Join(is.ExampleCaseIDs, " ")})
	}
	return t
}

func itoa(n int) string { return strconv.Itoa(n) }

// ftoa writes v in the fewest digits that read back as v: 97.5, 100.
func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// optional writes a value that may be missing as an empty cell.
func optional(v *float64) string {
	if v == nil {
		return ""
	}
	return ftoa(*v)
}

// day writes a week as its Monday.
func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

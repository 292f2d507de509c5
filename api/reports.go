package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"handoff/reports"
	"handoff/store"
)

// Reports: support analytics from the read model (store/reports.go), each
// as JSON, as CSV (format=csv) and as an SVG chart, filtered by team,
// priority, category and period. Only staff read them.

// defaultReportWeeks is the period of a report asked without one: this
// week and the eleven before it.
const defaultReportWeeks = 12

// registerReports adds the report operations; op builds an operation as
// register does (its roles from access).
func (s *server) registerReports(api huma.API, op func(id, method, path, summary string, status int) huma.Operation) {
	get := op("get-report", http.MethodGet, "/v1/reports/{name}", "Read a report, as JSON or CSV", http.StatusOK)
	get.Description = getReportDoc + " " + get.Description
	get.Tags = []string{"reports"}
	get.Responses = map[string]*huma.Response{"200": {
		Description: "The report: JSON, or CSV with a header row when format=csv.",
		Content: map[string]*huma.MediaType{
			"application/json": {Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[reportBody](), true, "")},
			"text/csv":         {Schema: &huma.Schema{Type: "string"}},
		},
	}}
	huma.Register(api, get, s.getReport)

	chart := op("get-report-chart", http.MethodGet, "/v1/reports/{name}/chart.svg", "Draw a report as an SVG chart", http.StatusOK)
	chart.Description = "The report's main figure as an 8 × 4 in SVG, under the filters of the report. " + chart.Description
	chart.Tags = []string{"reports"}
	chart.Responses = map[string]*huma.Response{"200": {
		Description: "The chart.",
		Content:     map[string]*huma.MediaType{"image/svg+xml": {Schema: &huma.Schema{Type: "string"}}},
	}}
	huma.Register(api, chart, s.getReportChart)
}

const getReportDoc = "Reports: sla-compliance (cases and breaches in all, by week, team, priority and category), " +
	"response-times (first response and resolution p50 and p90 per week, in minutes), " +
	"backlog (open cases by status and age; every open case unless from or to is given), " +
	"escalations (by kind, team, level and reason), csat (average, distribution, latest comments), " +
	"security (account locks, false-alarm unlocks and recoveries per week), " +
	"deliveries (by status, problem rate per week; no team, priority or category), " +
	"disputes (by outcome, with the seller's response time p50 and p90 in minutes) and " +
	"recurring-issues (cases of a category with near-identical subjects, the largest first, each with its cases per week, " +
	"links to its newest cases and the published article that answers it; an issue of 11 or more cases without one is a cue, " +
	"the next FAQ to write; limit and cue apply to it alone). " +
	"Weeks start on Monday, 00:00 UTC. The period defaults to this week and the eleven before it."

// ReportQuery is what every report takes; exported so huma can fill it
// embedded in an input.
type ReportQuery struct {
	Name     string       `path:"name" maxLength:"40" doc:"sla-compliance, response-times, backlog, escalations, csat, security, deliveries, disputes or recurring-issues."`
	Team     teamName     `query:"team"`
	Priority priorityName `query:"priority"`
	Category categoryName `query:"category"`
	From     string       `query:"from" maxLength:"40" doc:"Start of the period (RFC 3339 instant, or a date meaning its 00:00 UTC), included."`
	To       string       `query:"to" maxLength:"40" doc:"End of the period (RFC 3339 instant, or a date meaning the end of that day UTC), excluded; now by default."`
	// Limit and Cue are the recurring-issues report's alone; 0 is the default.
	Limit int  `query:"limit" minimum:"0" maximum:"100" doc:"recurring-issues only: how many issues, 20 when absent (or 0), at most 100."`
	Cue   bool `query:"cue" doc:"recurring-issues only: only the cues, issues of 11 or more cases without an article, among every issue of the period."`
}

type reportInput struct {
	ReportQuery
	Format string `query:"format" enum:"json,csv" default:"json" doc:"json, or csv for a spreadsheet."`
}

type reportOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	// Body is a reportBody, or the CSV's bytes (written as they are).
	Body any
}

// reportBody is a report as JSON: what it is, over what, and its data.
type reportBody struct {
	Report   string     `json:"report"`
	Team     string     `json:"team,omitempty"`
	Priority string     `json:"priority,omitempty"`
	Category string     `json:"category,omitempty"`
	From     *time.Time `json:"from,omitempty" doc:"Absent when the period has no start."`
	To       *time.Time `json:"to,omitempty" doc:"Absent when the period has no end."`
	Data     reportData `json:"data"`
}

// reportData is one report's answer, documented as any of them.
type reportData struct{ v any }

// MarshalJSON answers the report's own JSON.
func (d reportData) MarshalJSON() ([]byte, error) { return json.Marshal(d.v) }

// Schema documents reportData as one of the reports' answers.
func (reportData) Schema(r huma.Registry) *huma.Schema {
	return &huma.Schema{OneOf: []*huma.Schema{
		r.Schema(reflect.TypeFor[[]store.SLARow](), true, ""),
		r.Schema(reflect.TypeFor[[]store.ResponseTimeRow](), true, ""),
		r.Schema(reflect.TypeFor[[]store.BacklogRow](), true, ""),
		r.Schema(reflect.TypeFor[[]store.EscalationRow](), true, ""),
		r.Schema(reflect.TypeFor[store.CSATReport](), true, ""),
		r.Schema(reflect.TypeFor[[]store.SecurityRow](), true, ""),
		r.Schema(reflect.TypeFor[store.DeliveryStats](), true, ""),
		r.Schema(reflect.TypeFor[[]store.DisputeRow](), true, ""),
		r.Schema(reflect.TypeFor[[]recurringIssue](), true, ""),
	}}
}

type reportChartInput struct {
	ReportQuery
}

type reportChartOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

// answer is what a report answered, ready to be written three ways.
type answer struct {
	data  any
	table func() reports.Table
	chart func() ([]byte, error)
}

// recurringIssue is a store.RecurringIssue with links to its example cases.
type recurringIssue struct {
	store.RecurringIssue
	ExampleCases []caseLink `json:"example_cases" doc:"The example cases, newest first, each with its link."`
}

// caseLink names a case and where the API serves it.
type caseLink struct {
	ID   string `json:"id"`
	Href string `json:"href" doc:"/v1/cases/{id}"`
}

// recurringIssues runs the recurring-issues report as q asks: the top
// issues, or the cues among them all.
func recurringIssues(ctx context.Context, db *store.Store, f store.ReportFilter, q ReportQuery) (answer, error) {
	limit := q.Limit
	if limit == 0 {
		limit = store.RecurringDefaultLimit
	}
	run := db.RecurringIssues
	if q.Cue {
		run = db.RecurringCues
	}
	r, err := run(ctx, f, limit)
	data := make([]recurringIssue, len(r))
	for i, is := range r {
		data[i] = recurringIssue{RecurringIssue: is, ExampleCases: make([]caseLink, len(is.ExampleCaseIDs))}
		for j, id := range is.ExampleCaseIDs {
			data[i].ExampleCases[j] = caseLink{ID: id, Href: "/v1/cases/" + url.PathEscape(id)}
		}
	}
	return answer{data, func() reports.Table { return reports.RecurringIssuesTable(r) }, func() ([]byte, error) { return reports.RecurringIssuesChart(r) }}, err
}

// reportsByName runs each report on the store.
var reportsByName = map[string]func(ctx context.Context, db *store.Store, f store.ReportFilter, q ReportQuery, now time.Time) (answer, error){
	store.ReportSLACompliance: func(ctx context.Context, db *store.Store, f store.ReportFilter, _ ReportQuery, _ time.Time) (answer, error) {
		r, err := db.SLACompliance(ctx, f)
		return answer{r, func() reports.Table { return reports.SLAComplianceTable(r) }, func() ([]byte, error) { return reports.SLAComplianceChart(r) }}, err
	},
	store.ReportResponseTimes: func(ctx context.Context, db *store.Store, f store.ReportFilter, _ ReportQuery, _ time.Time) (answer, error) {
		r, err := db.ResponseTimes(ctx, f)
		return answer{r, func() reports.Table { return reports.ResponseTimesTable(r) }, func() ([]byte, error) { return reports.ResponseTimesChart(r) }}, err
	},
	store.ReportBacklog: func(ctx context.Context, db *store.Store, f store.ReportFilter, _ ReportQuery, now time.Time) (answer, error) {
		r, err := db.Backlog(ctx, f, now)
		return answer{r, func() reports.Table { return reports.BacklogTable(r) }, func() ([]byte, error) { return reports.BacklogChart(r) }}, err
	},
	store.ReportEscalations: func(ctx context.Context, db *store.Store, f store.ReportFilter, _ ReportQuery, _ time.Time) (answer, error) {
		r, err := db.Escalations(ctx, f)
		return answer{r, func() reports.Table { return reports.EscalationsTable(r) }, func() ([]byte, error) { return reports.EscalationsChart(r) }}, err
	},
	store.ReportCSAT: func(ctx context.Context, db *store.Store, f store.ReportFilter, _ ReportQuery, _ time.Time) (answer, error) {
		r, err := db.CSAT(ctx, f)
		return answer{r, func() reports.Table { return reports.CSATTable(r) }, func() ([]byte, error) { return reports.CSATChart(r) }}, err
	},
	store.ReportSecurity: func(ctx context.Context, db *store.Store, f store.ReportFilter, _ ReportQuery, _ time.Time) (answer, error) {
		r, err := db.SecurityLocks(ctx, f)
		return answer{r, func() reports.Table { return reports.SecurityTable(r) }, func() ([]byte, error) { return reports.SecurityChart(r) }}, err
	},
	store.ReportDeliveries: func(ctx context.Context, db *store.Store, f store.ReportFilter, _ ReportQuery, _ time.Time) (answer, error) {
		r, err := db.DeliveryReport(ctx, f)
		return answer{r, func() reports.Table { return reports.DeliveriesTable(r) }, func() ([]byte, error) { return reports.DeliveriesChart(r) }}, err
	},
	store.ReportDisputes: func(ctx context.Context, db *store.Store, f store.ReportFilter, _ ReportQuery, _ time.Time) (answer, error) {
		r, err := db.Disputes(ctx, f)
		return answer{r, func() reports.Table { return reports.DisputesTable(r) }, func() ([]byte, error) { return reports.DisputesChart(r) }}, err
	},
	store.ReportRecurringIssues: func(ctx context.Context, db *store.Store, f store.ReportFilter, q ReportQuery, _ time.Time) (answer, error) {
		return recurringIssues(ctx, db, f, q)
	},
}

func (s *server) getReport(ctx context.Context, in *reportInput) (*reportOutput, error) {
	f, a, err := s.runReport(ctx, in.ReportQuery)
	if err != nil {
		return nil, err
	}
	if in.Format == "csv" {
		var b bytes.Buffer
		if err := reports.WriteCSV(&b, a.table()); err != nil {
			return nil, s.reportError(ctx, in.Name, err)
		}
		return &reportOutput{ContentType: "text/csv; charset=utf-8",
			ContentDisposition: `attachment; filename="` + csvName(in.Name, f) + `"`, Body: b.Bytes()}, nil
	}
	body := reportBody{Report: in.Name, Team: f.Team, Priority: f.Priority, Category: f.Category, Data: reportData{a.data}}
	if !f.From.IsZero() {
		body.From = &f.From
	}
	if !f.To.IsZero() {
		body.To = &f.To
	}
	return &reportOutput{ContentType: "application/json", Body: body}, nil
}

func (s *server) getReportChart(ctx context.Context, in *reportChartInput) (*reportChartOutput, error) {
	_, a, err := s.runReport(ctx, in.ReportQuery)
	if err != nil {
		return nil, err
	}
	svg, err := a.chart()
	if err != nil {
		return nil, s.reportError(ctx, in.Name, err)
	}
	return &reportChartOutput{ContentType: "image/svg+xml", Body: svg}, nil
}

// runReport checks q and runs its report: an unknown name is a 404, a bad
// filter a 422 on its field.
func (s *server) runReport(ctx context.Context, q ReportQuery) (store.ReportFilter, answer, error) {
	run, ok := reportsByName[q.Name]
	if !ok {
		return store.ReportFilter{}, answer{}, newProblem(http.StatusNotFound,
			"no report "+q.Name+"; the reports are "+strings.Join(store.ReportNames, ", "))
	}
	if q.Name != store.ReportRecurringIssues && (q.Limit != 0 || q.Cue) {
		field := "limit"
		if q.Cue {
			field = "cue"
		}
		return store.ReportFilter{}, answer{}, newProblem(http.StatusUnprocessableEntity, "the "+q.Name+" report cannot take this filter",
			fieldProblem{Field: field, Message: "only the " + store.ReportRecurringIssues + " report takes " + field})
	}
	now := time.Now().UTC()
	f, err := reportFilter(q, now)
	if err != nil {
		return store.ReportFilter{}, answer{}, err
	}
	a, err := run(ctx, s.store, f, q, now)
	if err != nil {
		return store.ReportFilter{}, answer{}, s.reportError(ctx, q.Name, err)
	}
	return f, a, nil
}

// reportFilter reads q's filters. The period defaults to this week and
// the eleven before it, ending now; the backlog's to every open case.
func reportFilter(q ReportQuery, now time.Time) (store.ReportFilter, error) {
	f := store.ReportFilter{Team: string(q.Team), Priority: string(q.Priority), Category: string(q.Category)}
	var fields []fieldProblem
	var err error
	if f.From, err = periodBound(q.From, false); err != nil {
		fields = append(fields, fieldProblem{Field: "from", Message: err.Error()})
	}
	if f.To, err = periodBound(q.To, true); err != nil {
		fields = append(fields, fieldProblem{Field: "to", Message: err.Error()})
	}
	if len(fields) > 0 {
		return f, newProblem(http.StatusUnprocessableEntity, "the period is not valid", fields...)
	}
	if q.Name != store.ReportBacklog || q.From != "" || q.To != "" {
		if f.To.IsZero() {
			f.To = now
		}
		if f.From.IsZero() {
			f.From = weekStart(f.To).AddDate(0, 0, -7*(defaultReportWeeks-1))
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, newProblem(http.StatusUnprocessableEntity, "the period is not valid",
			fieldProblem{Field: "to", Message: "must be after from"})
	}
	return f, nil
}

// periodBound reads an RFC 3339 instant or a date: its 00:00 UTC, or for
// the end of a period (end) the next day's, so the whole day is counted.
// Empty is the zero time.
func periodBound(v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, errors.New("want an RFC 3339 instant (2026-03-02T09:00:00Z) or a date (2026-03-02)")
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// weekStart answers the Monday 00:00 UTC of t's week.
func weekStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

// csvName names a report's CSV file by the report and its period.
func csvName(name string, f store.ReportFilter) string {
	bound := func(t time.Time) string {
		if t.IsZero() {
			return "open"
		}
		return t.Format(time.DateOnly)
	}
	return name + "_" + bound(f.From) + "_" + bound(f.To) + ".csv"
}

// reportError maps what a report answered to a problem: a filter the
// report cannot take to a 422 on that field, anything else as a list's
// errors are.
func (s *server) reportError(ctx context.Context, name string, err error) error {
	var bad *store.ReportFilterError
	if errors.As(err, &bad) {
		return newProblem(http.StatusUnprocessableEntity, "the "+name+" report cannot take this filter",
			fieldProblem{Field: bad.Field, Message: bad.Reason})
	}
	return s.caseError(ctx, "", err)
}

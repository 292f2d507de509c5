package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/store"
)

// reportServer is the report routes alone over db, behind the API's own
// authentication and authorization (admins pass; the access table decides
// the other roles). A nil db serves only what is refused before a query.
func reportServer(db *store.Store) http.Handler {
	s := &server{registry: prometheus.NewRegistry(), lookupKey: fakeKeys, logger: quiet, store: db}
	r := chi.NewRouter()
	r.Use(authenticate(fakeKeys))
	api := humachi.New(r, humaConfig())
	api.UseMiddleware(authorize(api), requireCleanText(api))
	s.registerReports(api, func(id, method, path, summary string, status int) huma.Operation {
		return huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, DefaultStatus: status}
	})
	return r
}

// getAs sends a GET as role and answers the response and its problem, if any.
func getAs(t *testing.T, h http.Handler, role store.Role, path string) (*httptest.ResponseRecorder, problem) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer key-"+string(role))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var p problem
	if rec.Header().Get("Content-Type") == "application/problem+json" {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	}
	return rec, p
}

func TestAnUnknownReportIsNotFound(t *testing.T) {
	h := reportServer(nil)
	for _, path := range []string{"/v1/reports/revenue", "/v1/reports/revenue/chart.svg", "/v1/reports/revenue?format=csv"} {
		rec, p := getAs(t, h, store.RoleAdmin, path)
		assert.Equal(t, http.StatusNotFound, rec.Code, path)
		assert.Contains(t, p.Detail, "sla-compliance", "the problem lists the reports")
	}
}

func TestABadReportFilterNamesItsField(t *testing.T) {
	h := reportServer(nil)
	for path, field := range map[string]string{
		"/v1/reports/sla-compliance?team=sales":                                     "team",
		"/v1/reports/sla-compliance?priority=p9":                                    "priority",
		"/v1/reports/backlog?category=cooking":                                      "category",
		"/v1/reports/csat?from=yesterday":                                           "from",
		"/v1/reports/csat?to=2026-13-01":                                            "to",
		"/v1/reports/escalations?from=2026-03-09&to=2026-03-02":                     "to",
		"/v1/reports/escalations?from=2026-03-02T10:00:00Z&to=2026-03-02T10:00:00Z": "to",
		"/v1/reports/disputes?format=xlsx":                                          "format",
		"/v1/reports/security/chart.svg?from=2026-02-30":                            "from",
		"/v1/reports/recurring-issues?limit=101":                                    "limit",
		"/v1/reports/recurring-issues?cue=maybe":                                    "cue",
		"/v1/reports/sla-compliance?limit=5":                                        "limit",
		"/v1/reports/backlog?cue=true":                                              "cue",
	} {
		rec, p := getAs(t, h, store.RoleAdmin, path)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code, "%s: %s", path, rec.Body.String())
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"), path)
		assert.Contains(t, fieldsNamed(p), field, path)
	}
}

func TestAReportWithoutAKeyIsRefused(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/v1/reports/backlog", nil)
	rec := httptest.NewRecorder()
	reportServer(nil).ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestTheReportPeriodDefaultsToTwelveWeeksEndingNow(t *testing.T) {
	now := time.Date(2026, 3, 12, 15, 4, 5, 0, time.UTC) // a Thursday
	f, err := reportFilter(ReportQuery{Name: store.ReportSLACompliance, Team: "security"}, now)
	require.NoError(t, err)
	assert.Equal(t, store.ReportFilter{Team: "security", From: time.Date(2025, 12, 22, 0, 0, 0, 0, time.UTC), To: now}, f,
		"this week's Monday and the eleven before")

	f, err = reportFilter(ReportQuery{Name: store.ReportBacklog}, now)
	require.NoError(t, err)
	assert.Equal(t, store.ReportFilter{}, f, "the backlog is every open case")

	f, err = reportFilter(ReportQuery{Name: store.ReportBacklog, From: "2026-03-01"}, now)
	require.NoError(t, err)
	assert.Equal(t, store.ReportFilter{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: now}, f)
}

func TestAReportDateEndsAtTheEndOfThatDayAndAnInstantIsInUTC(t *testing.T) {
	f, err := reportFilter(ReportQuery{Name: store.ReportCSAT, From: "2026-03-02T10:00:00+01:00", To: "2026-03-08"}, time.Now())
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), f.From)
	assert.Equal(t, time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), f.To, "to=2026-03-08 counts all of March 8")

	f, err = reportFilter(ReportQuery{Name: store.ReportCSAT, To: "2026-03-04"}, time.Now())
	require.NoError(t, err)
	assert.Equal(t, time.Date(2025, 12, 15, 0, 0, 0, 0, time.UTC), f.From, "twelve weeks back from the week of to")
}

func TestWeekStartIsMondayMidnightUTC(t *testing.T) {
	monday := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{
		monday, monday.Add(time.Nanosecond), time.Date(2026, 3, 8, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 3, 9, 0, 30, 0, 0, time.FixedZone("CET", 3600)), // Sunday 23:30 UTC
	} {
		assert.Equal(t, monday, weekStart(at), at.String())
	}
}

func TestTheCSVFileIsNamedByReportAndPeriod(t *testing.T) {
	f := store.ReportFilter{From: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)}
	assert.Equal(t, "sla-compliance_2026-01-05_2026-03-30.csv", csvName(store.ReportSLACompliance, f))
	assert.Equal(t, "backlog_open_open.csv", csvName(store.ReportBacklog, store.ReportFilter{}))
}

func TestEveryStoreReportIsServed(t *testing.T) {
	for _, name := range store.ReportNames {
		assert.Contains(t, reportsByName, name)
	}
	assert.Len(t, reportsByName, len(store.ReportNames))
}

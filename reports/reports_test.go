package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/store"
)

var monday = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func ptr(v float64) *float64 { return &v }

// readCSV writes t and reads it back as records.
func readCSV(t *testing.T, table Table) [][]string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteCSV(&b, table))
	records, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	return records
}

func TestTheSLAComplianceCSVHasItsHeaderThenOneRowPerGroup(t *testing.T) {
	records := readCSV(t, SLAComplianceTable([]store.SLARow{
		{By: "all", Cases: 5, Breached: 2, CompliancePct: 60},
		{By: "week", Key: "2026-03-02", Cases: 3, Breached: 2, CompliancePct: 33.3},
	}))
	assert.Equal(t, [][]string{
		{"by", "key", "cases", "breached", "compliance_pct"},
		{"all", "", "5", "2", "60"},
		{"week", "2026-03-02", "3", "2", "33.3"},
	}, records)
}

func TestAMissingPercentileIsAnEmptyCell(t *testing.T) {
	records := readCSV(t, ResponseTimesTable([]store.ResponseTimeRow{
		{Week: monday, Cases: 2, Responded: 1, FirstResponseP50: ptr(60), FirstResponseP90: ptr(84.5)},
	}))
	assert.Equal(t, [][]string{
		{"week", "cases", "responded", "first_response_p50_minutes", "first_response_p90_minutes",
			"resolved", "resolution_p50_minutes", "resolution_p90_minutes"},
		{"2026-03-02", "2", "1", "60", "84.5", "0", "", ""},
	}, records)
}

func TestTheCSATCSVHoldsTheSummaryTheDistributionAndTheCommentsQuoted(t *testing.T) {
	at := monday.Add(90 * time.Minute)
	records := readCSV(t, CSATTable(store.CSATReport{Rated: 1, Average: ptr(4),
		Distribution: []store.CSATCount{{Rating: 1}, {Rating: 2}, {Rating: 3}, {Rating: 4, Cases: 1}, {Rating: 5}},
		Comments:     []store.CSATComment{{CaseID: "C-1", Rating: 4, Comment: "fast, \"kind\"\nthanks", At: at}}}))
	require.Len(t, records, 1+1+5+1)
	assert.Equal(t, []string{"section", "rating", "cases", "average", "case_id", "at", "comment"}, records[0])
	assert.Equal(t, []string{"summary", "", "1", "4", "", "", ""}, records[1])
	assert.Equal(t, []string{"distribution", "4", "1", "", "", "", ""}, records[5])
	assert.Equal(t, []string{"comment", "4", "", "", "C-1", "2026-03-02T01:30:00Z", "fast, \"kind\"\nthanks"}, records[7],
		"commas, quotes and newlines survive the round trip")
}

func TestEveryTableHasRowsAsWideAsItsHeader(t *testing.T) {
	tables := map[string]Table{
		"backlog":     BacklogTable([]store.BacklogRow{{Status: "open", Age: store.AgeOver7Days, Cases: 3}}),
		"escalations": EscalationsTable([]store.EscalationRow{{Kind: "escalated", Team: "security", Level: 1, Reason: "takeover", Count: 2}}),
		"security":    SecurityTable([]store.SecurityRow{{Week: monday, Locks: 1}}),
		"deliveries": DeliveriesTable(store.DeliveryStats{ByStatus: []store.DeliveryStatusRow{{Status: "delivered", Deliveries: 2}},
			ByWeek: []store.DeliveryWeekRow{{Week: monday, Deliveries: 2, WithProblem: 1, ProblemRatePct: 50}}}),
		"disputes": DisputesTable([]store.DisputeRow{{Outcome: "all", Disputes: 1}}),
	}
	for name, table := range tables {
		records := readCSV(t, table)
		require.NotEmpty(t, records, name)
		for _, r := range records[1:] {
			assert.Len(t, r, len(records[0]), name)
		}
	}
	assert.Equal(t, [][]string{{"status", "age", "cases"}, {"open", "over_7d", "3"}}, readCSV(t, tables["backlog"]))
	assert.Equal(t, []string{"week", "", "2026-03-02", "2", "1", "50"}, readCSV(t, tables["deliveries"])[2])
}

func TestTheRecurringIssuesCSVHasOneRowPerIssueWithItsWeeksAndExamples(t *testing.T) {
	records := readCSV(t, RecurringIssuesTable([]store.RecurringIssue{
		{Category: "login_failure", Subject: "Cannot log in, after reset", Cases: 12, Cue: true,
			Weeks:          []store.RecurringWeek{{Week: monday, Cases: 5}, {Week: monday.AddDate(0, 0, 7), Cases: 7}},
			ExampleCaseIDs: []string{"C-2", "C-1"}},
		{Category: "locked_account", Subject: "Compte bloqué", Cases: 11, Weeks: []store.RecurringWeek{{Week: monday, Cases: 11}},
			ExampleCaseIDs: []string{"C-3"}, Article: &store.RecurringArticle{ID: "KB-1", Title: "Compte bloqué : que faire", Locale: "fr"}},
	}))
	assert.Equal(t, [][]string{
		{"category", "subject", "cases", "cue", "article_id", "article_title", "weeks", "example_case_ids"},
		{"login_failure", "Cannot log in, after reset", "12", "true", "", "", "2026-03-02:5 2026-03-09:7", "C-2 C-1"},
		{"locked_account", "Compte bloqué", "11", "false", "KB-1", "Compte bloqué : que faire", "2026-03-02:11", "C-3"},
	}, records)
}

// svgTexts parses an SVG as XML and answers its root element's name and
// every text it draws.
func svgTexts(t *testing.T, svg []byte) (string, []string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var root string
	var texts []string
	inText := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the chart is well-formed XML")
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Local
			}
			inText = el.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(el))
			}
		case xml.EndElement:
			inText = false
		}
	}
	return root, texts
}

func TestEveryChartIsAnSVGWithItsTitle(t *testing.T) {
	charts := []struct {
		title string
		draw  func() ([]byte, error)
	}{
		{"SLA compliance by week", func() ([]byte, error) {
			return SLAComplianceChart([]store.SLARow{{By: "all", Cases: 2, CompliancePct: 50},
				{By: "week", Key: "2026-03-02", Cases: 1, CompliancePct: 100}, {By: "week", Key: "2026-03-09", Cases: 1}})
		}},
		{"First response and resolution times by week", func() ([]byte, error) {
			return ResponseTimesChart([]store.ResponseTimeRow{{Week: monday, FirstResponseP50: ptr(30), FirstResponseP90: ptr(90)},
				{Week: monday.AddDate(0, 0, 7), ResolutionP50: ptr(600), ResolutionP90: ptr(1200)}})
		}},
		{"Backlog by status and age", func() ([]byte, error) {
			return BacklogChart([]store.BacklogRow{{Status: "open", Age: store.AgeUnder1Day, Cases: 2}, {Status: "open", Age: store.AgeOver7Days, Cases: 1},
				{Status: "escalated", Age: store.Age1To3Days, Cases: 4}})
		}},
		{"Escalations by level", func() ([]byte, error) {
			return EscalationsChart([]store.EscalationRow{{Kind: "escalated", Level: 0, Count: 3}, {Kind: "sla_breach", Level: 1, Count: 2}})
		}},
		{"CSAT distribution (average 4.5)", func() ([]byte, error) {
			return CSATChart(store.CSATReport{Rated: 2, Average: ptr(4.5),
				Distribution: []store.CSATCount{{Rating: 1}, {Rating: 2}, {Rating: 3}, {Rating: 4, Cases: 1}, {Rating: 5, Cases: 1}}})
		}},
		{"Security locks and recoveries by week", func() ([]byte, error) {
			return SecurityChart([]store.SecurityRow{{Week: monday, Locks: 2, Unlocks: 1}, {Week: monday.AddDate(0, 0, 7), RecoveriesCompleted: 1}})
		}},
		{"Delivery problem rate by week", func() ([]byte, error) {
			return DeliveriesChart(store.DeliveryStats{ByWeek: []store.DeliveryWeekRow{{Week: monday, Deliveries: 4, WithProblem: 1, ProblemRatePct: 25}}})
		}},
		{"Disputes by outcome", func() ([]byte, error) {
			return DisputesChart([]store.DisputeRow{{Outcome: "all", Disputes: 3}, {Outcome: "deny", Disputes: 2}, {Outcome: "undecided", Disputes: 1}})
		}},
		{"Recurring issues", func() ([]byte, error) {
			return RecurringIssuesChart([]store.RecurringIssue{{Category: "login_failure", Subject: "Cannot log in after password reset", Cases: 12, Cue: true},
				{Category: "locked_account", Subject: "Compte bloqué après plusieurs tentatives, encore et encore", Cases: 11,
					Article: &store.RecurringArticle{ID: "KB-1", Title: "Compte bloqué"}}})
		}},
	}
	for _, c := range charts {
		svg, err := c.draw()
		require.NoError(t, err, c.title)
		assert.Contains(t, string(svg), "<svg", c.title)
		root, texts := svgTexts(t, svg)
		assert.Equal(t, "svg", root, c.title)
		assert.Contains(t, texts, c.title)
	}
}

func TestAChartOfAnEmptyPeriodSaysSo(t *testing.T) {
	for name, draw := range map[string]func() ([]byte, error){
		"sla":        func() ([]byte, error) { return SLAComplianceChart([]store.SLARow{{By: "all"}}) },
		"response":   func() ([]byte, error) { return ResponseTimesChart(nil) },
		"backlog":    func() ([]byte, error) { return BacklogChart(nil) },
		"escalation": func() ([]byte, error) { return EscalationsChart(nil) },
		"csat":       func() ([]byte, error) { return CSATChart(store.CSATReport{}) },
		"security":   func() ([]byte, error) { return SecurityChart(nil) },
		"deliveries": func() ([]byte, error) { return DeliveriesChart(store.DeliveryStats{}) },
		"disputes":   func() ([]byte, error) { return DisputesChart([]store.DisputeRow{{Outcome: "all"}}) },
		"recurring":  func() ([]byte, error) { return RecurringIssuesChart(nil) },
	} {
		svg, err := draw()
		require.NoError(t, err, name)
		_, texts := svgTexts(t, svg)
		assert.Contains(t, strings.Join(texts, "|"), "no data in this period", name)
	}
}

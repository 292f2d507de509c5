//go:build integration

package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// reportWeek writes three cases, through the case projection, in a week
// of the past no other test writes to (a random Monday between 1960 and
// 1984; the store's report tests take 1990 to 2014) and removes them
// afterwards. Answers the week's Monday and the cases' id tag.
//
//	case  team           opened     breached  status    csat
//	a     tier1_support  Mon 09:00  no        resolved  4 "quick"
//	b     tier1_support  Tue 09:00  yes       open      -
//	c     security       Wed 09:00  no        open      -
func reportWeek(t *testing.T, db *store.Store) (time.Time, string) {
	t.Helper()
	b := make([]byte, 6)
	_, err := crand.Read(b)
	require.NoError(t, err)
	tag := hex.EncodeToString(b)
	monday := weekStart(time.Date(1960, 1, 4, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*rand.IntN(1300)))
	t.Cleanup(func() {
		_, err := db.Pool().Exec(context.Background(), `DELETE FROM cases WHERE id LIKE $1`, "RPT-"+tag+"-%")
		assert.NoError(t, err)
	})
	for i, c := range []struct {
		name     string
		team     vocab.Team
		breached bool
		status   cases.Status
		csat     *cases.CSAT
	}{
		{"a", vocab.TeamTier1Support, false, cases.StatusResolved, &cases.CSAT{Rating: 4, Comment: "quick", At: monday.Add(12 * time.Hour)}},
		{"b", vocab.TeamTier1Support, true, cases.StatusOpen, nil},
		{"c", vocab.TeamSecurity, false, cases.StatusOpen, nil},
	} {
		opened := monday.Add(time.Duration(i)*24*time.Hour + 9*time.Hour)
		v := cases.CaseView{ID: "RPT-" + tag + "-" + c.name, Category: vocab.CategoryLoginFailure, Priority: vocab.P3,
			Subject: "Report fixture", Customer: vocab.Customer{ID: "cus-" + tag, Email: "c@example.com", Locale: "en"},
			Team: c.team, Status: c.status, CSAT: c.csat, SLA: cases.SLAView{Breaches: []cases.Breach{}},
			CreatedAt: opened, UpdatedAt: opened, LastSeq: 1}
		if c.breached {
			v.SLA.Breaches = []cases.Breach{{Target: "first_response", DueAt: opened, At: opened, Level: 1}}
		}
		require.NoError(t, db.ProjectCase(stacktest.Context(t), cases.ProjectionInput{Case: v,
			Events: []vocab.Event{{Seq: 1, Actor: "system", Kind: cases.EventOpened, At: opened}}}))
	}
	return monday, tag
}

// period is the query of the week of monday.
func period(monday time.Time) string {
	return "from=" + monday.Format(time.DateOnly) + "&to=" + monday.AddDate(0, 0, 6).Format(time.DateOnly)
}

func TestAReportIsAnsweredAsJSONWithItsFilters(t *testing.T) {
	db := stacktest.Store(t)
	monday, _ := reportWeek(t, db)
	rec, _ := getAs(t, reportServer(db), store.RoleAdmin, "/v1/reports/sla-compliance?"+period(monday))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var body struct {
		Report string         `json:"report"`
		From   time.Time      `json:"from"`
		To     time.Time      `json:"to"`
		Data   []store.SLARow `json:"data"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, "sla-compliance", body.Report)
	assert.Equal(t, monday, body.From.UTC())
	require.NotEmpty(t, body.Data)
	assert.Equal(t, store.SLARow{By: "all", Cases: 3, Breached: 1, CompliancePct: 66.7}, body.Data[0])
	assert.Contains(t, body.Data, store.SLARow{By: "team", Key: "security", Cases: 1, CompliancePct: 100})

	rec, _ = getAs(t, reportServer(db), store.RoleAdmin, "/v1/reports/sla-compliance?team=tier1_support&"+period(monday))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, store.SLARow{By: "all", Cases: 2, Breached: 1, CompliancePct: 50}, body.Data[0])
}

func TestAReportIsExportedAsCSVWithAFileName(t *testing.T) {
	db := stacktest.Store(t)
	monday, tag := reportWeek(t, db)
	rec, _ := getAs(t, reportServer(db), store.RoleAdmin, "/v1/reports/csat?format=csv&"+period(monday))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, `attachment; filename="csat_`+monday.Format(time.DateOnly)+"_"+monday.AddDate(0, 0, 7).Format(time.DateOnly)+`.csv"`,
		rec.Header().Get("Content-Disposition"))
	records, err := csv.NewReader(rec.Body).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{
		{"section", "rating", "cases", "average", "case_id", "at", "comment"},
		{"summary", "", "1", "4", "", "", ""},
		{"distribution", "1", "0", "", "", "", ""},
		{"distribution", "2", "0", "", "", "", ""},
		{"distribution", "3", "0", "", "", "", ""},
		{"distribution", "4", "1", "", "", "", ""},
		{"distribution", "5", "0", "", "", "", ""},
		{"comment", "4", "", "", "RPT-" + tag + "-a", monday.Add(12 * time.Hour).Format(time.RFC3339), "quick"},
	}, records)
}

func TestAReportIsDrawnAsAnSVGChart(t *testing.T) {
	db := stacktest.Store(t)
	monday, _ := reportWeek(t, db)
	for _, name := range store.ReportNames {
		rec, _ := getAs(t, reportServer(db), store.RoleAdmin, "/v1/reports/"+name+"/chart.svg?"+period(monday))
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", name, rec.Body.String())
		assert.Equal(t, "image/svg+xml", rec.Header().Get("Content-Type"), name)
		dec := xml.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
		var root string
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, name)
			if el, ok := tok.(xml.StartElement); ok && root == "" {
				root = el.Name.Local
			}
		}
		assert.Equal(t, "svg", root, name)
	}
}

func TestTheBacklogOfAPeriodCountsItsOpenCases(t *testing.T) {
	db := stacktest.Store(t)
	monday, _ := reportWeek(t, db)
	rec, _ := getAs(t, reportServer(db), store.RoleAdmin, "/v1/reports/backlog?"+period(monday))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var body struct {
		Data []store.BacklogRow `json:"data"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, []store.BacklogRow{{Status: "open", Age: store.AgeOver7Days, Cases: 2}}, body.Data, "decades old by now")
}

func TestADeliveryReportByTeamIsRefusedOnTheField(t *testing.T) {
	db := stacktest.Store(t)
	rec, p := getAs(t, reportServer(db), store.RoleAdmin, "/v1/reports/deliveries?team=security")
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	assert.Equal(t, []string{"team"}, fieldsNamed(p))
}

func TestRecurringIssuesLinkTheirExampleCasesAndExportAsCSV(t *testing.T) {
	db := stacktest.Store(t)
	monday, tag := reportWeek(t, db)
	rec, _ := getAs(t, reportServer(db), store.RoleAdmin, "/v1/reports/recurring-issues?limit=5&"+period(monday))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var body struct {
		Report string `json:"report"`
		Data   []struct {
			store.RecurringIssue
			ExampleCases []struct{ ID, Href string } `json:"example_cases"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, "recurring-issues", body.Report)
	require.Len(t, body.Data, 1, "the week's three cases share their subject")
	issue := body.Data[0]
	assert.Equal(t, "Report fixture", issue.Subject)
	assert.Equal(t, 3, issue.Cases)
	assert.False(t, issue.Cue, "three cases are no cue")
	require.Len(t, issue.ExampleCases, 3)
	assert.Equal(t, "RPT-"+tag+"-c", issue.ExampleCases[0].ID, "newest first")
	assert.Equal(t, "/v1/cases/RPT-"+tag+"-c", issue.ExampleCases[0].Href)

	rec, _ = getAs(t, reportServer(db), store.RoleAdmin, "/v1/reports/recurring-issues?cue=true&"+period(monday))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Empty(t, body.Data, "no cue that week")

	rec, _ = getAs(t, reportServer(db), store.RoleAdmin, "/v1/reports/recurring-issues?format=csv&"+period(monday))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	records, err := csv.NewReader(rec.Body).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{
		{"category", "subject", "cases", "cue", "article_id", "article_title", "weeks", "example_case_ids"},
		{"login_failure", "Report fixture", "3", "false", "", "", monday.Format(time.DateOnly) + ":3",
			"RPT-" + tag + "-c RPT-" + tag + "-b RPT-" + tag + "-a"},
	}, records)
}

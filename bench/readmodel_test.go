package bench

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/workflows/cases"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// testRows answers a generator with the shipped policy's categories.
func testRows(t *testing.T) *caseRows {
	t.Helper()
	book, err := sla.Load("../deploy/sla/default.yaml")
	require.NoError(t, err)
	g, err := newCaseRowsFrom(book, "BX-", time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	return g
}

func TestSeededCasesSpreadAsIntended(t *testing.T) {
	g := testRows(t)
	const n = 20_000
	categories := map[vocab.Category]int{}
	teams := map[vocab.Team]int{}
	priorities := map[vocab.Priority]int{}
	statuses := map[cases.Status]int{}
	words := searchWords()
	matches := make([]int, len(words))
	breached, running := 0, 0
	var earliest, latest time.Time
	ids := map[string]bool{}
	for i := range int64(n) {
		v := g.view(i)
		ids[v.ID] = true
		categories[v.Category]++
		teams[v.Team]++
		priorities[v.Priority]++
		statuses[v.Status]++
		if len(v.SLA.Breaches) > 0 {
			breached++
		}
		if due := v.SLA.NearestDue(); due != nil && !v.SLA.Paused {
			running++
			if earliest.IsZero() || due.Before(earliest) {
				earliest = *due
			}
			if due.After(latest) {
				latest = *due
			}
			assert.True(t, due.After(g.now) || len(v.SLA.Breaches) > 0, "%s is past due and not breached", v.ID)
		}
		text := strings.Fields(v.Subject + " " + v.Description)
		for k, w := range words {
			if slices.Contains(text, w) {
				matches[k]++
			}
		}
	}
	t.Logf("breached %.3f, running %.3f, closed %.3f; %v match %v of %d", float64(breached)/n, float64(running)/n,
		float64(statuses[cases.StatusClosed])/n, words, matches, n)
	assert.Len(t, ids, n, "ids are unique")
	assert.Len(t, categories, len(vocab.Categories))
	assert.Len(t, teams, len(vocab.Teams))
	assert.Len(t, priorities, len(vocab.Priorities))
	assert.Len(t, statuses, 6)
	assert.InDelta(t, 0.62, float64(statuses[cases.StatusClosed])/n, 0.02)
	assert.Greater(t, teams[vocab.TeamTier1Support], teams[vocab.TeamSecurity]*3, "tier 1 takes the volume")
	assert.InDelta(t, 0.10, float64(breached)/n, 0.02, "about a tenth breached")
	assert.InDelta(t, 0.23, float64(running)/n, 0.02, "new, open and escalated cases have a running deadline")
	assert.Greater(t, latest.Sub(earliest), 6*24*time.Hour, "deadlines spread over days")
	assert.InDelta(t, 0.70, float64(matches[0])/n, 0.15, "%q is in most cases", words[0])
	assert.InDelta(t, 0.10, float64(matches[1])/n, 0.06, "%q is in some cases", words[1])
	assert.Less(t, matches[2], 10, "%q is rare", words[2])
}

func TestSeededCaseRowsAreTheirViews(t *testing.T) {
	g := testRows(t)
	for i := range int64(500) {
		row, err := g.values(i)
		require.NoError(t, err)
		require.Len(t, row, 20)
		v := g.view(i)
		assert.Equal(t, g.id(i), row[0])
		assert.True(t, strings.HasPrefix(v.ID, "BX-"))
		assert.Equal(t, len(v.SLA.Breaches) > 0, row[13], "breached")
		due, _ := row[14].(*time.Time)
		if v.SLA.Paused || v.SLA.NearestDue() == nil {
			assert.Nil(t, due, "no running deadline on %s", v.ID)
		} else {
			assert.Equal(t, *v.SLA.NearestDue(), *due)
		}
		var stored cases.CaseView
		require.NoError(t, json.Unmarshal(row[19].([]byte), &stored))
		assert.Equal(t, v.ID, stored.ID)
		assert.Equal(t, v.Status, stored.Status)
		for _, col := range []int{5, 8, 9} { // assignee, account_id, order_id: NULL, never ''
			if s, ok := row[col].(*string); ok && s != nil {
				assert.NotEmpty(t, *s)
			}
		}
	}
}

func TestSeededCaseIsAFunctionOfItsNumber(t *testing.T) {
	g := testRows(t)
	a, err := json.Marshal(g.view(1234))
	require.NoError(t, err)
	b, err := json.Marshal(g.view(1234))
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.NotEqual(t, g.view(1234).Description, g.view(1235).Description)
}

func TestLikePrefixEscapesWildcards(t *testing.T) {
	assert.Equal(t, "B-%", likePrefix("B-"))
	assert.Equal(t, `B\_1\%-%`, likePrefix("B_1%-"))
}

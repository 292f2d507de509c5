//go:build integration

package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/disputes"
	"handoff/workflows/returns"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// Every test seeds under its own tag ("S" and a fresh hex tag), so that a
// reset deletes nothing of anyone else's, and removes its rows after.

// seedSmall seeds 2,000 cases over 6 months under a fresh tag, with the
// shipped policy file, and answers the tag and the options used.
func seedSmall(t *testing.T, db *store.Store) (string, store.SeedOptions) {
	t.Helper()
	book, err := sla.Load(stacktest.RepoRoot(t) + "/deploy/sla/default.yaml")
	require.NoError(t, err)
	tag := "S" + newTag(t)
	// A past half-year: the seed rebuilds the rollups of its weeks before it
	// commits, and the weeks other tests write to now stay out of it.
	now := time.Date(2004, 6, 14, 12, 0, 0, 0, time.UTC)
	opts := store.SeedOptions{Months: 6, Cases: 2000, Seed: 7, Now: now, Tag: tag, Book: book, BatchSize: 700}
	_, err = db.SeedHistory(stacktest.Context(t), opts, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		cleanup := opts
		cleanup.Cases, cleanup.Reset = 0, true
		// t.Context() has ended by the time cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := db.SeedHistory(ctx, cleanup, nil)
		assert.NoError(t, err)
	})
	return tag, opts
}

func TestSeededCasesHoldViewsConsistentWithTheirRowsAndTimelines(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag, opts := seedSmall(t, db)

	rows, err := db.Pool().Query(ctx, `
SELECT c.id, c.status, c.priority, c.category, c.team, c.breached, c.closed_at, c.last_seq, c.created_at, c.view,
       array_agg(e.seq ORDER BY e.seq), array_agg(e.kind ORDER BY e.seq)
FROM cases c JOIN case_events e ON e.case_id = c.id
WHERE c.id LIKE $1 GROUP BY c.id`, "C-"+tag+"-%")
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	months := map[string]int{}
	for rows.Next() {
		var id, status, priority, category, team string
		var breached bool
		var closedAt *time.Time
		var lastSeq int
		var created time.Time
		var raw []byte
		var seqs []int
		var kinds []string
		require.NoError(t, rows.Scan(&id, &status, &priority, &category, &team, &breached, &closedAt, &lastSeq, &created, &raw, &seqs, &kinds))
		n++
		months[created.Format("2006-01")]++
		var v cases.CaseView
		require.NoError(t, json.Unmarshal(raw, &v), id)
		assert.Equal(t, id, v.ID)
		assert.Equal(t, status, string(v.Status), id)
		assert.Contains(t, cases.Statuses, v.Status, id)
		assert.Contains(t, vocab.Categories, vocab.Category(category), id)
		assert.Contains(t, vocab.Priorities, vocab.Priority(priority), id)
		assert.Contains(t, vocab.Teams, vocab.Team(team), id)
		assert.Equal(t, category, string(v.Category), id)
		assert.Equal(t, team, string(v.Team), id)
		assert.Equal(t, breached, len(v.SLA.Breaches) > 0, id)
		assert.Equal(t, lastSeq, v.LastSeq, id)
		assert.Equal(t, status == string(cases.StatusClosed), closedAt != nil, id)
		assert.Equal(t, status == string(cases.StatusClosed), v.ClosedAt != nil, id)
		if v.Status == cases.StatusResolved {
			assert.NotNil(t, v.ResolvedAt, id)
		}
		// The timeline: 1..last_seq without gaps, opened first, breaches
		// as many as the view's, and the status its events leave.
		want := make([]int, lastSeq)
		for i := range want {
			want[i] = i + 1
		}
		require.Equal(t, want, seqs, id)
		assert.Equal(t, cases.EventOpened, kinds[0], id)
		breaches := 0
		for _, k := range kinds {
			if k == cases.EventSLABreach {
				breaches++
			}
		}
		assert.Equal(t, len(v.SLA.Breaches), breaches, id)
		assert.Equal(t, v.Status, statusAfter(kinds), "%s: %v", id, kinds)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, opts.Cases, n)
	assert.GreaterOrEqual(t, len(months), 6, "cases spread over the months: %v", months)
	for m, c := range months {
		if m != opts.Now.Format("2006-01") && m != opts.Now.AddDate(0, -6, 0).Format("2006-01") {
			assert.Greater(t, c, opts.Cases/20, "month %s", m)
		}
	}
}

// statusAfter answers the status a case's events leave it in, as
// SupportCase moves it; events that change no status are skipped.
func statusAfter(kinds []string) cases.Status {
	s := cases.StatusNew
	for _, k := range kinds {
		switch k {
		case cases.EventAssigned, cases.EventAgentReply:
			if s == cases.StatusNew {
				s = cases.StatusOpen
			}
		case cases.EventCustomerMessage:
			if s == cases.StatusWaitingCustomer || s == cases.StatusResolved {
				s = cases.StatusOpen
			}
		case cases.EventWaitingCustomer:
			s = cases.StatusWaitingCustomer
		case cases.EventEscalated:
			s = cases.StatusEscalated
		case cases.EventSLABreach:
			if s != cases.StatusWaitingCustomer {
				s = cases.StatusEscalated
			}
		case cases.EventResolved:
			s = cases.StatusResolved
		case cases.EventClosed:
			s = cases.StatusClosed
		}
	}
	return s
}

func TestSeededSubjectsRecurSoClusteringFindsDominantIssues(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag, _ := seedSmall(t, db)
	var top int
	var subject string
	require.NoError(t, db.Pool().QueryRow(ctx, `
SELECT subject, count(*) FROM cases WHERE id LIKE $1 GROUP BY subject ORDER BY count(*) DESC LIMIT 1`, "C-"+tag+"-%").Scan(&subject, &top))
	assert.GreaterOrEqual(t, top, 11, subject)
	var french int
	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM cases WHERE id LIKE $1 AND subject = 'Compte bloqué après plusieurs tentatives'`,
		"C-"+tag+"-%").Scan(&french))
	assert.GreaterOrEqual(t, french, 11)
}

func TestSeededRowsAnswerTheReadPaths(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag, _ := seedSmall(t, db)
	customer := "cus-" + tag + "-000001"

	page, err := db.ListCases(ctx, store.CaseFilter{CustomerID: customer, Limit: 200})
	require.NoError(t, err)
	require.NotEmpty(t, page.Cases)
	got, err := db.GetCase(ctx, page.Cases[0].ID)
	require.NoError(t, err)
	assert.Equal(t, page.Cases[0].ID, got.ID)
	events, err := db.Timeline(ctx, got.ID)
	require.NoError(t, err)
	assert.Len(t, events, got.LastSeq)

	// A search over the seeded phrases, and a queue, answer.
	_, err = db.ListCases(ctx, store.CaseFilter{Q: "compte bloqué", Limit: 50})
	require.NoError(t, err)
	_, err = db.ListCases(ctx, store.CaseFilter{Team: string(vocab.TeamTier1Support), Status: string(cases.StatusOpen), Limit: 50})
	require.NoError(t, err)

	var deliveryID, returnID, disputeID string
	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT id FROM deliveries WHERE id LIKE $1 ORDER BY id LIMIT 1`, "D-"+tag+"-%").Scan(&deliveryID))
	d, err := db.GetDelivery(ctx, deliveryID)
	require.NoError(t, err)
	assert.Contains(t, deliveries.Statuses, d.Status)
	dt, err := db.DeliveryTimeline(ctx, deliveryID)
	require.NoError(t, err)
	assert.Len(t, dt, d.LastSeq)

	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT id FROM returns WHERE id LIKE $1 ORDER BY id LIMIT 1`, "C-"+tag+"-%").Scan(&returnID))
	r, err := db.GetReturn(ctx, returnID)
	require.NoError(t, err)
	assert.Contains(t, returns.Statuses, r.Status)
	list, _, err := db.ListReturns(ctx, store.PartyFilter{CaseID: r.CaseID})
	require.NoError(t, err)
	assert.Len(t, list, 1)

	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT id FROM disputes WHERE id LIKE $1 ORDER BY id LIMIT 1`, "C-"+tag+"-%").Scan(&disputeID))
	p, err := db.GetDispute(ctx, disputeID)
	require.NoError(t, err)
	assert.Contains(t, disputes.Statuses, p.Status)
}

func TestSeedResetReplacesTheSeededRowsWithoutDuplicates(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag, opts := seedSmall(t, db)
	count := func() (n int) {
		require.NoError(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM cases WHERE id LIKE $1`, "C-"+tag+"-%").Scan(&n))
		return n
	}
	require.Equal(t, opts.Cases, count())

	_, err := db.SeedHistory(ctx, opts, nil)
	assert.Error(t, err, "seeding over seeded rows without reset is refused")
	assert.Equal(t, opts.Cases, count())

	again := opts
	again.Reset, again.Cases = true, 500
	res, err := db.SeedHistory(ctx, again, nil)
	require.NoError(t, err)
	assert.Equal(t, opts.Cases, res.Deleted["cases"])
	assert.Equal(t, 500, res.Rows["cases"])
	assert.Equal(t, 500, count())
	var events, distinct int
	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT (case_id, seq)) FROM case_events WHERE case_id LIKE $1`,
		"C-"+tag+"-%").Scan(&events, &distinct))
	assert.Equal(t, events, distinct)
	assert.Equal(t, res.Rows["case_events"], events)
	var deliveries, distinctDeliveries int
	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT id) FROM deliveries WHERE id LIKE $1`,
		"D-"+tag+"-%").Scan(&deliveries, &distinctDeliveries))
	assert.Equal(t, res.Rows["deliveries"], deliveries)
	assert.Equal(t, deliveries, distinctDeliveries)
}

//go:build integration

package bench

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/sla"
)

// TestSeedingTopsUpAndIsDeleted seeds a few cases under a prefix of its own
// (never the bench's "B-", whose rows a real run may be reusing), tops
// them up, lists them through the store and deletes them.
func TestSeedingTopsUpAndIsDeleted(t *testing.T) {
	st := stacktest.Store(t)
	ctx := stacktest.Context(t)
	db := st.Pool()
	tag := make([]byte, 4)
	_, err := rand.Read(tag)
	require.NoError(t, err)
	prefix := "BT-" + hex.EncodeToString(tag) + "-"
	t.Cleanup(func() { _, _ = deleteSeeded(t.Context(), db, prefix) })

	book, err := sla.Load(stacktest.Config(t).SLAPolicyFile)
	require.NoError(t, err)
	g, err := newCaseRowsFrom(book, prefix, time.Now())
	require.NoError(t, err)
	log := stacktest.Logger(t)

	s, err := seedCases(ctx, db, log, g, 300)
	require.NoError(t, err)
	assert.Equal(t, seeding{Have: 300, Added: 300, Copy: s.Copy, Total: s.Total}, s)

	s, err = seedCases(ctx, db, log, g, 200)
	require.NoError(t, err)
	assert.Equal(t, int64(0), s.Added, "enough rows: nothing written")
	assert.Equal(t, int64(300), s.Have)

	s, err = seedCases(ctx, db, log, g, 500)
	require.NoError(t, err)
	assert.Equal(t, int64(200), s.Added, "topped up")
	var ids []string
	rows, err := db.Query(ctx, `SELECT id FROM cases WHERE id LIKE $1 ORDER BY id`, likePrefix(prefix))
	require.NoError(t, err)
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	require.Len(t, ids, 500)
	assert.Equal(t, g.id(0), ids[0])
	assert.Equal(t, g.id(499), ids[499], "numbered without gaps")

	// The rows read back as the API reads them.
	v, err := st.GetCase(ctx, g.id(42))
	require.NoError(t, err)
	assert.Equal(t, g.view(42).Subject, v.Subject)
	page, err := st.ListCases(ctx, store.CaseFilter{CustomerID: g.view(7).Customer.ID})
	require.NoError(t, err)
	assert.Contains(t, seededIDs(page.Cases), g.id(7))

	n, err := deleteSeeded(ctx, db, prefix)
	require.NoError(t, err)
	assert.Equal(t, int64(500), n)
}

func seededIDs(views []cases.CaseView) []string {
	out := make([]string, len(views))
	for i, c := range views {
		out[i] = c.ID
	}
	return out
}

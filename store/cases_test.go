package store

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCursorRoundTripsWithAndWithoutADeadline(t *testing.T) {
	due := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.FixedZone("CET", 3600))
	for _, c := range []caseCursor{{Due: &due, ID: "C-1"}, {Due: nil, ID: "C/ü 2"}} {
		text := encodeCursor(c)
		assert.Regexp(t, `^[A-Za-z0-9_-]+$`, text, "a cursor must be safe in a query string as is")
		got, err := decodeCursor(text)
		require.NoError(t, err)
		assert.Equal(t, c.ID, got.ID)
		if c.Due == nil {
			assert.Nil(t, got.Due)
		} else {
			require.NotNil(t, got.Due)
			assert.True(t, c.Due.Equal(*got.Due), "due %v, want %v", got.Due, c.Due)
		}
	}
}

func TestGarbageCursorIsErrBadCursor(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	for name, text := range map[string]string{
		"not base64":     "%%%",
		"padded base64":  base64.URLEncoding.EncodeToString([]byte(`{"d":null,"i":"C-1"}`)),
		"not json":       b64([]byte("hello")),
		"no id":          b64([]byte(`{"d":null}`)),
		"empty id":       b64([]byte(`{"d":null,"i":""}`)),
		"bad time":       b64([]byte(`{"d":"yesterday","i":"C-1"}`)),
		"unknown field":  b64([]byte(`{"d":null,"i":"C-1","x":1}`)),
		"trailing data":  b64([]byte(`{"d":null,"i":"C-1"}{}`)),
		"wrong id type":  b64([]byte(`{"d":null,"i":7}`)),
		"array not json": b64([]byte(`[null,"C-1"]`)),
	} {
		_, err := decodeCursor(text)
		assert.ErrorIs(t, err, ErrBadCursor, name)

		_, _, err = buildListCases(CaseFilter{Cursor: text})
		assert.ErrorIs(t, err, ErrBadCursor, name)
	}
}

func TestListCasesLimitDefaultsTo50AndRefusesOutOfRange(t *testing.T) {
	_, limit, err := buildListCases(CaseFilter{})
	require.NoError(t, err)
	assert.Equal(t, DefaultCaseLimit, limit)

	for _, ok := range []int{1, 200} {
		q, limit, err := buildListCases(CaseFilter{Limit: ok})
		require.NoError(t, err)
		assert.Equal(t, ok, limit)
		assert.Equal(t, []any{ok + 1}, q.args, "one row more than the page tells whether another page exists")
	}
	for _, bad := range []int{-1, 201, 10_000} {
		_, _, err := buildListCases(CaseFilter{Limit: bad})
		assert.ErrorIs(t, err, ErrBadLimit, "limit %d", bad)
	}
}

func TestListCasesWithoutFilterWalksTheQueueInOrder(t *testing.T) {
	q, _, err := buildListCases(CaseFilter{})
	require.NoError(t, err)
	assert.Equal(t, "SELECT sla_due_at, id, view FROM cases ORDER BY sla_due_sort, id LIMIT $1", q.sql)
	assert.Equal(t, []any{51}, q.args)
}

func TestEveryFilterBecomesOnePositionalParameterInOrder(t *testing.T) {
	breached := false
	before := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	due := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cursor := encodeCursor(caseCursor{Due: &due, ID: "C-9"})
	q, limit, err := buildListCases(CaseFilter{
		Status: "open", Priority: "p1", Category: "dispute", Team: "trust_safety", Assignee: "ana",
		CustomerID: "cus-1", AccountID: "acc-1", OrderID: "ord-1'; DROP TABLE cases; --",
		Breached: &breached, DueBefore: &before, Q: "  refund -late ", Limit: 20, Cursor: cursor,
	})
	require.NoError(t, err)
	assert.Equal(t, 20, limit)

	require.Len(t, q.args, 14)
	assert.Equal(t, []any{
		"open", "p1", "dispute", "trust_safety", "ana", "cus-1", "acc-1", "ord-1'; DROP TABLE cases; --",
		false, before, "refund -late",
	}, q.args[:11])
	gotDue, ok := q.args[11].(*time.Time)
	require.True(t, ok, "cursor due is a *time.Time, nil for a case without deadline")
	assert.True(t, due.Equal(*gotDue))
	assert.Equal(t, []any{"C-9", 21}, q.args[12:])

	assert.NotContains(t, q.sql, "DROP TABLE", "values never reach the SQL text")
	for _, cond := range []string{
		"status = $1", "priority = $2", "category = $3", "team = $4", "assignee = $5",
		"customer_id = $6", "account_id = $7", "order_id = $8", "breached = $9",
		"sla_due_sort < $10", "search @@ websearch_to_tsquery('simple', $11)",
		"(sla_due_sort, id) > (coalesce($12::timestamptz, 'infinity'::timestamptz), $13)",
	} {
		assert.Contains(t, q.sql, cond)
	}
	assert.True(t, strings.HasSuffix(q.sql, " ORDER BY sla_due_sort, id LIMIT $14"), q.sql)
	assert.Len(t, regexp.MustCompile(`\$\d+`).FindAllString(q.sql, -1), len(q.args),
		"one placeholder per argument")
}

func TestBlankFreeTextDoesNotFilter(t *testing.T) {
	q, _, err := buildListCases(CaseFilter{Q: " \t "})
	require.NoError(t, err)
	assert.NotContains(t, q.sql, "search")
	assert.Len(t, q.args, 1)
}

// JSON can carry a NUL (\u0000) that Postgres text cannot: such a cursor
// is refused before it reaches a query.
func TestCursorWithANULInItsIDIsBad(t *testing.T) {
	_, err := decodeCursor(base64.RawURLEncoding.EncodeToString([]byte(`{"d":null,"i":"a\u0000b"}`)))
	assert.ErrorIs(t, err, ErrBadCursor)
}

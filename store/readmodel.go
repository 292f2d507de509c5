package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"handoff/workflows/vocab"
)

// What the read models of cases, deliveries, returns and disputes share: the projection of
// a view and its events, a view by id, a timeline, and keyset-paginated
// lists. Every piece of SQL here is written from the constants of this
// package's readModel and keysetList values, never from a request.

// readModel is one read model: rows of table hold a view each (columns
// id and view), and their timelines are the rows of an events table whose
// key column references the row's id. Its SQL is written once, in
// newReadModel, from the table names the store declares.
type readModel struct {
	noun  string // a row in an error: "case", "delivery"
	table string
	// events is the table of its timeline events, fk their column naming the row.
	events, fk string
	// The queries of getView, timeline and queueEvents.
	getSQL, timelineSQL, insertEventSQL string
}

// newReadModel answers the read model of these names and its SQL.
func newReadModel(noun, table, events, key string) readModel {
	return readModel{
		noun: noun, table: table, events: events, fk: key,
		getSQL: `SELECT view FROM ` + table + ` WHERE id = $1`,
		// The LEFT JOIN tells a row without events (one row of NULLs) from
		// no row at all (no row) in one round trip.
		timelineSQL: `
SELECT e.seq, e.actor, e.kind, e.at, e.payload
FROM ` + table + ` r LEFT JOIN ` + events + ` e ON e.` + key + ` = r.id
WHERE r.id = $1
ORDER BY e.seq`,
		insertEventSQL: `
INSERT INTO ` + events + ` (` + key + `, seq, actor, kind, at, payload)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (` + key + `, seq) DO NOTHING`,
	}
}

// viewJSON answers v, the view of the row id without its timeline, as a
// projection stores it; an error when the row has no id.
func (m readModel) viewJSON(id string, v any) ([]byte, error) {
	if strings.TrimSpace(id) == "" {
		return nil, fmt.Errorf("project %s: the %s has no id", m.noun, m.noun)
	}
	view, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s view: %w", m.noun, err)
	}
	return view, nil
}

// queueEvents adds to batch the insert of each of the row id's events; an
// event without payload stores SQL NULL.
func (m readModel) queueEvents(batch *pgx.Batch, id string, events []vocab.Event) {
	for _, e := range events {
		var payload any // SQL NULL for an event without payload
		if len(e.Payload) > 0 {
			payload = e.Payload
		}
		batch.Queue(m.insertEventSQL, id, e.Seq, e.Actor, e.Kind, e.At, payload)
	}
}

// getView answers the view of m's row id, or ErrNotFound.
func getView[T any](ctx context.Context, s *Store, m readModel, id string) (T, error) {
	var v T
	err := s.pool.QueryRow(ctx, m.getSQL, id).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		var zero T
		return zero, ErrNotFound
	}
	if err != nil {
		var zero T
		return zero, fmt.Errorf("get %s %s: %w", m.noun, id, err)
	}
	return v, nil
}

// timeline answers the events of m's row id in sequence order: an empty
// slice when it has none yet, ErrNotFound when it does not exist.
func timeline(ctx context.Context, s *Store, m readModel, id string) ([]vocab.Event, error) {
	rows, err := s.pool.Query(ctx, m.timelineSQL, id)
	if err != nil {
		return nil, fmt.Errorf("timeline of %s %s: %w", m.noun, id, err)
	}
	type eventRow struct {
		seq         *int
		actor, kind *string
		at          *time.Time
		payload     map[string]string
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (eventRow, error) {
		var r eventRow
		err := row.Scan(&r.seq, &r.actor, &r.kind, &r.at, &r.payload)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("timeline of %s %s: %w", m.noun, id, err)
	}
	if len(found) == 0 {
		return nil, ErrNotFound
	}
	events := make([]vocab.Event, 0, len(found))
	for _, r := range found {
		if r.seq == nil {
			continue // the row exists with no events
		}
		events = append(events, vocab.Event{
			Seq: *r.seq, Actor: *r.actor, Kind: *r.kind, At: r.at.UTC(), Payload: r.payload,
		})
	}
	return events, nil
}

// sqlQuery is SQL text with its positional arguments.
type sqlQuery struct {
	sql  string
	args []any
}

// listQuery collects the conditions of a list. Column names come from
// this package only; every value goes through param as $n.
type listQuery struct {
	where []string
	args  []any
}

// param adds v as the next positional argument and answers its placeholder.
func (q *listQuery) param(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// equal filters on column = value unless value is empty.
func (q *listQuery) equal(column, value string) {
	if value != "" {
		q.where = append(q.where, column+" = "+q.param(value))
	}
}

// keysetList is a list of a read model's rows in keyset order: by a sort
// key column that holds 'infinity' where the row has no time, then by id.
type keysetList struct {
	readModel
	shown string // the time column answered with each row, NULL for none
	sort  string // the sort key column: shown, or 'infinity' for none
	// Page sizes: the default for 0, and the most.
	defaultLimit, maxLimit int
}

// limit answers the page size of a requested limit, or ErrBadLimit.
func (l keysetList) limit(requested int) (int, error) {
	limit := requested
	if limit == 0 {
		limit = l.defaultLimit
	}
	if limit < 1 || limit > l.maxLimit {
		return 0, fmt.Errorf("%w: want 1 to %d, got %d", ErrBadLimit, l.maxLimit, requested)
	}
	return limit, nil
}

// after keeps the rows that sort after the position (at, id) of a cursor.
func (l keysetList) after(q *listQuery, at *time.Time, id string) {
	atParam := q.param(at)
	idParam := q.param(id)
	q.where = append(q.where,
		"("+l.sort+", id) > (coalesce("+atParam+"::timestamptz, 'infinity'::timestamptz), "+idParam+")")
}

// query answers the SELECT of q's rows (shown, id, view) in list order,
// fetching one row more than limit to learn whether a next page exists.
func (l keysetList) query(q *listQuery, limit int) sqlQuery {
	var b strings.Builder
	b.WriteString("SELECT " + l.shown + ", id, view FROM " + l.table)
	if len(q.where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(q.where, " AND "))
	}
	b.WriteString(" ORDER BY " + l.sort + ", id LIMIT ")
	b.WriteString(q.param(limit + 1))
	return sqlQuery{sql: b.String(), args: q.args}
}

// listPage runs q, a query of l.query, and answers the views of the first
// limit rows and, when there was one more, the cursor after the last row
// shown that cursor encodes.
func listPage[V any](ctx context.Context, s *Store, l keysetList, q sqlQuery, limit int,
	cursor func(at *time.Time, id string) string,
) ([]V, string, error) {
	rows, err := s.pool.Query(ctx, q.sql, q.args...)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", l.table, err)
	}
	type listRow struct {
		at   *time.Time
		id   string
		view V
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (listRow, error) {
		var r listRow
		err := row.Scan(&r.at, &r.id, &r.view)
		return r, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", l.table, err)
	}
	views := make([]V, 0, min(len(found), limit))
	next := ""
	for i, r := range found {
		if i == limit {
			// The extra row only says that there is a next page; the
			// cursor is the last row shown, as stored (microseconds).
			last := found[limit-1]
			next = cursor(last.at, last.id)
			break
		}
		views = append(views, r.view)
	}
	return views, next, nil
}

// keysetCursor is a list's cursor: a struct whose JSON keys are that
// list's own, so that no list takes another's cursor.
type keysetCursor interface {
	// position answers the last row's sort time (nil for none) and id.
	position() (*time.Time, string)
}

// inUTC answers t in UTC, nil for nil.
func inUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	utc := t.UTC()
	return &utc
}

// encodeKeyset answers c as opaque base64url text.
func encodeKeyset(c keysetCursor) string {
	raw, err := json.Marshal(c)
	if err != nil {
		panic(err) // a time and a string always encode
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeKeyset reads a cursor of type C that encodeKeyset wrote for l, or
// answers ErrBadCursor.
func decodeKeyset[C keysetCursor](l keysetList, s string) (C, error) {
	var zero C
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return zero, fmt.Errorf("%w: not base64url", ErrBadCursor)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c C
	if err := dec.Decode(&c); err != nil || !errors.Is(dec.Decode(&struct{}{}), io.EOF) {
		return zero, fmt.Errorf("%w: malformed", ErrBadCursor)
	}
	_, id := c.position()
	if id == "" {
		return zero, fmt.Errorf("%w: no %s id", ErrBadCursor, l.noun)
	}
	if strings.ContainsRune(id, 0) || !utf8.ValidString(id) {
		// Postgres text cannot hold it: no row has such an id.
		return zero, fmt.Errorf("%w: %s id is not text", ErrBadCursor, l.noun)
	}
	return c, nil
}

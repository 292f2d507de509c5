package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// ErrBadCursor reports a list cursor that does not decode; the API answers
// it as a 422 on the field "cursor".
var ErrBadCursor = errors.New("cursor is not one this API issued")

// ErrBadLimit reports a list limit outside 1..MaxCaseLimit; the API answers
// it as a 422 on the field "limit".
var ErrBadLimit = errors.New("limit out of range")

// Page sizes of ListCases.
const (
	DefaultCaseLimit = 50
	MaxCaseLimit     = 200
)

// ProjectCase writes the case row, the new timeline events and the case's
// evidence rows in one transaction. Idempotent: events and evidence insert
// ON CONFLICT DO NOTHING; the case
// row is upserted only when the incoming LastSeq >= the stored one (an
// older, retried projection never overwrites a newer one).
func (s *Store) ProjectCase(ctx context.Context, in cases.ProjectionInput) error {
	c := in.Case
	c.Timeline = nil
	view, err := caseModel.viewJSON(c.ID, c)
	if err != nil {
		return err
	}
	var due *time.Time
	if !c.SLA.Paused {
		due = c.SLA.NearestDue()
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The case row first: the events reference it.
		if _, err := tx.Exec(ctx, upsertCaseSQL,
			c.ID, string(c.Status), string(c.Priority), string(c.Category), string(c.Team),
			c.Assignee, c.EscalationLevel, c.Customer.ID, c.AccountID, c.OrderID, c.Channel,
			c.Subject, c.Description, len(c.SLA.Breaches) > 0, due,
			c.CreatedAt, c.UpdatedAt, c.ClosedAt, c.LastSeq, view,
		); err != nil {
			return fmt.Errorf("upsert case row: %w", err)
		}
		batch := &pgx.Batch{}
		// Every projection carries all the case's evidence; rows already
		// written are skipped, so this is idempotent and order-independent.
		queueEvidence(batch, c.ID, in.Case.Evidence)
		if batch.Len() == 0 && len(in.Events) == 0 {
			return nil
		}
		caseModel.queueEvents(batch, c.ID, in.Events)
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("insert events and evidence: %w", err)
		}
		return nil
	})
	if err != nil {
		// The caller (the activity) names the case.
		return fmt.Errorf("write projection at seq %d: %w", c.LastSeq, err)
	}
	return nil
}

// upsertCaseSQL writes the case row unless a newer projection is already
// stored; the WHERE of DO UPDATE is checked against the locked row, so two
// concurrent projections cannot leave the older one behind.
const upsertCaseSQL = `
INSERT INTO cases (id, status, priority, category, team, assignee, escalation_level,
                   customer_id, account_id, order_id, channel, subject, description,
                   breached, sla_due_at, created_at, updated_at, closed_at, last_seq, view)
VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7, $8, NULLIF($9, ''), NULLIF($10, ''), $11, $12, $13,
        $14, $15, $16, $17, $18, $19, $20)
ON CONFLICT (id) DO UPDATE SET
    status = EXCLUDED.status, priority = EXCLUDED.priority, category = EXCLUDED.category,
    team = EXCLUDED.team, assignee = EXCLUDED.assignee, escalation_level = EXCLUDED.escalation_level,
    customer_id = EXCLUDED.customer_id, account_id = EXCLUDED.account_id, order_id = EXCLUDED.order_id,
    channel = EXCLUDED.channel, subject = EXCLUDED.subject, description = EXCLUDED.description,
    breached = EXCLUDED.breached, sla_due_at = EXCLUDED.sla_due_at, created_at = EXCLUDED.created_at,
    updated_at = EXCLUDED.updated_at, closed_at = EXCLUDED.closed_at, last_seq = EXCLUDED.last_seq,
    view = EXCLUDED.view
WHERE cases.last_seq <= EXCLUDED.last_seq`

// caseModel is the read model of cases: a case's events reference it.
var caseModel = newReadModel("case", "cases", "case_events", "case_id")

// GetCase answers the projected case, without its timeline, or ErrNotFound.
func (s *Store) GetCase(ctx context.Context, id string) (cases.CaseView, error) {
	return getView[cases.CaseView](ctx, s, caseModel, id)
}

// Timeline answers a case's projected events in sequence order: an empty
// slice when the case has none yet, ErrNotFound when the case does not exist.
func (s *Store) Timeline(ctx context.Context, id string) ([]vocab.Event, error) {
	return timeline(ctx, s, caseModel, id)
}

// CaseFilter selects cases for ListCases. Empty and nil fields do not filter.
type CaseFilter struct {
	Status, Priority, Category, Team, Assignee, CustomerID, AccountID, OrderID string
	// Breached keeps the cases that have (true) or have not (false) breached an SLA target.
	Breached *bool
	// DueBefore keeps the cases whose nearest running SLA deadline is before it.
	DueBefore *time.Time
	// Q is free text over subject and description, in web search syntax
	// ("quoted phrase", -excluded, or).
	Q string
	// Limit is the page size: 0 for DefaultCaseLimit, at most MaxCaseLimit.
	Limit int
	// Cursor is the NextCursor of the previous page; empty for the first.
	Cursor string
}

// CasePage is one page of ListCases.
type CasePage struct {
	Cases []cases.CaseView
	// NextCursor fetches the next page; empty on the last one.
	NextCursor string
}

// CaseJSONPage is one page of ListCaseJSON: each case's view as the read
// model holds it, JSON that needs no decoding to be answered.
type CaseJSONPage struct {
	Cases [][]byte
	// NextCursor fetches the next page; empty on the last one.
	NextCursor string
}

// ListCases answers the cases f selects in work-queue order: nearest SLA
// deadline first, cases without a running deadline last, then by id.
// Pages are keyset-paginated on that order, so a case projected between two
// pages neither repeats nor shifts the rest.
func (s *Store) ListCases(ctx context.Context, f CaseFilter) (CasePage, error) {
	raw, err := s.ListCaseJSON(ctx, f)
	if err != nil {
		return CasePage{}, err
	}
	page := CasePage{Cases: make([]cases.CaseView, len(raw.Cases)), NextCursor: raw.NextCursor}
	for i, b := range raw.Cases {
		if err := json.Unmarshal(b, &page.Cases[i]); err != nil {
			return CasePage{}, fmt.Errorf("list cases: decode a view: %w", err)
		}
	}
	return page, nil
}

// ListCaseJSON is ListCases answering each view as its stored JSON (keys in
// jsonb's order), for a caller that passes it on as it is.
func (s *Store) ListCaseJSON(ctx context.Context, f CaseFilter) (CaseJSONPage, error) {
	q, limit, err := buildListCases(f)
	if err != nil {
		return CaseJSONPage{}, err
	}
	views, next, err := listPage[[]byte](ctx, s, caseList, q, limit, func(due *time.Time, id string) string {
		return encodeCursor(caseCursor{Due: due, ID: id})
	})
	if err != nil {
		return CaseJSONPage{}, err
	}
	return CaseJSONPage{Cases: views, NextCursor: next}, nil
}

// ExplainListCases answers the EXPLAIN (ANALYZE, BUFFERS) output of the
// query ListCases runs for f. It executes the query.
func (s *Store) ExplainListCases(ctx context.Context, f CaseFilter) (string, error) {
	q, _, err := buildListCases(f)
	if err != nil {
		return "", err
	}
	rows, err := s.pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q.sql, q.args...)
	if err != nil {
		return "", fmt.Errorf("explain list cases: %w", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("explain list cases: %w", err)
	}
	return strings.Join(lines, "\n"), nil
}

// caseList is the work queue ListCases pages through.
var caseList = keysetList{
	readModel: caseModel, shown: "sla_due_at", sort: "sla_due_sort",
	defaultLimit: DefaultCaseLimit, maxLimit: MaxCaseLimit,
}

// buildListCases answers the query for f, fetching one row more than the
// page size to learn whether a next page exists, and the page size.
func buildListCases(f CaseFilter) (sqlQuery, int, error) {
	limit, err := caseList.limit(f.Limit)
	if err != nil {
		return sqlQuery{}, 0, err
	}
	var q listQuery
	q.equal("status", f.Status)
	q.equal("priority", f.Priority)
	q.equal("category", f.Category)
	q.equal("team", f.Team)
	q.equal("assignee", f.Assignee)
	q.equal("customer_id", f.CustomerID)
	q.equal("account_id", f.AccountID)
	q.equal("order_id", f.OrderID)
	if f.Breached != nil {
		q.where = append(q.where, "breached = "+q.param(*f.Breached))
	}
	if f.DueBefore != nil {
		// On the sort key rather than sla_due_at: the same rows (a case
		// without a deadline sorts as 'infinity'), but a range the queue
		// indexes answer in order.
		q.where = append(q.where, "sla_due_sort < "+q.param(*f.DueBefore))
	}
	if text := strings.TrimSpace(f.Q); text != "" {
		q.where = append(q.where, "search @@ websearch_to_tsquery('simple', "+q.param(text)+")")
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return sqlQuery{}, 0, err
		}
		caseList.after(&q, c.Due, c.ID)
	}
	return caseList.query(&q, limit), limit, nil
}

// caseCursor is the position after which the next page starts: the last
// row's sort key, Due nil for a case without a running deadline.
type caseCursor struct {
	Due *time.Time `json:"d"`
	ID  string     `json:"i"`
}

// position answers the cursor's sort key, for decodeKeyset.
func (c caseCursor) position() (*time.Time, string) { return c.Due, c.ID }

// encodeCursor answers c as opaque base64url text.
func encodeCursor(c caseCursor) string {
	c.Due = inUTC(c.Due)
	return encodeKeyset(c)
}

// decodeCursor reads a cursor encodeCursor wrote, or answers ErrBadCursor.
func decodeCursor(s string) (caseCursor, error) { return decodeKeyset[caseCursor](caseList, s) }

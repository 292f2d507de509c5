package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"handoff/workflows/returns"
)

// Page sizes of ListReturns and ListDisputes.
const (
	DefaultReturnLimit = 50
	MaxReturnLimit     = 200
)

// ProjectReturn writes the return row and its new timeline events in one
// round trip, as ProjectDelivery does: events insert ON CONFLICT DO
// NOTHING, and the row is upserted only when the incoming LastSeq >= the
// stored one.
func (s *Store) ProjectReturn(ctx context.Context, in returns.ProjectionInput) error {
	r := in.Return
	r.Timeline = nil
	view, err := returnModel.viewJSON(r.ID, r)
	if err != nil {
		return err
	}
	batch := &pgx.Batch{}
	// The return row first: the events reference it.
	batch.Queue(upsertReturnSQL,
		r.ID, r.CaseID, r.OrderID, r.SellerID, r.Buyer.ID, string(r.Status), r.RespondBy,
		r.CreatedAt, r.UpdatedAt, r.LastSeq, view)
	returnModel.queueEvents(batch, r.ID, in.Events)
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		// The caller (the activity) names the return.
		return fmt.Errorf("write return projection at seq %d: %w", r.LastSeq, err)
	}
	return nil
}

// upsertReturnSQL writes the return row unless a newer projection is
// already stored (upsertDeliverySQL's guard).
const upsertReturnSQL = `
INSERT INTO returns (id, case_id, order_id, seller_id, customer_id, status, respond_by,
                     created_at, updated_at, last_seq, view)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO UPDATE SET
    case_id = EXCLUDED.case_id, order_id = EXCLUDED.order_id, seller_id = EXCLUDED.seller_id,
    customer_id = EXCLUDED.customer_id, status = EXCLUDED.status, respond_by = EXCLUDED.respond_by,
    created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, last_seq = EXCLUDED.last_seq,
    view = EXCLUDED.view
WHERE returns.last_seq <= EXCLUDED.last_seq`

// returnModel is the read model of returns: a return's events reference it.
var returnModel = newReadModel("return", "returns", "return_events", "return_id")

// GetReturn answers the projected return, without its timeline, or
// ErrNotFound.
func (s *Store) GetReturn(ctx context.Context, id string) (returns.View, error) {
	return getView[returns.View](ctx, s, returnModel, id)
}

// PartyFilter selects returns for ListReturns and disputes for
// ListDisputes. Empty fields do not filter.
type PartyFilter struct {
	Status, SellerID, OrderID, CustomerID, CaseID string
	// Limit is the page size: 0 for DefaultReturnLimit, at most MaxReturnLimit.
	Limit int
	// Cursor is the next cursor of the previous page; empty for the first.
	Cursor string
}

// where adds f's filters to q; column names are the same in both tables.
func (f PartyFilter) where(q *listQuery) {
	q.equal("status", f.Status)
	q.equal("seller_id", f.SellerID)
	q.equal("order_id", f.OrderID)
	q.equal("customer_id", f.CustomerID)
	q.equal("case_id", f.CaseID)
}

// ListReturns answers the returns f selects, the one whose deadline comes
// soonest first, those waiting on no deadline last, then by id, and the
// cursor of the next page (empty on the last one). Pages are keyset
// paginated on that order, like ListDeliveries.
func (s *Store) ListReturns(ctx context.Context, f PartyFilter) ([]returns.View, string, error) {
	q, limit, err := buildPartyList(returnList, f, decodeReturnCursor)
	if err != nil {
		return nil, "", err
	}
	return listPage[returns.View](ctx, s, returnList, q, limit, func(at *time.Time, id string) string {
		return encodeKeyset(returnCursor{RespondBy: inUTC(at), ID: id})
	})
}

// returnList is the list ListReturns pages through.
var returnList = keysetList{
	readModel: returnModel, shown: "respond_by", sort: "respond_sort",
	defaultLimit: DefaultReturnLimit, maxLimit: MaxReturnLimit,
}

// buildPartyList answers l's query for f, fetching one row more than the
// page size to learn whether a next page exists, and the page size;
// decode reads l's cursor.
func buildPartyList[C keysetCursor](l keysetList, f PartyFilter, decode func(string) (C, error)) (sqlQuery, int, error) {
	limit, err := l.limit(f.Limit)
	if err != nil {
		return sqlQuery{}, 0, err
	}
	var q listQuery // column names come from this package only; values go through param
	f.where(&q)
	if f.Cursor != "" {
		c, err := decode(f.Cursor)
		if err != nil {
			return sqlQuery{}, 0, err
		}
		at, id := c.position()
		l.after(&q, at, id)
	}
	return l.query(&q, limit), limit, nil
}

// returnCursor is the position after which the next page of returns
// starts: the last row's respond_by (nil for none) and id. Its keys differ
// from every other list's, so no list takes another's cursor.
type returnCursor struct {
	RespondBy *time.Time `json:"r"`
	ID        string     `json:"i"`
}

// position answers the cursor's sort key, for decodeKeyset.
func (c returnCursor) position() (*time.Time, string) { return c.RespondBy, c.ID }

// decodeReturnCursor reads a cursor of ListReturns, or answers ErrBadCursor.
func decodeReturnCursor(s string) (returnCursor, error) {
	return decodeKeyset[returnCursor](returnList, s)
}

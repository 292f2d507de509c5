package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"handoff/workflows/disputes"
)

// ProjectDispute writes the dispute row and its new timeline events in
// one round trip, with ProjectReturn's guarantees. The row's created_at is
// when the dispute was opened.
func (s *Store) ProjectDispute(ctx context.Context, in disputes.ProjectionInput) error {
	d := in.Dispute
	d.Timeline = nil
	view, err := disputeModel.viewJSON(d.ID, d)
	if err != nil {
		return err
	}
	created := d.OpenedAt
	if created.IsZero() {
		created = d.UpdatedAt
	}
	batch := &pgx.Batch{}
	// The dispute row first: the events reference it.
	batch.Queue(upsertDisputeSQL,
		d.ID, d.CaseID, d.OrderID, d.SellerID, d.BuyerID, string(d.Status), d.RespondBy,
		created, d.UpdatedAt, d.LastSeq, view)
	disputeModel.queueEvents(batch, d.ID, in.Events)
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		// The caller (the activity) names the dispute.
		return fmt.Errorf("write dispute projection at seq %d: %w", d.LastSeq, err)
	}
	return nil
}

// upsertDisputeSQL writes the dispute row unless a newer projection is
// already stored (upsertDeliverySQL's guard).
const upsertDisputeSQL = `
INSERT INTO disputes (id, case_id, order_id, seller_id, customer_id, status, respond_by,
                      created_at, updated_at, last_seq, view)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO UPDATE SET
    case_id = EXCLUDED.case_id, order_id = EXCLUDED.order_id, seller_id = EXCLUDED.seller_id,
    customer_id = EXCLUDED.customer_id, status = EXCLUDED.status, respond_by = EXCLUDED.respond_by,
    created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, last_seq = EXCLUDED.last_seq,
    view = EXCLUDED.view
WHERE disputes.last_seq <= EXCLUDED.last_seq`

// disputeModel is the read model of disputes: a dispute's events reference it.
var disputeModel = newReadModel("dispute", "disputes", "dispute_events", "dispute_id")

// GetDispute answers the projected dispute, without its timeline, or
// ErrNotFound.
func (s *Store) GetDispute(ctx context.Context, id string) (disputes.View, error) {
	return getView[disputes.View](ctx, s, disputeModel, id)
}

// ListDisputes answers the disputes f selects in ListReturns' order (the
// party's deadline soonest first, none last, then id) and the cursor of
// the next page (empty on the last one). Its page sizes are ListReturns'.
func (s *Store) ListDisputes(ctx context.Context, f PartyFilter) ([]disputes.View, string, error) {
	q, limit, err := buildPartyList(disputeList, f, decodeDisputeCursor)
	if err != nil {
		return nil, "", err
	}
	return listPage[disputes.View](ctx, s, disputeList, q, limit, func(at *time.Time, id string) string {
		return encodeKeyset(disputeCursor{RespondBy: inUTC(at), ID: id})
	})
}

// disputeList is the list ListDisputes pages through.
var disputeList = keysetList{
	readModel: disputeModel, shown: "respond_by", sort: "respond_sort",
	defaultLimit: DefaultReturnLimit, maxLimit: MaxReturnLimit,
}

// disputeCursor is returnCursor's counterpart, under its own keys.
type disputeCursor struct {
	RespondBy *time.Time `json:"p"`
	ID        string     `json:"i"`
}

// position answers the cursor's sort key, for decodeKeyset.
func (c disputeCursor) position() (*time.Time, string) { return c.RespondBy, c.ID }

// decodeDisputeCursor reads a cursor of ListDisputes, or answers ErrBadCursor.
func decodeDisputeCursor(s string) (disputeCursor, error) {
	return decodeKeyset[disputeCursor](disputeList, s)
}

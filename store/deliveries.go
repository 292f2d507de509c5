package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

// Page sizes of ListDeliveries.
const (
	DefaultDeliveryLimit = 50
	MaxDeliveryLimit     = 200
)

// ProjectDelivery writes the delivery row and its new timeline events in
// one round trip: a single batch, which Postgres runs as one implicit
// transaction. Idempotent: events insert ON CONFLICT DO NOTHING, and the
// row is upserted only when the incoming LastSeq >= the stored one (an
// older, retried projection never overwrites a newer one; its events still
// land).
func (s *Store) ProjectDelivery(ctx context.Context, in deliveries.ProjectionInput) error {
	d := in.Delivery
	d.Timeline = nil
	view, err := deliveryModel.viewJSON(d.ID, d)
	if err != nil {
		return err
	}
	batch := &pgx.Batch{}
	// The delivery row first: the events reference it.
	batch.Queue(upsertDeliverySQL,
		d.ID, string(d.Status), d.Handoff.AccountID, d.Handoff.OrderID, d.Buyer.ID, d.Buyer.Email,
		d.SellerID, d.Product, d.Region, d.WarrantyEndsAt, d.ConfirmBy, d.Handoff.DeliveredAt,
		d.LastSeq, d.CreatedAt, d.UpdatedAt, view)
	deliveryModel.queueEvents(batch, d.ID, in.Events)
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		// The caller (the activity) names the delivery.
		return fmt.Errorf("write delivery projection at seq %d: %w", d.LastSeq, err)
	}
	return nil
}

// upsertDeliverySQL writes the delivery row unless a newer projection is
// already stored; the WHERE of DO UPDATE is checked against the locked
// row, so two concurrent projections cannot leave the older one behind.
const upsertDeliverySQL = `
INSERT INTO deliveries (id, status, account_id, order_id, buyer_id, buyer_email, seller_id,
                        product, region, warranty_ends_at, confirm_by, delivered_at,
                        last_seq, created_at, updated_at, view)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (id) DO UPDATE SET
    status = EXCLUDED.status, account_id = EXCLUDED.account_id, order_id = EXCLUDED.order_id,
    buyer_id = EXCLUDED.buyer_id, buyer_email = EXCLUDED.buyer_email, seller_id = EXCLUDED.seller_id,
    product = EXCLUDED.product, region = EXCLUDED.region, warranty_ends_at = EXCLUDED.warranty_ends_at,
    confirm_by = EXCLUDED.confirm_by, delivered_at = EXCLUDED.delivered_at, last_seq = EXCLUDED.last_seq,
    created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, view = EXCLUDED.view
WHERE deliveries.last_seq <= EXCLUDED.last_seq`

// deliveryModel is the read model of deliveries: a delivery's events
// reference it.
var deliveryModel = newReadModel("delivery", "deliveries", "delivery_events", "delivery_id")

// GetDelivery answers the projected delivery, without its timeline, or
// ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id string) (deliveries.DeliveryView, error) {
	return getView[deliveries.DeliveryView](ctx, s, deliveryModel, id)
}

// DeliveryTimeline answers a delivery's projected events in sequence
// order: an empty slice when it has none yet, ErrNotFound when the
// delivery does not exist.
func (s *Store) DeliveryTimeline(ctx context.Context, id string) ([]vocab.Event, error) {
	return timeline(ctx, s, deliveryModel, id)
}

// DeliveryFilter selects deliveries for ListDeliveries. Empty and nil
// fields do not filter.
type DeliveryFilter struct {
	Status, AccountID, OrderID, BuyerID, SellerID string
	// WarrantyEndsBefore keeps the deliveries whose warranty ends before
	// it; a delivery without a warranty end (not delivered yet) is left out.
	WarrantyEndsBefore *time.Time
	// Limit is the page size: 0 for DefaultDeliveryLimit, at most MaxDeliveryLimit.
	Limit int
	// Cursor is the next cursor of the previous page; empty for the first.
	Cursor string
}

// ListDeliveries answers the deliveries f selects, the warranty that ends
// soonest first, deliveries without a warranty end last, then by id, and
// the cursor of the next page (empty on the last one). Pages are
// keyset-paginated on that order, so a delivery projected between two
// pages neither repeats nor shifts the rest.
func (s *Store) ListDeliveries(ctx context.Context, f DeliveryFilter) ([]deliveries.DeliveryView, string, error) {
	q, limit, err := buildListDeliveries(f)
	if err != nil {
		return nil, "", err
	}
	return listPage[deliveries.DeliveryView](ctx, s, deliveryList, q, limit, func(ends *time.Time, id string) string {
		return encodeDeliveryCursor(deliveryCursor{WarrantyEndsAt: ends, ID: id})
	})
}

// DeliveriesOfAccount answers every delivery of an account, in the order
// of ListDeliveries; an empty slice when it has none. An account is handed
// over a handful of times at most, so there is no paging.
func (s *Store) DeliveriesOfAccount(ctx context.Context, accountID string) ([]deliveries.DeliveryView, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT view FROM deliveries WHERE account_id = $1 ORDER BY warranty_sort, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("deliveries of account %s: %w", accountID, err)
	}
	views, err := pgx.CollectRows(rows, pgx.RowTo[deliveries.DeliveryView])
	if err != nil {
		return nil, fmt.Errorf("deliveries of account %s: %w", accountID, err)
	}
	if views == nil {
		views = []deliveries.DeliveryView{}
	}
	return views, nil
}

// deliveryList is the list ListDeliveries pages through.
var deliveryList = keysetList{
	readModel: deliveryModel, shown: "warranty_ends_at", sort: "warranty_sort",
	defaultLimit: DefaultDeliveryLimit, maxLimit: MaxDeliveryLimit,
}

// buildListDeliveries answers the query for f, fetching one row more than
// the page size to learn whether a next page exists, and the page size.
func buildListDeliveries(f DeliveryFilter) (sqlQuery, int, error) {
	limit, err := deliveryList.limit(f.Limit)
	if err != nil {
		return sqlQuery{}, 0, err
	}
	var q listQuery // column names come from this file only; values go through param
	q.equal("status", f.Status)
	q.equal("account_id", f.AccountID)
	q.equal("order_id", f.OrderID)
	q.equal("buyer_id", f.BuyerID)
	q.equal("seller_id", f.SellerID)
	if f.WarrantyEndsBefore != nil {
		// On the sort key: the same rows (no warranty end sorts as
		// 'infinity'), as a range the queue indexes answer in order.
		q.where = append(q.where, "warranty_sort < "+q.param(*f.WarrantyEndsBefore))
	}
	if f.Cursor != "" {
		c, err := decodeDeliveryCursor(f.Cursor)
		if err != nil {
			return sqlQuery{}, 0, err
		}
		deliveryList.after(&q, c.WarrantyEndsAt, c.ID)
	}
	return deliveryList.query(&q, limit), limit, nil
}

// deliveryCursor is the position after which the next page starts: the
// last row's sort key, WarrantyEndsAt nil for a delivery without one. Its
// keys differ from a case cursor's, so neither list takes the other's.
type deliveryCursor struct {
	WarrantyEndsAt *time.Time `json:"w"`
	ID             string     `json:"i"`
}

// position answers the cursor's sort key, for decodeKeyset.
func (c deliveryCursor) position() (*time.Time, string) { return c.WarrantyEndsAt, c.ID }

// encodeDeliveryCursor answers c as opaque base64url text.
func encodeDeliveryCursor(c deliveryCursor) string {
	c.WarrantyEndsAt = inUTC(c.WarrantyEndsAt)
	return encodeKeyset(c)
}

// decodeDeliveryCursor reads a cursor encodeDeliveryCursor wrote, or
// answers ErrBadCursor.
func decodeDeliveryCursor(s string) (deliveryCursor, error) {
	return decodeKeyset[deliveryCursor](deliveryList, s)
}

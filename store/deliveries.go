package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

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
	if strings.TrimSpace(d.ID) == "" {
		return errors.New("project delivery: the delivery has no id")
	}
	d.Timeline = nil
	view, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode delivery view: %w", err)
	}
	batch := &pgx.Batch{}
	// The delivery row first: the events reference it.
	batch.Queue(upsertDeliverySQL,
		d.ID, string(d.Status), d.Handoff.AccountID, d.Handoff.OrderID, d.Buyer.ID, d.Buyer.Email,
		d.SellerID, d.Product, d.Region, d.WarrantyEndsAt, d.ConfirmBy, d.Handoff.DeliveredAt,
		d.LastSeq, d.CreatedAt, d.UpdatedAt, view)
	for _, e := range in.Events {
		var payload any // SQL NULL for an event without payload
		if len(e.Payload) > 0 {
			payload = e.Payload
		}
		batch.Queue(insertDeliveryEventSQL, d.ID, e.Seq, e.Actor, e.Kind, e.At, payload)
	}
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

const insertDeliveryEventSQL = `
INSERT INTO delivery_events (delivery_id, seq, actor, kind, at, payload)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (delivery_id, seq) DO NOTHING`

// GetDelivery answers the projected delivery, without its timeline, or
// ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id string) (deliveries.DeliveryView, error) {
	var v deliveries.DeliveryView
	err := s.pool.QueryRow(ctx, `SELECT view FROM deliveries WHERE id = $1`, id).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return deliveries.DeliveryView{}, ErrNotFound
	}
	if err != nil {
		return deliveries.DeliveryView{}, fmt.Errorf("get delivery %s: %w", id, err)
	}
	return v, nil
}

// DeliveryTimeline answers a delivery's projected events in sequence
// order: an empty slice when it has none yet, ErrNotFound when the
// delivery does not exist.
func (s *Store) DeliveryTimeline(ctx context.Context, id string) ([]vocab.Event, error) {
	// The LEFT JOIN tells a delivery without events (one row of NULLs)
	// from no delivery at all (no row) in one round trip.
	rows, err := s.pool.Query(ctx, `
		SELECT e.seq, e.actor, e.kind, e.at, e.payload
		FROM deliveries d LEFT JOIN delivery_events e ON e.delivery_id = d.id
		WHERE d.id = $1
		ORDER BY e.seq`, id)
	if err != nil {
		return nil, fmt.Errorf("timeline of delivery %s: %w", id, err)
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
		return nil, fmt.Errorf("timeline of delivery %s: %w", id, err)
	}
	if len(found) == 0 {
		return nil, ErrNotFound
	}
	events := make([]vocab.Event, 0, len(found))
	for _, r := range found {
		if r.seq == nil {
			continue // the delivery exists with no events
		}
		events = append(events, vocab.Event{
			Seq: *r.seq, Actor: *r.actor, Kind: *r.kind, At: r.at.UTC(), Payload: r.payload,
		})
	}
	return events, nil
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
	rows, err := s.pool.Query(ctx, q.sql, q.args...)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	type listRow struct {
		ends *time.Time
		id   string
		view deliveries.DeliveryView
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (listRow, error) {
		var r listRow
		err := row.Scan(&r.ends, &r.id, &r.view)
		return r, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	views := make([]deliveries.DeliveryView, 0, min(len(found), limit))
	next := ""
	for i, r := range found {
		if i == limit {
			// The extra row only says that there is a next page; the
			// cursor is the last row shown, as stored (microseconds).
			last := found[limit-1]
			next = encodeDeliveryCursor(deliveryCursor{WarrantyEndsAt: last.ends, ID: last.id})
			break
		}
		views = append(views, r.view)
	}
	return views, next, nil
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

// buildListDeliveries answers the query for f, fetching one row more than
// the page size to learn whether a next page exists, and the page size.
func buildListDeliveries(f DeliveryFilter) (sqlQuery, int, error) {
	limit := f.Limit
	if limit == 0 {
		limit = DefaultDeliveryLimit
	}
	if limit < 1 || limit > MaxDeliveryLimit {
		return sqlQuery{}, 0, fmt.Errorf("%w: want 1 to %d, got %d", ErrBadLimit, MaxDeliveryLimit, f.Limit)
	}
	var q caseQuery // column names come from this file only; values go through param
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
		ends := q.param(c.WarrantyEndsAt)
		id := q.param(c.ID)
		q.where = append(q.where,
			"(warranty_sort, id) > (coalesce("+ends+"::timestamptz, 'infinity'::timestamptz), "+id+")")
	}
	var b strings.Builder
	b.WriteString("SELECT warranty_ends_at, id, view FROM deliveries")
	if len(q.where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(q.where, " AND "))
	}
	b.WriteString(" ORDER BY warranty_sort, id LIMIT ")
	b.WriteString(q.param(limit + 1))
	return sqlQuery{sql: b.String(), args: q.args}, limit, nil
}

// deliveryCursor is the position after which the next page starts: the
// last row's sort key, WarrantyEndsAt nil for a delivery without one. Its
// keys differ from a case cursor's, so neither list takes the other's.
type deliveryCursor struct {
	WarrantyEndsAt *time.Time `json:"w"`
	ID             string     `json:"i"`
}

// encodeDeliveryCursor answers c as opaque base64url text.
func encodeDeliveryCursor(c deliveryCursor) string {
	if c.WarrantyEndsAt != nil {
		utc := c.WarrantyEndsAt.UTC()
		c.WarrantyEndsAt = &utc
	}
	raw, err := json.Marshal(c)
	if err != nil {
		panic(err) // a time and a string always encode
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeDeliveryCursor reads a cursor encodeDeliveryCursor wrote, or
// answers ErrBadCursor.
func decodeDeliveryCursor(s string) (deliveryCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return deliveryCursor{}, fmt.Errorf("%w: not base64url", ErrBadCursor)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c deliveryCursor
	if err := dec.Decode(&c); err != nil || !errors.Is(dec.Decode(&struct{}{}), io.EOF) {
		return deliveryCursor{}, fmt.Errorf("%w: malformed", ErrBadCursor)
	}
	if c.ID == "" {
		return deliveryCursor{}, fmt.Errorf("%w: no delivery id", ErrBadCursor)
	}
	if strings.ContainsRune(c.ID, 0) || !utf8.ValidString(c.ID) {
		// Postgres text cannot hold it: no delivery has such an id.
		return deliveryCursor{}, fmt.Errorf("%w: delivery id is not text", ErrBadCursor)
	}
	return c, nil
}

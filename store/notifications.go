package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Delivery names one notification on one channel, with what an operator
// needs to recognise it.
type Delivery struct {
	// NotificationID is the workflow's notification id (case/<id>/<cause>/<event>/<audience>; see cases.notificationID).
	NotificationID string
	// Channel is email, team_webhook or marketplace_webhook.
	Channel string
	CaseID  string
	Event   string
	// Target is the email address, or a webhook's scheme and host.
	Target string
}

// ClaimState is what ClaimDelivery found.
type ClaimState string

// The answers of ClaimDelivery.
const (
	// ClaimSend: the caller holds the delivery and sends it.
	ClaimSend ClaimState = "send"
	// ClaimSent: an earlier attempt sent it; nothing to do.
	ClaimSent ClaimState = "sent"
	// ClaimFailed: an earlier attempt failed it for good (LastError says why).
	ClaimFailed ClaimState = "failed"
	// ClaimBusy: another attempt is sending it until Until.
	ClaimBusy ClaimState = "busy"
)

// Claim is the answer of ClaimDelivery.
type Claim struct {
	State ClaimState
	// Attempts counts the sends tried, including the one just claimed.
	Attempts int
	// LastError is the error of the latest failed attempt, empty if none.
	LastError string
	// Until is the end of the lease another attempt holds (ClaimBusy).
	Until time.Time
}

// DeliveryRecord is one row of the delivery log.
type DeliveryRecord struct {
	Delivery
	Status    string
	Attempts  int
	LastError string
	CreatedAt time.Time
	SentAt    *time.Time
}

// ClaimDelivery records that an attempt is about to send d, unless it was
// sent or failed for good already, or another attempt holds it. The claim
// is a lease of the given length: an attempt that dies while holding it
// (a crashed worker) frees the delivery when the lease ends. A claim on a
// delivery whose earlier attempt died after sending is granted too: that
// resend is the one window the log cannot close, and the deterministic id
// the channel carries lets the receiver drop it.
func (s *Store) ClaimDelivery(ctx context.Context, d Delivery, lease time.Duration) (Claim, error) {
	if d.NotificationID == "" || d.Channel == "" {
		return Claim{}, errors.New("claim delivery: needs a notification id and a channel")
	}
	c := Claim{State: ClaimSend}
	err := s.logWrite(ctx, func(b *pgx.Batch) {
		b.Queue(claimDeliverySQL, d.NotificationID, d.Channel, d.CaseID, d.Event, d.Target, lease.Milliseconds()).
			QueryRow(func(row pgx.Row) error { return row.Scan(&c.Attempts, &c.LastError) })
	})
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Claim{}, fmt.Errorf("claim delivery %s on %s: %w", d.NotificationID, d.Channel, err)
	}
	// The row exists and was not free: say why. A separate statement sees
	// a row a concurrent claim committed after the first one began.
	var status string
	var until *time.Time
	err = s.pool.QueryRow(ctx, `
		SELECT status, attempts, coalesce(last_error, ''), claimed_until
		FROM notification_deliveries WHERE notification_id = $1 AND channel = $2`,
		d.NotificationID, d.Channel).Scan(&status, &c.Attempts, &c.LastError, &until)
	if err != nil {
		return Claim{}, fmt.Errorf("read delivery %s on %s: %w", d.NotificationID, d.Channel, err)
	}
	switch status {
	case "sent":
		c.State = ClaimSent
	case "failed":
		c.State = ClaimFailed
	default:
		c.State = ClaimBusy
		if until != nil {
			c.Until = *until
		}
	}
	return c, nil
}

// claimDeliverySQL inserts a claimed row, or takes over a 'sending' row
// whose lease is released or over; it answers no row otherwise. Lease
// times come from Postgres's clock, the one every worker shares.
const claimDeliverySQL = `
INSERT INTO notification_deliveries AS d
    (notification_id, channel, case_id, event, target, status, attempts, claimed_until)
VALUES ($1, $2, $3, $4, $5, 'sending', 1, now() + $6::bigint * interval '1 millisecond')
ON CONFLICT (notification_id, channel) DO UPDATE
    SET attempts = d.attempts + 1,
        claimed_until = EXCLUDED.claimed_until,
        target = EXCLUDED.target,
        updated_at = now()
    WHERE d.status = 'sending' AND (d.claimed_until IS NULL OR d.claimed_until <= now())
RETURNING d.attempts, coalesce(d.last_error, '')`

// MarkDeliverySent records that a claimed delivery was sent.
func (s *Store) MarkDeliverySent(ctx context.Context, notificationID, channel string) error {
	return s.endDelivery(ctx, notificationID, channel, `
		UPDATE notification_deliveries
		SET status = 'sent', sent_at = now(), claimed_until = NULL, last_error = NULL, updated_at = now()
		WHERE notification_id = $1 AND channel = $2 AND status = 'sending'`)
}

// ReleaseDelivery gives a claimed delivery back after a failed send that a
// retry may fix, keeping the reason; the next attempt claims it at once.
func (s *Store) ReleaseDelivery(ctx context.Context, notificationID, channel, reason string) error {
	return s.endDelivery(ctx, notificationID, channel, `
		UPDATE notification_deliveries
		SET claimed_until = NULL, last_error = $3, updated_at = now()
		WHERE notification_id = $1 AND channel = $2 AND status = 'sending'`, reason)
}

// FailDelivery records that a claimed delivery can never be sent (a
// refused address, a receiver that rejects it); later attempts skip it.
func (s *Store) FailDelivery(ctx context.Context, notificationID, channel, reason string) error {
	return s.endDelivery(ctx, notificationID, channel, `
		UPDATE notification_deliveries
		SET status = 'failed', claimed_until = NULL, last_error = $3, updated_at = now()
		WHERE notification_id = $1 AND channel = $2 AND status = 'sending'`, reason)
}

func (s *Store) endDelivery(ctx context.Context, notificationID, channel, sql string, args ...any) error {
	var tag pgconn.CommandTag
	err := s.logWrite(ctx, func(b *pgx.Batch) {
		b.Queue(sql, append([]any{notificationID, channel}, args...)...).
			Exec(func(t pgconn.CommandTag) error { tag = t; return nil })
	})
	if err != nil {
		return fmt.Errorf("record delivery %s on %s: %w", notificationID, channel, err)
	}
	if tag.RowsAffected() == 0 {
		// Only a claimed ('sending') delivery ends; anything else is a bug
		// in the caller or a row changed by hand.
		return fmt.Errorf("record delivery %s on %s: %w (or not sending)", notificationID, channel, ErrNotFound)
	}
	return nil
}

// logWrite runs the statements queue adds in one round trip and one
// transaction that commits without waiting for its WAL to reach the disk
// (synchronous_commit off for it alone). A delivery row is a guard against
// sending twice, never the only record of anything: a database crash can
// lose the last fraction of a second of such rows, which at worst sends a
// notification again under the same id for its receiver to drop, the
// window the log already leaves open. Nothing is reordered: a later
// durable commit flushes the WAL before it, rows included. A send's claim
// and record waited for two disk flushes, several milliseconds each, in
// the workflow task of the update that caused it.
func (s *Store) logWrite(ctx context.Context, queue func(*pgx.Batch)) error {
	b := &pgx.Batch{}
	b.Queue("SET LOCAL synchronous_commit = off")
	queue(b)
	return s.pool.SendBatch(ctx, b).Close()
}

// Deliveries answers every channel's record of one notification, by channel.
func (s *Store) Deliveries(ctx context.Context, notificationID string) ([]DeliveryRecord, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT notification_id, channel, case_id, event, target, status, attempts,
		       coalesce(last_error, ''), created_at, sent_at
		FROM notification_deliveries WHERE notification_id = $1 ORDER BY channel`, notificationID)
	if err != nil {
		return nil, fmt.Errorf("read deliveries of %s: %w", notificationID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DeliveryRecord, error) {
		var r DeliveryRecord
		err := row.Scan(&r.NotificationID, &r.Channel, &r.CaseID, &r.Event, &r.Target, &r.Status,
			&r.Attempts, &r.LastError, &r.CreatedAt, &r.SentAt)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("read deliveries of %s: %w", notificationID, err)
	}
	return out, nil
}

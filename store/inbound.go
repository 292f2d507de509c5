package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// InboundMessage is one email that reached a case's reply address, as the
// inbound mail log holds it.
type InboundMessage struct {
	MessageID      string
	CaseID         string
	Kind           string
	MailFrom       string
	HeaderFrom     string
	Subject        string
	Authentication string
	SizeBytes      int64
	Attachments    int
	// Status is "receiving" until the case has the message, then "delivered".
	Status string
	// DeliveredTo is the case that took it (a follow-up case, when the
	// named one was closed).
	DeliveredTo string
	ReceivedAt  time.Time
	DeliveredAt *time.Time
}

// Inbound message statuses.
const (
	InboundReceiving = "receiving"
	InboundDelivered = "delivered"
)

// ClaimInboundMessage records m as being received, unless a message with
// its id already reached its case, and answers the row as it now is: a
// row already delivered means the message must not act again; one still
// receiving is an earlier attempt that stopped half-way, to finish.
func (s *Store) ClaimInboundMessage(ctx context.Context, m InboundMessage) (InboundMessage, error) {
	const q = `
INSERT INTO inbound_messages (message_id, case_id, kind, mail_from, header_from, subject, authentication, size_bytes, attachments, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'receiving')
ON CONFLICT (message_id, case_id) DO UPDATE SET message_id = inbound_messages.message_id
RETURNING ` + inboundColumns
	got, err := scanInbound(s.pool.QueryRow(ctx, q, m.MessageID, m.CaseID, m.Kind, m.MailFrom, m.HeaderFrom,
		m.Subject, m.Authentication, m.SizeBytes, m.Attachments))
	if err != nil {
		return InboundMessage{}, fmt.Errorf("claim inbound message %s for case %s: %w", m.MessageID, m.CaseID, err)
	}
	return got, nil
}

// MarkInboundDelivered records that case deliveredTo has the message.
func (s *Store) MarkInboundDelivered(ctx context.Context, messageID, caseID, deliveredTo string) error {
	tag, err := s.pool.Exec(ctx, `
UPDATE inbound_messages SET status = 'delivered', delivered_to = $3, delivered_at = now()
WHERE message_id = $1 AND case_id = $2 AND status = 'receiving'`, messageID, caseID, deliveredTo)
	if err != nil {
		return fmt.Errorf("mark inbound message %s delivered: %w", messageID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("mark inbound message %s delivered: %w", messageID, ErrNotFound)
	}
	return nil
}

// InboundMessages answers the messages that reached case caseID's reply
// address, oldest first.
func (s *Store) InboundMessages(ctx context.Context, caseID string) ([]InboundMessage, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+inboundColumns+` FROM inbound_messages WHERE case_id = $1 ORDER BY received_at, message_id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("list inbound messages of case %s: %w", caseID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboundMessage, error) { return scanInbound(r) })
	if err != nil {
		return nil, fmt.Errorf("list inbound messages of case %s: %w", caseID, err)
	}
	return out, nil
}

const inboundColumns = `message_id, case_id, kind, mail_from, header_from, subject, authentication, size_bytes, attachments, status, delivered_to, received_at, delivered_at`

func scanInbound(row pgx.Row) (InboundMessage, error) {
	var m InboundMessage
	err := row.Scan(&m.MessageID, &m.CaseID, &m.Kind, &m.MailFrom, &m.HeaderFrom, &m.Subject, &m.Authentication,
		&m.SizeBytes, &m.Attachments, &m.Status, &m.DeliveredTo, &m.ReceivedAt, &m.DeliveredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, ErrNotFound
	}
	return m, err
}

package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"handoff/workflows/erasure"
	"handoff/workflows/vocab"
)

// ErrCaseNotErased is answered by EraseCustomerCases while a running case
// has not yet projected its own erasure.
var ErrCaseNotErased = errors.New("a running case has not projected its erasure yet")

// CustomerRecords answers the ids of every case of customer id and of
// every delivery they are the buyer of, each in id order.
func (s *Store) CustomerRecords(ctx context.Context, customerID string) (erasure.CustomerCases, error) {
	var out erasure.CustomerCases
	for _, q := range []struct {
		what, sql string
		ids       *[]string
	}{
		{"cases", `SELECT id FROM cases WHERE customer_id = $1 ORDER BY id`, &out.CaseIDs},
		{"deliveries", `SELECT id FROM deliveries WHERE buyer_id = $1 ORDER BY id`, &out.DeliveryIDs},
	} {
		rows, err := s.pool.Query(ctx, q.sql, customerID)
		if err != nil {
			return out, fmt.Errorf("%s of customer %s: %w", q.what, customerID, err)
		}
		if *q.ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return out, fmt.Errorf("%s of customer %s: %w", q.what, customerID, err)
		}
	}
	return out, nil
}

// EraseCustomerCases pseudonymises in's customer in the read model, in one
// transaction: the name, email, subject and description of every case, the
// free text of their timeline events (vocab.ErasablePayloadKeys), the notes
// on their files, the senders and subjects of their inbound mail and the
// addresses their notifications went to; and the recurring-subjects
// rollup rows the erased subjects left at zero. A running case must have
// projected its own data_erased event first (else ErrCaseNotErased); an
// ended case gets that event here. Running it again changes nothing more.
func (s *Store) EraseCustomerCases(ctx context.Context, in erasure.ReadModelInput) (erasure.ReadModelErasure, error) {
	var out erasure.ReadModelErasure
	e := in.Erasure
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, a := range []struct {
			model          readModel
			running, ended []string
		}{{caseModel, in.Running, in.Ended}, {deliveryModel, in.RunningDeliveries, in.EndedDeliveries}} {
			if err := recordErasure(ctx, tx, a.model, e, a.running, a.ended); err != nil {
				return err
			}
		}
		steps := []struct {
			what string
			sql  string
			args []any
			n    *int
		}{
			{"cases", eraseCasesSQL, []any{e.CustomerID, vocab.ErasedText}, new(int)},
			{"timeline events", eraseEventsSQL(caseModel, `SELECT id FROM cases WHERE customer_id = $1`), []any{e.CustomerID, vocab.ErasedText, vocab.ErasablePayloadKeys,
				vocab.EmailActorPrefix, vocab.EmailActorPrefix + vocab.ErasedText}, &out.TimelineEvents},
			{"deliveries", eraseDeliveriesSQL, []any{e.CustomerID, vocab.ErasedText}, new(int)},
			{"delivery events", eraseEventsSQL(deliveryModel, `SELECT id FROM deliveries WHERE buyer_id = $1`), []any{e.CustomerID, vocab.ErasedText, vocab.ErasablePayloadKeys,
				vocab.EmailActorPrefix, vocab.EmailActorPrefix + vocab.ErasedText}, &out.DeliveryEvents},
			{"evidence records", `UPDATE evidence SET note = $2 WHERE note NOT IN ('', $2)
AND case_id IN (SELECT id FROM cases WHERE customer_id = $1)`, []any{e.CustomerID, vocab.ErasedText}, &out.EvidenceRecords},
			{"inbound mail", `UPDATE inbound_messages SET mail_from = $2, header_from = $2, subject = $2
WHERE mail_from <> $2 AND (case_id IN (SELECT id FROM cases WHERE customer_id = $1)
  OR delivered_to IN (SELECT id FROM cases WHERE customer_id = $1))`, []any{e.CustomerID, vocab.ErasedText}, &out.InboundMessages},
			{"notifications", `UPDATE notification_deliveries SET target = $2, last_error = CASE WHEN last_error IS NULL THEN NULL ELSE $2 END
WHERE channel = 'email' AND target <> $2 AND case_id IN (SELECT id FROM cases WHERE customer_id = $1)`,
				[]any{e.CustomerID, vocab.ErasedText}, &out.Notifications},
			// The recurring-subjects rollup took the erased subjects out of
			// its counts; a count left at zero would still hold the wording.
			{"report rows", `DELETE FROM report_subject_weeks WHERE n <= 0`, nil, new(int)},
		}
		for _, st := range steps {
			tag, err := tx.Exec(ctx, st.sql, st.args...)
			if err != nil {
				return fmt.Errorf("erase %s: %w", st.what, err)
			}
			*st.n = int(tag.RowsAffected())
		}
		// A running case's row was erased by its own projection already.
		out.Cases = len(in.Running) + len(in.Ended)
		out.Deliveries = len(in.RunningDeliveries) + len(in.EndedDeliveries)
		return nil
	})
	if err != nil {
		return erasure.ReadModelErasure{}, fmt.Errorf("erase customer %s: %w", e.CustomerID, err)
	}
	return out, nil
}

// recordErasure checks that every running record of model has projected
// its own data_erased event for e (else ErrCaseNotErased), and appends that
// event to each ended one that has none, moving its last_seq (and its
// view's) past it.
func recordErasure(ctx context.Context, tx pgx.Tx, m readModel, e erasure.Input, running, ended []string) error {
	if len(running) > 0 {
		var projected int
		if err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT count(DISTINCT %[2]s) FROM %[1]s
WHERE %[2]s = ANY($1) AND kind = $2 AND payload->>'erasure_id' = $3`, m.events, m.fk),
			running, vocab.EventDataErased, e.ID).Scan(&projected); err != nil {
			return fmt.Errorf("check running %s: %w", m.table, err)
		}
		if projected < len(running) {
			return fmt.Errorf("%d of %d running %s: %w", len(running)-projected, len(running), m.table, ErrCaseNotErased)
		}
	}
	if len(ended) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(`
WITH todo AS (
    SELECT id, last_seq + 1 AS seq FROM %[1]s r
    WHERE id = ANY($1) AND NOT EXISTS (
        SELECT 1 FROM %[2]s ev WHERE ev.%[3]s = r.id AND ev.kind = $2 AND ev.payload->>'erasure_id' = $3)
    FOR UPDATE
), events AS (
    INSERT INTO %[2]s (%[3]s, seq, actor, kind, at, payload)
    SELECT id, seq, $4, $2, now(), jsonb_build_object('erasure_id', $3::text) FROM todo
)
UPDATE %[1]s r SET last_seq = todo.seq, view = jsonb_set(r.view, '{last_seq}', to_jsonb(todo.seq))
FROM todo WHERE r.id = todo.id`, m.table, m.events, m.fk), ended, vocab.EventDataErased, e.ID, e.RequestedBy); err != nil {
		return fmt.Errorf("record erasure on ended %s: %w", m.table, err)
	}
	return nil
}

// eraseCasesSQL pseudonymises the customer's case rows and their views
// (customer, subject, description, file notes).
const eraseCasesSQL = `
UPDATE cases SET subject = $2, description = '',
    view = jsonb_set(
        view || jsonb_build_object('subject', $2::text, 'description', '',
            'customer', jsonb_build_object('id', customer_id, 'email', '', 'name', $2::text,
                'locale', coalesce(view->'customer'->>'locale', ''))),
        '{evidence}',
        coalesce((SELECT jsonb_agg(CASE WHEN coalesce(f->>'note', '') = '' THEN f
                                        ELSE jsonb_set(f, '{note}', to_jsonb($2::text)) END)
                  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(view->'evidence') = 'array'
                                                 THEN view->'evidence' ELSE '[]'::jsonb END) f), '[]'::jsonb))
WHERE customer_id = $1 AND (subject <> $2 OR description <> '' OR view->'customer'->>'email' <> ''
    OR view->'customer'->>'name' <> $2)`

// eraseEventsSQL answers the statement replacing the erasable payload
// values of the events of m's records that ids selects with the erased
// text, and the sender's address in the actor of an emailed event
// (vocab.EraseActor).
func eraseEventsSQL(m readModel, ids string) string {
	return fmt.Sprintf(`
UPDATE %[1]s ev SET
    payload = CASE WHEN ev.payload IS NULL THEN NULL ELSE (
        SELECT jsonb_object_agg(k, CASE WHEN k = ANY($3) AND v <> '' THEN $2 ELSE v END)
        FROM jsonb_each_text(ev.payload) AS p(k, v)) END,
    actor = CASE WHEN starts_with(ev.actor, $4) THEN $5 ELSE ev.actor END
WHERE ev.%[2]s IN (%[3]s)
  AND ((starts_with(ev.actor, $4) AND ev.actor <> $5)
    OR EXISTS (SELECT 1 FROM jsonb_each_text(coalesce(ev.payload, '{}')) AS p(k, v) WHERE k = ANY($3) AND v NOT IN ('', $2)))`,
		m.events, m.fk, ids)
}

// eraseDeliveriesSQL pseudonymises the deliveries the customer is the
// buyer of: their email column and, in their views, the buyer, the
// recovery contacts and the latest communication's summary.
const eraseDeliveriesSQL = `
UPDATE deliveries SET buyer_email = '',
    view = jsonb_set(jsonb_set(
        view || jsonb_build_object('buyer', jsonb_build_object('id', buyer_id, 'email', '', 'name', $2::text,
            'locale', coalesce(view->'buyer'->>'locale', ''))),
        '{handoff,recovery_path}', coalesce(view->'handoff'->'recovery_path', '{}'::jsonb) - 'email' - 'phone', true),
        '{handoff,latest_communication}',
        CASE WHEN jsonb_typeof(view->'handoff'->'latest_communication') = 'object'
                  AND coalesce(view->'handoff'->'latest_communication'->>'summary', '') <> ''
             THEN jsonb_set(view->'handoff'->'latest_communication', '{summary}', to_jsonb($2::text))
             ELSE coalesce(view->'handoff'->'latest_communication', 'null'::jsonb) END, true)
WHERE buyer_id = $1 AND (buyer_email <> '' OR view->'buyer'->>'name' IS DISTINCT FROM $2)`

// EvidenceFile is one evidence file of a case: where its bytes are in S3.
type EvidenceFile struct {
	CaseID string
	Key    string
}

// CustomerEvidence answers every evidence file of customer id's cases, in
// case and key order.
func (s *Store) CustomerEvidence(ctx context.Context, customerID string) ([]EvidenceFile, error) {
	rows, err := s.pool.Query(ctx, `SELECT e.case_id, e.key FROM evidence e JOIN cases c ON c.id = e.case_id
WHERE c.customer_id = $1 ORDER BY e.case_id, e.key`, customerID)
	if err != nil {
		return nil, fmt.Errorf("evidence of customer %s: %w", customerID, err)
	}
	files, err := pgx.CollectRows(rows, pgx.RowToStructByPos[EvidenceFile])
	if err != nil {
		return nil, fmt.Errorf("evidence of customer %s: %w", customerID, err)
	}
	return files, nil
}

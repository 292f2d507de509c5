package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"handoff/workflows/disputes"
	"handoff/workflows/erasure"
	"handoff/workflows/returns"
	"handoff/workflows/vocab"
)

// ErrCaseNotErased is answered by EraseCustomerCases while a running case
// has not yet projected its own erasure.
var ErrCaseNotErased = errors.New("a running case has not projected its erasure yet")

// customerRecords is a read model whose rows name the customer they are
// of in the column owner.
type customerRecords struct {
	readModel
	owner string
}

// The read models an erasure pseudonymises.
var (
	customerCases      = customerRecords{caseModel, "customer_id"}
	customerDeliveries = customerRecords{deliveryModel, "buyer_id"}
	customerReturns    = customerRecords{returnModel, "customer_id"}
	customerDisputes   = customerRecords{disputeModel, "customer_id"}
)

// idsSQL selects the ids of the rows of the customer $1.
func (c customerRecords) idsSQL() string {
	return `SELECT id FROM ` + c.table + ` WHERE ` + c.owner + ` = $1`
}

// CustomerRecords answers the ids of every case of customer id and of
// every delivery, return and dispute they are the buyer of, each in id
// order.
func (s *Store) CustomerRecords(ctx context.Context, customerID string) (erasure.CustomerCases, error) {
	var out erasure.CustomerCases
	for _, q := range []struct {
		records customerRecords
		ids     *[]string
	}{
		{customerCases, &out.CaseIDs}, {customerDeliveries, &out.DeliveryIDs},
		{customerReturns, &out.ReturnIDs}, {customerDisputes, &out.DisputeIDs},
	} {
		rows, err := s.pool.Query(ctx, q.records.idsSQL()+` ORDER BY id`, customerID)
		if err != nil {
			return out, fmt.Errorf("%s of customer %s: %w", q.records.table, customerID, err)
		}
		if *q.ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return out, fmt.Errorf("%s of customer %s: %w", q.records.table, customerID, err)
		}
	}
	return out, nil
}

// EraseCustomerCases pseudonymises in's customer in the read model, in one
// transaction: the name, email, subject and description of every case, the
// free text of their timeline events (vocab.ErasablePayloadKeys), the notes
// on their files, the senders and subjects of their inbound mail and the
// addresses their notifications went to; the recurring-subjects rollup
// rows the erased subjects left at zero; the deliveries, returns and
// disputes the customer is the buyer of and their timeline events. A
// running case (delivery, return, dispute) must have projected its own
// data_erased event first (else ErrCaseNotErased); an ended one gets that
// event here. Running it again changes nothing more.
func (s *Store) EraseCustomerCases(ctx context.Context, in erasure.ReadModelInput) (erasure.ReadModelErasure, error) {
	var out erasure.ReadModelErasure
	e := in.Erasure
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, a := range []struct {
			model          readModel
			running, ended []string
		}{
			{caseModel, in.Running, in.Ended}, {deliveryModel, in.RunningDeliveries, in.EndedDeliveries},
			{returnModel, in.RunningReturns, in.EndedReturns}, {disputeModel, in.RunningDisputes, in.EndedDisputes},
		} {
			if err := recordErasure(ctx, tx, a.model, e, a.running, a.ended); err != nil {
				return err
			}
		}
		steps := []eraseStep{
			{"cases", eraseCasesSQL, []any{e.CustomerID, vocab.ErasedText}, new(int)},
			eraseEventsStep(customerCases, e.CustomerID, &out.TimelineEvents),
			{"deliveries", eraseDeliveriesSQL, []any{e.CustomerID, vocab.ErasedText}, new(int)},
			eraseEventsStep(customerDeliveries, e.CustomerID, &out.DeliveryEvents),
			eraseEventsStep(customerReturns, e.CustomerID, &out.ReturnEvents),
			eraseEventsStep(customerDisputes, e.CustomerID, &out.DisputeEvents),
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
		// A return's or a dispute's view is erased as its workflow erases
		// it (View.Erased), so the two never tell different stories.
		if err := eraseViews(ctx, tx, customerReturns, e.CustomerID, returns.View.Erased); err != nil {
			return err
		}
		if err := eraseViews(ctx, tx, customerDisputes, e.CustomerID, disputes.View.Erased); err != nil {
			return err
		}
		// A running case's row was erased by its own projection already.
		out.Cases = len(in.Running) + len(in.Ended)
		out.Deliveries = len(in.RunningDeliveries) + len(in.EndedDeliveries)
		out.Returns = len(in.RunningReturns) + len(in.EndedReturns)
		out.Disputes = len(in.RunningDisputes) + len(in.EndedDisputes)
		return nil
	})
	if err != nil {
		return erasure.ReadModelErasure{}, fmt.Errorf("erase customer %s: %w", e.CustomerID, err)
	}
	return out, nil
}

// eraseStep is one statement of EraseCustomerCases: what it erases, its
// SQL and arguments, and where it counts the rows it changed.
type eraseStep struct {
	what string
	sql  string
	args []any
	n    *int
}

// eraseEventsStep erases the free text of the timeline events of the
// customer's rows of c (eraseEventsSQL), counting them in n.
func eraseEventsStep(c customerRecords, customerID string, n *int) eraseStep {
	return eraseStep{c.noun + " events", eraseEventsSQL(c.readModel, c.idsSQL()),
		[]any{customerID, vocab.ErasedText, vocab.ErasablePayloadKeys, vocab.EmailActorPrefix, vocab.EmailActorPrefix + vocab.ErasedText}, n}
}

// eraseViews rewrites the view of each of the customer's rows of c as
// erase answers it, the rows locked against a projection in between; a
// view erase leaves as it was is not written.
func eraseViews[V any](ctx context.Context, tx pgx.Tx, c customerRecords, customerID string, erase func(V) V) error {
	rows, err := tx.Query(ctx, `SELECT id, view FROM `+c.table+` WHERE `+c.owner+` = $1 ORDER BY id FOR UPDATE`, customerID)
	if err != nil {
		return fmt.Errorf("erase %s views: %w", c.noun, err)
	}
	type viewRow struct {
		id   string
		view V
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (viewRow, error) {
		var r viewRow
		err := row.Scan(&r.id, &r.view)
		return r, err
	})
	if err != nil {
		return fmt.Errorf("erase %s views: %w", c.noun, err)
	}
	for _, r := range found {
		before, err := json.Marshal(r.view)
		if err != nil {
			return fmt.Errorf("erase %s %s: %w", c.noun, r.id, err)
		}
		after, err := json.Marshal(erase(r.view))
		if err != nil {
			return fmt.Errorf("erase %s %s: %w", c.noun, r.id, err)
		}
		if bytes.Equal(before, after) {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE `+c.table+` SET view = $2 WHERE id = $1`, r.id, after); err != nil {
			return fmt.Errorf("erase %s %s: %w", c.noun, r.id, err)
		}
	}
	return nil
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

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
	"handoff/workflows/disputes"
	"handoff/workflows/returns"
	"handoff/workflows/sellers"
	"handoff/workflows/vocab"
)

// ProjectSeller writes the seller row and its new timeline events in one
// round trip, with ProjectReturn's guarantees: events insert ON CONFLICT
// DO NOTHING, and the row is upserted only when the incoming LastSeq >=
// the stored one, so a retried, older projection never overwrites a newer
// row.
func (s *Store) ProjectSeller(ctx context.Context, in sellers.SellerProjection) error {
	v := in.Seller
	if strings.TrimSpace(v.SellerID) == "" {
		return errors.New("project seller: the seller has no id")
	}
	steps := v.Steps
	if steps == nil {
		steps = []sellers.Step{}
	}
	stepsJSON, err := json.Marshal(steps)
	if err != nil {
		return fmt.Errorf("encode seller steps: %w", err)
	}
	docs := v.Documents
	if docs == nil {
		docs = []vocab.Evidence{}
	}
	docsJSON, err := json.Marshal(docs)
	if err != nil {
		return fmt.Errorf("encode seller documents: %w", err)
	}
	ver := v.Verification
	reasons := ver.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	var verifiedAt *time.Time
	if !ver.At.IsZero() {
		verifiedAt = &ver.At
	}
	batch := &pgx.Batch{}
	// The seller row first: the events reference it.
	batch.Queue(upsertSellerSQL,
		v.SellerID, v.Region, v.Status, v.Reason,
		ver.Status, ver.CheckID, reasons, ver.CaseID, ver.Actor, verifiedAt,
		v.CaseID, stepsJSON, v.StartedAt, v.UpdatedAt, v.LastSeq, sellers.OnboardingWorkflowID(v.SellerID), docsJSON)
	sellerModel.queueEvents(batch, v.SellerID, in.Events)
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		// The caller (the activity) names the seller.
		return fmt.Errorf("write seller projection at seq %d: %w", v.LastSeq, err)
	}
	return nil
}

// upsertSellerSQL writes the seller row unless a newer projection is
// already stored (upsertCaseSQL's guard).
const upsertSellerSQL = `
INSERT INTO sellers (seller_id, region, status, reason,
                     verification_status, verification_check_id, verification_reasons,
                     verification_case_id, verification_actor, verification_at,
                     case_id, steps, started_at, updated_at, last_seq, workflow_id, documents)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULLIF($11, ''), $12, $13, $14, $15, $16, $17)
ON CONFLICT (seller_id) DO UPDATE SET
    region = EXCLUDED.region, status = EXCLUDED.status, reason = EXCLUDED.reason,
    verification_status = EXCLUDED.verification_status,
    verification_check_id = EXCLUDED.verification_check_id,
    verification_reasons = EXCLUDED.verification_reasons,
    verification_case_id = EXCLUDED.verification_case_id,
    verification_actor = EXCLUDED.verification_actor, verification_at = EXCLUDED.verification_at,
    case_id = EXCLUDED.case_id, steps = EXCLUDED.steps, started_at = EXCLUDED.started_at,
    updated_at = EXCLUDED.updated_at, last_seq = EXCLUDED.last_seq, workflow_id = EXCLUDED.workflow_id,
    documents = EXCLUDED.documents
WHERE sellers.last_seq <= EXCLUDED.last_seq`

// sellerModel is the read model of sellers as far as their timelines go;
// its key column is seller_id, so its SQL is written here rather than by
// newReadModel. getSQL is unused: Seller reads the columns.
var sellerModel = readModel{
	noun: "seller", table: "sellers",
	timelineSQL: `
SELECT e.seq, e.actor, e.kind, e.at, e.payload
FROM sellers r LEFT JOIN seller_events e ON e.seller_id = r.seller_id
WHERE r.seller_id = $1
ORDER BY e.seq`,
	insertEventSQL: `
INSERT INTO seller_events (seller_id, seq, actor, kind, at, payload)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (seller_id, seq) DO NOTHING`,
}

// ProjectPayoutHold writes a payout hold as its owner now keeps it.
// askedAt orders the writes of one hold: it is when the owner asked for
// this one (the activity's scheduled time, the same on every retry), so a
// write asked earlier, landing late, never overwrites one asked later.
// A released hold stays released: only another released write, asked
// later, changes its row.
func (s *Store) ProjectPayoutHold(ctx context.Context, h vocab.PayoutHold, askedAt time.Time) error {
	if strings.TrimSpace(h.Key) == "" {
		return errors.New("project payout hold: the hold has no key")
	}
	if askedAt.IsZero() {
		return fmt.Errorf("project payout hold %s: no time orders the write", h.Key)
	}
	_, err := s.pool.Exec(ctx, upsertPayoutHoldSQL,
		h.Key, h.ID, h.SellerID, h.Reason, h.Detail, h.Owner, h.State, h.PlacedAt, h.Until,
		h.CaseID, h.ReleasedAt, h.ReleasedBy, h.ReleaseReason, h.Error, askedAt, vocab.PayoutHoldReleased)
	if err != nil {
		return fmt.Errorf("write payout hold %s: %w", h.Key, err)
	}
	return nil
}

// upsertPayoutHoldSQL writes the hold unless a write asked later is
// stored, or the stored hold is released and this write is not; the WHERE
// of DO UPDATE is checked against the locked row.
const upsertPayoutHoldSQL = `
INSERT INTO payout_holds (hold_key, hold_id, seller_id, reason, detail, owner, state, placed_at, until,
                          case_id, released_at, released_by, release_reason, error, updated_at)
VALUES ($1, NULLIF($2, ''), $3, $4, $5, $6, $7, $8, $9, NULLIF($10, ''), $11, $12, $13, $14, $15)
ON CONFLICT (hold_key) DO UPDATE SET
    hold_id = coalesce(EXCLUDED.hold_id, payout_holds.hold_id), seller_id = EXCLUDED.seller_id,
    reason = EXCLUDED.reason, detail = EXCLUDED.detail, owner = EXCLUDED.owner, state = EXCLUDED.state,
    placed_at = EXCLUDED.placed_at, until = EXCLUDED.until, case_id = EXCLUDED.case_id,
    released_at = EXCLUDED.released_at, released_by = EXCLUDED.released_by,
    release_reason = EXCLUDED.release_reason, error = EXCLUDED.error, updated_at = EXCLUDED.updated_at
WHERE payout_holds.updated_at <= EXCLUDED.updated_at
  AND (payout_holds.state <> $16 OR EXCLUDED.state = $16)`

// Seller is a seller as the read model holds it: the onboarding's view
// (without its timeline), the workflow that keeps it, and every hold on
// the seller's payouts, whoever placed it.
type Seller struct {
	View       sellers.SellerView
	WorkflowID string
	// Holds are the seller's payout holds, the newest placed first.
	Holds []vocab.PayoutHold
}

// Seller answers the projected seller id with its payout holds, or
// ErrNotFound.
func (s *Store) Seller(ctx context.Context, id string) (Seller, error) {
	var out Seller
	v := &out.View
	var caseID *string
	var verifiedAt *time.Time
	err := s.pool.QueryRow(ctx, getSellerSQL, id).Scan(
		&v.SellerID, &v.Region, &v.Status, &v.Reason,
		&v.Verification.Status, &v.Verification.CheckID, &v.Verification.Reasons,
		&v.Verification.CaseID, &v.Verification.Actor, &verifiedAt,
		&caseID, &v.Steps, &v.StartedAt, &v.UpdatedAt, &v.LastSeq, &out.WorkflowID, &v.Documents)
	if errors.Is(err, pgx.ErrNoRows) {
		return Seller{}, ErrNotFound
	}
	if err != nil {
		return Seller{}, fmt.Errorf("get seller %s: %w", id, err)
	}
	if caseID != nil {
		v.CaseID = *caseID
	}
	if verifiedAt != nil {
		v.Verification.At = verifiedAt.UTC()
	}
	if len(v.Verification.Reasons) == 0 {
		v.Verification.Reasons = nil // as the workflow leaves it: omitted
	}
	if len(v.Documents) == 0 {
		v.Documents = nil
	}
	v.StartedAt, v.UpdatedAt = v.StartedAt.UTC(), v.UpdatedAt.UTC()
	out.Holds, err = s.PayoutHolds(ctx, id)
	if err != nil {
		return Seller{}, err
	}
	return out, nil
}

const getSellerSQL = `
SELECT seller_id, region, status, reason,
       verification_status, verification_check_id, verification_reasons,
       verification_case_id, verification_actor, verification_at,
       case_id, steps, started_at, updated_at, last_seq, workflow_id, documents
FROM sellers WHERE seller_id = $1`

// SellerTimeline answers a seller's projected onboarding events in
// sequence order: an empty slice when there are none yet, ErrNotFound
// when the seller is not projected.
func (s *Store) SellerTimeline(ctx context.Context, id string) ([]vocab.Event, error) {
	return timeline(ctx, s, sellerModel, id)
}

// payoutHoldColumns are the columns scanPayoutHold reads, in its order.
const payoutHoldColumns = `hold_key, coalesce(hold_id, ''), seller_id, reason, detail, owner, state, placed_at, until,
       coalesce(case_id, ''), released_at, released_by, release_reason, error`

// PayoutHolds answers the payout holds of seller id, the newest placed
// first; none for a seller the read model does not know.
func (s *Store) PayoutHolds(ctx context.Context, id string) ([]vocab.PayoutHold, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+payoutHoldColumns+`
FROM payout_holds WHERE seller_id = $1 ORDER BY placed_at DESC, hold_key`, id)
	if err != nil {
		return nil, fmt.Errorf("payout holds of seller %s: %w", id, err)
	}
	holds, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (vocab.PayoutHold, error) {
		return scanPayoutHold(row)
	})
	if err != nil {
		return nil, fmt.Errorf("payout holds of seller %s: %w", id, err)
	}
	return holds, nil
}

// PayoutHold answers seller id's payout hold named ref, the provider's
// id of the hold or its key, or ErrNotFound; a hold of another seller is
// not found.
func (s *Store) PayoutHold(ctx context.Context, sellerID, ref string) (vocab.PayoutHold, error) {
	// A key and a provider's id never look alike ("verification/<id>/hold"
	// against "pm_…"); should they, the key wins.
	row := s.pool.QueryRow(ctx, `SELECT `+payoutHoldColumns+`
FROM payout_holds WHERE seller_id = $1 AND (hold_key = $2 OR hold_id = $2)
ORDER BY hold_key = $2 DESC LIMIT 1`, sellerID, ref)
	h, err := scanPayoutHold(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return vocab.PayoutHold{}, ErrNotFound
	}
	if err != nil {
		return vocab.PayoutHold{}, fmt.Errorf("payout hold %s of seller %s: %w", ref, sellerID, err)
	}
	return h, nil
}

// scanPayoutHold reads one row of payoutHoldColumns.
func scanPayoutHold(row pgx.Row) (vocab.PayoutHold, error) {
	var h vocab.PayoutHold
	err := row.Scan(&h.Key, &h.ID, &h.SellerID, &h.Reason, &h.Detail, &h.Owner, &h.State, &h.PlacedAt, &h.Until,
		&h.CaseID, &h.ReleasedAt, &h.ReleasedBy, &h.ReleaseReason, &h.Error)
	if err != nil {
		return vocab.PayoutHold{}, err
	}
	h.PlacedAt = h.PlacedAt.UTC()
	h.Until, h.ReleasedAt = inUTC(h.Until), inUTC(h.ReleasedAt)
	return h, nil
}

// How a case concerns a seller (SellerCase.Relations).
const (
	// CaseOfSeller: the seller is the case's customer (onboarding,
	// payment, fraud cases are opened so).
	CaseOfSeller = "seller"
	// CaseOfDispute and CaseOfReturn: the case holds a dispute or a
	// return against the seller; its customer is the buyer.
	CaseOfDispute = "dispute"
	CaseOfReturn  = "return"
)

// SellerCase is an open case that concerns a seller, in brief.
type SellerCase struct {
	ID       string         `json:"id"`
	Category vocab.Category `json:"category"`
	Status   cases.Status   `json:"status"`
	Priority vocab.Priority `json:"priority"`
	Team     vocab.Team     `json:"team"`
	Subject  string         `json:"subject"`
	// SLADueAt is the nearest running SLA deadline, nil when none runs.
	SLADueAt  *time.Time `json:"sla_due_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	// Relations say how the case concerns the seller: CaseOfSeller,
	// CaseOfDispute, CaseOfReturn, one or more.
	Relations []string `json:"relations"`
}

// SellerOpenCases answers the open (neither resolved nor closed) cases
// that concern seller id, at most MaxCaseLimit, the nearest SLA deadline
// first: those whose customer is the seller and those that hold a
// dispute or a return against the seller. Cases carry no seller column;
// the disputes and returns read models name each one's case and seller.
func (s *Store) SellerOpenCases(ctx context.Context, id string) ([]SellerCase, error) {
	rows, err := s.pool.Query(ctx, sellerOpenCasesSQL, id,
		[]string{string(cases.StatusResolved), string(cases.StatusClosed)}, MaxCaseLimit)
	if err != nil {
		return nil, fmt.Errorf("open cases of seller %s: %w", id, err)
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SellerCase, error) {
		var c SellerCase
		err := row.Scan(&c.ID, &c.Category, &c.Status, &c.Priority, &c.Team, &c.Subject, &c.SLADueAt,
			&c.CreatedAt, &c.Relations)
		c.SLADueAt, c.CreatedAt = inUTC(c.SLADueAt), c.CreatedAt.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("open cases of seller %s: %w", id, err)
	}
	return found, nil
}

// sellerOpenCasesSQL gathers the cases each index finds (cases by
// customer, disputes and returns by seller), then reads the open ones;
// grouping by the primary key lets the other columns be selected.
const sellerOpenCasesSQL = `
WITH related (id, relation) AS (
    SELECT id, '` + CaseOfSeller + `' FROM cases WHERE customer_id = $1
    UNION ALL SELECT case_id, '` + CaseOfDispute + `' FROM disputes WHERE seller_id = $1
    UNION ALL SELECT case_id, '` + CaseOfReturn + `' FROM returns WHERE seller_id = $1
)
SELECT c.id, c.category, c.status, c.priority, c.team, c.subject, c.sla_due_at, c.created_at,
       array_agg(DISTINCT r.relation ORDER BY r.relation)
FROM related r JOIN cases c ON c.id = r.id
WHERE c.status <> ALL ($2)
GROUP BY c.id
ORDER BY c.sla_due_sort, c.id
LIMIT $3`

// SellerRates are a seller's disputes and returns, counted from their
// read models, and the two rates trust_safety watches.
type SellerRates struct {
	// Disputes counts every dispute against the seller; DisputesOpen
	// those neither resolved nor closed; DisputesDecided those with a
	// decision; DisputesLost those whose latest decision gives the buyer
	// money (refund_full or refund_partial), whoever decided it: the
	// seller accepting, the buyer taking an offer, the policy or
	// trust_safety.
	Disputes        int `json:"disputes"`
	DisputesOpen    int `json:"disputes_open"`
	DisputesDecided int `json:"disputes_decided"`
	DisputesLost    int `json:"disputes_lost"`
	// DisputeLossRate is DisputesLost / Disputes; nil without disputes.
	DisputeLossRate *float64 `json:"dispute_loss_rate"`
	// Returns counts every return of the seller's items; ReturnsRefunded
	// those that refunded the buyer (status refunded, store credit included).
	Returns         int `json:"returns"`
	ReturnsRefunded int `json:"returns_refunded"`
	// RefundRate is ReturnsRefunded / Returns; nil without returns.
	RefundRate *float64 `json:"refund_rate"`
}

// SellerRates answers seller id's dispute and return counts and rates;
// zero counts (and nil rates) for a seller without any.
func (s *Store) SellerRates(ctx context.Context, id string) (SellerRates, error) {
	var r SellerRates
	err := s.pool.QueryRow(ctx, sellerRatesSQL, id,
		[]string{string(disputes.StatusResolved), string(disputes.StatusClosed)},
		[]string{disputes.OutcomeRefundFull, disputes.OutcomeRefundPartial},
		string(returns.StatusRefunded),
	).Scan(&r.Disputes, &r.DisputesOpen, &r.DisputesDecided, &r.DisputesLost, &r.Returns, &r.ReturnsRefunded)
	if err != nil {
		return SellerRates{}, fmt.Errorf("rates of seller %s: %w", id, err)
	}
	r.DisputeLossRate = ratio(r.DisputesLost, r.Disputes)
	r.RefundRate = ratio(r.ReturnsRefunded, r.Returns)
	return r, nil
}

// sellerRatesSQL counts in one round trip; the latest decision is the
// view's "decision" (absent until there is one).
const sellerRatesSQL = `
WITH d AS (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE status <> ALL ($2)) AS open,
           count(*) FILTER (WHERE view->'decision'->>'outcome' IS NOT NULL) AS decided,
           count(*) FILTER (WHERE view->'decision'->>'outcome' = ANY ($3)) AS lost
    FROM disputes WHERE seller_id = $1
), r AS (
    SELECT count(*) AS total, count(*) FILTER (WHERE status = $4) AS refunded
    FROM returns WHERE seller_id = $1
)
SELECT d.total, d.open, d.decided, d.lost, r.total, r.refunded FROM d, r`

// ratio answers part / whole, nil when whole is zero.
func ratio(part, whole int) *float64 {
	if whole == 0 {
		return nil
	}
	r := float64(part) / float64(whole)
	return &r
}

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"handoff/workflows/vocab"
)

// EvidenceRecord is an evidence file as the read model holds it: the
// workflow's record with the case it belongs to.
type EvidenceRecord struct {
	CaseID string
	vocab.Evidence
	// CreatedAt is when the projection first wrote the row.
	CreatedAt time.Time
}

// insertEvidenceSQL writes a case's evidence rows in one statement, each
// once: a file's record never changes, so rows already there are skipped
// and a replayed or older projection is a no-op.
const insertEvidenceSQL = `
INSERT INTO evidence (id, case_id, kind, key, sha256, size, content_type, note, retained, uploaded_by, seq)
SELECT id, $1, kind, key, sha256, size, content_type, note, retained, uploaded_by, seq
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[],
            $9::boolean[], $10::text[], $11::int[])
     AS e(id, kind, key, sha256, size, content_type, note, retained, uploaded_by, seq)
ON CONFLICT (id) DO NOTHING`

// queueEvidence adds to batch the insert of a case's evidence rows, if it
// has any. The projection carries every file of the case, so a projection
// that was skipped leaves no file out of the read model.
func queueEvidence(batch *pgx.Batch, caseID string, files []vocab.Evidence) {
	if len(files) == 0 {
		return
	}
	n := len(files)
	ids, kinds, keys, sums := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	sizes, types, notes := make([]int64, n), make([]string, n), make([]string, n)
	retained, by, seqs := make([]bool, n), make([]string, n), make([]int64, n)
	for i, e := range files {
		ids[i], kinds[i], keys[i], sums[i] = e.ID, e.Kind, e.Key, e.SHA256
		sizes[i], types[i], notes[i] = e.Size, e.ContentType, e.Note
		retained[i], by[i], seqs[i] = e.Retained, e.UploadedBy, int64(e.Seq)
	}
	batch.Queue(insertEvidenceSQL, caseID, ids, kinds, keys, sums, sizes, types, notes, retained, by, seqs)
}

const evidenceColumns = `case_id, id, kind, key, sha256, size, content_type, note, retained, uploaded_by, seq, created_at`

func scanEvidence(row pgx.Row) (EvidenceRecord, error) {
	var r EvidenceRecord
	err := row.Scan(&r.CaseID, &r.ID, &r.Kind, &r.Key, &r.SHA256, &r.Size, &r.ContentType, &r.Note,
		&r.Retained, &r.UploadedBy, &r.Seq, &r.CreatedAt)
	return r, err
}

// GetEvidence answers the evidence file with id, or ErrNotFound.
func (s *Store) GetEvidence(ctx context.Context, id string) (EvidenceRecord, error) {
	r, err := scanEvidence(s.pool.QueryRow(ctx, `SELECT `+evidenceColumns+` FROM evidence WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return EvidenceRecord{}, ErrNotFound
	}
	if err != nil {
		return EvidenceRecord{}, fmt.Errorf("get evidence %s: %w", id, err)
	}
	return r, nil
}

// ListEvidence answers a case's evidence files in the order the case
// recorded them; an empty slice when it has none (or is unknown).
func (s *Store) ListEvidence(ctx context.Context, caseID string) ([]EvidenceRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+evidenceColumns+` FROM evidence WHERE case_id = $1 ORDER BY seq, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("evidence of case %s: %w", caseID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (EvidenceRecord, error) { return scanEvidence(row) })
	if err != nil {
		return nil, fmt.Errorf("evidence of case %s: %w", caseID, err)
	}
	if out == nil {
		out = []EvidenceRecord{}
	}
	return out, nil
}

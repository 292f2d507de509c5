package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"handoff/evidence"
	"handoff/store"
	"handoff/workflows/erasure"
)

// Erasure holds the erasure activities (workflows/erasure): the read model
// and the evidence bucket.
type Erasure struct {
	store *store.Store
	files *evidence.Store
}

// NewErasure answers the erasure activities over s and files.
func NewErasure(s *store.Store, files *evidence.Store) *Erasure {
	return &Erasure{store: s, files: files}
}

// FindCustomerCases answers the ids of every case of customerID and every
// delivery, return and dispute they are the buyer of
// (erasure.ActivityFindCustomerCases).
func (a *Erasure) FindCustomerCases(ctx context.Context, customerID string) (erasure.CustomerCases, error) {
	return a.store.CustomerRecords(ctx, customerID)
}

// EraseReadModel pseudonymises the customer's cases, deliveries, returns
// and disputes in Postgres (erasure.ActivityEraseReadModel); a running one
// that has not projected its own erasure yet is a retryable
// erasure.ErrCaseNotErased.
func (a *Erasure) EraseReadModel(ctx context.Context, in erasure.ReadModelInput) (erasure.ReadModelErasure, error) {
	out, err := a.store.EraseCustomerCases(ctx, in)
	if errors.Is(err, store.ErrCaseNotErased) {
		return out, temporal.NewApplicationError(err.Error(), erasure.ErrCaseNotErased)
	}
	return out, err
}

// EraseEvidence deletes every version of each evidence file of the
// customer's cases, keeping and listing those under legal hold
// (erasure.ActivityEraseEvidence). Deleting what is gone already is
// nothing, so a retry finishes what a crash left.
func (a *Erasure) EraseEvidence(ctx context.Context, customerID string) (erasure.EvidenceErasure, error) {
	files, err := a.store.CustomerEvidence(ctx, customerID)
	if err != nil {
		return erasure.EvidenceErasure{}, err
	}
	out := erasure.EvidenceErasure{Deleted: []string{}, Held: []erasure.HeldFile{}}
	for _, f := range files {
		e, err := a.files.Erase(ctx, f.Key)
		if err != nil {
			return erasure.EvidenceErasure{}, fmt.Errorf("case %s: %w", f.CaseID, err)
		}
		if !e.RetainUntil.IsZero() {
			out.Held = append(out.Held, erasure.HeldFile{CaseID: f.CaseID, Key: f.Key, RetainUntil: e.RetainUntil})
			continue
		}
		out.Deleted = append(out.Deleted, f.Key)
	}
	return out, nil
}

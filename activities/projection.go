package activities

import (
	"context"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/disputes"
	"handoff/workflows/returns"
)

// Projection writes the read model of cases and deliveries to Postgres,
// for the API's lists, queues and search. Only the workflow calls it; the workflow stays
// the source of truth.
type Projection struct {
	store *store.Store
}

// NewProjection answers a Projection writing through s.
func NewProjection(s *store.Store) *Projection {
	return &Projection{store: s}
}

// ErrTypeInvalidProjection marks a projection that no retry can write.
const ErrTypeInvalidProjection = "InvalidProjection"

// ProjectCase writes the case row and its new timeline events
// (cases.ActivityProjectCase). Writing the same input twice changes
// nothing, and an older input after a newer one leaves the newer row, so
// Temporal may retry it freely; Postgres being down fails it for a retry.
func (p *Projection) ProjectCase(ctx context.Context, in cases.ProjectionInput) error {
	if strings.TrimSpace(in.Case.ID) == "" {
		return temporal.NewNonRetryableApplicationError(
			"projection of a case without an id", ErrTypeInvalidProjection, nil)
	}
	if err := p.store.ProjectCase(ctx, in); err != nil {
		return fmt.Errorf("project case %s: %w", in.Case.ID, err)
	}
	return nil
}

// ProjectDelivery writes the delivery row and its new timeline events
// (deliveries.ActivityProjectDelivery). Like ProjectCase: writing the same
// input twice changes nothing, an older input after a newer one leaves the
// newer row, and a delivery without an id is refused for good.
func (p *Projection) ProjectDelivery(ctx context.Context, in deliveries.ProjectionInput) error {
	if strings.TrimSpace(in.Delivery.ID) == "" {
		return temporal.NewNonRetryableApplicationError(
			"projection of a delivery without an id", ErrTypeInvalidProjection, nil)
	}
	if err := p.store.ProjectDelivery(ctx, in); err != nil {
		return fmt.Errorf("project delivery %s: %w", in.Delivery.ID, err)
	}
	return nil
}

// ProjectReturn writes the return row and its new timeline events
// (returns.ActivityProjectReturn). Like ProjectCase: writing the same
// input twice changes nothing, an older input after a newer one leaves the
// newer row, and a return without an id is refused for good.
func (p *Projection) ProjectReturn(ctx context.Context, in returns.ProjectionInput) error {
	if strings.TrimSpace(in.Return.ID) == "" {
		return temporal.NewNonRetryableApplicationError(
			"projection of a return without an id", ErrTypeInvalidProjection, nil)
	}
	if err := p.store.ProjectReturn(ctx, in); err != nil {
		return fmt.Errorf("project return %s: %w", in.Return.ID, err)
	}
	return nil
}

// ProjectDispute writes the dispute row and its new timeline events
// (disputes.ActivityProjectDispute), with the guarantees of ProjectReturn.
func (p *Projection) ProjectDispute(ctx context.Context, in disputes.ProjectionInput) error {
	if strings.TrimSpace(in.Dispute.ID) == "" {
		return temporal.NewNonRetryableApplicationError(
			"projection of a dispute without an id", ErrTypeInvalidProjection, nil)
	}
	if err := p.store.ProjectDispute(ctx, in); err != nil {
		return fmt.Errorf("project dispute %s: %w", in.Dispute.ID, err)
	}
	return nil
}

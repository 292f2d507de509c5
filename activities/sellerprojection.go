package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"handoff/workflows/sellers"
	"handoff/workflows/vocab"
)

// ProjectSeller writes the seller row and its new timeline events
// (sellers.ActivityProjectSeller), with the guarantees of ProjectReturn:
// writing the same input twice changes nothing, an older input after a
// newer one leaves the newer row, and a seller without an id is refused
// for good.
func (p *Projection) ProjectSeller(ctx context.Context, in sellers.SellerProjection) error {
	if strings.TrimSpace(in.Seller.SellerID) == "" {
		return temporal.NewNonRetryableApplicationError(
			"projection of a seller without an id", ErrTypeInvalidProjection, nil)
	}
	if err := p.store.ProjectSeller(ctx, in); err != nil {
		return fmt.Errorf("project seller %s: %w", in.Seller.SellerID, err)
	}
	return nil
}

// ProjectPayoutHold writes a payout hold as its owner now keeps it
// (vocab.ActivityProjectPayoutHold). The hold carries no version, so the
// write is ordered by when the owner scheduled this activity, which every
// retry keeps: a retry of an older write landing after a newer one
// changes nothing, and a released hold stays released. A hold without a
// key, a seller or an owner is refused for good.
func (p *Projection) ProjectPayoutHold(ctx context.Context, h vocab.PayoutHold) error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"key", h.Key}, {"seller_id", h.SellerID}, {"owner", h.Owner}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return temporal.NewNonRetryableApplicationError(
			"projection of a payout hold without "+strings.Join(missing, ", "), ErrTypeInvalidProjection, nil)
	}
	if err := p.store.ProjectPayoutHold(ctx, h, askedAt(ctx)); err != nil {
		return fmt.Errorf("project payout hold %s of seller %s: %w", h.Key, h.SellerID, err)
	}
	return nil
}

// askedAt answers when the workflow scheduled the running activity: the
// same on every attempt, later for every activity the workflow schedules
// later. Outside an activity (a direct call in a test) it is now.
func askedAt(ctx context.Context) time.Time {
	if activity.IsActivity(ctx) {
		if at := activity.GetInfo(ctx).ScheduledTime; !at.IsZero() {
			return at
		}
	}
	return time.Now()
}

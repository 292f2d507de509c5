//go:build integration

package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/disputes"
	"handoff/workflows/returns"
	"handoff/workflows/sellers"
	"handoff/workflows/vocab"
)

// Every seller made here is "sel-"+tag, a tag only this test uses, so the
// seller's cases, disputes and returns are this test's alone.

// newOnboardingSeller answers seller "sel-"+tag two steps into onboarding,
// its identity being checked.
func newOnboardingSeller(tag string) sellers.SellerView {
	now := *at(time.Now())
	started := now.Add(-2 * time.Hour)
	done := started.Add(time.Minute)
	return sellers.SellerView{
		SellerID: "sel-" + tag, Region: "eu", Status: sellers.SellerStatusOnboarding,
		Steps: []sellers.Step{
			{Name: sellers.StepAccountCreated, Status: sellers.StepDone, DueAt: started.Add(time.Hour),
				DoneAt: &done, EscalateAt: started.Add(49 * time.Hour)},
			{Name: sellers.StepIdentityVerified, Status: sellers.StepPending, DueAt: started.Add(72 * time.Hour),
				EscalateAt: started.Add(120 * time.Hour)},
		},
		Verification: sellers.VerificationStatus{Status: sellers.VerificationChecking, CheckID: "vchk_" + tag,
			Actor: vocab.SystemActor, At: now},
		StartedAt: started, UpdatedAt: now, LastSeq: 2,
	}
}

func projectSeller(t *testing.T, db *store.Store, v sellers.SellerView, events ...vocab.Event) {
	t.Helper()
	require.NoError(t, db.ProjectSeller(stacktest.Context(t), sellers.SellerProjection{Seller: v, Events: events}))
}

// newVerificationHold answers the verification's hold on seller
// "sel-"+tag's payouts, held by the provider.
func newVerificationHold(tag string) vocab.PayoutHold {
	return vocab.PayoutHold{
		Key: "verification/sel-" + tag + "/hold", ID: "ph_" + tag, SellerID: "sel-" + tag,
		Reason: vocab.HoldReasonVerification, Detail: "until the identity check passes",
		Owner: vocab.VerificationWorkflowID("sel-" + tag), State: vocab.PayoutHoldHeld,
		PlacedAt: *at(time.Now().Add(-time.Hour)),
	}
}

func projectHold(t *testing.T, db *store.Store, h vocab.PayoutHold, askedAt time.Time) {
	t.Helper()
	require.NoError(t, db.ProjectPayoutHold(stacktest.Context(t), h, askedAt))
}

func TestProjectSellerTwiceStoresEachEventOnceAndAnOlderProjectionChangesNothing(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	v := newOnboardingSeller(newTag(t))
	events := []vocab.Event{
		event(1, sellers.EventOnboardingStarted, nil),
		event(2, sellers.EventStepDone, map[string]string{"step": sellers.StepAccountCreated}),
	}
	projectSeller(t, db, v, events...)
	projectSeller(t, db, v, events...) // a retried activity

	older := v
	older.LastSeq = 1
	older.Status = "stale"
	older.Steps = nil
	projectSeller(t, db, older, events[0])

	got, err := db.Seller(ctx, v.SellerID)
	require.NoError(t, err)
	assert.Equal(t, v, got.View)
	assert.Equal(t, "seller/"+v.SellerID, got.WorkflowID)
	assert.Empty(t, got.Holds)

	timeline, err := db.SellerTimeline(ctx, v.SellerID)
	require.NoError(t, err)
	assert.Equal(t, events, timeline)

	newer := v
	newer.LastSeq = 3
	newer.Status = sellers.SellerStatusSuspended
	newer.Reason = "fraud review"
	newer.CaseID = "C-" + v.SellerID
	newer.Verification.Reasons = []string{"document blurred"}
	third := event(3, sellers.EventSuspended, nil)
	projectSeller(t, db, newer, third)
	got, err = db.Seller(ctx, v.SellerID)
	require.NoError(t, err)
	assert.Equal(t, newer, got.View)
	timeline, err = db.SellerTimeline(ctx, v.SellerID)
	require.NoError(t, err)
	assert.Equal(t, append(events, third), timeline)
}

func TestAnUnknownSellerIsNotFound(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	_, err := db.Seller(ctx, "sel-"+newTag(t))
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = db.SellerTimeline(ctx, "sel-"+newTag(t))
	assert.ErrorIs(t, err, store.ErrNotFound)
	assert.Error(t, db.ProjectSeller(ctx, sellers.SellerProjection{}), "a seller without an id")
}

func TestAPayoutHoldWriteAskedEarlierNeverOverwritesOneAskedLater(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)
	projectSeller(t, db, newOnboardingSeller(tag))
	first := time.Now().Add(-time.Minute)

	pending := newVerificationHold(tag)
	pending.ID, pending.State = "", vocab.PayoutHoldPending
	projectHold(t, db, pending, first)
	held := newVerificationHold(tag)
	projectHold(t, db, held, first.Add(time.Second))
	// The pending write's retry lands after the held one.
	projectHold(t, db, pending, first)

	got, err := db.Seller(ctx, "sel-"+tag)
	require.NoError(t, err)
	assert.Equal(t, []vocab.PayoutHold{held}, got.Holds)

	// An extension, then its stale predecessor again.
	until := *at(time.Now().Add(48 * time.Hour))
	extended := held
	extended.Until = &until
	projectHold(t, db, extended, first.Add(2*time.Second))
	projectHold(t, db, held, first.Add(time.Second))
	h, err := db.PayoutHold(ctx, "sel-"+tag, held.ID)
	require.NoError(t, err)
	assert.Equal(t, extended, h)
}

func TestAReleasedPayoutHoldStaysReleased(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)
	asked := time.Now().Add(-time.Minute)
	released := newVerificationHold(tag)
	releasedAt := *at(time.Now())
	released.State, released.ReleasedAt = vocab.PayoutHoldReleased, &releasedAt
	released.ReleasedBy, released.ReleaseReason = "trust_safety:tess", "documents checked by hand"
	projectHold(t, db, released, asked)

	// A held write, even one asked later (a workflow that lost track), leaves it released.
	projectHold(t, db, newVerificationHold(tag), asked.Add(time.Second))
	h, err := db.PayoutHold(ctx, "sel-"+tag, released.Key)
	require.NoError(t, err)
	assert.Equal(t, released, h)

	// A later write of the release itself still lands.
	released.CaseID = "C-" + tag
	projectHold(t, db, released, asked.Add(2*time.Second))
	h, err = db.PayoutHold(ctx, "sel-"+tag, released.ID)
	require.NoError(t, err)
	assert.Equal(t, released, h)
}

func TestAPayoutHoldIsFoundByItsIDOrKeyAndOnlyForItsSeller(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)
	verification := newVerificationHold(tag)
	projectHold(t, db, verification, time.Now())
	// A fraud watch's hold of a seller whose onboarding is not projected.
	until := *at(time.Now().Add(7 * 24 * time.Hour))
	fraud := vocab.PayoutHold{
		Key: "fraud/seller-sel-" + tag + "/hold/1", SellerID: "sel-" + tag, Reason: vocab.HoldReasonFraudReview,
		Owner: vocab.FraudWatchWorkflowID("seller", "sel-"+tag), State: vocab.PayoutHoldPending,
		PlacedAt: *at(time.Now()), Until: &until, CaseID: "C-" + tag,
	}
	projectHold(t, db, fraud, time.Now())

	for _, ref := range []string{verification.ID, verification.Key} {
		h, err := db.PayoutHold(ctx, "sel-"+tag, ref)
		require.NoError(t, err, ref)
		assert.Equal(t, verification, h, ref)
	}
	h, err := db.PayoutHold(ctx, "sel-"+tag, fraud.Key)
	require.NoError(t, err)
	assert.Equal(t, fraud, h)

	_, err = db.PayoutHold(ctx, "sel-other-"+tag, verification.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "another seller's hold")
	_, err = db.PayoutHold(ctx, "sel-"+tag, "ph_unknown")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = db.Seller(ctx, "sel-"+tag)
	assert.ErrorIs(t, err, store.ErrNotFound, "holds alone make no seller")
	assert.Error(t, db.ProjectPayoutHold(ctx, vocab.PayoutHold{SellerID: "x"}, time.Now()), "a hold without a key")
}

func TestSellerOpenCasesAreItsOwnAndThoseOfDisputesAndReturnsAgainstIt(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)
	seller := vocab.Customer{ID: "sel-" + tag, Email: "s@example.com", Name: "S", Locale: "en"}

	onboarding := newCase(tag, "onboarding")
	onboarding.Category, onboarding.Customer, onboarding.Team = vocab.CategorySellerOnboarding, seller, vocab.TeamTrustSafety
	resolved := newCase(tag, "payment")
	resolved.Category, resolved.Customer, resolved.Status = vocab.CategorySellerPayment, seller, cases.StatusResolved
	disputed := newCase(tag, "dispute") // the buyer's case, "cus-"+tag
	disputed.Category = vocab.CategoryDispute
	returned := newCase(tag, "return")
	returned.Category = vocab.CategoryReturnRequest
	other := newCase(tag, "other") // the buyer's, about nothing of the seller's
	for _, c := range []cases.CaseView{onboarding, resolved, disputed, returned, other} {
		project(t, db, c)
	}
	d := newBuyerDispute(tag, "d")
	d.CaseID = disputed.ID
	projectDispute(t, db, d)
	r := newItemReturn(tag, "r")
	r.CaseID = returned.ID
	projectReturn(t, db, r)

	found, err := db.SellerOpenCases(ctx, seller.ID)
	require.NoError(t, err)
	relations := map[string][]string{}
	for _, c := range found {
		relations[c.ID] = c.Relations
	}
	assert.Equal(t, map[string][]string{
		onboarding.ID: {store.CaseOfSeller},
		disputed.ID:   {store.CaseOfDispute},
		returned.ID:   {store.CaseOfReturn},
	}, relations)
	for _, c := range found {
		if c.ID == onboarding.ID {
			assert.Equal(t, vocab.CategorySellerOnboarding, c.Category)
			assert.Equal(t, cases.StatusOpen, c.Status)
			assert.Equal(t, vocab.TeamTrustSafety, c.Team)
			assert.Equal(t, onboarding.CreatedAt, c.CreatedAt)
		}
	}

	none, err := db.SellerOpenCases(ctx, "sel-none-"+tag)
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestSellerRatesCountLostDisputesAndRefundedReturns(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)

	rates, err := db.SellerRates(ctx, "sel-"+tag)
	require.NoError(t, err)
	assert.Equal(t, store.SellerRates{}, rates, "no disputes, no returns: no rates")

	decided := func(name, outcome string, status disputes.Status) disputes.View {
		d := newBuyerDispute(tag, name)
		d.Status = status
		d.Decision = &disputes.Decision{N: 1, Outcome: outcome, Party: disputes.PartyTrustSafety, Actor: "trust_safety:tess",
			At: *at(time.Now())}
		d.Decisions = []disputes.Decision{*d.Decision}
		return d
	}
	projectDispute(t, db, newBuyerDispute(tag, "open"))
	projectDispute(t, db, decided("lost-full", disputes.OutcomeRefundFull, disputes.StatusResolved))
	projectDispute(t, db, decided("lost-partial", disputes.OutcomeRefundPartial, disputes.StatusClosed))
	projectDispute(t, db, decided("won", disputes.OutcomeReleaseToSeller, disputes.StatusClosed))

	refunded := newItemReturn(tag, "refunded")
	refunded.Status = returns.StatusRefunded
	projectReturn(t, db, refunded)
	rejected := newItemReturn(tag, "rejected")
	rejected.Status = returns.StatusRejected
	projectReturn(t, db, rejected)
	projectReturn(t, db, newItemReturn(tag, "shipped"))
	projectReturn(t, db, newItemReturn(tag, "shipped-too"))

	rates, err = db.SellerRates(ctx, "sel-"+tag)
	require.NoError(t, err)
	half, quarter := 0.5, 0.25
	assert.Equal(t, store.SellerRates{
		Disputes: 4, DisputesOpen: 1, DisputesDecided: 3, DisputesLost: 2, DisputeLossRate: &half,
		Returns: 4, ReturnsRefunded: 1, RefundRate: &quarter,
	}, rates)
}

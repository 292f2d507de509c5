//go:build integration

package sellers_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"handoff/config"
	"handoff/stacktest"
	"handoff/stacktest/stackworker"
	"handoff/workflows/cases"
	"handoff/workflows/sellers"
	"handoff/workflows/vocab"
)

// startSeller starts seller id's onboarding on cfg's queue with steps and
// an identity whose legal name tells the verification stand-in what to
// answer (docs/verification.md: "late" passes after a delay by webhook).
func startSeller(t *testing.T, c client.Client, cfg config.Config, id, legalName string, steps []sellers.StepPolicy) {
	t.Helper()
	in := sellers.OnboardingInput{
		SellerID: id, Seller: vocab.Customer{Email: id + "@example.com", Name: "Sam Seller", Locale: "en"}, Region: "fr",
		Identity: sellers.Identity{LegalName: legalName, Country: "FR", DocumentIDs: []string{"E-" + id}},
		Policy: sellers.Policy{Steps: steps, Verification: sellers.VerificationPolicy{HoldPayouts: true,
			// The stand-in's webhook goes to an API this test does not run:
			// the check asks the provider itself after a second.
			PollEvery: time.Second, ReviewWithin: time.Minute}},
		StartedAt: time.Now().UTC(), StartedBy: "test",
	}
	_, err := c.ExecuteWorkflow(stacktest.Context(t), sellers.StartOptions(in, cfg.Temporal.TaskQueue), sellers.WorkflowSellerOnboarding, in)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.TerminateWorkflow(stacktest.Context(t), sellers.OnboardingWorkflowID(id), "", "test over")
	})
}

func querySeller(t *testing.T, c client.Client, id string) sellers.SellerView {
	t.Helper()
	res, err := c.QueryWorkflow(stacktest.Context(t), sellers.OnboardingWorkflowID(id), "", sellers.QuerySeller)
	require.NoError(t, err)
	var v sellers.SellerView
	require.NoError(t, res.Get(&v))
	return v
}

// A new seller on the real stack: the payouts are held in the payments
// stand-in before the identity check starts, stay held while the check
// is pending, and are released exactly once when the stand-in passes it
// (late, as a provider's webhook would); identity_verified is then done.
// HANDOFF_RECORD_HISTORY=<name> keeps both workflows' histories.
func TestNewSellersPayoutsStayHeldUntilVerifiedThenAreReleasedOnce(t *testing.T) {
	ctx := stacktest.Context(t)
	c := stacktest.Temporal(t)
	cfg := stackworker.Start(t, stacktest.Config(t), "test-seller")
	id := fmt.Sprintf("sel-%d", time.Now().UnixNano())
	startSeller(t, c, cfg, id, "Chocolate Ltd", []sellers.StepPolicy{
		{Name: sellers.StepIdentityVerified, Due: time.Hour, EscalateAfter: time.Hour},
		{Name: sellers.StepFirstListing, Due: time.Hour, EscalateAfter: time.Hour},
	})

	// Pending: the hold is in the ledger and no release.
	require.Eventually(t, func() bool {
		_, held, err := stacktest.SellerLedger(ctx, cfg, id)
		return err == nil && held
	}, 30*time.Second, 100*time.Millisecond, "the payouts are held while the check is pending")

	var final sellers.VerificationView
	require.NoError(t, c.GetWorkflow(ctx, sellers.VerificationWorkflowID(id), "").Get(ctx, &final))
	assert.Equal(t, sellers.VerificationPassed, final.Status)
	require.NotNil(t, final.Hold)
	assert.Equal(t, vocab.PayoutHoldReleased, final.Hold.State)

	ledger, held, err := stacktest.SellerLedger(ctx, cfg, id)
	require.NoError(t, err)
	assert.False(t, held, "the payouts flow again")
	kinds := map[string]int{}
	for _, m := range ledger {
		kinds[m.Kind]++
	}
	assert.Equal(t, map[string]int{vocab.MovementPayoutHold: 1, "release": 1}, kinds, "one hold and one release: %+v", ledger)

	require.Eventually(t, func() bool {
		v := querySeller(t, c, id)
		return v.Verification.Status == sellers.VerificationPassed && v.Steps[0].Status == sellers.StepDone
	}, 20*time.Second, 100*time.Millisecond, "the onboarding hears the pass and ticks identity_verified")

	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		stacktest.WriteHistory(t, c, sellers.VerificationWorkflowID(id), "", filepath.Join("testdata", "sellerverification-passed-"+name+".json"))
	}
}

// A seller who never publishes a listing: the step's deadline reminds
// them, and its stall opens one seller_onboarding case for trust_safety;
// a second stalled step joins that case instead of opening another.
func TestAStalledListingStepOpensOneOnboardingCase(t *testing.T) {
	ctx := stacktest.Context(t)
	c := stacktest.Temporal(t)
	cfg := stackworker.Start(t, stacktest.Config(t), "test-seller")
	id := fmt.Sprintf("sel-%d", time.Now().UnixNano())
	startSeller(t, c, cfg, id, "Plain Goods SARL", []sellers.StepPolicy{
		{Name: sellers.StepAccountCreated, Due: time.Hour, EscalateAfter: time.Hour},
		{Name: sellers.StepFirstListing, Due: time.Second, EscalateAfter: 2 * time.Second},
		{Name: sellers.StepPayoutVerified, Due: 4 * time.Second, EscalateAfter: 2 * time.Second},
	})
	require.NoError(t, c.SignalWorkflow(ctx, sellers.OnboardingWorkflowID(id), "", sellers.SignalSellerEvent,
		sellers.SellerEvent{ID: "ev-1", Kind: sellers.EventKindAccountCreated, At: time.Now()}))

	var caseID string
	require.Eventually(t, func() bool {
		caseID = querySeller(t, c, id).CaseID
		return caseID != ""
	}, 30*time.Second, 200*time.Millisecond, "the stalled listing step opens the onboarding case")
	t.Cleanup(func() { _ = c.TerminateWorkflow(ctx, cases.CaseWorkflowID(caseID), "", "test over") })

	res, err := c.QueryWorkflow(ctx, cases.CaseWorkflowID(caseID), "", cases.QueryCase)
	require.NoError(t, err)
	var cv cases.CaseView
	require.NoError(t, res.Get(&cv))
	assert.Equal(t, vocab.CategorySellerOnboarding, cv.Category)
	assert.Equal(t, vocab.TeamTrustSafety, cv.Team)
	assert.Contains(t, cv.Subject, sellers.StepFirstListing)

	// The payout step stalls later: it joins the same case.
	require.Eventually(t, func() bool {
		res, err := c.QueryWorkflow(ctx, cases.CaseWorkflowID(caseID), "", cases.QueryCase)
		if err != nil {
			return false
		}
		var cv cases.CaseView
		if res.Get(&cv) != nil {
			return false
		}
		for _, e := range cv.Timeline {
			if e.Kind == sellers.EventStepStalled && e.Payload["steps"] == sellers.StepPayoutVerified {
				return true
			}
		}
		return false
	}, 30*time.Second, 200*time.Millisecond, "the second stall is told to the same case")
	v := querySeller(t, c, id)
	assert.Equal(t, caseID, v.CaseID, "still one onboarding case")
	opened, reminded := 0, 0
	for _, e := range v.Timeline {
		switch e.Kind {
		case sellers.EventCaseOpened:
			opened++
		case sellers.EventStepOverdue:
			reminded++
		}
	}
	assert.Equal(t, 1, opened, "one case opened: %+v", v.Timeline)
	assert.Equal(t, 2, reminded, "each stalled step reminded the seller once")

	msgs, err := stacktest.MailpitSearch(ctx, "to:"+id+"@example.com")
	require.NoError(t, err)
	assert.NotEmpty(t, msgs, "the seller got the step reminders by email")

	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		stacktest.WriteHistory(t, c, sellers.OnboardingWorkflowID(id), "", filepath.Join("testdata", "selleronboarding-stalled-"+name+".json"))
	}
}

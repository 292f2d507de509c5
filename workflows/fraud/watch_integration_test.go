//go:build integration

package fraud_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"handoff/accounts"
	"handoff/stacktest"
	"handoff/stacktest/stackworker"
	"handoff/workflows/cases"
	"handoff/workflows/fraud"
	"handoff/workflows/vocab"
)

// Three disputes lost by a seller, reported on the real stack as the API
// does (signal-with-start), open one fraud_report case and hold the
// seller's payouts in the payments stand-in; trust_safety's release
// decision releases them, and the watch ends after its quiet window.
// HANDOFF_RECORD_HISTORY=<name> keeps the watch's history.
func TestThreeLostDisputesHoldASellersPayoutsOnTheRealStack(t *testing.T) {
	ctx := stacktest.Context(t)
	c := stacktest.Temporal(t)
	cfg := stackworker.Start(t, stacktest.Config(t), "test-fraud")
	seller := fmt.Sprintf("fraud-seller-%d", time.Now().UnixNano())
	_, err := accounts.NewPostgres(stacktest.Store(t).Pool()).Create(ctx, accounts.Account{
		ID: seller, Status: accounts.StatusActive, Email: seller + "@example.com", ActiveSessions: 1, CredentialVersion: 1})
	require.NoError(t, err)

	// The real stack cannot wait 30 days: the window (and so the quiet
	// period) is seconds.
	in := fraud.Input{Party: fraud.PartySeller, PartyID: seller, Policy: fraud.Policy{
		Rules:        []fraud.Rule{{Name: "disputes_lost", Kinds: []string{fraud.KindDisputeLost}, Threshold: 3, Window: 10 * time.Second}},
		ReviewWithin: time.Minute, HoldFor: 10 * time.Minute,
	}}
	id := fraud.WorkflowID(in.Party, in.PartyID)
	t.Cleanup(func() { _ = c.TerminateWorkflow(ctx, id, "", "test over") })
	for i := range 3 {
		_, err := c.SignalWithStartWorkflow(ctx, id, fraud.SignalBehaviour, fraud.Behaviour{
			ID: fmt.Sprintf("dl-%d", i+1), Kind: fraud.KindDisputeLost, Detail: fmt.Sprintf("dispute DP-%d lost", i+1), ReportedBy: "integration:test",
		}, fraud.StartOptions(in, cfg.Temporal.TaskQueue), fraud.WorkflowType, in)
		require.NoError(t, err)
	}

	var v fraud.View
	require.Eventually(t, func() bool {
		res, err := c.QueryWorkflow(ctx, id, "", fraud.QueryWatch)
		if err != nil || res.Get(&v) != nil {
			return false
		}
		return v.Hold != nil && v.Hold.State == vocab.PayoutHoldHeld
	}, 30*time.Second, 200*time.Millisecond, "the seller's payouts were never held")
	assert.Equal(t, fraud.StatusReviewing, v.Status)
	require.NotEmpty(t, v.CaseID)
	t.Cleanup(func() { _ = c.TerminateWorkflow(ctx, cases.CaseWorkflowID(v.CaseID), "", "test over") })
	assert.Equal(t, 1, v.Bursts, "one case for the burst")

	movements, held, err := stacktest.SellerLedger(ctx, cfg, seller)
	require.NoError(t, err)
	assert.True(t, held, "the payments stand-in holds the seller's payouts: %+v", movements)
	holds := 0
	for _, m := range movements {
		if m.Kind == vocab.MovementPayoutHold {
			holds++
		}
	}
	assert.Equal(t, 1, holds, "one hold: %+v", movements)

	res, err := c.QueryWorkflow(ctx, cases.CaseWorkflowID(v.CaseID), "", cases.QueryCase)
	require.NoError(t, err)
	var cv cases.CaseView
	require.NoError(t, res.Get(&cv))
	assert.Equal(t, vocab.CategoryFraudReport, cv.Category)
	assert.Equal(t, seller, cv.AccountID)

	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateID: "decide-1", UpdateName: fraud.UpdateDecide, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{fraud.Decision{Actor: "trust_safety:tess", Outcome: fraud.OutcomeRelease, Reason: "the buyers abused disputes"}},
	})
	require.NoError(t, err)
	var decided fraud.View
	require.NoError(t, h.Get(ctx, &decided))
	require.NotNil(t, decided.Hold)
	assert.Equal(t, vocab.PayoutHoldReleased, decided.Hold.State)
	_, held, err = stacktest.SellerLedger(ctx, cfg, seller)
	require.NoError(t, err)
	assert.False(t, held, "released in the payments stand-in")

	var final fraud.View
	require.NoError(t, c.GetWorkflow(ctx, id, "").Get(ctx, &final), "the watch ends after its quiet window")
	assert.Equal(t, fraud.StatusDecided, final.Status)
	// The case is confidential: by now its opening would have been mailed.
	mails, err := stacktest.MailpitSearch(ctx, "to:"+seller+"@example.com")
	require.NoError(t, err)
	assert.Empty(t, mails, "the seller under review was written to")

	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		stacktest.WriteHistory(t, c, id, "", filepath.Join("testdata", "fraudwatch-seller-burst-"+name+".json"))
	}
}

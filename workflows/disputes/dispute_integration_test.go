//go:build integration

package disputes_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"handoff/stacktest"
	"handoff/stacktest/stackworker"
	"handoff/workflows/cases"
	"handoff/workflows/disputes"
	"handoff/workflows/fraud"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// A dispute on the real stack whose seller never answers: at the deadline
// the case escalates to trust_safety by itself and the policy decides for
// the buyer, refunded once through the payments stand-in while the seller's
// funds stay held to cover it; the appeal window then closes it.
// HANDOFF_RECORD_HISTORY=<name> keeps the dispute's history.
func TestASilentSellerLosesTheDisputeByPolicy(t *testing.T) {
	ctx := stacktest.Context(t)
	c := stacktest.Temporal(t)
	cfg := stackworker.Start(t, stacktest.Config(t), "test-dispute")
	book, err := sla.Load(cfg.SLAPolicyFile)
	require.NoError(t, err)

	order := fmt.Sprintf("ord-%d", time.Now().UnixNano())
	opened, err := cases.Opener{Temporal: c, Book: book, TaskQueue: cfg.Temporal.TaskQueue}.Open(ctx, cases.OpenRequest{
		Category: vocab.CategoryDispute, Subject: "Never received the console", Description: "Tracking says delivered, it was not.",
		Customer: vocab.Customer{ID: "cus-" + order, Email: order + "@example.com", Name: "Ada", Locale: "en"},
		OrderID:  order, Channel: "web", OpenedBy: "test",
	}, vocab.Once{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.TerminateWorkflow(ctx, cases.CaseWorkflowID(opened.ID), "", "test over") })

	policy, err := book.Policy(string(vocab.CategoryDispute), string(opened.Priority), time.Now())
	require.NoError(t, err)
	rules := disputes.DefaultPolicy(policy.Calendar)
	// The real stack cannot wait business days: the seller has seconds.
	rules.RespondWithin, rules.AppealWindow = 2*time.Second, 2*time.Second
	amount := vocab.Money{Minor: 29900, Currency: "EUR"}
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: cases.CaseWorkflowID(opened.ID), UpdateName: cases.UpdateOpenDispute, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{cases.DisputeRequest{Actor: "agent:ines", Dispute: disputes.Input{
			SellerID: "seller-" + order, SellerRegion: "fr", Amount: amount, Reason: disputes.Reasons[0],
			Description: "not received", Policy: rules,
		}}}})
	require.NoError(t, err)
	var view cases.CaseView
	require.NoError(t, h.Get(ctx, &view))
	require.NotNil(t, view.Dispute)
	id := view.Dispute.ID

	var final disputes.View
	require.NoError(t, c.GetWorkflow(ctx, disputes.WorkflowID(id), "").Get(ctx, &final))
	assert.Equal(t, disputes.StatusClosed, final.Status)
	require.NotNil(t, final.Decision)
	assert.Equal(t, vocab.SystemActor, final.Decision.Actor, "the policy decided, nobody else")
	assert.Equal(t, amount, final.Funds.Refunded)

	ledger, err := stacktest.PaymentsLedger(ctx, cfg, order)
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, m := range ledger {
		kinds[m.Kind]++
	}
	assert.Equal(t, map[string]int{"hold": 1, "refund": 1}, kinds, "one hold and one refund: %+v", ledger)

	res, err := c.QueryWorkflow(ctx, cases.CaseWorkflowID(opened.ID), "", cases.QueryCase)
	require.NoError(t, err)
	var cv cases.CaseView
	require.NoError(t, res.Get(&cv))
	assert.Equal(t, vocab.TeamTrustSafety, cv.Team, "the silent seller escalated the case to trust_safety")
	seen := map[string]bool{}
	for _, e := range cv.Timeline {
		seen[e.Kind] = true
	}
	for _, k := range []string{cases.EventDisputeStarted, "dispute_opened", "dispute_seller_late", "dispute_refunded", cases.EventEscalated} {
		assert.True(t, seen[k], "the case timeline shows %s", k)
	}

	// The lost dispute counts towards the seller's fraud watch.
	watch := fraud.WorkflowID(fraud.PartySeller, "seller-"+order)
	t.Cleanup(func() { _ = c.TerminateWorkflow(ctx, watch, "", "test over") })
	require.Eventually(t, func() bool {
		res, err := c.QueryWorkflow(ctx, watch, "", fraud.QueryWatch)
		if err != nil {
			return false
		}
		var w fraud.View
		return res.Get(&w) == nil && len(w.Recent) == 1 && w.Recent[0].Kind == fraud.KindDisputeLost
	}, 20*time.Second, 100*time.Millisecond, "the seller's fraud watch counts the lost dispute")

	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		stacktest.WriteHistory(t, c, disputes.WorkflowID(id), "", filepath.Join("testdata", "dispute-seller-silent-"+name+".json"))
	}
}

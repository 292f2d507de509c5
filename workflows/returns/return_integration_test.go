//go:build integration

package returns_test

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
	"handoff/workflows/fraud"
	"handoff/workflows/returns"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// A return on the real stack: a return_request case starts it, the carrier
// stand-in makes the label, tracking events move it, the seller's
// inspection refunds through the payments stand-in, whose ledger shows one
// refund. HANDOFF_RECORD_HISTORY=<name> keeps the return's history.
func TestAReturnGoesFromLabelToRefundOnce(t *testing.T) {
	ctx := stacktest.Context(t)
	c := stacktest.Temporal(t)
	cfg := stackworker.Start(t, stacktest.Config(t), "test-return")
	book, err := sla.Load(cfg.SLAPolicyFile)
	require.NoError(t, err)

	order := fmt.Sprintf("ord-%d", time.Now().UnixNano())
	opened, err := cases.Opener{Temporal: c, Book: book, TaskQueue: cfg.Temporal.TaskQueue}.Open(ctx, cases.OpenRequest{
		Category: vocab.CategoryReturnRequest, Subject: "The headset is broken", Description: "It arrived cracked.",
		Customer: vocab.Customer{ID: "cus-" + order, Email: order + "@example.com", Name: "Ada", Locale: "en"},
		OrderID:  order, Channel: "web", OpenedBy: "test",
	}, vocab.Once{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.TerminateWorkflow(ctx, cases.CaseWorkflowID(opened.ID), "", "test over") })

	addr := vocab.Address{Name: "Ada", Line1: "1 rue de la Paix", City: "Paris", PostalCode: "75002", Country: "FR"}
	shop := vocab.Address{Name: "Shop", Line1: "2 Hauptstrasse", City: "Berlin", PostalCode: "10115", Country: "DE"}
	paid := vocab.Money{Minor: 4999, Currency: "EUR"}
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: cases.CaseWorkflowID(opened.ID), UpdateName: cases.UpdateStartReturn, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{cases.ReturnRequest{Actor: "agent:ines", Return: returns.Input{
			SellerID: "seller-1", Item: returns.Item{SKU: "HS-1", Name: "Headset", Returnable: true}, Paid: paid,
			DeliveredAt: time.Now().Add(-72 * time.Hour), Reason: returns.Reasons[0], Description: "cracked",
			From: addr, To: shop, WeightGrams: 800, Policy: returns.DefaultPolicy(),
		}}}})
	require.NoError(t, err)
	var view cases.CaseView
	require.NoError(t, h.Get(ctx, &view))
	require.NotNil(t, view.Return)
	id := view.Return.ID

	r := awaitReturn(t, c, id, func(v returns.View) bool { return v.Status == returns.StatusLabelSent })
	require.NotEmpty(t, r.TrackingNumber)
	require.NotNil(t, r.Label)
	track := func(eventID, kind string) {
		require.NoError(t, c.SignalWorkflow(ctx, returns.WorkflowID(id), "", vocab.SignalTracking,
			vocab.TrackingEvent{ID: eventID, Kind: kind, TrackingNumber: r.TrackingNumber, At: time.Now()}))
	}
	track("evt-1-"+order, vocab.TrackingShipped)
	track("evt-1-"+order, vocab.TrackingShipped) // the carrier's retry
	awaitReturn(t, c, id, func(v returns.View) bool { return v.Status == returns.StatusShipped })
	track("evt-2-"+order, vocab.TrackingDelivered)
	awaitReturn(t, c, id, func(v returns.View) bool { return v.Status == returns.StatusReceived })

	uh, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: returns.WorkflowID(id), UpdateName: returns.UpdateInspect, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{returns.InspectInput{Actor: "integration:shop", Outcome: returns.OutcomeRefundFull}}})
	require.NoError(t, err)
	require.NoError(t, uh.Get(ctx, nil))

	var final returns.View
	require.NoError(t, c.GetWorkflow(ctx, returns.WorkflowID(id), "").Get(ctx, &final))
	assert.Equal(t, returns.StatusRefunded, final.Status)
	require.NotNil(t, final.Refund)
	assert.Equal(t, paid, final.Refund.Amount)

	ledger, err := stacktest.PaymentsLedger(ctx, cfg, order)
	require.NoError(t, err)
	require.Len(t, ledger, 1, "one refund in the ledger: %+v", ledger)
	assert.Equal(t, "refund", ledger[0].Kind)
	assert.Equal(t, paid.Minor, ledger[0].Amount.Minor)
	assert.Equal(t, returns.RefundKey(id), ledger[0].IdempotencyKey)

	// The case's timeline shows each step.
	kinds := map[string]bool{}
	require.Eventually(t, func() bool {
		res, err := c.QueryWorkflow(ctx, cases.CaseWorkflowID(opened.ID), "", cases.QueryCase)
		require.NoError(t, err)
		var v cases.CaseView
		require.NoError(t, res.Get(&v))
		for _, e := range v.Timeline {
			kinds[e.Kind] = true
		}
		return kinds["return_refunded"]
	}, 30*time.Second, 200*time.Millisecond)
	for _, k := range []string{cases.EventReturnStarted, "return_label_sent", "return_shipped", "return_received", "return_inspected"} {
		assert.True(t, kinds[k], "the case timeline shows %s", k)
	}

	// The return counts as a refund request towards the buyer's fraud watch.
	watch := fraud.WorkflowID(fraud.PartyBuyer, "cus-"+order)
	t.Cleanup(func() { _ = c.TerminateWorkflow(ctx, watch, "", "test over") })
	require.Eventually(t, func() bool {
		res, err := c.QueryWorkflow(ctx, watch, "", fraud.QueryWatch)
		if err != nil {
			return false
		}
		var w fraud.View
		return res.Get(&w) == nil && len(w.Recent) == 1 && w.Recent[0].Kind == fraud.KindRefundRequested
	}, 20*time.Second, 100*time.Millisecond, "the buyer's fraud watch counts the refund request")

	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		stacktest.WriteHistory(t, c, returns.WorkflowID(id), "", filepath.Join("testdata", "return-refunded-"+name+".json"))
		stacktest.WriteHistory(t, c, cases.CaseWorkflowID(opened.ID), "",
			filepath.Join("..", "cases", "testdata", "supportcase-return-"+name+".json"))
	}
}

// awaitReturn polls the return's query until ok.
func awaitReturn(t *testing.T, c client.Client, id string, ok func(returns.View) bool) returns.View {
	t.Helper()
	var v returns.View
	require.Eventually(t, func() bool {
		res, err := c.QueryWorkflow(stacktest.Context(t), returns.WorkflowID(id), "", returns.QueryReturn)
		if err != nil {
			return false
		}
		require.NoError(t, res.Get(&v))
		return ok(v)
	}, 30*time.Second, 100*time.Millisecond, "return %s never got there; last %+v", id, v)
	return v
}

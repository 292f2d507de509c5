//go:build integration

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"handoff/stacktest"
	"handoff/workflows/returns"
	"handoff/workflows/vocab"
)

// TestARefundMovesMoneyOnceAcrossAWorkerKill kills the worker with SIGKILL
// once the payments stand-in has committed a return's refund, with the
// stand-in told to fail its answer after the commit (as a crash between the
// provider's write and its reply would): the next worker retries the
// activity under the same idempotency key, and the ledger shows one refund.
func TestARefundMovesMoneyOnceAcrossAWorkerKill(t *testing.T) {
	c := stacktest.Temporal(t)
	ctx := stacktest.Context(t)
	cfg := stacktest.Config(t)
	queue := fmt.Sprintf("test-refund-crash-%d", time.Now().UnixNano())
	a := startWorkerProcess(t, queue)

	id := fmt.Sprintf("RK-%d", time.Now().UnixNano())
	order := "ord-" + id
	addr := vocab.Address{Name: "Ada", Line1: "1 rue de la Paix", City: "Paris", PostalCode: "75002", Country: "FR"}
	paid := vocab.Money{Minor: 1250, Currency: "EUR"}
	in := returns.Input{ID: id, CaseID: "no-case-" + id, OrderID: order,
		Buyer:    vocab.Customer{ID: "cus-" + id, Email: "cus-" + id + "@example.com", Locale: "en"},
		SellerID: "seller-1", Item: returns.Item{SKU: "S", Name: "Mouse", Returnable: true}, Paid: paid,
		DeliveredAt: time.Now().Add(-time.Hour), Reason: returns.Reasons[0], From: addr, To: addr, WeightGrams: 300,
		Policy: returns.DefaultPolicy(), OpenedAt: time.Now().UTC()}
	opts := returns.ChildOptions(in, queue)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: opts.WorkflowID, TaskQueue: queue,
		TypedSearchAttributes: opts.TypedSearchAttributes}, returns.WorkflowType, in)
	require.NoError(t, err)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.TerminateWorkflow(cctx, run.GetID(), "", "test over")
	})

	var tracking string
	await := func(status returns.Status) {
		t.Helper()
		require.Eventually(t, func() bool {
			res, err := c.QueryWorkflow(ctx, run.GetID(), "", returns.QueryReturn)
			if err != nil {
				return false
			}
			var v returns.View
			require.NoError(t, res.Get(&v))
			tracking = v.TrackingNumber
			return v.Status == status
		}, 30*time.Second, 100*time.Millisecond, "the return never got %s", status)
	}
	await(returns.StatusLabelSent)
	for i, kind := range []string{vocab.TrackingShipped, vocab.TrackingDelivered} {
		require.NoError(t, c.SignalWorkflow(ctx, run.GetID(), "", vocab.SignalTracking,
			vocab.TrackingEvent{ID: fmt.Sprintf("%s-%d", id, i), Kind: kind, TrackingNumber: tracking, At: time.Now()}))
	}
	// The signals are taken in their own workflow tasks: the inspection
	// waits for the parcel to be received.
	await(returns.StatusReceived)

	// The next refund commits, then its answer fails.
	fault, err := http.Post(cfg.Commerce.PaymentsURL+"/faults", "application/json",
		bytes.NewReader([]byte(`{"fail_next": 1, "status": 503, "after_commit": true}`)))
	require.NoError(t, err)
	fault.Body.Close()
	require.Less(t, fault.StatusCode, 300, "faults set")

	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), UpdateName: returns.UpdateInspect,
		WaitForStage: client.WorkflowUpdateStageCompleted,
		Args:         []any{returns.InspectInput{Actor: "integration:shop", Outcome: returns.OutcomeRefundFull}}})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, nil))

	// Kill the worker as soon as the money has moved.
	require.Eventually(t, func() bool {
		l, err := stacktest.PaymentsLedger(ctx, cfg, order)
		return err == nil && len(l) > 0
	}, 30*time.Second, 20*time.Millisecond, "the refund never reached the provider")
	require.NoError(t, a.Process.Signal(syscall.SIGKILL))
	_ = a.Wait()
	startWorkerProcess(t, queue)

	var final returns.View
	require.NoError(t, run.Get(ctx, &final))
	assert.Equal(t, returns.StatusRefunded, final.Status)
	l, err := stacktest.PaymentsLedger(ctx, cfg, order)
	require.NoError(t, err)
	require.Len(t, l, 1, "one refund in the ledger after the kill: %+v", l)
	assert.Equal(t, "refund", l[0].Kind)
	assert.Equal(t, paid.Minor, l[0].Amount.Minor)
	assert.Equal(t, returns.RefundKey(id), l[0].IdempotencyKey)
}

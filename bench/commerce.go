package bench

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"go.temporal.io/sdk/converter"

	"handoff/workflows/disputes"
	"handoff/workflows/returns"
	"handoff/workflows/vocab"
)

// benchAddress is the address of the bench's buyers and sellers.
var benchAddress = map[string]string{"name": "Bench", "line1": "1 rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"}

// returnLifecycle drives one standard return: a return_request case, its
// return started, the label made, the parcel shipped and delivered (the
// carrier's tracking events, signalled as the API's webhook does), the
// seller's inspection refunding in full through the payments stand-in;
// the refund ends the return's workflow. It answers the return's workflow
// id and the API calls it made.
func (e *Env) returnLifecycle(ctx context.Context) (string, int, error) {
	c, err := e.openCase(ctx, vocab.CategoryReturnRequest, vocab.P3)
	if err != nil {
		return "", 0, err
	}
	var started struct {
		Return struct {
			ID string `json:"id"`
		} `json:"return"`
	}
	body := map[string]any{
		"order_id": "bench-order-" + c.ID, "seller_id": "bench-seller",
		"item": map[string]any{"sku": "B-1", "name": "Bench headset", "returnable": true},
		"paid": map[string]any{"minor": 4999, "currency": "EUR"}, "delivered_at": time.Now().Add(-48 * time.Hour),
		"reason": returns.Reasons[0], "from": benchAddress, "to": benchAddress, "weight_grams": 800,
	}
	if err := e.call(ctx, http.MethodPost, "/v1/cases/"+c.ID+"/returns", body, &started); err != nil {
		return "", 1, err
	}
	wid := returns.WorkflowID(started.Return.ID)
	if err := e.awaitStatus(ctx, wid, vocab.ReturnStatusKey.GetName(), string(returns.StatusLabelSent)); err != nil {
		return wid, 2, err
	}
	res, err := e.Temporal.QueryWorkflow(ctx, wid, "", returns.QueryReturn)
	if err != nil {
		return wid, 2, fmt.Errorf("read return %s: %w", wid, err)
	}
	var v returns.View
	if err := res.Get(&v); err != nil {
		return wid, 2, err
	}
	for i, kind := range []string{vocab.TrackingShipped, vocab.TrackingDelivered} {
		ev := vocab.TrackingEvent{ID: fmt.Sprintf("%s-%d", wid, i), Kind: kind, TrackingNumber: v.TrackingNumber, At: time.Now()}
		if err := e.Temporal.SignalWorkflow(ctx, wid, "", vocab.SignalTracking, ev); err != nil {
			return wid, 2, fmt.Errorf("track return %s: %w", wid, err)
		}
	}
	if err := e.awaitStatus(ctx, wid, vocab.ReturnStatusKey.GetName(), string(returns.StatusReceived)); err != nil {
		return wid, 2, err
	}
	if err := e.call(ctx, http.MethodPost, "/v1/returns/"+started.Return.ID+"/inspection",
		map[string]string{"outcome": string(returns.OutcomeRefundFull)}, nil); err != nil {
		return wid, 3, err
	}
	return wid, 3, nil // open the case, start the return, inspect
}

// disputeLifecycle drives one standard dispute: a dispute case, its
// dispute opened (the seller's funds held), the seller accepting (the
// buyer refunded in full), and the appeal window of the bench's policy
// running out, which ends the dispute's workflow.
func (e *Env) disputeLifecycle(ctx context.Context) (string, int, error) {
	c, err := e.openCase(ctx, vocab.CategoryDispute, vocab.P2)
	if err != nil {
		return "", 0, err
	}
	var started struct {
		Dispute struct {
			ID string `json:"id"`
		} `json:"dispute"`
	}
	body := map[string]any{
		"order_id": "bench-order-" + c.ID, "seller_id": "bench-seller", "seller_region": "fr",
		"amount": map[string]any{"minor": 29900, "currency": "EUR"}, "reason": disputes.Reasons[0],
		"description": "never arrived",
	}
	if err := e.call(ctx, http.MethodPost, "/v1/cases/"+c.ID+"/disputes", body, &started); err != nil {
		return "", 1, err
	}
	wid := disputes.WorkflowID(started.Dispute.ID)
	if err := e.call(ctx, http.MethodPost, "/v1/disputes/"+started.Dispute.ID+"/seller-response",
		map[string]string{"kind": disputes.RespondAccept}, nil); err != nil {
		return wid, 2, err
	}
	return wid, 3, nil // open the case, open the dispute, the seller's answer
}

// awaitStatus waits until the keyword-list search attribute name of
// workflowID holds status, read from the execution's description (no
// query, so no billable action).
func (e *Env) awaitStatus(ctx context.Context, workflowID, name, status string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		d, err := e.Temporal.DescribeWorkflowExecution(ctx, workflowID, "")
		if err == nil {
			if p := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[name]; p != nil {
				var got []string
				if converter.GetDefaultDataConverter().FromPayload(p, &got) == nil && slices.Contains(got, status) {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s never reached %s %s", workflowID, name, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

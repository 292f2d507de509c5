package returns

import (
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/fraud"
	"handoff/workflows/vocab"
)

// The money: the refund asked of the payment provider once the outcome is
// decided (and approved), and its settlement when the provider first
// answered pending.

// refund asks the provider for the refund or store credit, idempotent on
// the return's refund key. Succeeded ends the return refunded; pending
// waits for the payment-result signal; failed, refused or still failing
// after a day of retries ends it refund_failed and escalates the case.
func (r *itemReturn) refund(ctx workflow.Context) {
	r.refundAsked = true
	reason := fmt.Sprintf("return %s of order %s: %s", r.in.ID, r.in.OrderID, r.view.Outcome)
	if i := r.view.Inspection; i != nil && i.Reason != "" {
		reason += " (" + i.Reason + ")"
	}
	req := vocab.RefundRequest{Key: RefundKey(r.in.ID), OrderID: r.in.OrderID, BuyerID: r.in.Buyer.ID,
		Amount: r.view.Amount, Reason: reason, StoreCredit: r.view.StoreCredit}
	var m vocab.Movement
	err := workflow.ExecuteActivity(commerceOptions(ctx, "refund "+r.view.Amount.String()), vocab.ActivityRefund, req).Get(ctx, &m)
	if err != nil {
		why, refused := failure(err)
		r.refundFailed(ctx, vocab.SystemActor, why, refused)
		return
	}
	r.view.Refund = &m
	switch m.Status {
	case vocab.MovementSucceeded:
		r.refunded(ctx, vocab.SystemActor)
	case vocab.MovementPending:
		r.step(ctx, vocab.SystemActor, EventRefundPending, vocab.Payload("movement_id", m.ID, "amount", r.view.Amount.String()))
	default:
		r.refundFailed(ctx, vocab.SystemActor, "the payment provider answered "+m.Status, false)
	}
}

// takePayments settles a pending refund by the payment results that
// arrived. A result for another movement, or one seen before, changes
// nothing; one that comes before the provider's first answer waits for it.
func (r *itemReturn) takePayments(ctx workflow.Context) {
	keep := r.payments[:0]
	for _, p := range r.payments {
		switch {
		case p.Key != RefundKey(r.in.ID) || (p.EventID != "" && r.seenPayments[p.EventID]):
			workflow.GetLogger(ctx).Info("payment result ignored", "return", r.in.ID, "event", p.EventID, "key", p.Key)
		case r.view.Refund == nil && !r.ended():
			keep = append(keep, p)
		case r.view.Status == StatusRefunding && r.view.Refund.Status == vocab.MovementPending:
			if p.EventID != "" {
				r.seenPayments[p.EventID] = true
			}
			r.settle(ctx, p)
		}
	}
	r.payments = keep
}

// settle ends a pending refund as the provider's result says; a result
// still pending changes nothing.
func (r *itemReturn) settle(ctx workflow.Context, p vocab.PaymentResult) {
	if p.Status != vocab.MovementSucceeded && p.Status != vocab.MovementFailed {
		return
	}
	m := *r.view.Refund
	m.Status = p.Status
	r.view.Refund = &m
	if p.Status == vocab.MovementSucceeded {
		r.refunded(ctx, paymentsActor)
		return
	}
	why := "the payment provider failed the refund"
	if p.Reason != "" {
		why += ": " + p.Reason
	}
	r.refundFailed(ctx, paymentsActor, why, false)
}

// refunded ends the return and has the case tell the buyer the amount
// (refunded, or credited to their balance).
func (r *itemReturn) refunded(ctx workflow.Context, actor string) {
	notice := EventRefunded
	if r.view.StoreCredit {
		notice = NoticeCredited
	}
	r.view.Status = StatusRefunded
	r.step(ctx, actor, EventRefunded, vocab.Payload("movement_id", r.view.Refund.ID, "amount", r.view.Amount.String(),
		"store_credit", strconv.FormatBool(r.view.StoreCredit)),
		tellBuyer(notice, r.view.Amount.String()))
}

// refundFailed ends the return without its refund and escalates the case
// to trust and safety, who pay the buyer another way.
func (r *itemReturn) refundFailed(ctx workflow.Context, actor, why string, refused bool) {
	r.view.Status, r.view.StatusReason = StatusRefundFailed, why
	movement := ""
	if r.view.Refund != nil {
		movement = r.view.Refund.ID
	}
	r.step(ctx, actor, EventRefundFailed, vocab.Payload("movement_id", movement, "amount", r.view.Amount.String(),
		"error", why, "refused", strconv.FormatBool(refused)),
		escalate(fmt.Sprintf("refund of %s for return %s (order %s) failed: %s", r.view.Amount, r.in.ID, r.in.OrderID, why)))
}

// changeFraudSignals is the workflow.GetVersion change id under which a
// return is reported to the buyer's fraud watch as a refund request;
// older histories replay without the report.
const changeFraudSignals = "fraud-signals"

// reportRefundRequest tells the buyer's fraud watch the buyer asked for a
// refund, once per return (the watch counts the behaviour id once). A
// report that cannot be made is logged; the return goes on.
func (r *itemReturn) reportRefundRequest(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second, ScheduleToCloseTimeout: time.Hour, Summary: "tell the buyer's fraud watch",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	err := workflow.ExecuteActivity(actx, fraud.ActivityReportBehaviour, fraud.Report{
		Party: fraud.PartyBuyer, PartyID: r.in.Buyer.ID, Behaviour: fraud.Behaviour{
			ID: WorkflowID(r.in.ID) + "/refund-requested", Kind: fraud.KindRefundRequested, At: r.in.OpenedAt, Amount: r.in.Paid,
			Detail:     fmt.Sprintf("return %s of order %s from seller %s (%s)", r.in.ID, r.in.OrderID, r.in.SellerID, r.in.Reason),
			ReportedBy: vocab.SystemActor,
		}}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("fraud watch not told of the refund request", "return", r.in.ID, "error", err)
	}
}

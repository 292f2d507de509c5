package disputes

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/fraud"
	"handoff/workflows/vocab"
)

// The money of a dispute: the seller's hold at the opening, then each
// decision carried out as a saga that never leaves money in two places.
// The refund goes first; the hold is released only after it succeeded, and
// only when the decision leaves the seller money. A refund that fails
// releases nothing; a release that fails after a refund is escalated. A
// later decision (after an appeal) refunds only what the buyer has not had
// yet and releases only a hold still held.

// holdFunds holds the disputed amount of the seller's funds. A hold that
// fails for good (refused, or the provider unreachable for an hour) is
// recorded and the dispute goes on with nothing held: the seller must
// still be told in time.
func (d *dispute) holdFunds(ctx workflow.Context) {
	req := vocab.HoldRequest{Key: WorkflowID(d.in.ID) + "/hold", SellerID: d.in.SellerID, OrderID: d.in.OrderID,
		Amount: d.in.Amount, Reason: "dispute " + d.in.ID + ": " + d.in.Reason}
	actx := moneyOptions(ctx, "hold "+d.in.Amount.String()+" of seller "+d.in.SellerID, time.Hour)
	var m vocab.Movement
	if err := workflow.ExecuteActivity(actx, vocab.ActivityHoldFunds, req).Get(ctx, &m); err != nil {
		d.view.Funds.HoldState, d.view.Funds.HoldError = HoldNone, message(fmt.Errorf("hold %s: %w", req.Key, err))
		return
	}
	d.view.Funds.Hold, d.view.Funds.HoldState = &m, HoldHeld
}

// execute carries out the latest decision: the refund it still owes, then
// the hold (kept to cover a full refund, else released to the seller).
// It resolves the dispute, or marks its execution failed and escalates.
func (d *dispute) execute(ctx workflow.Context) {
	dec := *d.view.Decision
	owed := vocab.Money{Minor: max(0, dec.Amount.Minor-d.view.Funds.Refunded.Minor), Currency: d.in.Amount.Currency}
	if owed.Minor > 0 {
		m, err := d.refund(ctx, dec, owed)
		if err != nil {
			d.failExecution(ctx, "refund", fmt.Sprintf("the refund of %s for decision %d failed (%s); nothing was released, the hold stays as it was",
				owed, dec.N, message(err)), "amount", owed.String(), "movement_id", m.ID)
			return
		}
		d.view.Funds.Refunded.Minor += owed.Minor
		d.record(ctx, vocab.SystemActor, EventRefunded, vocab.CaseEvent{},
			"decision", itoa(dec.N), "amount", owed.String(), "movement_id", m.ID, "refunded", d.view.Funds.Refunded.String())
		d.changed(ctx)
	}
	if f := d.view.Funds; f.HoldState == HoldHeld || f.HoldState == HoldKept {
		if dec.Outcome == OutcomeRefundFull {
			d.keepHold(ctx, dec)
		} else if err := d.releaseHold(ctx, dec); err != nil {
			d.failExecution(ctx, "release", fmt.Sprintf("the buyer has %s refunded, but the hold %s could not be released to the seller (%s)",
				d.view.Funds.Refunded, f.Hold.ID, message(err)), "hold_id", f.Hold.ID)
			return
		}
	}
	d.resolve(ctx, dec, owed)
}

// refund pays the buyer amount for dec under a key naming the decision,
// so a retried refund pays once and a later decision's refund is a new
// one; a refund the provider answers pending waits for its settlement.
func (d *dispute) refund(ctx workflow.Context, dec Decision, amount vocab.Money) (vocab.Movement, error) {
	req := vocab.RefundRequest{Key: WorkflowID(d.in.ID) + "/refund-" + itoa(dec.N), OrderID: d.in.OrderID, BuyerID: d.in.Buyer.ID,
		Amount: amount, Reason: "dispute " + d.in.ID + ": " + dec.Outcome}
	actx := moneyOptions(ctx, "refund "+amount.String()+" to buyer "+d.in.Buyer.ID, 24*time.Hour)
	var m vocab.Movement
	if err := workflow.ExecuteActivity(actx, vocab.ActivityRefund, req).Get(ctx, &m); err != nil {
		return m, fmt.Errorf("refund %s: %w", req.Key, err)
	}
	d.view.Funds.Refunds = append(d.view.Funds.Refunds, m)
	i := len(d.view.Funds.Refunds) - 1
	if m.Status == vocab.MovementPending {
		d.record(ctx, vocab.SystemActor, EventRefundPending, vocab.CaseEvent{},
			"decision", itoa(dec.N), "amount", amount.String(), "movement_id", m.ID, "key", req.Key)
		d.changed(ctx)
		r, err := d.awaitSettlement(ctx, req.Key)
		if err != nil {
			return m, err
		}
		m.Status = r.Status
		if m.ID == "" {
			m.ID = r.MovementID
		}
		d.view.Funds.Refunds[i] = m
		if r.Status != vocab.MovementSucceeded {
			return m, fmt.Errorf("refund %s settled %s: %s", req.Key, r.Status, r.Reason)
		}
	}
	if m.Status != vocab.MovementSucceeded {
		return m, fmt.Errorf("refund %s answered %s", req.Key, m.Status)
	}
	return m, nil
}

// awaitSettlement waits for the payment result of the movement under key:
// the provider settles a pending movement when it can, and no deadline
// makes it settle sooner.
func (d *dispute) awaitSettlement(ctx workflow.Context, key string) (vocab.PaymentResult, error) {
	settled := func(r vocab.PaymentResult) bool {
		return r.Key == key && (r.Status == vocab.MovementSucceeded || r.Status == vocab.MovementFailed)
	}
	if err := workflow.Await(ctx, func() bool { return slices.ContainsFunc(d.results, settled) }); err != nil {
		return vocab.PaymentResult{}, err
	}
	return d.results[slices.IndexFunc(d.results, settled)], nil
}

// keepHold records that a full refund keeps the seller's hold: the
// marketplace covers the refund with those funds, so they are not released.
func (d *dispute) keepHold(ctx workflow.Context, dec Decision) {
	if d.view.Funds.HoldState == HoldKept {
		return
	}
	d.view.Funds.HoldState = HoldKept
	d.record(ctx, vocab.SystemActor, EventHoldKept, vocab.CaseEvent{},
		"decision", itoa(dec.N), "hold_id", d.view.Funds.Hold.ID, "amount", d.view.Funds.Hold.Amount.String())
	d.changed(ctx)
}

// releaseHold releases the whole hold to the seller, once in a dispute's
// life (one key); a release answered pending waits for its settlement.
func (d *dispute) releaseHold(ctx workflow.Context, dec Decision) error {
	hold := d.view.Funds.Hold
	req := vocab.ReleaseRequest{Key: WorkflowID(d.in.ID) + "/release", HoldID: hold.ID,
		Reason: "dispute " + d.in.ID + ": " + dec.Outcome}
	actx := moneyOptions(ctx, "release hold "+hold.ID+" to seller "+d.in.SellerID, 24*time.Hour)
	var m vocab.Movement
	if err := workflow.ExecuteActivity(actx, vocab.ActivityReleaseFunds, req).Get(ctx, &m); err != nil {
		return fmt.Errorf("release %s: %w", req.Key, err)
	}
	if m.Status == vocab.MovementPending {
		r, err := d.awaitSettlement(ctx, req.Key)
		if err != nil {
			return err
		}
		if r.Status != vocab.MovementSucceeded {
			return fmt.Errorf("release %s settled %s: %s", req.Key, r.Status, r.Reason)
		}
		m.Status = vocab.MovementReleased
	}
	d.view.Funds.Release, d.view.Funds.HoldState = &m, HoldReleased
	d.record(ctx, vocab.SystemActor, EventFundsReleased, vocab.CaseEvent{},
		"decision", itoa(dec.N), "hold_id", hold.ID, "movement_id", m.ID, "amount", hold.Amount.String())
	d.changed(ctx)
	return nil
}

// failExecution stops the dispute where its money stands and escalates
// the case to trust & safety, who sort it out with the provider.
func (d *dispute) failExecution(ctx workflow.Context, step, what string, kv ...string) {
	d.view.Status, d.view.Failure = StatusExecutionFailed, step+": "+what
	d.await("", nil)
	d.record(ctx, vocab.SystemActor, EventExecutionFailed, vocab.CaseEvent{
		EscalateTo: vocab.TeamTrustSafety, Reason: "dispute " + d.in.ID + ": " + what,
	}, append([]string{"step", step, "decision", itoa(d.view.Decision.N), "error", what, "hold", d.view.Funds.HoldState}, kv...)...)
	d.changed(ctx)
}

// resolve records the carried-out decision and tells the buyer (and the
// seller) the outcome; a decision that may be appealed opens the window,
// which runs from the decision.
func (d *dispute) resolve(ctx workflow.Context, dec Decision, refundedNow vocab.Money) {
	d.view.Status = StatusResolved
	var until *time.Time
	if !dec.Final {
		t := dec.At.Add(d.in.Policy.AppealWindow)
		until = &t
	}
	d.view.AppealUntil = until
	if until != nil {
		d.await(AwaitingEitherParty, until)
	} else {
		d.await("", nil)
	}
	said := d.resolvedText(dec, refundedNow, until)
	appealUntil := ""
	if until != nil {
		appealUntil = until.UTC().Format(timeLayout)
	}
	d.record(ctx, vocab.SystemActor, EventResolved, vocab.CaseEvent{
		Tell: []vocab.Notice{toBuyer(NoticeDecided, said), d.toSeller("dispute " + d.in.ID + " decided. " + said)},
	}, "decision", itoa(dec.N), "outcome", dec.Outcome, "refunded_now", refundedNow.String(),
		"refunded", d.view.Funds.Refunded.String(), "hold", d.view.Funds.HoldState, "appeal_until", appealUntil,
		"final", boolText(dec.Final))
	d.changed(ctx)
	if lostBySeller(dec) && workflow.GetVersion(ctx, changeFraudSignals, workflow.DefaultVersion, 1) >= 1 {
		d.reportLost(ctx, dec)
	}
}

// changeFraudSignals is the workflow.GetVersion change id under which a
// dispute the seller lost is reported to the seller's fraud watch; older
// histories replay without the report.
const changeFraudSignals = "fraud-signals"

// lostBySeller reports a decision that found for the buyer against the
// seller: trust_safety's or the policy's (on the seller's silence), not a
// refund the seller accepted or an offer the parties agreed on.
func lostBySeller(dec Decision) bool {
	return (dec.Party == PartyTrustSafety || dec.Party == PartySystem) &&
		(dec.Outcome == OutcomeRefundFull || dec.Outcome == OutcomeRefundPartial)
}

// reportLost tells the seller's fraud watch the seller lost this dispute,
// once per dispute (the watch counts the behaviour id once, whatever
// decisions an appeal adds). A report that cannot be made is logged; the
// dispute goes on.
func (d *dispute) reportLost(ctx workflow.Context, dec Decision) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second, ScheduleToCloseTimeout: time.Hour, Summary: "tell the seller's fraud watch",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	err := workflow.ExecuteActivity(actx, fraud.ActivityReportBehaviour, fraud.Report{
		Party: fraud.PartySeller, PartyID: d.in.SellerID, Behaviour: fraud.Behaviour{
			ID: WorkflowID(d.in.ID) + "/lost", Kind: fraud.KindDisputeLost, At: dec.At, Amount: dec.Amount,
			Detail:     fmt.Sprintf("dispute %s on order %s (%s): %s by %s", d.in.ID, d.in.OrderID, d.in.Reason, dec.Outcome, dec.Party),
			ReportedBy: vocab.SystemActor,
		}}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("fraud watch not told of the lost dispute", "dispute", d.in.ID, "error", err)
	}
}

// moneyOptions are the options of payment activities: short attempts
// retried with backoff under the same idempotency key for up to budget; a
// refusal (vocab.ErrTypePaymentRefused) is never retried.
func moneyOptions(ctx workflow.Context, summary string, budget time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: budget,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        2 * time.Minute,
			NonRetryableErrorTypes: []string{vocab.ErrTypePaymentRefused, vocab.ErrInvalidArgument},
		},
	})
}

// message answers what err says for people: an application error's own
// message (the provider's refusal), else the error.
func message(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

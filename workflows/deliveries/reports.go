package deliveries

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// What the delivery hears from outside: the outcomes of the cases it
// opened and suspicious signals on the delivered account.

// onCaseOutcome takes what a linked case reports: a resolution returns a
// delivery under review to delivered, a completed recovery makes it
// recovered and tells the buyer.
func (d *delivery) onCaseOutcome(ctx workflow.Context, o vocab.LinkedCaseOutcome) {
	if o.Outcome == vocab.OutcomeDisputed {
		d.onDispute(ctx, o)
		return
	}
	for i := range d.view.LinkedCases {
		if c := &d.view.LinkedCases[i]; c.CaseID == o.CaseID {
			c.Outcome = o.Outcome
			c.Open = o.Outcome != vocab.OutcomeResolved
		}
	}
	underReview := d.view.Status == StatusUnderReview
	switch {
	case underReview && o.Outcome == vocab.OutcomeRecovered:
		d.view.Status = StatusRecovered
		d.record(ctx, o.Actor, EventRecovered, vocab.Payload("case_id", o.CaseID, "detail", o.Detail))
		d.communicate(ctx, directionToBuyer, EventRecovered, o.Detail)
		d.changed(ctx)
		d.notify(ctx, EventRecovered, o.Detail)
	case underReview && o.Outcome == vocab.OutcomeResolved && !d.anyCaseOpen():
		d.view.Status = StatusDelivered
		d.record(ctx, o.Actor, EventReviewResolved, vocab.Payload("case_id", o.CaseID, "resolution", o.Detail))
		d.changed(ctx)
	default:
		// A case that ends after the delivery moved on is only recorded.
		d.record(ctx, o.Actor, EventReviewResolved, vocab.Payload("case_id", o.CaseID, "outcome", o.Outcome,
			"resolution", o.Detail, "status", string(d.view.Status)))
		d.changed(ctx)
	}
}

// onDispute takes a dispute a case opened about the delivery: the case
// joins the linked cases, open, and a live delivery goes under review until
// it resolves.
func (d *delivery) onDispute(ctx workflow.Context, o vocab.LinkedCaseOutcome) {
	linked := false
	for i := range d.view.LinkedCases {
		if c := &d.view.LinkedCases[i]; c.CaseID == o.CaseID {
			c.Open, linked = true, true
		}
	}
	if !linked {
		d.view.LinkedCases = append(d.view.LinkedCases, LinkedCase{CaseID: o.CaseID, Reason: LinkDispute, Open: true})
	}
	live := d.view.Status == StatusDelivered || d.view.Status == StatusWaitingCustomer || d.view.Status == StatusRecovered
	if live {
		d.review()
	}
	d.record(ctx, o.Actor, EventDisputed, vocab.Payload("case_id", o.CaseID, "detail", o.Detail, "status", string(d.view.Status)))
	d.changed(ctx)
}

// anyCaseOpen reports whether a linked case is still being worked.
func (d *delivery) anyCaseOpen() bool {
	for _, c := range d.view.LinkedCases {
		if c.Open {
			return true
		}
	}
	return false
}

// onAccountSignal takes a suspicious signal on the delivered account (the
// seller logging in or starting a recovery): a live delivery goes under
// review and a security case opens, which locks the account.
func (d *delivery) onAccountSignal(ctx workflow.Context, s AccountSignal) {
	d.record(ctx, s.ReportedBy, EventAccountSignal, vocab.Payload("signal", s.Kind, "detail", s.Detail, "status", string(d.view.Status)))
	if d.view.Status != StatusDelivered && d.view.Status != StatusWaitingCustomer && d.view.Status != StatusRecovered {
		d.changed(ctx)
		return
	}
	d.review()
	d.changed(ctx)
	detail := s.Kind
	if s.Detail != "" {
		detail += ": " + s.Detail
	}
	d.openLinkedCase(ctx, LinkSellerSignal, vocab.SystemActor, vocab.CategorySecurityAlert,
		fmt.Sprintf("Suspicious activity on delivered account %s (order %s)", d.in.AccountID, d.in.OrderID), detail)
}

// openLinkedCase opens a case about the delivery in the background: it
// carries the handoff record, so whoever takes it has every answer, and it
// reports its outcome back. Its id joins the linked cases once it is open.
func (d *delivery) openLinkedCase(ctx workflow.Context, reason, actor string, category vocab.Category, subject, said string) {
	n := len(d.view.LinkedCases) + d.opening + 1
	d.opening++
	req := vocab.OpenCaseRequest{
		Key: DeliveryWorkflowID(d.in.ID) + "/case/" + itoa(n), Category: category, Subject: subject,
		Description: said + "\n\n" + d.handoffText(), AccountID: d.in.AccountID, OrderID: d.in.OrderID,
		OpenedBy: actor, Channel: "account_delivery", Customer: &d.in.Buyer, DeliveryID: d.in.ID,
	}
	d.pending++
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() { d.pending--; d.opening--; d.version++ }()
		actx := workflow.WithActivityOptions(gctx, workflow.ActivityOptions{
			StartToCloseTimeout:    30 * time.Second,
			ScheduleToCloseTimeout: 24 * time.Hour,
			Summary:                "open a " + string(category) + " case",
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
				MaximumInterval: 2 * time.Minute, NonRetryableErrorTypes: []string{vocab.ErrInvalidArgument}},
		})
		var out vocab.OpenCaseResult
		if err := workflow.ExecuteActivity(actx, vocab.ActivityOpenCase, req).Get(gctx, &out); err != nil {
			workflow.GetLogger(gctx).Error("linked case not opened", "delivery", d.in.ID, "error", err)
			d.record(gctx, vocab.SystemActor, EventCaseLinked, vocab.Payload("reason", reason, "error", err.Error()))
			d.changed(gctx)
			return
		}
		d.view.LinkedCases = append(d.view.LinkedCases, LinkedCase{CaseID: out.CaseID, Reason: reason, Open: true})
		d.record(gctx, vocab.SystemActor, EventCaseLinked, vocab.Payload("case_id", out.CaseID, "reason", reason))
		d.changed(gctx)
	})
}

// handoffText is the handoff record as a case's description carries it.
func (d *delivery) handoffText() string {
	h, rp := d.view.Handoff, d.view.Handoff.RecoveryPath
	delivered := "not yet"
	if h.DeliveredAt != nil {
		delivered = h.DeliveredAt.UTC().Format(timeLayout)
	}
	lines := []string{
		"Delivery " + d.in.ID + " (" + d.in.Product + ", " + d.in.Region + "), seller " + d.in.SellerID,
		"Account: " + h.AccountID,
		"Order: " + h.OrderID,
		"Delivered at: " + delivered,
		fmt.Sprintf("Recovery path: email %q, phone %q, backup codes held %t, reset by %s", rp.Email, rp.Phone, rp.BackupCodesHeld, rp.ResetBy),
		"Allowed use: " + h.AllowedUse,
	}
	if c := h.LatestCommunication; c != nil {
		lines = append(lines, fmt.Sprintf("Latest communication: %s %s (%s) %s", strings.ReplaceAll(c.Direction, "_", " "),
			c.At.UTC().Format(timeLayout), c.Kind, c.Summary))
	}
	return strings.Join(lines, "\n")
}

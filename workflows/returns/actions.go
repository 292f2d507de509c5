package returns

import (
	"fmt"
	"slices"
	"strconv"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// Validators only read the state; a refusal leaves the return as it was
// and no trace in its history. Handlers change the state and answer the
// return as it now is; run does the work the new status calls for.

// allow refuses action unless the return is in one of statuses.
func (r *itemReturn) allow(action string, statuses ...Status) error {
	if slices.Contains(statuses, r.view.Status) {
		return nil
	}
	return vocab.Refuse(action, "return", string(r.view.Status))
}

func (r *itemReturn) validateInspect(in InspectInput) error {
	if err := r.allow("inspect", StatusReceived); err != nil {
		return err
	}
	if err := vocab.Required("actor", in.Actor); err != nil {
		return err
	}
	paid := r.in.Paid
	switch in.Outcome {
	case OutcomeRefundPartial:
		if in.Amount.Currency != paid.Currency {
			return vocab.InvalidArgument(fmt.Sprintf("amount.currency: want %q, the currency paid, got %q", paid.Currency, in.Amount.Currency))
		}
		if in.Amount.Minor < 1 || in.Amount.Minor > paid.Minor {
			return vocab.InvalidArgument(fmt.Sprintf("amount: want 1 to %d minor units (%s was paid), got %d", paid.Minor, paid, in.Amount.Minor))
		}
		return vocab.Required("reason", in.Reason)
	case OutcomeReject:
		if in.Amount != (vocab.Money{}) {
			return vocab.InvalidArgument("amount: only a refund_partial takes an amount")
		}
		return vocab.Required("reason", in.Reason)
	case OutcomeRefundFull, OutcomeStoreCredit:
		if in.Amount != (vocab.Money{}) {
			return vocab.InvalidArgument("amount: only a refund_partial takes an amount")
		}
		return nil
	default:
		return vocab.InvalidArgument(fmt.Sprintf("outcome: want refund_full, refund_partial, store_credit or reject, got %q", in.Outcome))
	}
}

// inspect takes the seller's inspection and decides the return by it.
func (r *itemReturn) inspect(ctx workflow.Context, in InspectInput) (View, error) {
	r.decide(ctx, Inspection{Actor: in.Actor, Outcome: in.Outcome, Amount: in.Amount, Reason: in.Reason})
	return r.result(), nil
}

// inspectByPolicy decides the return by the policy's outcome when the
// seller did not inspect in time.
func (r *itemReturn) inspectByPolicy(ctx workflow.Context) {
	r.decide(ctx, Inspection{Actor: vocab.SystemActor, Outcome: r.in.Policy.OnNoInspection, ByPolicy: true,
		Reason: "not inspected by " + stamp(*r.view.InspectBy)})
}

// decide records the inspection and moves the return by its outcome: a
// rejection ends it (the buyer is told, trust and safety hear the
// seller's reason), a refund above the approval limit waits for trust and
// safety, any other refund is paid next.
func (r *itemReturn) decide(ctx workflow.Context, insp Inspection) {
	insp.At = workflow.Now(ctx)
	r.view.Inspection, r.view.Outcome = &insp, insp.Outcome
	switch insp.Outcome {
	case OutcomeRefundFull:
		r.view.Amount = r.in.Paid
	case OutcomeRefundPartial:
		r.view.Amount = insp.Amount
	case OutcomeStoreCredit:
		r.view.Amount, r.view.StoreCredit = r.in.Paid, true
	}
	approval := insp.Outcome != OutcomeReject && r.needsApproval(r.view.Amount)
	switch {
	case insp.Outcome == OutcomeReject:
		r.view.Status, r.view.StatusReason = StatusRejected, insp.Reason
	case approval:
		r.view.Status = StatusAwaitingApproval
	default:
		r.view.Status = StatusRefunding
	}
	amount := ""
	if insp.Outcome != OutcomeReject {
		amount = r.view.Amount.String()
	}
	r.step(ctx, insp.Actor, EventInspected, vocab.Payload("outcome", string(insp.Outcome), "amount", amount,
		"reason", insp.Reason, "by_policy", strconv.FormatBool(insp.ByPolicy)))
	switch {
	case insp.Outcome == OutcomeReject:
		who := "the seller"
		if insp.ByPolicy {
			who = "the return policy"
		}
		r.step(ctx, insp.Actor, EventRejected, vocab.Payload("reason", insp.Reason),
			tellBuyer(EventRejected, insp.Reason),
			escalate(fmt.Sprintf("%s rejected return %s (order %s): %s", who, r.in.ID, r.in.OrderID, insp.Reason)))
	case approval:
		limit := r.in.Policy.ApprovalAbove
		r.step(ctx, vocab.SystemActor, EventApprovalRequested, vocab.Payload("amount", amount, "limit", limit.String()),
			escalate(fmt.Sprintf("refund of %s for return %s (order %s) needs approval: it is above %s", amount, r.in.ID, r.in.OrderID, limit)))
	}
}

// needsApproval reports that a refund of amount is above the policy's
// approval limit; a zero limit never asks.
func (r *itemReturn) needsApproval(amount vocab.Money) bool {
	limit := r.in.Policy.ApprovalAbove
	return limit.Minor > 0 && amount.Minor > limit.Minor
}

func (r *itemReturn) validateApproveRefund(in ApprovalInput) error {
	if err := r.allow("approve the refund", StatusAwaitingApproval); err != nil {
		return err
	}
	if err := vocab.Required("actor", in.Actor); err != nil {
		return err
	}
	if !in.Approve {
		return vocab.Required("reason", in.Reason)
	}
	return nil
}

// approveRefund takes trust and safety's answer: an approval lets the
// refund be paid, a denial rejects the return and the buyer is told why.
func (r *itemReturn) approveRefund(ctx workflow.Context, in ApprovalInput) (View, error) {
	r.view.Approval = &Approval{Actor: in.Actor, Approve: in.Approve, Reason: in.Reason, At: workflow.Now(ctx)}
	payload := vocab.Payload("amount", r.view.Amount.String(), "reason", in.Reason)
	if in.Approve {
		r.view.Status = StatusRefunding
		r.step(ctx, in.Actor, EventApproved, payload)
		return r.result(), nil
	}
	r.view.Status, r.view.StatusReason = StatusRejected, in.Reason
	r.step(ctx, in.Actor, EventDenied, payload, tellBuyer(EventRejected, in.Reason))
	return r.result(), nil
}

func (r *itemReturn) validateCancel(in CancelInput) error {
	if err := r.allow("cancel", StatusRequested, StatusLabelSent); err != nil {
		return err
	}
	return vocab.Required("actor", in.Actor)
}

// cancel ends a return whose item has not been shipped yet.
func (r *itemReturn) cancel(ctx workflow.Context, in CancelInput) (View, error) {
	r.view.Status, r.view.StatusReason = StatusCancelled, in.Reason
	r.step(ctx, in.Actor, EventCancelled, vocab.Payload("reason", in.Reason))
	return r.result(), nil
}

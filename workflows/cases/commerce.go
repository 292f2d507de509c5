package cases

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/disputes"
	"handoff/workflows/returns"
	"handoff/workflows/vocab"
)

// Categories whose cases may start a return, and open a dispute.
var (
	returnCategories  = []vocab.Category{vocab.CategoryReturnRequest, vocab.CategoryDefectiveItem}
	disputeCategories = []vocab.Category{vocab.CategoryDispute}
)

// running reports whether flow is set and still going.
func running(flow *AccountFlow) bool { return flow != nil && flow.Running }

func (c *supportCase) validateStartReturn(in ReturnRequest) error {
	if err := c.authorize("start a return", in.ActorTeam); err != nil {
		return err
	}
	if err := c.allow("start a return", activeStatuses...); err != nil {
		return err
	}
	if !slices.Contains(returnCategories, c.view.Category) {
		return vocab.InvalidArgument(fmt.Sprintf("category: a %s case starts no return (only return_request and defective_item)", c.view.Category))
	}
	if running(c.view.Return) {
		return vocab.Refuse("start a return", "return "+c.view.Return.ID+" is", "running")
	}
	return c.returnInput(in, c.view.UpdatedAt).Validate()
}

// returnInput is in's return as the case starts it: numbered after the
// case, reporting to it, for its customer, opened at now.
func (c *supportCase) returnInput(in ReturnRequest, now time.Time) returns.Input {
	r := in.Return
	r.ID = c.in.ID + "-R" + strconv.Itoa(c.returns+1)
	r.CaseID = c.in.ID
	r.Buyer = c.view.Customer
	if r.OrderID == "" {
		r.OrderID = c.view.OrderID
	}
	r.OpenedAt = now
	return r
}

func (c *supportCase) startReturn(ctx workflow.Context, in ReturnRequest) (CaseView, error) {
	r := c.returnInput(in, workflow.Now(ctx))
	c.returns++
	flow := &AccountFlow{ID: r.ID, WorkflowID: returns.WorkflowID(r.ID), Running: true}
	c.view.Return = flow
	c.record(ctx, in.Actor, EventReturnStarted, vocab.Payload("return_id", r.ID, "order_id", r.OrderID, "reason", r.Reason))
	c.runChildWith(ctx, flow, returns.ChildOptions(r, ""), returns.WorkflowType, r,
		func(ctx workflow.Context, f workflow.ChildWorkflowFuture) string {
			var out returns.View
			if err := f.Get(ctx, &out); err != nil {
				return "failed"
			}
			return string(out.Status)
		})
	return c.result(), nil
}

func (c *supportCase) validateOpenDispute(in DisputeRequest) error {
	if err := c.authorize("open a dispute", in.ActorTeam); err != nil {
		return err
	}
	if err := c.allow("open a dispute", activeStatuses...); err != nil {
		return err
	}
	if !slices.Contains(disputeCategories, c.view.Category) {
		return vocab.InvalidArgument(fmt.Sprintf("category: a %s case opens no dispute (only dispute)", c.view.Category))
	}
	if running(c.view.Dispute) {
		return vocab.Refuse("open a dispute", "dispute "+c.view.Dispute.ID+" is", "running")
	}
	return c.disputeInput(in, c.view.UpdatedAt).Validate()
}

// disputeInput is in's dispute as the case opens it: numbered after the
// case, reporting to it, for its customer, with its delivery and, when the
// request names none, its evidence.
func (c *supportCase) disputeInput(in DisputeRequest, now time.Time) disputes.Input {
	d := in.Dispute
	d.ID = c.in.ID + "-D" + strconv.Itoa(c.disputes+1)
	d.CaseID = c.in.ID
	d.Buyer = c.view.Customer
	d.OpenedBy = in.Actor
	if d.OrderID == "" {
		d.OrderID = c.view.OrderID
	}
	if d.DeliveryID == "" {
		d.DeliveryID = c.view.DeliveryID
	}
	if len(d.Evidence) == 0 {
		d.Evidence = slices.Clone(c.view.Evidence)
	}
	d.OpenedAt = now
	return d
}

func (c *supportCase) openDispute(ctx workflow.Context, in DisputeRequest) (CaseView, error) {
	d := c.disputeInput(in, workflow.Now(ctx))
	c.disputes++
	flow := &AccountFlow{ID: d.ID, WorkflowID: disputes.WorkflowID(d.ID), Running: true}
	c.view.Dispute = flow
	c.record(ctx, in.Actor, EventDisputeStarted, vocab.Payload("dispute_id", d.ID, "order_id", d.OrderID, "reason", d.Reason))
	// A dispute about a delivered account puts the delivery under review.
	c.tellDelivery(ctx, vocab.LinkedCaseOutcome{CaseID: c.in.ID, Outcome: vocab.OutcomeDisputed, Actor: in.Actor,
		Detail: "dispute " + d.ID + " opened: " + d.Reason})
	c.runChildWith(ctx, flow, disputes.ChildOptions(d, ""), disputes.WorkflowType, d,
		func(ctx workflow.Context, f workflow.ChildWorkflowFuture) string {
			var out disputes.View
			if err := f.Get(ctx, &out); err != nil {
				return "failed"
			}
			return string(out.Status)
		})
	return c.result(), nil
}

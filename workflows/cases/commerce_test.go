package cases

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/disputes"
	"handoff/workflows/returns"
	"handoff/workflows/vocab"
)

func categoryCase(cat vocab.Category) CaseInput {
	in := testInput(vocab.P2)
	in.Category = cat
	for i := range in.Policies {
		in.Policies[i].Category = string(cat)
	}
	return in
}

func returnRequest() ReturnRequest {
	addr := vocab.Address{Name: "Ada", Line1: "1 rue", City: "Paris", PostalCode: "75002", Country: "FR"}
	return ReturnRequest{Actor: "agent:bo", Return: returns.Input{
		OrderID: "ord-1", SellerID: "seller-1", Item: returns.Item{SKU: "S", Name: "Headset", Returnable: true},
		Paid: vocab.Money{Minor: 1000, Currency: "EUR"}, DeliveredAt: openedAt.Add(-time.Hour), Reason: returns.Reasons[0],
		From: addr, To: addr, WeightGrams: 500, Policy: returns.DefaultPolicy(),
	}}
}

func TestAReturnCaseStartsItsReturnAsAChildWithTheCaseFilledIn(t *testing.T) {
	ct := newCaseTest(t)
	var started returns.Input
	ct.env.RegisterWorkflowWithOptions(returns.Return, workflow.RegisterOptions{Name: returns.WorkflowType})
	ct.env.OnWorkflow(returns.WorkflowType, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in returns.Input) (returns.View, error) {
			started = in
			return returns.View{ID: in.ID, Status: returns.StatusRefunded}, nil
		})
	ct.at(time.Minute, func() {
		ct.refused(UpdateOpenDispute, DisputeRequest{Actor: "agent:bo"}, vocab.ErrInvalidArgument, "category")
		ct.mustUpdate(UpdateStartReturn, returnRequest(), func(v CaseView) {
			if assert.NotNil(t, v.Return) {
				assert.Equal(t, "C-1-R1", v.Return.ID)
				assert.Equal(t, returns.WorkflowID("C-1-R1"), v.Return.WorkflowID)
			}
		})
	})
	ct.at(time.Hour, func() {
		v := ct.view()
		assert.False(t, v.Return.Running)
		assert.Equal(t, string(returns.StatusRefunded), v.Return.Outcome)
		assert.Equal(t, 1, count(v.Timeline, EventReturnStarted))
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "refunded"})
	})
	ct.run(categoryCase(vocab.CategoryReturnRequest))
	assert.Equal(t, "C-1", started.CaseID)
	assert.Equal(t, "cus-1", started.Buyer.ID, "the buyer is the case's customer")
	assert.Equal(t, openedAt.Add(time.Minute), started.OpenedAt)
}

func TestADisputeCaseOpensOneDisputeAtATime(t *testing.T) {
	ct := newCaseTest(t)
	var started disputes.Input
	ct.env.RegisterWorkflowWithOptions(disputes.Dispute, workflow.RegisterOptions{Name: disputes.WorkflowType})
	ct.env.OnWorkflow(disputes.WorkflowType, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in disputes.Input) (disputes.View, error) {
			started = in
			return disputes.View{ID: in.ID, Status: disputes.StatusClosed}, nil
		}).After(2 * time.Hour)
	in := categoryCase(vocab.CategoryDispute)
	in.OrderID = "ord-7"
	req := DisputeRequest{Actor: "agent:bo", Dispute: disputes.Input{
		SellerID: "seller-1", SellerRegion: "fr", Amount: vocab.Money{Minor: 5000, Currency: "EUR"},
		Reason: disputes.Reasons[0], Description: "never came", Policy: disputes.DefaultPolicy(in.Policies[0].Calendar),
	}}
	ct.at(time.Minute, func() {
		ct.refused(UpdateStartReturn, returnRequest(), vocab.ErrInvalidArgument, "category")
		ct.mustUpdate(UpdateOpenDispute, req)
		ct.refused(UpdateOpenDispute, req, vocab.ErrInvalidTransition, "running")
	})
	ct.at(3*time.Hour, func() {
		assert.Equal(t, string(disputes.StatusClosed), ct.view().Dispute.Outcome)
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "decided"})
	})
	ct.run(in)
	assert.Equal(t, "C-1-D1", started.ID)
	assert.Equal(t, "agent:bo", started.OpenedBy)
	assert.Equal(t, in.OrderID, started.OrderID, "the case's order when the request names none")
}

package cases

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// eraseCustomer drops the customer's personal data from the case's state:
// name and email, subject and description, the free text of every timeline
// event and the notes on its files. The case goes on (its SLA clocks, its
// status, its ids stay) and records who asked on its timeline; the next
// projection writes the erased view. An erasure for another customer, or
// one already done, changes nothing.
func (c *supportCase) eraseCustomer(ctx workflow.Context, req vocab.EraseCustomer) {
	if req.CustomerID != c.view.Customer.ID || slices.Contains(c.erasures, req.ErasureID) {
		workflow.GetLogger(ctx).Info("erasure ignored", "erasure", req.ErasureID)
		return
	}
	c.erasures = append(c.erasures, req.ErasureID)
	c.in.Customer = c.in.Customer.Erased()
	c.in.Subject, c.in.Description = vocab.ErasedText, ""
	c.view.Customer = c.view.Customer.Erased()
	c.view.Subject, c.view.Description = vocab.ErasedText, ""
	c.latestCustomerMessage = ""
	for i := range c.timeline {
		c.timeline[i].Payload = vocab.ErasePayload(c.timeline[i].Payload)
		c.timeline[i].Actor = vocab.EraseActor(c.timeline[i].Actor)
	}
	for i := range c.view.Evidence {
		if c.view.Evidence[i].Note != "" {
			c.view.Evidence[i].Note = vocab.ErasedText
		}
	}
	c.record(ctx, req.RequestedBy, vocab.EventDataErased, vocab.Payload("erasure_id", req.ErasureID))
	c.changed(ctx)
}

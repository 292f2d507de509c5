package disputes

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// attributes are the search attributes a dispute keeps current: its
// status and when the party it waits on must act. The seller, order and
// buyer ids never change; ids says they are set.
type attributes struct {
	status    string
	respondBy time.Time
	ids       bool
}

// startedAttributes reads what the start options set (ChildOptions), so
// the first change upserts only what differs from it, and a dispute
// started without them sets them all.
func startedAttributes(ctx workflow.Context) attributes {
	sa := workflow.GetTypedSearchAttributes(ctx)
	var a attributes
	if s, ok := sa.GetKeywordList(vocab.DisputeStatusKey); ok && len(s) == 1 {
		a.status = s[0]
	}
	if t, ok := sa.GetTime(vocab.RespondByKey); ok {
		a.respondBy = attributeTime(t)
	}
	a.ids = sa.ContainsKey(vocab.SellerIDKey) && sa.ContainsKey(vocab.OrderIDKey) && sa.ContainsKey(vocab.CustomerIDKey)
	return a
}

func (d *dispute) attributes() attributes {
	a := attributes{status: string(d.view.Status), ids: true}
	if d.view.RespondBy != nil {
		a.respondBy = attributeTime(*d.view.RespondBy)
	}
	return a
}

// diff answers the upserts that turn a into b.
func (a attributes) diff(b attributes, in Input) []temporal.SearchAttributeUpdate {
	var u []temporal.SearchAttributeUpdate
	if a.status != b.status {
		u = append(u, vocab.DisputeStatusKey.ValueSet([]string{b.status}))
	}
	switch {
	case a.respondBy.Equal(b.respondBy):
	case b.respondBy.IsZero():
		u = append(u, vocab.RespondByKey.ValueUnset())
	default:
		u = append(u, vocab.RespondByKey.ValueSet(b.respondBy))
	}
	if b.ids && !a.ids {
		u = append(u, vocab.SellerIDKey.ValueSet(in.SellerID), vocab.OrderIDKey.ValueSet(in.OrderID),
			vocab.CustomerIDKey.ValueSet(in.Buyer.ID))
	}
	return u
}

// attributeTime is a deadline as the RespondBy attribute holds it: UTC,
// whole seconds.
func attributeTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

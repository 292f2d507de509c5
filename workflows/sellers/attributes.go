package sellers

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// sellerAttributes are the search attributes a seller workflow keeps
// current: the identity check's status, and for the verification whether
// it holds the payouts. The seller id never changes; ids says it is set.
type sellerAttributes struct {
	verification string
	hold         bool
	ids          bool
}

// startedSellerAttributes reads what the start options set, so the first
// change upserts only what differs from it.
func startedSellerAttributes(ctx workflow.Context) sellerAttributes {
	sa := workflow.GetTypedSearchAttributes(ctx)
	var a sellerAttributes
	if s, ok := sa.GetKeywordList(vocab.VerificationStatusKey); ok && len(s) == 1 {
		a.verification = s[0]
	}
	a.hold, _ = sa.GetBool(vocab.PayoutHoldKey)
	a.ids = sa.ContainsKey(vocab.SellerIDKey)
	return a
}

// diff answers the upserts that turn a into b; withHold says the workflow
// keeps PayoutHold (the verification does, the onboarding does not).
func (a sellerAttributes) diff(b sellerAttributes, sellerID string, withHold bool) []temporal.SearchAttributeUpdate {
	var u []temporal.SearchAttributeUpdate
	if a.verification != b.verification && b.verification != "" {
		u = append(u, vocab.VerificationStatusKey.ValueSet([]string{b.verification}))
	}
	if withHold && a.hold != b.hold {
		u = append(u, vocab.PayoutHoldKey.ValueSet(b.hold))
	}
	if b.ids && !a.ids {
		u = append(u, vocab.SellerIDKey.ValueSet(sellerID))
	}
	return u
}

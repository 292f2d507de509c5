package disputes

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// eraseBuyer drops the buyer's personal data from the dispute's state:
// name and email, their claim and the notes on their files, the free text
// of the seller's statement, of every decision and of the appeal, of the
// timeline and of what is not yet reported to the case. Ids, amounts, the
// money's movements, the status and the reason (one of Reasons) stay, so
// the dispute goes on: its deadlines, its money and the seller's notices.
// It records who asked on its timeline (not reported: the case records its
// own erasure) and asks the case to tell the buyer nothing more. An
// erasure of another customer, or one already done, changes nothing.
func (d *dispute) eraseBuyer(ctx workflow.Context, req vocab.EraseCustomer) {
	if !req.Take(d.in.Buyer.ID, &d.erasures) {
		workflow.GetLogger(ctx).Info("erasure ignored", "dispute", d.in.ID, "erasure", req.ErasureID)
		return
	}
	d.in.Buyer = d.in.Buyer.Erased()
	d.in.Description = vocab.EraseText(d.in.Description)
	d.in.Evidence = slices.Clone(d.in.Evidence)
	for i := range d.in.Evidence {
		d.in.Evidence[i].Note = vocab.EraseText(d.in.Evidence[i].Note)
	}
	d.view = d.view.Erased()
	vocab.EraseTimeline(d.timeline)
	vocab.EraseReports(d.outbox, NoticeSeller)
	d.append(ctx, req.RequestedBy, vocab.EventDataErased, "erasure_id", req.ErasureID, "dispute_id", d.in.ID)
	d.changed(ctx)
}

// Erased answers v without the buyer's personal data (eraseBuyer): ids,
// amounts, funds, statuses and deadlines stay; the seller's statement and
// the reasons of the decisions and of the appeal are erased. The store
// erases the rows of ended disputes with it; v itself is not changed.
func (v View) Erased() View {
	v.Reason = vocab.EraseUnlisted(v.Reason, Reasons)
	if r := v.SellerResponse; r != nil {
		erased := *r
		erased.Statement = vocab.EraseText(r.Statement)
		v.SellerResponse = &erased
	}
	v.Decisions = slices.Clone(v.Decisions)
	for i := range v.Decisions {
		v.Decisions[i].Reason = vocab.EraseText(v.Decisions[i].Reason)
	}
	if dec := v.Decision; dec != nil {
		erased := *dec
		erased.Reason = vocab.EraseText(dec.Reason)
		v.Decision = &erased
	}
	if a := v.Appeal; a != nil {
		erased := *a
		erased.Reason = vocab.EraseText(a.Reason)
		v.Appeal = &erased
	}
	v.Timeline = nil
	return v
}

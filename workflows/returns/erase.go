package returns

import (
	"strings"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// eraseBuyer drops the buyer's personal data from the return's state: name
// and email, their address, their own words, the free text of the
// decisions and of the timeline, and of what is not yet reported to the
// case. Ids, the item, amounts, the status and the reason (one of Reasons)
// stay, so the return goes on and still counts in reports; it records who
// asked on its timeline (not reported: the case records its own erasure)
// and asks the case to tell the buyer nothing more. An erasure of another
// customer, or one already done, changes nothing.
func (r *itemReturn) eraseBuyer(ctx workflow.Context, req vocab.EraseCustomer) {
	if !req.Take(r.in.Buyer.ID, &r.erasures) {
		workflow.GetLogger(ctx).Info("erasure ignored", "return", r.in.ID, "erasure", req.ErasureID)
		return
	}
	r.in.Buyer = r.in.Buyer.Erased()
	r.in.From = r.in.From.Erased()
	r.in.Description = vocab.EraseText(r.in.Description)
	r.in.Reason = vocab.EraseUnlisted(r.in.Reason, Reasons)
	r.view = r.view.Erased()
	vocab.EraseTimeline(r.timeline)
	vocab.EraseReports(r.outbox)
	r.record(ctx, req.RequestedBy, vocab.EventDataErased, vocab.Payload("erasure_id", req.ErasureID, "return_id", r.in.ID))
	r.changed(ctx)
}

// Erased answers v without the buyer's personal data (eraseBuyer): the
// buyer's id and locale, the item, amounts, statuses and deadlines stay;
// the free text of the status, the inspection and the approval is erased,
// and so is a reason that is not one of Reasons. The store erases the
// rows of ended returns with it; v itself is not changed.
func (v View) Erased() View {
	v.Buyer = v.Buyer.Erased()
	v.Reason = vocab.EraseUnlisted(v.Reason, Reasons)
	if v.StatusReason != "" {
		v.NextAction = replaceText(v.NextAction, v.StatusReason)
		v.StatusReason = vocab.ErasedText
	}
	if i := v.Inspection; i != nil {
		erased := *i
		erased.Reason = vocab.EraseText(i.Reason)
		v.Inspection = &erased
	}
	if a := v.Approval; a != nil {
		erased := *a
		erased.Reason = vocab.EraseText(a.Reason)
		v.Approval = &erased
	}
	v.Timeline = nil
	return v
}

// replaceText answers s with every occurrence of text replaced by
// vocab.ErasedText.
func replaceText(s, text string) string {
	if text == "" || text == vocab.ErasedText {
		return s
	}
	return strings.ReplaceAll(s, text, vocab.ErasedText)
}

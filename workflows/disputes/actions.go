package disputes

import (
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// Validators only read the state; a refusal leaves the dispute as it was
// and no trace in its history. Handlers change the state at once (so a
// deadline that fires right after never overrides an accepted answer),
// record what happened and answer the dispute as it now is; run moves the
// money.

// allow refuses action unless the dispute is in status.
func (d *dispute) allow(action string, status Status) error {
	if d.view.Status == status {
		return nil
	}
	return invalidTransition(action, d.view.Status)
}

func (d *dispute) validateSellerRespond(ctx workflow.Context, in SellerResponse) error {
	// An answer that comes while the dispute is still opening (its hold
	// being placed) is taken once the opening is recorded: see sellerRespond.
	// A late seller hears of their deadline, whatever the marketplace
	// did since.
	if d.view.SellerResponse == nil && !workflow.Now(ctx).Before(d.view.SellerDueAt) {
		return invalidTransition("respond", Status("past the seller's deadline ("+d.local(d.view.SellerDueAt)+")"))
	}
	if err := d.allow("respond", StatusAwaitingSeller); err != nil {
		return err
	}
	if err := vocab.Required("actor", in.Actor); err != nil {
		return err
	}
	switch in.Kind {
	case RespondAccept:
		return nil
	case RespondOfferPartial:
		return d.checkAmount(in.Amount, d.in.Amount.Minor-1)
	case RespondContest:
		if err := vocab.Required("statement", in.Statement); err != nil {
			return err
		}
		if slices.ContainsFunc(in.EvidenceIDs, func(id string) bool { return strings.TrimSpace(id) == "" }) {
			return vocab.InvalidArgument("evidence_ids: an evidence id must not be empty")
		}
		return nil
	}
	return vocab.InvalidArgument(fmt.Sprintf("kind: want accept, offer_partial or contest, got %q", in.Kind))
}

// sellerRespond takes the seller's answer: accepting refunds the buyer in
// full, a partial offer goes to the buyer, a contest goes to trust &
// safety with the seller's statement.
func (d *dispute) sellerRespond(ctx workflow.Context, in SellerResponse) (View, error) {
	if !d.opened {
		if err := workflow.Await(ctx, func() bool { return d.opened }); err != nil {
			return d.result(), err
		}
		if err := d.validateSellerRespond(ctx, in); err != nil {
			return d.result(), err
		}
	}
	now := workflow.Now(ctx)
	r := in
	d.view.SellerResponse = &r
	switch in.Kind {
	case RespondAccept:
		d.record(ctx, in.Actor, EventSellerAccepted, vocab.CaseEvent{})
		d.takeDecision(ctx, Decision{Outcome: OutcomeRefundFull, Amount: d.in.Amount, Party: PartySeller, Actor: in.Actor,
			Reason: "the seller accepted the buyer's claim"})
	case RespondOfferPartial:
		o := Offer{Amount: in.Amount, By: in.Actor, At: now, AnswerBy: now.Add(d.in.Policy.OfferAnswerWithin)}
		d.view.Offer = &o
		d.view.Status = StatusAwaitingBuyer
		d.await(PartyBuyer, &o.AnswerBy)
		d.record(ctx, in.Actor, EventOfferMade, vocab.CaseEvent{Tell: []vocab.Notice{toBuyer(NoticeOffer,
			"The seller offers a refund of "+o.Amount.String()+" of the "+d.in.Amount.String()+" you dispute. "+
				"Accept or decline it by "+stamp(o.AnswerBy)+"; without an answer trust & safety reviews the dispute.")}},
			"amount", o.Amount.String(), "answer_by", o.AnswerBy.UTC().Format(timeLayout))
	case RespondContest:
		d.record(ctx, in.Actor, EventContested, vocab.CaseEvent{},
			"statement", in.Statement, "evidence_ids", strings.Join(in.EvidenceIDs, ","))
		d.startReview(ctx, "the seller contested: "+in.Statement, false)
	}
	d.changed(ctx)
	return d.result(), nil
}

func (d *dispute) validateBuyerAnswer(ctx workflow.Context, in BuyerAnswer) error {
	if err := d.allow("answer the offer", StatusAwaitingBuyer); err != nil {
		return err
	}
	if !workflow.Now(ctx).Before(d.view.Offer.AnswerBy) {
		return invalidTransition("answer the offer", Status("past the offer's deadline ("+stamp(d.view.Offer.AnswerBy)+")"))
	}
	if err := vocab.Required("actor", in.Actor); err != nil {
		return err
	}
	if in.Answer != AnswerAcceptOffer && in.Answer != AnswerDeclineOffer {
		return vocab.InvalidArgument(fmt.Sprintf("answer: want accept_offer or decline_offer, got %q", in.Answer))
	}
	return nil
}

// buyerAnswer takes the buyer's answer to the offer: accepting it refunds
// that amount (and releases the rest of the hold to the seller), declining
// it sends the dispute to trust & safety.
func (d *dispute) buyerAnswer(ctx workflow.Context, in BuyerAnswer) (View, error) {
	o := d.view.Offer
	if in.Answer == AnswerAcceptOffer {
		o.Answer = "accepted"
		d.record(ctx, in.Actor, EventOfferAccepted, vocab.CaseEvent{}, "amount", o.Amount.String())
		d.takeDecision(ctx, Decision{Outcome: OutcomeRefundPartial, Amount: o.Amount, Party: PartyBuyer, Actor: in.Actor,
			Reason: "the buyer accepted the seller's offer"})
	} else {
		o.Answer = "declined"
		d.record(ctx, in.Actor, EventOfferDeclined, vocab.CaseEvent{}, "amount", o.Amount.String())
		d.startReview(ctx, "the buyer declined the seller's offer of "+o.Amount.String(), false)
	}
	d.changed(ctx)
	return d.result(), nil
}

func (d *dispute) validateDecide(in DecideInput) error {
	if err := d.allow("decide", StatusUnderReview); err != nil {
		return err
	}
	if err := vocab.Required("actor", in.Actor); err != nil {
		return err
	}
	if !slices.Contains(Outcomes, in.Outcome) {
		return vocab.InvalidArgument(fmt.Sprintf("outcome: want one of %s, got %q", strings.Join(Outcomes, ", "), in.Outcome))
	}
	if in.Outcome == OutcomeRefundPartial {
		if err := d.checkAmount(in.Amount, d.in.Amount.Minor); err != nil {
			return err
		}
	}
	return vocab.Required("reason", in.Reason)
}

// decide takes trust & safety's decision; run carries it out.
func (d *dispute) decide(ctx workflow.Context, in DecideInput) (View, error) {
	grant := vocab.Money{Currency: d.in.Amount.Currency}
	switch in.Outcome {
	case OutcomeRefundFull:
		grant = d.in.Amount
	case OutcomeRefundPartial:
		grant = in.Amount
	}
	d.takeDecision(ctx, Decision{Outcome: in.Outcome, Amount: grant, Party: PartyTrustSafety, Actor: in.Actor, Reason: in.Reason})
	d.changed(ctx)
	return d.result(), nil
}

// takeDecision records dec as the dispute's next decision and hands it to
// run to carry out; a decision after an appeal is final.
func (d *dispute) takeDecision(ctx workflow.Context, dec Decision) {
	dec.N, dec.At, dec.Final = len(d.view.Decisions)+1, workflow.Now(ctx), d.view.AppealsUsed > 0
	d.view.Decisions = append(d.view.Decisions, dec)
	d.view.Decision = &dec
	d.view.Status, d.view.ReviewDue = StatusExecuting, nil
	d.await("", nil)
	d.record(ctx, dec.Actor, EventDecision, vocab.CaseEvent{},
		"n", itoa(dec.N), "outcome", dec.Outcome, "amount", dec.Amount.String(), "party", dec.Party,
		"reason", dec.Reason, "final", boolText(dec.Final))
}

func (d *dispute) validateAppeal(ctx workflow.Context, in AppealInput) error {
	if d.view.AppealsUsed > 0 {
		return invalidTransition("appeal", "already appealed once")
	}
	if err := d.allow("appeal", StatusResolved); err != nil {
		return err
	}
	if d.view.AppealUntil == nil || !workflow.Now(ctx).Before(*d.view.AppealUntil) {
		return invalidTransition("appeal", "past its appeal window")
	}
	if err := vocab.Required("actor", in.Actor); err != nil {
		return err
	}
	if in.Party != PartyBuyer && in.Party != PartySeller {
		return vocab.InvalidArgument(fmt.Sprintf("party: want buyer or seller, got %q", in.Party))
	}
	return vocab.Required("reason", in.Reason)
}

// appeal takes the one appeal of the dispute's life: the case escalates
// to trust & safety, both parties hear of it, and run reopens the review,
// whose decision is final.
func (d *dispute) appeal(ctx workflow.Context, in AppealInput) (View, error) {
	a := Appeal{Party: in.Party, Actor: in.Actor, Reason: in.Reason, At: workflow.Now(ctx)}
	d.view.Appeal, d.view.AppealsUsed = &a, d.view.AppealsUsed+1
	d.view.Status, d.view.AppealUntil = StatusAppealed, nil
	d.await("", nil)
	n := d.view.Decision.N
	said := "The " + in.Party + " appealed decision " + itoa(n) + " (" + d.view.Decision.Outcome + "): " + in.Reason +
		". Trust & safety reviews the dispute again; its next decision is final."
	d.record(ctx, in.Actor, EventAppealed, vocab.CaseEvent{
		EscalateTo: vocab.TeamTrustSafety, Reason: "dispute " + d.in.ID + ": the " + in.Party + " appealed: " + in.Reason,
		Tell: []vocab.Notice{toBuyer(NoticeAppealOpen, said), d.toSeller(said)},
	}, "party", in.Party, "reason", in.Reason, "decision", itoa(n))
	d.changed(ctx)
	return d.result(), nil
}

// checkAmount refuses an amount that is not 1..most minor units of the
// disputed currency.
func (d *dispute) checkAmount(m vocab.Money, most int64) error {
	switch {
	case m.Currency != d.in.Amount.Currency:
		return vocab.InvalidArgument(fmt.Sprintf("amount.currency: want %s, the disputed amount's, got %q", d.in.Amount.Currency, m.Currency))
	case m.Minor < 1 || m.Minor > most:
		return vocab.InvalidArgument(fmt.Sprintf("amount: want %s to %s, got %s",
			vocab.Money{Minor: 1, Currency: m.Currency}, vocab.Money{Minor: most, Currency: m.Currency}, m))
	}
	return nil
}

// invalidTransition refuses action because the dispute is in status (or,
// for the refusals that are no status, in the state it names).
func invalidTransition(action string, status Status) error {
	return vocab.Refuse(action, "dispute", string(status))
}

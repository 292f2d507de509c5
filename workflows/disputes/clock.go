package disputes

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// The deadlines a dispute acts on by itself: the seller's answer, the
// buyer's answer to an offer, trust & safety's review and the appeal
// window. Each is one timer, started when its wait begins and cancelled
// when the awaited party acts.

// awaitUntil waits for done until due, with a timer whose summary names
// what is due in the seller's zone; it reports whether done came first.
func (d *dispute) awaitUntil(ctx workflow.Context, due time.Time, what string, done func() bool) (bool, error) {
	if done() {
		return true, nil
	}
	wait := due.Sub(workflow.Now(ctx))
	if wait > 0 {
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
			Timeout:      wait,
			TimerOptions: workflow.TimerOptions{Summary: what + " " + d.local(due)},
		}, done)
		if err != nil || ok {
			return ok, err
		}
	}
	return done(), nil
}

// awaitSellerAnswer waits for the seller's answer until their deadline;
// past it the marketplace steps in.
func (d *dispute) awaitSellerAnswer(ctx workflow.Context) error {
	answered, err := d.awaitUntil(ctx, d.view.SellerDueAt, "seller response due",
		func() bool { return d.view.Status != StatusAwaitingSeller })
	if err != nil || answered {
		return err
	}
	d.sellerMissedDeadline(ctx)
	return nil
}

// sellerMissedDeadline escalates the case and tells the buyer the seller
// did not answer; the policy then decides for the buyer, or trust & safety
// reviews.
func (d *dispute) sellerMissedDeadline(ctx workflow.Context) {
	due := d.view.SellerDueAt
	late := "the seller did not answer by " + d.local(due)
	next := "Trust & safety now reviews the dispute."
	if d.in.Policy.DecideForBuyerOnSilence {
		next = "The marketplace decided for the buyer: a full refund of " + d.in.Amount.String() + "."
	}
	d.record(ctx, vocab.SystemActor, EventSellerLate, vocab.CaseEvent{
		EscalateTo: vocab.TeamTrustSafety, Reason: "dispute " + d.in.ID + ": " + late,
		Tell: []vocab.Notice{
			toBuyer(NoticeSellerLate, "The seller did not answer by "+stamp(due)+". "+next),
			d.toSeller("the deadline to answer dispute " + d.in.ID + " passed (" + d.local(due) + "). " + next),
		},
	}, "respond_by", due.UTC().Format(timeLayout), "decide_for_buyer", boolText(d.in.Policy.DecideForBuyerOnSilence))
	if d.in.Policy.DecideForBuyerOnSilence {
		d.takeDecision(ctx, Decision{Outcome: OutcomeRefundFull, Amount: d.in.Amount, Party: PartySystem, Actor: vocab.SystemActor,
			Reason: "policy: " + late})
	} else {
		d.startReview(ctx, late, true)
	}
	d.changed(ctx)
}

// awaitBuyerAnswer waits for the buyer's answer to the seller's offer
// until its deadline; silence declines it and trust & safety reviews.
func (d *dispute) awaitBuyerAnswer(ctx workflow.Context) error {
	o := d.view.Offer
	answered, err := d.awaitUntil(ctx, o.AnswerBy, "buyer's answer to the offer due",
		func() bool { return d.view.Status != StatusAwaitingBuyer })
	if err != nil || answered {
		return err
	}
	o.Answer = "expired"
	d.record(ctx, vocab.SystemActor, EventOfferExpired, vocab.CaseEvent{},
		"amount", o.Amount.String(), "answer_by", o.AnswerBy.UTC().Format(timeLayout))
	d.startReview(ctx, "the buyer did not answer the seller's offer of "+o.Amount.String(), false)
	d.changed(ctx)
	return nil
}

// startReview puts the dispute under trust & safety's review, due within
// the policy's review time; the team is told, unless the event that
// started it escalated the case already (the escalation tells the team).
func (d *dispute) startReview(ctx workflow.Context, why string, escalated bool) {
	due := workflow.Now(ctx).Add(d.in.Policy.ReviewWithin)
	d.view.Status, d.view.ReviewDue, d.view.ReviewOverdue = StatusUnderReview, &due, false
	d.await(PartyTrustSafety, &due)
	var ask vocab.CaseEvent
	if !escalated {
		ask.Tell = []vocab.Notice{toTeam(NoticeReviewNeeded,
			"Dispute "+d.in.ID+" ("+d.in.Amount.String()+", "+d.in.Reason+") needs a decision by "+stamp(due)+": "+why+".")}
	}
	d.record(ctx, vocab.SystemActor, EventReviewStarted, ask, "why", why, "review_due", due.UTC().Format(timeLayout))
}

// awaitDecision waits for trust & safety's decision; past the review's
// due time the case escalates one level, once, and the wait goes on.
func (d *dispute) awaitDecision(ctx workflow.Context) error {
	decided := func() bool { return d.view.Status != StatusUnderReview }
	if !d.view.ReviewOverdue {
		ok, err := d.awaitUntil(ctx, *d.view.ReviewDue, "trust & safety decision due", decided)
		if err != nil || ok {
			return err
		}
		d.view.ReviewOverdue = true
		d.record(ctx, vocab.SystemActor, EventReviewOverdue, vocab.CaseEvent{
			EscalateTo: vocab.TeamTrustSafety,
			Reason:     "dispute " + d.in.ID + ": the decision was due " + stamp(*d.view.ReviewDue),
		}, "review_due", d.view.ReviewDue.UTC().Format(timeLayout))
		d.changed(ctx)
	}
	return workflow.Await(ctx, decided)
}

// awaitAppeal keeps a decision open to appeal until the window ends, then
// closes the dispute; a final decision closes it at once.
func (d *dispute) awaitAppeal(ctx workflow.Context) error {
	if d.view.AppealUntil != nil {
		appealed, err := d.awaitUntil(ctx, *d.view.AppealUntil, "appeal window ends",
			func() bool { return d.view.Status != StatusResolved })
		if err != nil || appealed {
			return err
		}
	}
	d.closeDispute(ctx)
	return nil
}

// closeDispute ends the dispute once no appeal can come.
func (d *dispute) closeDispute(ctx workflow.Context) {
	why := "the appeal window ended"
	if d.view.AppealUntil == nil {
		why = "the decision is final"
	}
	d.view.Status, d.view.AppealUntil = StatusClosed, nil
	d.await("", nil)
	d.record(ctx, vocab.SystemActor, EventClosed, vocab.CaseEvent{},
		"why", why, "outcome", d.view.Decision.Outcome, "refunded", d.view.Funds.Refunded.String(), "hold", d.view.Funds.HoldState)
	d.changed(ctx)
}

// boolText writes a flag in a payload.
func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

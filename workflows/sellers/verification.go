package sellers

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// SellerVerification checks one seller's identity. It holds the seller's
// payouts first (when the policy says so), asks the provider, and waits
// for its decision by webhook, asking the provider itself every PollEvery
// in case a webhook is lost. A check the provider doubts goes to
// trust_safety in a review case with ReviewWithin to decide (escalated
// once when late). A pass releases the hold, once, and tells the seller;
// a fail keeps it, closes selling and tells the seller why. Every status
// is told to the onboarding.
func SellerVerification(ctx workflow.Context, in VerificationInput) (VerificationView, error) {
	if in.SellerID == "" || in.Policy.PollEvery <= 0 || in.Policy.ReviewWithin <= 0 {
		return VerificationView{}, vocab.InvalidArgument("verification input: seller_id, policy.poll_every and policy.review_within are required")
	}
	v := &verifying{in: in, decided: workflow.GetSignalChannel(ctx, SignalCheckDecided)}
	now := workflow.Now(ctx)
	v.view = VerificationView{SellerID: in.SellerID, Status: FirstVerificationStatus(in.Policy.HoldPayouts), StartedAt: now, UpdatedAt: now}
	v.attrs = startedSellerAttributes(ctx)
	v.causeIDs = causeIDs(ctx)
	if err := v.setup(ctx); err != nil {
		return v.view, err
	}
	return v.run(ctx)
}

// verifying is the SellerVerification workflow's state.
type verifying struct {
	in       VerificationInput
	view     VerificationView
	timeline []vocab.Event
	decided  workflow.ReceiveChannel
	// decision is trust_safety's, taken by the update until run acts on it.
	decision *VerificationDecision
	// releasing says a release of the hold is under way.
	releasing bool
	// settled says what the decision asks is done: the pass's release,
	// the seller told.
	settled bool
	attrs   sellerAttributes
	// causeIDs names the seller's notification after its cause
	// (changeCauseIDs).
	causeIDs bool
}

func (v *verifying) setup(ctx workflow.Context) error {
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateDecide, v.decide, v.validateDecide},
		{vocab.UpdateReleaseHold, v.releaseHold, v.validateReleaseHold},
		{vocab.UpdateExtendHold, v.extendHold, v.validateExtendHold},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler,
			workflow.UpdateHandlerOptions{Validator: h.validator}); err != nil {
			return fmt.Errorf("register update %s: %w", h.name, err)
		}
	}
	if err := workflow.SetQueryHandler(ctx, QueryVerification, func() (VerificationView, error) {
		return v.fullView(), nil
	}); err != nil {
		return fmt.Errorf("register query %s: %w", QueryVerification, err)
	}
	return nil
}

// run holds the payouts, runs the check until it is decided, and acts on
// the decision; it ends once no update is still being handled.
func (v *verifying) run(ctx workflow.Context) (VerificationView, error) {
	if v.in.Policy.HoldPayouts {
		v.holdPayouts(ctx)
	}
	v.startCheck(ctx)
	for !v.final() {
		if ctx.Err() != nil {
			return v.fullView(), temporal.NewCanceledError("verification cancelled")
		}
		if v.view.Status == VerificationNeedsReview {
			v.awaitReview(ctx)
		} else {
			v.awaitProvider(ctx)
		}
	}
	if v.view.Status == VerificationPassed {
		v.releasePayouts(ctx, vocab.SystemActor, "identity verified")
		v.notifySeller(ctx, NoticeVerified, "")
	} else {
		v.notifySeller(ctx, NoticeVerificationFailed, strings.Join(v.view.Reasons, "; "))
	}
	v.settled = true
	// A failed seller's payouts stay held until trust_safety releases them
	// (what the seller earned before selling closed is theirs once checked):
	// the verification keeps the hold, and takes its release, until then.
	if err := workflow.Await(ctx, func() bool { return !v.holding() && workflow.AllHandlersFinished(ctx) }); err != nil {
		return v.fullView(), err
	}
	return v.fullView(), nil
}

// holding reports that the payouts are held (or a release is under way).
func (v *verifying) holding() bool {
	return v.releasing || (v.view.Hold != nil && v.view.Hold.State == vocab.PayoutHoldHeld)
}

// final reports that the check is decided.
func (v *verifying) final() bool {
	return v.view.Status == VerificationPassed || v.view.Status == VerificationFailed
}

// holdPayouts holds every payout of the seller until the check passes. A
// hold the provider refuses is recorded; the check goes on.
func (v *verifying) holdPayouts(ctx workflow.Context) {
	key := VerificationWorkflowID(v.in.SellerID) + "/hold"
	now := workflow.Now(ctx)
	h := &vocab.PayoutHold{Key: key, SellerID: v.in.SellerID, Reason: vocab.HoldReasonVerification,
		Detail: "until the seller's identity is verified", Owner: VerificationWorkflowID(v.in.SellerID),
		State: vocab.PayoutHoldPending, PlacedAt: now}
	v.view.Hold = h
	var m vocab.Movement
	err := workflow.ExecuteActivity(outsideOptions(ctx, "hold the seller's payouts"), vocab.ActivityHoldPayouts,
		vocab.PayoutHoldRequest{Key: key, SellerID: v.in.SellerID, Reason: vocab.HoldReasonVerification}).Get(ctx, &m)
	if err != nil {
		h.State, h.Error = vocab.PayoutHoldRefused, err.Error()
		v.record(ctx, vocab.SystemActor, EventHoldFailed, "hold_key", key, "error", err.Error())
	} else {
		h.ID, h.State = m.ID, vocab.PayoutHoldHeld
		v.record(ctx, vocab.SystemActor, EventPayoutsHeld, "hold_id", m.ID, "reason", vocab.HoldReasonVerification)
	}
	v.projectHold(ctx)
	v.changed(ctx)
}

// releasePayouts releases the hold, once: a hold already released (by
// trust_safety, or before a retry) is left alone, and a release under way
// (trust_safety's while the check passes) is waited for, not repeated.
func (v *verifying) releasePayouts(ctx workflow.Context, actor, reason string) {
	if err := workflow.Await(ctx, func() bool { return !v.releasing }); err != nil {
		return
	}
	h := v.view.Hold
	if h == nil || h.State != vocab.PayoutHoldHeld {
		return
	}
	v.releasing = true
	defer func() { v.releasing = false }()
	var m vocab.Movement
	err := workflow.ExecuteActivity(outsideOptions(ctx, "release the seller's payouts"), vocab.ActivityReleaseFunds,
		vocab.ReleaseRequest{Key: h.Key + "/release", HoldID: h.ID, Reason: reason}).Get(ctx, &m)
	if err != nil {
		h.Error = err.Error()
		v.record(ctx, vocab.SystemActor, EventHoldFailed, "hold_id", h.ID, "error", err.Error())
		v.projectHold(ctx)
		v.changed(ctx)
		return
	}
	now := workflow.Now(ctx)
	h.State, h.ReleasedAt, h.ReleasedBy, h.ReleaseReason, h.Error = vocab.PayoutHoldReleased, &now, actor, reason, ""
	v.record(ctx, actor, EventPayoutsReleased, "hold_id", h.ID, "release_id", m.ID, "reason", reason)
	v.projectHold(ctx)
	v.changed(ctx)
}

// startCheck asks the provider to check the seller. A refused request
// fails the check with the provider's reason.
func (v *verifying) startCheck(ctx workflow.Context) {
	var r CheckResult
	err := workflow.ExecuteActivity(outsideOptions(ctx, "start the identity check"), ActivityStartIdentityCheck, IdentityCheckRequest{
		Key: VerificationWorkflowID(v.in.SellerID) + "/check", SellerID: v.in.SellerID, Identity: v.in.Identity,
	}).Get(ctx, &r)
	if err != nil {
		v.take(ctx, vocab.SystemActor, CheckResult{Status: CheckFailed, Reasons: []string{"the identity check could not be started: " + refusal(err)}})
		return
	}
	v.view.CheckID = r.ID
	v.record(ctx, vocab.SystemActor, EventCheckStarted, "check_id", r.ID, "status", r.Status)
	v.take(ctx, vocab.SystemActor, r)
}

// awaitProvider waits for the provider's decision webhook, and asks the
// provider itself when none came within PollEvery.
func (v *verifying) awaitProvider(ctx workflow.Context) {
	var r CheckResult
	got, err := v.receive(ctx, v.in.Policy.PollEvery, "await the provider's decision")
	if err != nil {
		return
	}
	if got != nil {
		v.take(ctx, "provider", *got)
		return
	}
	if err := workflow.ExecuteActivity(outsideOptions(ctx, "ask the provider"), ActivityGetIdentityCheck, v.view.CheckID).Get(ctx, &r); err != nil {
		workflow.GetLogger(ctx).Warn("identity check not read", "seller", v.in.SellerID, "error", err)
		return
	}
	v.take(ctx, "provider", r)
}

// receive answers the next decision webhook for this check, or nil when
// none came within d; a decision update also ends the wait. A webhook of
// another check (an earlier attempt) is dropped.
func (v *verifying) receive(ctx workflow.Context, d time.Duration, summary string) (*CheckResult, error) {
	for {
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: d, TimerOptions: workflow.TimerOptions{Summary: summary}},
			func() bool { return v.decided.Len() > 0 || v.decision != nil })
		if err != nil || !ok || v.decision != nil {
			return nil, err
		}
		var r CheckResult
		v.decided.Receive(ctx, &r)
		if v.view.CheckID == "" || r.ID == "" || r.ID == v.view.CheckID {
			return &r, nil
		}
		workflow.GetLogger(ctx).Warn("decision of another check dropped", "seller", v.in.SellerID, "check", r.ID)
	}
}

// take records the provider's answer and moves the check on.
func (v *verifying) take(ctx workflow.Context, actor string, r CheckResult) {
	switch r.Status {
	case CheckPassed, CheckFailed:
		v.view.Reasons = r.Reasons
		v.record(ctx, actor, EventCheckDecided, "check_id", v.view.CheckID, "status", r.Status, "reasons", strings.Join(r.Reasons, "; "))
		if r.Status == CheckPassed {
			v.view.Status = VerificationPassed
		} else {
			v.view.Status = VerificationFailed
		}
		v.closeReview(ctx, actor, r.Status, strings.Join(r.Reasons, "; "))
	case CheckNeedsReview:
		if v.view.Status != VerificationNeedsReview {
			v.view.Reasons = r.Reasons
			v.startReview(ctx)
		}
	default:
		// Pending: still with the provider; a check under review stays there.
		if v.view.Status != VerificationNeedsReview {
			v.view.Status = VerificationChecking
		}
	}
	v.tellOnboarding(ctx, actor)
	v.changed(ctx)
}

// startReview opens trust_safety's review case with the provider's doubts
// and the review deadline.
func (v *verifying) startReview(ctx workflow.Context) {
	now := workflow.Now(ctx)
	due := now.Add(v.in.Policy.ReviewWithin)
	v.view.Status, v.view.ReviewDue = VerificationNeedsReview, &due
	seller := v.in.Seller
	seller.ID = v.in.SellerID
	var out vocab.OpenCaseResult
	err := workflow.ExecuteActivity(outsideOptions(ctx, "open the review case"), vocab.ActivityOpenCase, vocab.OpenCaseRequest{
		Key:      VerificationWorkflowID(v.in.SellerID) + "/review-case",
		Category: vocab.CategorySellerOnboarding,
		Subject:  fmt.Sprintf("Identity check of seller %s needs review", v.in.SellerID),
		Description: fmt.Sprintf("The provider could not decide check %s of %s (%s): %s.\nDecide by %s: POST /v1/sellers/%s/verification/decision.",
			v.view.CheckID, v.in.Identity.LegalName, v.in.Identity.Country, strings.Join(v.view.Reasons, "; "),
			due.UTC().Format(time.RFC3339), v.in.SellerID),
		AccountID: v.in.SellerID, OpenedBy: vocab.SystemActor, Channel: "seller_verification", Customer: &seller,
	}).Get(ctx, &out)
	if err != nil {
		workflow.GetLogger(ctx).Error("review case not opened", "seller", v.in.SellerID, "error", err)
	}
	v.view.CaseID = out.CaseID
	if v.view.Hold != nil && v.view.Hold.CaseID == "" {
		v.view.Hold.CaseID = out.CaseID
		v.projectHold(ctx)
	}
	v.record(ctx, vocab.SystemActor, EventReviewStarted, "check_id", v.view.CheckID, "case_id", out.CaseID,
		"reasons", strings.Join(v.view.Reasons, "; "), "review_due", due.UTC().Format(time.RFC3339))
}

// awaitReview waits for trust_safety's decision (or a late decision of
// the provider) and escalates the review case once when ReviewDue passes.
func (v *verifying) awaitReview(ctx workflow.Context) {
	wait := time.Hour * 24 * 365
	if !v.view.ReviewOverdue {
		wait = max(v.view.ReviewDue.Sub(workflow.Now(ctx)), time.Millisecond)
	}
	got, _ := v.receive(ctx, wait, "await trust_safety's review")
	switch {
	case v.decision != nil:
		d := *v.decision
		v.decision = nil
		v.view.Decision = &d
		v.record(ctx, d.Actor, EventVerificationDecision, "outcome", d.Outcome, "reason", d.Reason)
		status := CheckPassed
		if d.Outcome == DecisionFail {
			status = CheckFailed
		}
		v.take(ctx, d.Actor, CheckResult{ID: v.view.CheckID, Status: status, Reasons: []string{d.Reason}})
	case got != nil:
		v.take(ctx, "provider", *got)
	case !v.view.ReviewOverdue:
		v.view.ReviewOverdue = true
		v.record(ctx, vocab.SystemActor, EventReviewOverdue, "case_id", v.view.CaseID)
		if v.view.CaseID != "" {
			vocab.ReportToCase(ctx, v.view.CaseID, vocab.CaseEvent{Actor: vocab.SystemActor, Kind: EventReviewOverdue,
				Payload:    vocab.Payload("seller_id", v.in.SellerID, "check_id", v.view.CheckID),
				EscalateTo: vocab.TeamTrustSafety, Reason: "the seller's identity review is overdue"})
		}
		v.changed(ctx)
	}
}

// closeReview tells the review case how the check ended.
func (v *verifying) closeReview(ctx workflow.Context, actor, status, reasons string) {
	if v.view.CaseID == "" {
		return
	}
	vocab.ReportToCase(ctx, v.view.CaseID, vocab.CaseEvent{Actor: actor, Kind: EventCheckDecided,
		Payload: vocab.Payload("seller_id", v.in.SellerID, "check_id", v.view.CheckID, "status", status, "reasons", reasons)})
}

func (v *verifying) validateDecide(d VerificationDecision) error {
	if v.view.Status != VerificationNeedsReview || v.decision != nil {
		return vocab.Refuse(UpdateDecide, "verification", v.view.Status)
	}
	if d.Outcome != DecisionPass && d.Outcome != DecisionFail {
		return vocab.InvalidArgument(fmt.Sprintf("outcome: want pass or fail, got %q", d.Outcome))
	}
	if err := vocab.Required("reason", d.Reason); err != nil {
		return err
	}
	return vocab.Required("actor", d.Actor)
}

// decide takes trust_safety's decision; run acts on it.
func (v *verifying) decide(ctx workflow.Context, d VerificationDecision) (VerificationView, error) {
	d.At = workflow.Now(ctx)
	v.decision = &d
	// The answer shows the decision carried out: a pass with its hold released.
	if err := workflow.Await(ctx, func() bool {
		return v.decision == nil && (v.view.Status == VerificationNeedsReview || v.settled)
	}); err != nil {
		return v.result(), err
	}
	return v.result(), nil
}

func (v *verifying) validateReleaseHold(c vocab.HoldChange) error {
	if err := v.validateHoldChange(vocab.UpdateReleaseHold, c); err != nil {
		return err
	}
	return nil
}

// releaseHold releases the payout hold before the check passes, on
// trust_safety's word.
func (v *verifying) releaseHold(ctx workflow.Context, c vocab.HoldChange) (vocab.PayoutHold, error) {
	v.releasePayouts(ctx, c.Actor, c.Reason)
	if v.view.Hold.State == vocab.PayoutHoldReleased {
		v.reportHoldChange(ctx, c, EventPayoutsReleased)
	} else {
		v.reportHoldChange(ctx, c, EventHoldFailed)
	}
	return *v.view.Hold, nil
}

func (v *verifying) validateExtendHold(c vocab.HoldChange) error {
	if err := v.validateHoldChange(vocab.UpdateExtendHold, c); err != nil {
		return err
	}
	return vocab.Refuse(vocab.UpdateExtendHold, "verification hold, which lasts until the check passes,", v.view.Hold.State)
}

// extendHold is refused by its validator: a verification hold has no end
// to move.
func (v *verifying) extendHold(ctx workflow.Context, c vocab.HoldChange) (vocab.PayoutHold, error) {
	return *v.view.Hold, nil
}

// validateHoldChange refuses a change of a hold this workflow does not
// hold, or one without a reason.
func (v *verifying) validateHoldChange(update string, c vocab.HoldChange) error {
	h := v.view.Hold
	if h == nil || (c.HoldID != h.ID && c.HoldID != h.Key) {
		return vocab.InvalidArgument("hold_id: this verification holds no hold " + c.HoldID)
	}
	if h.State != vocab.PayoutHoldHeld {
		return vocab.Refuse(update, "payout hold", h.State)
	}
	if err := vocab.Required("reason", c.Reason); err != nil {
		return err
	}
	return vocab.Required("actor", c.Actor)
}

// reportHoldChange tells the seller_payment case a change was asked from.
func (v *verifying) reportHoldChange(ctx workflow.Context, c vocab.HoldChange, kind string) {
	if c.CaseID == "" {
		return
	}
	vocab.ReportToCase(ctx, c.CaseID, vocab.CaseEvent{Actor: c.Actor, Kind: kind,
		Payload: vocab.Payload("seller_id", v.in.SellerID, "hold_id", v.view.Hold.ID, "reason", c.Reason, "state", v.view.Hold.State)})
}

// tellOnboarding tells the onboarding where the check is.
func (v *verifying) tellOnboarding(ctx workflow.Context, actor string) {
	if v.in.OnboardingID == "" {
		return
	}
	s := VerificationStatus{Status: v.view.Status, CheckID: v.view.CheckID, Reasons: v.view.Reasons,
		CaseID: v.view.CaseID, Actor: actor, At: workflow.Now(ctx)}
	if err := workflow.SignalExternalWorkflow(ctx, v.in.OnboardingID, "", SignalVerification, s).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("onboarding did not hear the check's status", "seller", v.in.SellerID, "error", err)
	}
}

// notifySeller tells the seller how the check ended, in the workflow task
// first; a message that cannot be sent is logged. Its cause is the end of
// the check (check/<check id>), told once: a verification's workflow id is
// never reused.
func (v *verifying) notifySeller(ctx workflow.Context, event, detail string) {
	cause := ""
	if v.causeIDs {
		cause = "check"
		if v.view.CheckID != "" {
			cause += "/" + v.view.CheckID
		}
	}
	id := sellerNotificationID(VerificationWorkflowID(v.in.SellerID), cause, v.view.LastSeq, event)
	n := sellerNotification(id, v.in.SellerID, v.in.Seller, v.view.Status, event, detail)
	if err := vocab.SendNotification(ctx, n, true); err != nil {
		workflow.GetLogger(ctx).Error("seller not told how the check ended", "seller", v.in.SellerID, "error", err)
	}
}

// projectHold writes the hold to the read model, in the workflow task.
func (v *verifying) projectHold(ctx workflow.Context) {
	if v.view.Hold == nil {
		return
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second, Summary: "project the payout hold",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumInterval: time.Minute},
	})
	if err := workflow.ExecuteLocalActivity(lctx, vocab.ActivityProjectPayoutHold, *v.view.Hold).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("payout hold not projected", "seller", v.in.SellerID, "error", err)
	}
}

// record appends an event with the payload of key, value pairs kv.
func (v *verifying) record(ctx workflow.Context, actor, kind string, kv ...string) {
	now := workflow.Now(ctx)
	e := vocab.Event{Seq: len(v.timeline) + 1, Actor: actor, Kind: kind, At: now, Payload: vocab.Payload(kv...)}
	v.timeline = append(v.timeline, e)
	v.view.LastSeq, v.view.UpdatedAt = e.Seq, now
}

// changed publishes the search attributes that moved and the details.
func (v *verifying) changed(ctx workflow.Context) {
	next := sellerAttributes{verification: v.view.Status, hold: v.view.Hold != nil && v.view.Hold.State == vocab.PayoutHoldHeld, ids: true}
	if updates := v.attrs.diff(next, v.in.SellerID, true); len(updates) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
			workflow.GetLogger(ctx).Error("search attributes not updated", "seller", v.in.SellerID, "error", err)
		}
	}
	v.attrs = next
	lines := []string{fmt.Sprintf("**%s** · seller %s · check %s", v.view.Status, v.in.SellerID, v.view.CheckID)}
	if h := v.view.Hold; h != nil {
		lines = append(lines, fmt.Sprintf("Payout hold %s: %s (%s)", h.ID, h.State, h.Detail))
	}
	if v.view.ReviewDue != nil && v.view.Status == VerificationNeedsReview {
		lines = append(lines, "Review by trust_safety due "+v.view.ReviewDue.UTC().Format("2006-01-02 15:04 UTC")+" · case "+v.view.CaseID)
	}
	workflow.SetCurrentDetails(ctx, strings.Join(lines, "\n\n"))
}

func (v *verifying) result() VerificationView {
	r := v.view
	r.Reasons = slices.Clone(r.Reasons)
	if r.Hold != nil {
		h := *r.Hold
		r.Hold = &h
	}
	r.Timeline = nil
	return r
}

func (v *verifying) fullView() VerificationView {
	r := v.result()
	r.Timeline = slices.Clone(v.timeline)
	return r
}

// outsideOptions are the options of the verification's outside calls:
// retried with backoff, without end, under the same idempotency key (a
// provider down for a day delays a seller, never fails them);
// refusals are non-retryable application errors.
func outsideOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, Summary: summary,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
}

// refusal answers the message of an application error, else err's.
func refusal(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Error()
	}
	return err.Error()
}

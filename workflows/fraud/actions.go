package fraud

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/accountflows"
	"handoff/workflows/sellers"
	"handoff/workflows/vocab"
)

// Validators only read the state; a refusal leaves the watch as it was
// and no trace in its history. Handlers hand run what moves money or
// accounts and answer once it is done, so the caller sees the outcome.

func (w *watch) validateDecide(in Decision) error {
	if w.view.Status != StatusReviewing {
		return vocab.Refuse("decide", "fraud watch", string(w.view.Status)+": no burst awaits a decision")
	}
	if w.decision != nil {
		return vocab.Refuse("decide", "fraud watch", "carrying out a decision already")
	}
	if err := vocab.Required("actor", in.Actor); err != nil {
		return err
	}
	if !slices.Contains(Outcomes, in.Outcome) {
		return vocab.InvalidArgument(fmt.Sprintf("outcome: want %s, got %q", strings.Join(Outcomes, " or "), in.Outcome))
	}
	return vocab.Required("reason", in.Reason)
}

// decide takes trust_safety's decision on the open burst and answers the
// watch once run has carried it out.
func (w *watch) decide(ctx workflow.Context, in Decision) (View, error) {
	w.decision = &in
	err := workflow.Await(ctx, func() bool { return w.decision == nil })
	return w.result(), err
}

// checkHold refuses action on the hold unless the watch holds it, under
// the id the caller names (when it names one).
func (w *watch) checkHold(action string, in vocab.HoldChange) error {
	h := w.view.Hold
	switch {
	case h == nil:
		return vocab.Refuse(action, "fraud watch", "holding no payouts")
	case h.State != vocab.PayoutHoldHeld:
		return vocab.Refuse(action, "payout hold", h.State)
	case w.busy != "":
		return vocab.Refuse(action, "payout hold", w.busy)
	case w.decision != nil || w.release != nil:
		return vocab.Refuse(action, "payout hold", "being decided")
	case in.HoldID != "" && in.HoldID != h.ID:
		return vocab.InvalidArgument(fmt.Sprintf("hold_id: this watch holds %s, not %s", h.ID, in.HoldID))
	}
	if err := vocab.Required("actor", in.Actor); err != nil {
		return err
	}
	return vocab.Required("reason", in.Reason)
}

func (w *watch) validateReleaseHold(in vocab.HoldChange) error {
	return w.checkHold("release the hold", in)
}

// releaseHoldNow releases the hold at trust_safety's request and answers
// it once released; an open burst still awaits its decision.
func (w *watch) releaseHoldNow(ctx workflow.Context, in vocab.HoldChange) (vocab.PayoutHold, error) {
	w.release = &in
	err := workflow.Await(ctx, func() bool { return w.release == nil })
	return *w.view.Hold, err
}

func (w *watch) validateExtendHold(ctx workflow.Context, in vocab.HoldChange) error {
	if err := w.checkHold("extend the hold", in); err != nil {
		return err
	}
	if !in.Until.After(workflow.Now(ctx)) {
		return vocab.InvalidArgument("until: must be in the future")
	}
	if u := w.view.Hold.Until; u != nil && !in.Until.After(*u) {
		return vocab.InvalidArgument("until: must be later than the hold's end, " + stamp(*u))
	}
	return nil
}

// extendHold moves the hold's end to in.Until.
func (w *watch) extendHold(ctx workflow.Context, in vocab.HoldChange) (vocab.PayoutHold, error) {
	h := w.view.Hold
	until := in.Until.UTC()
	h.Until = &until
	w.holdChanged()
	r := w.record(ctx, in.Actor, EventHoldExtended, "hold_id", h.ID, "until", until.Format(timeLayout), "reason", in.Reason)
	w.tell(r, noAsk, h.CaseID, in.CaseID)
	w.moved = true
	w.changed(ctx)
	return *h, nil
}

// carryOut does what accepted updates handed run: a decision, a release.
func (w *watch) carryOut(ctx workflow.Context) {
	if w.decision != nil {
		w.carryOutDecision(ctx, *w.decision)
		w.decision = nil
	}
	if in := w.release; in != nil {
		if w.holding() {
			w.releaseHold(ctx, in.Actor, in.Reason, w.view.Hold.CaseID, in.CaseID)
			w.changed(ctx)
		}
		w.release = nil
	}
}

// carryOutDecision ends the open burst with d: the hold is released or
// kept, the party suspended when d says so, and the case hears each step.
// The burst's signals are decided with it: they open no other burst.
func (w *watch) carryOutDecision(ctx workflow.Context, d Decision) {
	now := workflow.Now(ctx)
	caseID, burst := w.view.CaseID, w.view.Burst
	w.view.Decisions = append(w.view.Decisions, Verdict{Burst: burst, CaseID: caseID, Actor: d.Actor, Outcome: d.Outcome,
		Suspend: d.Suspend, Reason: d.Reason, At: now})
	w.view.Status, w.view.ReviewDue, w.view.ReviewOverdue = StatusDecided, nil, false
	w.view.Recent = []Behaviour{}
	r := w.record(ctx, d.Actor, EventDecision, "burst", strconv.Itoa(burst), "case_id", caseID, "outcome", d.Outcome,
		"suspend", strconv.FormatBool(d.Suspend), "reason", d.Reason)
	w.tell(r, noAsk, caseID)
	if w.holding() {
		h := w.view.Hold
		switch d.Outcome {
		case OutcomeRelease:
			w.releaseHold(ctx, d.Actor, "fraud review, case "+caseID+": "+d.Reason, caseID)
		case OutcomeKeep:
			h.Until = nil
			w.holdChanged()
			r := w.record(ctx, d.Actor, EventHoldKept, "hold_id", h.ID, "reason", d.Reason)
			w.tell(r, noAsk, caseID)
		}
	}
	if d.Suspend {
		w.suspend(ctx, d, burst, caseID)
	}
	w.changed(ctx)
}

// releaseHold releases the seller's payouts, once per hold (its key), and
// tells caseIDs; a release the provider refuses leaves the hold held and
// escalates to trust_safety.
func (w *watch) releaseHold(ctx workflow.Context, actor, reason string, caseIDs ...string) {
	h := w.view.Hold
	req := vocab.ReleaseRequest{Key: h.Key + "/release", HoldID: h.ID, Reason: reason}
	w.busy = "being released"
	var m vocab.Movement
	err := workflow.ExecuteActivity(activityOptions(ctx, "release the payouts of seller "+w.in.PartyID), vocab.ActivityReleaseFunds, req).Get(ctx, &m)
	w.busy = ""
	if err != nil {
		h.Error = message(err)
		w.holdChanged()
		r := w.record(ctx, vocab.SystemActor, EventReleaseFailed, "hold_id", h.ID, "key", req.Key, "error", h.Error)
		w.tell(r, vocab.CaseEvent{EscalateTo: vocab.TeamTrustSafety,
			Reason: "the payouts of seller " + w.in.PartyID + " could not be released: " + h.Error}, caseIDs...)
		return
	}
	now := workflow.Now(ctx)
	h.State, h.ReleasedAt, h.ReleasedBy, h.ReleaseReason, h.Error = vocab.PayoutHoldReleased, &now, actor, reason, ""
	w.holdChanged()
	r := w.record(ctx, actor, EventHoldReleased, "hold_id", h.ID, "movement_id", m.ID, "reason", reason)
	w.tell(r, noAsk, caseIDs...)
}

// suspend locks the party's account and, for a seller, tells the seller's
// onboarding the seller is suspended; what fails is escalated.
func (w *watch) suspend(ctx workflow.Context, d Decision, burst int, caseID string) {
	why := "fraud review, case " + caseID + ": " + d.Reason
	var problems []string
	var locked accountflows.LockResult
	lockErr := workflow.ExecuteActivity(activityOptions(ctx, "lock account "+w.in.PartyID), accountflows.ActivityLockAccount,
		accountflows.AccountRequest{AccountID: w.in.PartyID, Key: w.burstKey(burst) + "/lock", Reason: why}).Get(ctx, &locked)
	if lockErr != nil {
		problems = append(problems, "account not locked: "+message(lockErr))
	}
	standing := ""
	if w.in.Party == PartySeller {
		err := workflow.SignalExternalWorkflow(ctx, vocab.SellerWorkflowID(w.in.PartyID), "", sellers.SignalStanding,
			sellers.Standing{Suspend: true, Actor: d.Actor, Reason: why, CaseID: caseID}).Get(ctx, nil)
		if err != nil {
			problems = append(problems, "seller standing not changed: "+message(err))
		} else {
			standing = "suspended"
		}
	}
	if len(problems) > 0 {
		r := w.record(ctx, vocab.SystemActor, EventSuspendFailed, "burst", strconv.Itoa(burst), "error", strings.Join(problems, "; "))
		w.tell(r, vocab.CaseEvent{EscalateTo: vocab.TeamTrustSafety,
			Reason: fmt.Sprintf("the suspension of %s %s is incomplete: %s", w.in.Party, w.in.PartyID, strings.Join(problems, "; "))}, caseID)
	}
	if lockErr == nil || standing != "" {
		r := w.record(ctx, d.Actor, EventSuspended, "burst", strconv.Itoa(burst), "account_locked", strconv.FormatBool(lockErr == nil),
			"sessions_revoked", strconv.Itoa(locked.SessionsRevoked), "seller_standing", standing)
		w.tell(r, noAsk, caseID)
	}
}

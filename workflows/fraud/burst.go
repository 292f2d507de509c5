package fraud

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/accountflows"
	"handoff/workflows/vocab"
)

// A burst: the case a firing rule opens, the seller's payout hold and the
// review's deadline.

// noAsk tells a case an event and asks nothing more of it.
var noAsk = vocab.CaseEvent{}

// burstKey names burst n of this watch: the case it opens, its hold
// (<key>/hold) and the lock of a suspension (<key>/lock). The chain keeps
// a watch that ended and started again from reusing an old burst's keys.
func (w *watch) burstKey(n int) string {
	return w.id + "/" + w.chain + "/burst-" + strconv.Itoa(n)
}

// openBurst opens the fraud_report case of a burst rule fired on, holds a
// seller's payouts and starts the review. A case that cannot be opened
// leaves the watch as it was: the next signal tries again, with the same
// key.
func (w *watch) openBurst(ctx workflow.Context, rule Rule, fired []Behaviour) {
	n := w.view.Bursts + 1
	w.record(ctx, vocab.SystemActor, EventRuleFired, "rule", rule.Name, "burst", strconv.Itoa(n),
		"signals", strconv.Itoa(len(fired)), "window", span(rule.Window))
	caseID, err := w.openCase(ctx, n, rule, fired)
	if err != nil {
		workflow.GetLogger(ctx).Error("fraud case not opened", "watch", w.id, "error", err)
		w.record(ctx, vocab.SystemActor, EventCaseNotOpened, "rule", rule.Name, "burst", strconv.Itoa(n), "error", message(err))
		return
	}
	due := workflow.Now(ctx).Add(w.in.Policy.ReviewWithin)
	w.view.Bursts, w.view.Burst, w.view.FiredRule, w.view.CaseID = n, n, rule.Name, caseID
	w.view.Status, w.view.ReviewDue, w.view.ReviewOverdue = StatusReviewing, &due, false
	r := w.record(ctx, vocab.SystemActor, EventCaseOpened, "case_id", caseID, "rule", rule.Name, "burst", strconv.Itoa(n),
		"review_due", due.UTC().Format(timeLayout))
	w.tell(r, noAsk, caseID)
	if w.in.Party == PartySeller {
		w.holdPayouts(ctx, n)
	}
}

// openCase opens burst n's case, once for its key, and answers its id.
func (w *watch) openCase(ctx workflow.Context, n int, rule Rule, fired []Behaviour) (string, error) {
	lines := make([]string, 0, len(w.view.Recent)+2)
	lines = append(lines, fmt.Sprintf("Rule %s fired (%s) on %s %s. Signals it counted:", rule.Name, rule.describe(), w.in.Party, w.in.PartyID))
	counted := map[string]bool{}
	for _, b := range fired {
		lines = append(lines, signalLine(b))
		counted[signalRef(b)] = true
	}
	var others []string
	for _, b := range w.view.Recent {
		if !counted[signalRef(b)] {
			others = append(others, signalLine(b))
		}
	}
	if len(others) > 0 {
		lines = append(append(lines, "Other recent signals:"), others...)
	}
	var out vocab.OpenCaseResult
	err := workflow.ExecuteActivity(activityOptions(ctx, "open the fraud case of burst "+strconv.Itoa(n)), vocab.ActivityOpenCase, vocab.OpenCaseRequest{
		Key:      w.burstKey(n),
		Category: vocab.CategoryFraudReport,
		Subject:  fmt.Sprintf("Fraud watch: %s %s, %s (%d signals within %s)", w.in.Party, w.in.PartyID, rule.Name, len(fired), span(rule.Window)),
		// The account directory knows marketplace accounts, buyers and
		// sellers alike, by the party's id; it answers whom the case is for.
		Description: strings.Join(lines, "\n"), AccountID: w.in.PartyID,
		OpenedBy: vocab.SystemActor, Channel: "fraud_watch",
		// The review holds payouts; only the decision suspends the party,
		// who is never written to from the case.
		KeepAccountOpen: true, Confidential: true,
	}).Get(ctx, &out)
	return out.CaseID, err
}

// signalLine writes one signal for a case's description.
func signalLine(b Behaviour) string {
	line := "- " + b.At.UTC().Format(timeLayout) + " " + b.Kind
	if b.Amount.Currency != "" {
		line += " " + b.Amount.String()
	}
	if b.Detail != "" {
		line += ": " + b.Detail
	}
	if b.ID != "" {
		line += " [" + b.ID + "]"
	}
	return line + " (reported by " + b.ReportedBy + ")"
}

// signalRef tells signals apart when they have no id.
func signalRef(b Behaviour) string { return b.ID + "\x00" + b.Kind + "\x00" + b.At.String() }

// holdPayouts holds the seller's payouts for burst n's review, until the
// policy's HoldFor; a hold an earlier decision kept is reviewed anew by
// the new case instead of a second hold.
func (w *watch) holdPayouts(ctx workflow.Context, n int) {
	caseID := w.view.CaseID
	if w.holding() {
		h := w.view.Hold
		h.CaseID, h.Detail = caseID, "fraud review, case "+caseID
		w.holdChanged()
		r := w.record(ctx, vocab.SystemActor, EventPayoutsHeld, "hold_id", h.ID, "hold_key", h.Key, "already_held", "true")
		w.tell(r, noAsk, caseID)
		return
	}
	now := workflow.Now(ctx)
	h := &vocab.PayoutHold{Key: w.burstKey(n) + "/hold", SellerID: w.in.PartyID, Reason: vocab.HoldReasonFraudReview,
		Detail: "fraud review, case " + caseID, Owner: w.id, State: vocab.PayoutHoldPending, PlacedAt: now, CaseID: caseID}
	w.view.Hold = h
	w.busy = "being placed"
	var m vocab.Movement
	err := workflow.ExecuteActivity(activityOptions(ctx, "hold the payouts of seller "+w.in.PartyID), vocab.ActivityHoldPayouts,
		vocab.PayoutHoldRequest{Key: h.Key, SellerID: w.in.PartyID, Reason: vocab.HoldReasonFraudReview}).Get(ctx, &m)
	w.busy = ""
	if err != nil {
		h.State, h.Error = vocab.PayoutHoldRefused, message(err)
		w.holdChanged()
		r := w.record(ctx, vocab.SystemActor, EventHoldFailed, "hold_key", h.Key, "error", h.Error)
		w.tell(r, vocab.CaseEvent{EscalateTo: vocab.TeamTrustSafety,
			Reason: "the payouts of seller " + w.in.PartyID + " could not be held: " + h.Error}, caseID)
		return
	}
	h.ID, h.State, h.PlacedAt = m.ID, vocab.PayoutHoldHeld, workflow.Now(ctx)
	until := ""
	if w.in.Policy.HoldFor > 0 {
		end := h.PlacedAt.Add(w.in.Policy.HoldFor)
		h.Until, until = &end, end.UTC().Format(timeLayout)
	}
	w.holdChanged()
	r := w.record(ctx, vocab.SystemActor, EventPayoutsHeld, "hold_id", h.ID, "hold_key", h.Key, "until", until)
	w.tell(r, noAsk, caseID)
}

// holdChanged queues the hold as it now is for the read model.
func (w *watch) holdChanged() {
	h := *w.view.Hold
	w.toProject = append(w.toProject, h)
}

// projectHolds writes each version of the hold to the read model, in
// order, as a local activity; a version a later one of the same hold
// replaces is skipped.
func (w *watch) projectHolds(ctx workflow.Context) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:             "project payout hold to Postgres",
	})
	for {
		if err := workflow.Await(ctx, func() bool { return len(w.toProject) > 0 }); err != nil {
			return
		}
		h := w.toProject[0]
		if len(w.toProject) == 1 || w.toProject[1].Key != h.Key {
			if err := workflow.ExecuteLocalActivity(lctx, vocab.ActivityProjectPayoutHold, h).Get(ctx, nil); err != nil {
				// Only a non-retryable refusal gets here; the next change
				// writes the whole hold again.
				workflow.GetLogger(ctx).Error("payout hold not projected", "hold", h.Key, "error", err)
			}
		}
		w.toProject = w.toProject[1:]
	}
}

// actOnDeadlines escalates a review past its due time, once, and
// releases a hold whose end has come.
func (w *watch) actOnDeadlines(ctx workflow.Context) {
	now := workflow.Now(ctx)
	if w.view.Status == StatusReviewing && !w.view.ReviewOverdue && w.view.ReviewDue != nil && !now.Before(*w.view.ReviewDue) {
		w.view.ReviewOverdue = true
		due := *w.view.ReviewDue
		r := w.record(ctx, vocab.SystemActor, EventReviewOverdue, "burst", strconv.Itoa(w.view.Burst), "case_id", w.view.CaseID,
			"review_due", due.UTC().Format(timeLayout))
		w.tell(r, vocab.CaseEvent{EscalateTo: vocab.TeamTrustSafety,
			Reason: fmt.Sprintf("fraud review of %s %s (rule %s) was due %s", w.in.Party, w.in.PartyID, w.view.FiredRule, stamp(due))},
			w.view.CaseID)
		w.changed(ctx)
	}
	if w.holding() && w.view.Hold.Until != nil && !now.Before(*w.view.Hold.Until) {
		h := w.view.Hold
		w.releaseHold(ctx, vocab.SystemActor, "the hold ended undecided at "+stamp(*h.Until), h.CaseID)
		if w.holding() {
			// The release failed and was escalated: the hold now waits for a
			// person rather than retrying at every turn.
			h.Until = nil
			w.holdChanged()
		}
		w.changed(ctx)
	}
}

// activityOptions are the options of the watch's activities: short
// attempts retried with backoff under the same key for up to a day; a
// refusal is never retried.
func activityOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    2 * time.Minute,
			NonRetryableErrorTypes: []string{vocab.ErrTypePaymentRefused, vocab.ErrInvalidArgument,
				accountflows.ErrAccountNotFound},
		},
	})
}

// message answers what err says for people: an application error's own
// message (the provider's refusal), else the error.
func message(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

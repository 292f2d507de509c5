package fraud

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// Bounds of one run's history and of what a run carries into the next.
const (
	// signalsPerRun signals make a run continue as new.
	signalsPerRun = 500
	// seenKept ids are remembered for deduplication, the newest.
	seenKept = 1000
	// timelineKept events of the timeline are carried, the newest.
	timelineKept = 200
)

// FraudWatch watches what the marketplace reports about one buyer or
// seller. When a rule of its policy fires it opens one fraud_report case
// for the burst, holds a seller's payouts and gives trust_safety the
// policy's review time, escalating the case once when it passes; later
// signals join that case. The decision releases or keeps the hold and may
// suspend the party; an undecided hold ends by itself at its end. The
// watch ends once nothing is open and the party has been quiet for the
// policy's longest window; it continues as new after signalsPerRun signals.
func FraudWatch(ctx workflow.Context, in Input) (View, error) {
	if err := in.Validate(); err != nil {
		return View{}, err
	}
	w := newWatch(ctx, in)
	if err := w.setup(ctx); err != nil {
		return w.fullView(ctx), err
	}
	return w.run(ctx)
}

// watch is the workflow's state; handlers change it or hand run what
// takes time (moving money, opening cases), run does it.
type watch struct {
	in       Input
	id       string
	chain    string
	view     View
	timeline []vocab.Event
	seen     []string
	// inbox holds the signals received and not yet taken, oldest first.
	inbox    []Behaviour
	signals  workflow.ReceiveChannel
	received int
	// lastSignalAt starts the quiet window after which the watch ends.
	lastSignalAt time.Time
	// decision and release are accepted updates that run carries out;
	// their handlers answer once it has. moved wakes run when an extension
	// moved the hold's end; busy names the money run is moving, during
	// which the hold takes no change.
	decision *Decision
	release  *vocab.HoldChange
	moved    bool
	busy     string
	// outbox holds the case events not yet signalled, oldest first;
	// toProject the hold's versions not yet written to the read model.
	outbox    []caseReport
	toProject []vocab.PayoutHold
	// held is the PayoutHold search attribute as last upserted (absent
	// reads false).
	held bool
}

// caseReport is one case event for one case.
type caseReport struct {
	caseID string
	event  vocab.CaseEvent
}

func newWatch(ctx workflow.Context, in Input) *watch {
	now := workflow.Now(ctx)
	w := &watch{in: in, id: WorkflowID(in.Party, in.PartyID)}
	if c := in.Carried; c != nil {
		w.chain, w.view, w.timeline, w.seen, w.inbox, w.lastSignalAt = c.Chain, c.View, c.Timeline, c.Seen, c.Pending, c.LastSignalAt
		w.in.Carried = nil
	} else {
		w.chain, w.lastSignalAt = workflow.GetInfo(ctx).WorkflowExecution.RunID, now
		w.view = View{Party: in.Party, PartyID: in.PartyID, Status: StatusWatching, Recent: []Behaviour{},
			Decisions: []Verdict{}, UpdatedAt: now}
	}
	w.held, _ = workflow.GetTypedSearchAttributes(ctx).GetBool(vocab.PayoutHoldKey)
	return w
}

func (w *watch) setup(ctx workflow.Context) error {
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateDecide, w.decide, w.validateDecide},
		{vocab.UpdateReleaseHold, w.releaseHoldNow, w.validateReleaseHold},
		{vocab.UpdateExtendHold, w.extendHold, w.validateExtendHold},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler,
			workflow.UpdateHandlerOptions{Validator: h.validator}); err != nil {
			return fmt.Errorf("register update %s: %w", h.name, err)
		}
	}
	if err := workflow.SetQueryHandler(ctx, QueryWatch, func() (View, error) {
		return w.fullView(ctx), nil
	}); err != nil {
		return fmt.Errorf("register query %s: %w", QueryWatch, err)
	}
	w.signals = workflow.GetSignalChannel(ctx, SignalBehaviour)
	workflow.Go(ctx, w.takeSignals)
	workflow.Go(ctx, w.tellCases)
	workflow.Go(ctx, w.projectHolds)
	return nil
}

// run takes signals and carries out decisions and hold changes, and acts
// on the review's and the hold's deadlines, until the quiet window ends
// with nothing open; it continues as new after signalsPerRun signals.
func (w *watch) run(ctx workflow.Context) (View, error) {
	for {
		w.takeInbox(ctx)
		w.carryOut(ctx)
		w.actOnDeadlines(ctx)
		if w.received >= signalsPerRun {
			return w.fullView(ctx), w.continueAsNew(ctx)
		}
		due, what, quiet := w.nextDeadline()
		woke, err := w.awaitWork(ctx, due, what)
		if err != nil {
			return w.fullView(ctx), err
		}
		if woke || !quiet || !w.idle() {
			continue
		}
		// The quiet window ended: finish what is under way, then end,
		// unless a signal came meanwhile.
		if err := workflow.Await(ctx, func() bool {
			return w.hasWork() || (w.drained() && workflow.AllHandlersFinished(ctx))
		}); err != nil {
			return w.fullView(ctx), err
		}
		if w.hasWork() {
			continue
		}
		if w.signals.Len() > 0 {
			return w.fullView(ctx), w.continueAsNew(ctx)
		}
		w.prune(workflow.Now(ctx))
		return w.fullView(ctx), nil
	}
}

// takeSignals moves every signal into the inbox as it arrives.
func (w *watch) takeSignals(ctx workflow.Context) {
	for {
		var b Behaviour
		w.signals.Receive(ctx, &b)
		w.inbox = append(w.inbox, b)
	}
}

// hasWork reports that run has something to take or carry out.
func (w *watch) hasWork() bool {
	return len(w.inbox) > 0 || w.decision != nil || w.release != nil || w.moved
}

// idle reports that nothing is open: no burst under review, no payouts held.
func (w *watch) idle() bool {
	return w.view.Status != StatusReviewing && !w.holding()
}

// holding reports that the watch holds the seller's payouts.
func (w *watch) holding() bool {
	return w.view.Hold != nil && w.view.Hold.State == vocab.PayoutHoldHeld
}

// nextDeadline answers the soonest of the review's due time (until it is
// overdue), the hold's end and, with nothing open, the end of the quiet
// window; quiet says that one is the soonest. Zero means none.
func (w *watch) nextDeadline() (due time.Time, what string, quiet bool) {
	consider := func(t time.Time, summary string, q bool) {
		if due.IsZero() || t.Before(due) {
			due, what, quiet = t, summary, q
		}
	}
	if w.view.Status == StatusReviewing && !w.view.ReviewOverdue && w.view.ReviewDue != nil {
		consider(*w.view.ReviewDue, "fraud review due "+stamp(*w.view.ReviewDue), false)
	}
	if w.holding() && w.view.Hold.Until != nil {
		consider(*w.view.Hold.Until, "payout hold ends "+stamp(*w.view.Hold.Until), false)
	}
	if w.idle() {
		end := w.lastSignalAt.Add(w.in.Policy.Longest())
		consider(end, "quiet window ends "+stamp(end), true)
	}
	return due, what, quiet
}

// awaitWork waits for work until due (for ever when zero) and reports
// whether work came first. Its timer is cancelled when work comes, so a
// long watch keeps one timer at a time.
func (w *watch) awaitWork(ctx workflow.Context, due time.Time, what string) (bool, error) {
	defer func() { w.moved = false }()
	if w.hasWork() {
		return true, nil
	}
	if due.IsZero() {
		return true, workflow.Await(ctx, w.hasWork)
	}
	wait := due.Sub(workflow.Now(ctx))
	if wait <= 0 {
		return false, nil
	}
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimerWithOptions(tctx, wait, workflow.TimerOptions{Summary: what})
	err := workflow.Await(ctx, func() bool { return w.hasWork() || timer.IsReady() })
	return w.hasWork(), err
}

// drained reports that every case event is signalled and every hold
// version written.
func (w *watch) drained() bool { return len(w.outbox) == 0 && len(w.toProject) == 0 }

// continueAsNew carries the watch into a new run once what is under way
// is done, with the signals not yet taken.
func (w *watch) continueAsNew(ctx workflow.Context) error {
	// A decision or a release accepted meanwhile is carried out first: its
	// handler answers only then.
	for {
		if err := workflow.Await(ctx, func() bool {
			return w.decision != nil || w.release != nil || (w.drained() && workflow.AllHandlersFinished(ctx))
		}); err != nil {
			return err
		}
		if w.decision == nil && w.release == nil {
			break
		}
		w.carryOut(ctx)
	}
	for {
		var b Behaviour
		if !w.signals.ReceiveAsync(&b) {
			break
		}
		w.inbox = append(w.inbox, b)
	}
	timeline := w.timeline[max(0, len(w.timeline)-timelineKept):]
	next := w.in
	next.Carried = &Carry{Chain: w.chain, View: w.result(), Timeline: slices.Clone(timeline), Seen: slices.Clone(w.seen),
		Pending: slices.Clone(w.inbox), LastSignalAt: w.lastSignalAt}
	return workflow.NewContinueAsNewError(ctx, WorkflowType, next)
}

// recorded is an event of the timeline with the key, value pairs of its
// payload, for telling a case.
type recorded struct {
	actor, kind string
	kv          []string
}

// record appends an event with the payload of key, value pairs kv to the
// timeline and answers it; tell sends it to a case.
func (w *watch) record(ctx workflow.Context, actor, kind string, kv ...string) recorded {
	now := workflow.Now(ctx)
	e := vocab.Event{Seq: w.view.LastSeq + 1, Actor: actor, Kind: kind, At: now, Payload: vocab.Payload(kv...)}
	w.timeline = append(w.timeline, e)
	w.view.LastSeq, w.view.UpdatedAt = e.Seq, now
	return recorded{actor: actor, kind: kind, kv: kv}
}

// tell queues r for each of caseIDs (empty and repeated ids left out),
// with what ask adds (an escalation); the case hears the same kind and
// payload, with the party.
func (w *watch) tell(r recorded, ask vocab.CaseEvent, caseIDs ...string) {
	ask.Actor, ask.Kind = r.actor, r.kind
	ask.Payload = vocab.Payload(append([]string{"party", w.in.Party, "party_id", w.in.PartyID}, r.kv...)...)
	var told []string
	for _, id := range caseIDs {
		if id == "" || slices.Contains(told, id) {
			continue
		}
		told = append(told, id)
		w.outbox = append(w.outbox, caseReport{caseID: id, event: ask})
	}
}

// tellCases signals the outbox's events in order.
func (w *watch) tellCases(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return len(w.outbox) > 0 }); err != nil {
			return
		}
		r := w.outbox[0]
		vocab.ReportToCase(ctx, r.caseID, r.event)
		w.outbox = w.outbox[1:]
	}
}

// changed publishes the new state: the PayoutHold search attribute when
// it moved, and the Web UI's details. Every transition calls it once.
func (w *watch) changed(ctx workflow.Context) {
	if w.in.Party == PartySeller && w.held != w.holding() {
		if err := workflow.UpsertTypedSearchAttributes(ctx, vocab.PayoutHoldKey.ValueSet(w.holding())); err != nil {
			workflow.GetLogger(ctx).Error("search attributes not updated", "watch", w.id, "error", err)
		} else {
			w.held = w.holding()
		}
	}
	workflow.SetCurrentDetails(ctx, w.details())
}

// details is the Markdown the Web UI shows: where the watch is, the open
// burst and its case, and the hold.
func (w *watch) details() string {
	v := w.view
	lines := []string{fmt.Sprintf("**%s** · %s %s · %d recent signals · %d bursts", v.Status, v.Party, v.PartyID, len(v.Recent), v.Bursts)}
	if v.Status == StatusReviewing {
		line := fmt.Sprintf("Burst %d (rule %s) · case %s", v.Burst, v.FiredRule, v.CaseID)
		if v.ReviewDue != nil {
			line += " · review due " + stamp(*v.ReviewDue)
		}
		if v.ReviewOverdue {
			line += " (overdue, escalated)"
		}
		lines = append(lines, line)
	}
	if h := v.Hold; h != nil {
		line := "Payouts: hold " + h.State
		if h.Until != nil && h.State == vocab.PayoutHoldHeld {
			line += " until " + stamp(*h.Until)
		}
		lines = append(lines, line)
	}
	if n := len(v.Decisions); n > 0 {
		d := v.Decisions[n-1]
		lines = append(lines, fmt.Sprintf("Decision on burst %d by %s: %s, suspend %t (%s)", d.Burst, d.Actor, d.Outcome, d.Suspend, d.Reason))
	}
	return strings.Join(lines, "\n\n")
}

// result answers the view an update returns: the watch without its
// timeline and rule counts.
func (w *watch) result() View {
	v := w.view
	v.Recent = slices.Clone(v.Recent)
	v.Decisions = slices.Clone(v.Decisions)
	if v.Hold != nil {
		h := *v.Hold
		v.Hold = &h
	}
	v.Rules, v.Timeline = nil, nil
	return v
}

// fullView answers the watch with its rule counts and timeline, as the
// query and the result give it.
func (w *watch) fullView(ctx workflow.Context) View {
	v := w.result()
	v.Rules = w.counts(workflow.Now(ctx))
	v.Timeline = slices.Clone(w.timeline)
	return v
}

// stamp writes a time for people: timer summaries, subjects, reasons.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// timeLayout writes times in payloads.
const timeLayout = time.RFC3339

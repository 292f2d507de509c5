package deliveries

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// AccountDelivery follows one delivered account from ready to retired. It
// takes the delivery once its evidence is attached, gives the buyer a
// confirmation window (a reminder at half, then confirmed by default),
// opens a linked case for a problem the buyer reports or a suspicious
// signal on the account and hears that case's outcome, tells the buyer
// before the warranty ends, and retires itself when it has. A long
// warranty continues as new before its history grows large.
func AccountDelivery(ctx workflow.Context, in DeliveryInput) (DeliveryView, error) {
	if err := in.Validate(); err != nil {
		return DeliveryView{}, err
	}
	d := newDelivery(ctx, in)
	if err := d.setup(ctx); err != nil {
		return d.view, err
	}
	return d.run(ctx)
}

// delivery is the workflow's state; handlers change it, run waits on it.
type delivery struct {
	in       DeliveryInput
	view     DeliveryView
	timeline []vocab.Event
	// windowOpen is true while the buyer may still confirm by silence.
	windowOpen   bool
	reminderSent bool
	noticeSent   bool
	waitReason   string
	// opening counts linked cases being opened, for their keys.
	opening int
	// firstSeq is the newest timeline event when this run began.
	firstSeq int
	// signals and outcomes wait to be acted on in run's loop.
	signals  []AccountSignal
	outcomes []vocab.LinkedCaseOutcome
	// version grows with every change so run wakes up and re-arms its timer.
	version int
	// pending counts notifications and case opens still under way.
	pending      int
	projectedSeq int
	// outcomesTaken and signalsTaken count the outcomes and signals acted
	// on, in this run and the ones before: the nth of each channel is the
	// cause of what it tells.
	outcomesTaken, signalsTaken int
	// causeIDs names each notification after its cause, not its event's
	// timeline number (changeCauseIDs); issued counts the ids so named, so
	// a cause that tells of one event twice names the second.
	causeIDs bool
	issued   vocab.IssuedIDs
	timer    deadlineTimer
	attrs    attributes
}

// InitialView answers the view a delivery started with in has once its
// first workflow task has run, without asking the workflow: the API answers
// a start with it in the one round trip of the start (a query is a billable
// action). It needs in.StartedAt.
func InitialView(in DeliveryInput) (DeliveryView, bool) {
	if in.StartedAt.IsZero() || in.Carried != nil {
		return DeliveryView{}, false
	}
	d := startState(in, in.StartedAt)
	d.view.NextAction = d.nextAction()
	d.view.Handoff.Missing = d.missing()
	return d.result(), true
}

func newDelivery(ctx workflow.Context, in DeliveryInput) *delivery {
	d := &delivery{in: in}
	if c := in.Carried; c != nil {
		d.view, d.timeline = c.View, c.Timeline
		d.reminderSent, d.noticeSent, d.waitReason = c.ReminderSent, c.NoticeSent, c.WaitReason
		d.signals, d.outcomes, d.projectedSeq = c.Signals, c.Outcomes, c.Projected
		d.outcomesTaken, d.signalsTaken = c.OutcomesTaken, c.SignalsTaken
		d.windowOpen = d.view.ConfirmBy != nil
		d.in.Carried = nil
		d.attrs = d.attributes()
		d.firstSeq = len(d.timeline)
		return d
	}
	now := in.StartedAt
	if now.IsZero() {
		now = workflow.Now(ctx)
	}
	return startState(in, now)
}

// startState is a new delivery as it is before its first workflow task ends.
func startState(in DeliveryInput, now time.Time) *delivery {
	d := &delivery{in: in}
	d.view = DeliveryView{
		ID: in.ID, Status: StatusReady, Buyer: in.Buyer, SellerID: in.SellerID, Product: in.Product, Region: in.Region,
		Handoff:  HandoffRecord{AccountID: in.AccountID, OrderID: in.OrderID, RecoveryPath: in.RecoveryPath, AllowedUse: in.AllowedUse},
		Evidence: []vocab.Evidence{}, LinkedCases: []LinkedCase{}, CreatedAt: now, UpdatedAt: now,
	}
	d.timeline = []vocab.Event{{Seq: 1, Actor: in.StartedBy, Kind: EventStarted, At: now, Payload: vocab.Payload(
		"account_id", in.AccountID, "order_id", in.OrderID, "buyer_id", in.Buyer.ID, "seller_id", in.SellerID,
		"product", in.Product, "warranty", in.Warranty.String())}}
	d.view.LastSeq = 1
	d.attrs = attributes{status: string(StatusReady)}
	return d
}

func (d *delivery) setup(ctx workflow.Context) error {
	d.causeIDs = d.has(ctx, changeCauseIDs)
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateAddEvidence, d.addEvidence, d.validateAddEvidence},
		{UpdateDeliver, d.deliver, d.validateDeliver},
		{UpdateConfirm, d.confirm, d.validateConfirm},
		{UpdateReportProblem, d.reportProblem, d.validateReportProblem},
		{UpdateWaitOnBuyer, d.waitOnBuyer, d.validateWaitOnBuyer},
		{UpdateExtendWarranty, d.extendWarranty, d.validateExtendWarranty},
		{UpdateRetire, d.retire, d.validateRetire},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler,
			workflow.UpdateHandlerOptions{Validator: h.validator}); err != nil {
			return fmt.Errorf("register update %s: %w", h.name, err)
		}
	}
	if err := workflow.SetQueryHandler(ctx, QueryDelivery, func() (DeliveryView, error) {
		return d.fullView(), nil
	}); err != nil {
		return fmt.Errorf("register query %s: %w", QueryDelivery, err)
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, SignalLinkedCase)
		for {
			var o vocab.LinkedCaseOutcome
			ch.Receive(ctx, &o)
			d.outcomes = append(d.outcomes, o)
			d.version++
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, SignalAccountSignal)
		for {
			var s AccountSignal
			ch.Receive(ctx, &s)
			d.signals = append(d.signals, s)
			d.version++
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) { vocab.TakeErasures(ctx, d.eraseBuyer) })
	workflow.Go(ctx, d.project)
	d.changed(ctx)
	return nil
}

// run acts on what arrives and on the next deadline until the delivery is
// retired and nothing it started is still going; a run whose history has
// grown continues as new.
func (d *delivery) run(ctx workflow.Context) (DeliveryView, error) {
	for d.view.Status != StatusRetired {
		d.takeReports(ctx)
		if d.view.Status == StatusRetired {
			break
		}
		now := workflow.Now(ctx)
		next, ok := d.nextDeadline()
		if ok && !next.at.After(now) {
			d.onDeadline(ctx, next)
			continue
		}
		if d.historyFull(ctx) && d.idle(ctx) {
			return d.view, d.continueAsNew(ctx)
		}
		d.timer.arm(ctx, next, ok)
		seen := d.version
		// A full run also wakes when it becomes idle: the read model's
		// last write or a notification may be what it waits for.
		full := d.historyFull(ctx)
		if err := workflow.Await(ctx, func() bool { return d.version != seen || d.timer.Fired || (full && d.idle(ctx)) }); err != nil {
			return d.view, err
		}
		d.timer.Fired = false
	}
	d.timer.arm(ctx, deadline{}, false)
	if err := workflow.Await(ctx, func() bool { return d.idle(ctx) }); err != nil {
		return d.view, err
	}
	return d.fullView(), nil
}

// idle reports that nothing the delivery started is under way and the read
// model has every event.
func (d *delivery) idle(ctx workflow.Context) bool {
	return d.pending == 0 && d.projectedSeq == d.view.LastSeq && workflow.AllHandlersFinished(ctx)
}

// historyFull reports that this run should hand over to a new one.
func (d *delivery) historyFull(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() ||
		(d.in.ContinueAfter > 0 && len(d.timeline)-d.firstSeq >= d.in.ContinueAfter)
}

// continueAsNew carries the delivery into a new run, with the reports that
// arrived but were not acted on yet.
func (d *delivery) continueAsNew(ctx workflow.Context) error {
	d.timer.arm(ctx, deadline{}, false)
	outcomes := workflow.GetSignalChannel(ctx, SignalLinkedCase)
	for {
		var o vocab.LinkedCaseOutcome
		if !outcomes.ReceiveAsync(&o) {
			break
		}
		d.outcomes = append(d.outcomes, o)
	}
	signals := workflow.GetSignalChannel(ctx, SignalAccountSignal)
	for {
		var s AccountSignal
		if !signals.ReceiveAsync(&s) {
			break
		}
		d.signals = append(d.signals, s)
	}
	d.drainErasures(ctx)
	next := d.in
	next.Carried = &Carried{View: d.view, Timeline: d.timeline, ReminderSent: d.reminderSent, NoticeSent: d.noticeSent, WaitReason: d.waitReason,
		Signals: d.signals, Outcomes: d.outcomes, Projected: d.projectedSeq,
		OutcomesTaken: d.outcomesTaken, SignalsTaken: d.signalsTaken}
	return workflow.NewContinueAsNewError(ctx, WorkflowType, next)
}

// takeReports acts on the linked cases' outcomes and the account signals
// that arrived, oldest first. Each channel's are taken in the order they
// arrived, so the nth taken is the nth received in every try of a task:
// the cause of what it tells.
func (d *delivery) takeReports(ctx workflow.Context) {
	for len(d.outcomes) > 0 {
		o := d.outcomes[0]
		d.outcomes = d.outcomes[1:]
		d.outcomesTaken++
		d.onCaseOutcome(vocab.CausedBy(ctx, SignalLinkedCase+"/"+itoa(d.outcomesTaken)), o)
	}
	for len(d.signals) > 0 && d.view.Status != StatusRetired {
		s := d.signals[0]
		d.signals = d.signals[1:]
		d.signalsTaken++
		d.onAccountSignal(vocab.CausedBy(ctx, SignalAccountSignal+"/"+itoa(d.signalsTaken)), s)
	}
}

// record appends an event to the timeline and bumps the version.
func (d *delivery) record(ctx workflow.Context, actor, kind string, payload map[string]string) vocab.Event {
	now := workflow.Now(ctx)
	e := vocab.Event{Seq: len(d.timeline) + 1, Actor: actor, Kind: kind, At: now, Payload: payload}
	d.timeline = append(d.timeline, e)
	d.view.LastSeq = e.Seq
	d.view.UpdatedAt = now
	d.version++
	return e
}

// communicate records the newest message to or from the buyer in the
// handoff record.
func (d *delivery) communicate(ctx workflow.Context, direction, kind, summary string) {
	d.view.Handoff.LatestCommunication = &Communication{At: workflow.Now(ctx), Direction: direction, Kind: kind, Summary: summary}
}

// changed publishes the new state: what happens next, the handoff record's
// gaps, the search attributes and the Web UI's details.
func (d *delivery) changed(ctx workflow.Context) {
	d.view.NextAction = d.nextAction()
	d.view.Handoff.Missing = d.missing()
	next := d.attributes()
	if updates := d.attrs.diff(next); len(updates) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
			workflow.GetLogger(ctx).Error("search attributes not updated", "error", err)
		}
	}
	d.attrs = next
	workflow.SetCurrentDetails(ctx, d.details())
	d.version++
}

// missing names the handoff answers not known yet.
func (d *delivery) missing() []string {
	m := []string{}
	if d.view.Handoff.DeliveredAt == nil {
		m = append(m, "delivered_at")
	}
	if d.view.Handoff.LatestCommunication == nil {
		m = append(m, "latest_communication")
	}
	return m
}

// nextAction says what happens next, and who acts.
func (d *delivery) nextAction() string {
	v := d.view
	switch v.Status {
	case StatusReady:
		return "the seller attaches a delivery screenshot or login note, then delivers the account"
	case StatusDelivered:
		if d.windowOpen && v.ConfirmBy != nil {
			return "the buyer confirms the account works or reports a problem by " + stamp(*v.ConfirmBy) + "; no answer confirms it then"
		}
		return "under warranty until " + stamp(*v.WarrantyEndsAt) + "; the buyer may report a problem"
	case StatusWaitingCustomer:
		return "the buyer must act (" + d.waitReason + "), then confirm or report a problem"
	case StatusUnderReview:
		return "support works the linked case " + d.openCase() + ": its resolution returns the delivery to delivered, a completed account recovery makes it recovered"
	case StatusRecovered:
		return "recovered; under warranty until " + stamp(*v.WarrantyEndsAt) + "; the buyer may report a problem"
	default:
		return "nothing: the delivery is retired (" + v.RetireReason + ")"
	}
}

// openCase names the newest linked case still open, or says one is opening.
func (d *delivery) openCase() string {
	for i := len(d.view.LinkedCases) - 1; i >= 0; i-- {
		if d.view.LinkedCases[i].Open {
			return d.view.LinkedCases[i].CaseID
		}
	}
	return "(being opened)"
}

// details is the Markdown the Web UI shows: the six handoff answers.
func (d *delivery) details() string {
	v, h := d.view, d.view.Handoff
	delivered := "not yet"
	if h.DeliveredAt != nil {
		delivered = stamp(*h.DeliveredAt)
	}
	latest := "none yet"
	if c := h.LatestCommunication; c != nil {
		latest = fmt.Sprintf("%s %s, %s", strings.ReplaceAll(c.Direction, "_", " "), stamp(c.At), c.Kind)
	}
	rp := h.RecoveryPath
	lines := []string{
		fmt.Sprintf("**%s** · %s · buyer %s · seller %s", v.Status, v.Product, v.Buyer.ID, v.SellerID),
		"Next: " + v.NextAction,
		"Account " + h.AccountID + " · order " + h.OrderID + " · delivered " + delivered,
		fmt.Sprintf("Recovery: email %q, phone %q, backup codes held %t, reset by %s", rp.Email, rp.Phone, rp.BackupCodesHeld, rp.ResetBy),
		"Allowed use: " + h.AllowedUse,
		"Latest communication: " + latest,
	}
	if v.WarrantyEndsAt != nil {
		lines = append(lines, "Warranty ends "+stamp(*v.WarrantyEndsAt))
	}
	for _, c := range v.LinkedCases {
		state := "open"
		if !c.Open {
			state = "closed, " + c.Outcome
		}
		lines = append(lines, fmt.Sprintf("Case %s (%s): %s", c.CaseID, c.Reason, state))
	}
	return strings.Join(lines, "\n\n")
}

// fullView answers the delivery with its timeline, as the query gives it.
func (d *delivery) fullView() DeliveryView {
	v := d.result()
	v.Timeline = slices.Clone(d.timeline)
	return v
}

// result answers the view an update returns: the delivery without its timeline.
func (d *delivery) result() DeliveryView {
	v := d.view
	v.Evidence = slices.Clone(v.Evidence)
	v.LinkedCases = slices.Clone(v.LinkedCases)
	v.Timeline = nil
	return v
}

// stamp writes a time for people and the Web UI.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// invalidTransition refuses action because the delivery is in status.
func invalidTransition(action string, status Status) error {
	return vocab.Refuse(action, "delivery", string(status))
}

// itoa is strconv.Itoa, short for payloads.
func itoa(n int) string { return strconv.Itoa(n) }

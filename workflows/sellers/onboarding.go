package sellers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// signalsPerRun bounds one run's history; then the onboarding continues
// as new with its state.
const signalsPerRun = 500

// SellerOnboarding keeps one seller's checklist for as long as the seller
// sells. Steps complete from marketplace events and from the identity
// check it starts as a child; a step past its deadline reminds the seller
// once, and one still open EscalateAfter later opens the seller's
// onboarding case for trust_safety (one case per seller: later stalls join
// it). A failed check closes the seller; a fraud decision suspends them.
func SellerOnboarding(ctx workflow.Context, in OnboardingInput) (SellerView, error) {
	if in.Carried == nil {
		if err := in.Validate(); err != nil {
			return SellerView{}, err
		}
	}
	o := newOnboarding(ctx, in)
	if err := o.setup(ctx); err != nil {
		return o.view, err
	}
	return o.run(ctx)
}

// onboarding is the SellerOnboarding workflow's state.
type onboarding struct {
	in       OnboardingInput
	view     SellerView
	timeline []vocab.Event
	// seen are the marketplace event ids taken, oldest first (carried).
	seen   map[string]bool
	seenIn []string
	// taken counts this run's signals, for continue-as-new.
	taken        int
	projectedSeq int
	attrs        sellerAttributes
	// checkStarted says the identity check runs: from the start when the
	// seller came with documents, else from the first document added.
	checkStarted bool
	// causeIDs names the seller's notifications after their causes
	// (changeCauseIDs).
	causeIDs bool
}

func newOnboarding(ctx workflow.Context, in OnboardingInput) *onboarding {
	o := &onboarding{in: in, seen: map[string]bool{}}
	if c := in.Carried; c != nil {
		o.view, o.timeline, o.seenIn = c.View, c.Timeline, c.SeenIDs
		o.projectedSeq, o.checkStarted = o.view.LastSeq, c.CheckStarted
		o.in.Identity.DocumentIDs = c.DocumentIDs
		for _, id := range o.seenIn {
			o.seen[id] = true
		}
		o.in.Carried = nil
	} else {
		o.view = SellerView{SellerID: in.SellerID, Region: in.Region, Status: SellerStatusOnboarding,
			StartedAt: in.StartedAt, UpdatedAt: workflow.Now(ctx), Verification: VerificationStatus{Status: FirstVerificationStatus(in.Policy.Verification.HoldPayouts)}}
		for _, p := range in.Policy.Steps {
			due := in.StartedAt.Add(p.Due)
			o.view.Steps = append(o.view.Steps, Step{Name: p.Name, Status: StepPending, DueAt: due, EscalateAt: due.Add(p.EscalateAfter)})
		}
	}
	o.attrs = startedSellerAttributes(ctx)
	return o
}

func (o *onboarding) setup(ctx workflow.Context) error {
	o.causeIDs = causeIDs(ctx)
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAddDocument, o.addDocument,
		workflow.UpdateHandlerOptions{Validator: o.validateAddDocument}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateAddDocument, err)
	}
	if err := workflow.SetQueryHandler(ctx, QuerySeller, func() (SellerView, error) { return o.fullView(), nil }); err != nil {
		return fmt.Errorf("register query %s: %w", QuerySeller, err)
	}
	workflow.Go(ctx, o.project)
	return nil
}

// run starts the identity check on the first run, then takes the
// marketplace's events, the check's statuses and standing changes, and
// acts on each step deadline as it comes, until the seller is closed.
func (o *onboarding) run(ctx workflow.Context) (SellerView, error) {
	if o.view.LastSeq == 0 {
		o.start(ctx)
	}
	events := workflow.GetSignalChannel(ctx, SignalSellerEvent)
	checks := workflow.GetSignalChannel(ctx, SignalVerification)
	standing := workflow.GetSignalChannel(ctx, SignalStanding)
	for o.view.Status != SellerStatusClosed {
		if err := ctx.Err(); err != nil {
			return o.fullView(), temporal.NewCanceledError("onboarding cancelled")
		}
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(events, func(c workflow.ReceiveChannel, _ bool) {
			var e SellerEvent
			c.Receive(ctx, &e)
			o.takeEvent(ctx, e)
		})
		sel.AddReceive(checks, func(c workflow.ReceiveChannel, _ bool) {
			var s VerificationStatus
			c.Receive(ctx, &s)
			o.takeVerification(ctx, s)
		})
		sel.AddReceive(standing, func(c workflow.ReceiveChannel, _ bool) {
			var s Standing
			c.Receive(ctx, &s)
			o.takeStanding(ctx, s)
		})
		tctx, cancel := workflow.WithCancel(ctx)
		if at, summary := o.nextDeadline(); !at.IsZero() {
			d := max(at.Sub(workflow.Now(ctx)), time.Millisecond)
			sel.AddFuture(workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: summary}), func(workflow.Future) {
				o.deadlinesPassed(ctx)
			})
		}
		sel.Select(ctx)
		cancel()
		if o.taken >= signalsPerRun && o.view.Status != SellerStatusClosed {
			return o.view, o.continueAsNew(ctx, events, checks, standing)
		}
	}
	if err := workflow.Await(ctx, func() bool { return o.projectedSeq == o.view.LastSeq && workflow.AllHandlersFinished(ctx) }); err != nil {
		return o.fullView(), err
	}
	return o.fullView(), nil
}

// start records the onboarding and starts the identity check, which holds
// the payouts first.
func (o *onboarding) start(ctx workflow.Context) {
	actor := o.in.StartedBy
	if actor == "" {
		actor = vocab.SystemActor
	}
	names := make([]string, 0, len(o.view.Steps))
	for _, s := range o.view.Steps {
		names = append(names, s.Name)
	}
	o.record(ctx, actor, EventOnboardingStarted, "region", o.in.Region, "steps", strings.Join(names, ","))
	if len(o.in.Identity.DocumentIDs) > 0 {
		o.startCheck(ctx)
	} else {
		o.record(ctx, vocab.SystemActor, EventDocumentsAwaited)
	}
	o.changed(ctx)
}

// startCheck starts the identity check, which holds the payouts first,
// with the documents known now.
func (o *onboarding) startCheck(ctx workflow.Context) {
	o.checkStarted = true
	child := VerificationInput{SellerID: o.in.SellerID, Seller: o.in.Seller, Identity: o.in.Identity,
		Policy: o.in.Policy.Verification, OnboardingID: workflow.GetInfo(ctx).WorkflowExecution.ID}
	cctx := workflow.WithChildOptions(ctx, childOptions(child, workflow.GetInfo(ctx).TaskQueueName))
	f := workflow.ExecuteChildWorkflow(cctx, WorkflowSellerVerification, child)
	if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("identity check not started", "seller", o.in.SellerID, "error", err)
		o.record(ctx, vocab.SystemActor, EventVerification, "status", "not_started", "error", err.Error())
	}
}

func (o *onboarding) validateAddDocument(in vocab.EvidenceInput) error {
	if o.view.Status == SellerStatusClosed {
		return vocab.Refuse(UpdateAddDocument, "seller", o.view.Status)
	}
	if err := in.Evidence.Check(); err != nil {
		return err
	}
	if in.Evidence.Kind != KindIdentityDocument {
		return vocab.InvalidArgument(fmt.Sprintf("kind: a seller's document is an %s, got %q", KindIdentityDocument, in.Evidence.Kind))
	}
	return vocab.Required("actor", in.Actor)
}

// addDocument records a document the API stored; the same bytes again
// answer the first record. The first document starts a check that waited.
func (o *onboarding) addDocument(ctx workflow.Context, in vocab.EvidenceInput) (vocab.EvidenceResult, error) {
	if i := vocab.FindEvidence(o.view.Documents, in.Evidence.SHA256); i >= 0 {
		return vocab.EvidenceResult{Evidence: o.view.Documents[i], Duplicate: true}, nil
	}
	e := in.Evidence
	e.UploadedBy, e.Seq = in.Actor, o.view.LastSeq+1
	o.view.Documents = append(o.view.Documents, e)
	o.record(ctx, in.Actor, EventDocumentAdded, e.Pairs()...)
	if !o.checkStarted {
		o.in.Identity.DocumentIDs = append(o.in.Identity.DocumentIDs, e.ID)
		o.startCheck(ctx)
	}
	o.changed(ctx)
	return vocab.EvidenceResult{Evidence: e}, nil
}

// takeEvent completes the step a marketplace event names, once per event id.
func (o *onboarding) takeEvent(ctx workflow.Context, e SellerEvent) {
	o.taken++
	if e.ID == "" || o.seen[e.ID] {
		return
	}
	o.seen[e.ID] = true
	o.seenIn = append(o.seenIn, e.ID)
	step := StepOfEvent[e.Kind]
	if step == "" {
		workflow.GetLogger(ctx).Warn("seller event of unknown kind ignored", "seller", o.in.SellerID, "kind", e.Kind)
		return
	}
	o.complete(ctx, step, "marketplace", "event_id", e.ID, "event", e.Kind, "detail", e.Detail)
	o.changed(ctx)
}

// takeVerification records where the identity check is; a pass completes
// identity_verified, a fail closes the seller.
func (o *onboarding) takeVerification(ctx workflow.Context, s VerificationStatus) {
	o.taken++
	o.view.Verification = s
	o.record(ctx, s.Actor, EventVerification, "status", s.Status, "check_id", s.CheckID,
		"reasons", strings.Join(s.Reasons, "; "), "case_id", s.CaseID)
	switch s.Status {
	case VerificationPassed:
		o.complete(ctx, StepIdentityVerified, s.Actor)
	case VerificationFailed:
		o.view.Status, o.view.Reason = SellerStatusClosed, "identity check failed: "+strings.Join(s.Reasons, "; ")
		o.record(ctx, s.Actor, EventClosed, "reason", o.view.Reason)
		o.tellCase(ctx, s.Actor, EventClosed, "reason", o.view.Reason)
	}
	o.changed(ctx)
}

// takeStanding suspends or reinstates the seller.
func (o *onboarding) takeStanding(ctx workflow.Context, s Standing) {
	o.taken++
	if o.view.Status == SellerStatusClosed {
		return
	}
	if s.Suspend {
		if o.view.Status == SellerStatusSuspended {
			return
		}
		o.view.Status, o.view.Reason = SellerStatusSuspended, s.Reason
		o.record(ctx, s.Actor, EventSuspended, "reason", s.Reason, "case_id", s.CaseID)
	} else {
		if o.view.Status != SellerStatusSuspended {
			return
		}
		o.view.Status, o.view.Reason = o.statusBySteps(), ""
		o.record(ctx, s.Actor, EventReinstated, "reason", s.Reason, "case_id", s.CaseID)
	}
	o.changed(ctx)
}

// complete marks a step done, once; the last one makes the seller
// onboarded, once, and active unless suspended (reinstating makes them
// active then). A step that had stalled is reported to the onboarding case.
func (o *onboarding) complete(ctx workflow.Context, name, actor string, kv ...string) {
	i := slices.IndexFunc(o.view.Steps, func(s Step) bool { return s.Name == name })
	if i < 0 || o.view.Steps[i].Status == StepDone {
		return
	}
	now := workflow.Now(ctx)
	step := &o.view.Steps[i]
	wasStalled := step.Status == StepStalled
	step.Status, step.DoneAt = StepDone, &now
	o.record(ctx, actor, EventStepDone, append([]string{"step", name}, kv...)...)
	if wasStalled {
		o.tellCase(ctx, actor, EventStepDone, "step", name)
	}
	if o.view.Status != SellerStatusClosed && o.statusBySteps() == SellerStatusActive {
		if o.view.Status == SellerStatusOnboarding {
			o.view.Status = SellerStatusActive
		}
		o.record(ctx, vocab.SystemActor, EventOnboarded)
		o.tellCase(ctx, vocab.SystemActor, EventOnboarded)
	}
}

// statusBySteps answers onboarding while a step is open, else active.
func (o *onboarding) statusBySteps() string {
	for _, s := range o.view.Steps {
		if s.Status != StepDone {
			return SellerStatusOnboarding
		}
	}
	return SellerStatusActive
}

// nextDeadline answers the soonest reminder or stall still to come, and a
// summary naming it, or zero when no open step has one.
func (o *onboarding) nextDeadline() (time.Time, string) {
	var at time.Time
	summary := ""
	consider := func(t time.Time, s string) {
		if at.IsZero() || t.Before(at) {
			at, summary = t, s
		}
	}
	for _, s := range o.view.Steps {
		switch {
		case s.Status == StepDone:
		case s.RemindedAt == nil:
			consider(s.DueAt, "step "+s.Name+" due")
		case s.StalledAt == nil:
			consider(s.EscalateAt, "step "+s.Name+" stalls")
		}
	}
	return at, summary
}

// deadlinesPassed reminds the seller of every step now overdue and
// brings every step now stalled to trust_safety in one go: the first
// stall opens the seller's onboarding case, later ones join it.
func (o *onboarding) deadlinesPassed(ctx workflow.Context) {
	now := workflow.Now(ctx)
	var overdue, stalled []string
	for i := range o.view.Steps {
		s := &o.view.Steps[i]
		if s.Status == StepDone {
			continue
		}
		if s.RemindedAt == nil && !now.Before(s.DueAt) {
			s.Status, s.RemindedAt = StepOverdue, &now
			overdue = append(overdue, s.Name)
		}
		if s.StalledAt == nil && !now.Before(s.EscalateAt) {
			s.Status, s.StalledAt = StepStalled, &now
			stalled = append(stalled, s.Name)
		}
	}
	for _, name := range overdue {
		o.record(ctx, vocab.SystemActor, EventStepOverdue, "step", name)
		o.remind(ctx, name)
	}
	if len(stalled) > 0 {
		for _, name := range stalled {
			o.record(ctx, vocab.SystemActor, EventStepStalled, "step", name)
		}
		if o.view.CaseID == "" {
			o.openCase(ctx, stalled)
		} else {
			o.tellCase(ctx, vocab.SystemActor, EventStepStalled, "steps", strings.Join(stalled, ","))
		}
	}
	o.changed(ctx)
}

// remind tells the seller a step is overdue, in the background; a
// reminder that cannot be sent is logged, never fails the onboarding.
// Its cause is the step's deadline: deadline/overdue/<step>/<due, Unix ms>.
func (o *onboarding) remind(ctx workflow.Context, step string) {
	cause := ""
	if o.causeIDs {
		for _, s := range o.view.Steps {
			if s.Name == step {
				cause = vocab.DeadlineCause(s.DueAt, "overdue", step)
			}
		}
	}
	id := sellerNotificationID(OnboardingWorkflowID(o.in.SellerID), cause, o.view.LastSeq, NoticeStepReminder)
	n := sellerNotification(id, o.in.SellerID, o.in.Seller, o.view.Status, NoticeStepReminder, step)
	workflow.Go(ctx, func(gctx workflow.Context) {
		if err := vocab.SendNotification(gctx, n, true); err != nil {
			workflow.GetLogger(gctx).Error("step reminder not sent", "seller", o.in.SellerID, "step", step, "error", err)
		}
	})
}

// openCase opens the seller's onboarding case for trust_safety, naming
// what is stuck; a case that cannot be opened is opened by the next stall.
func (o *onboarding) openCase(ctx workflow.Context, stalled []string) {
	lines := make([]string, 0, len(o.view.Steps))
	for _, s := range o.view.Steps {
		line := fmt.Sprintf("- %s: %s, due %s", s.Name, s.Status, s.DueAt.UTC().Format(time.RFC3339))
		if s.DoneAt != nil {
			line = fmt.Sprintf("- %s: done %s", s.Name, s.DoneAt.UTC().Format(time.RFC3339))
		}
		lines = append(lines, line)
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: time.Hour, Summary: "open the seller's onboarding case",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	seller := o.in.Seller
	seller.ID = o.in.SellerID
	var out vocab.OpenCaseResult
	err := workflow.ExecuteActivity(actx, vocab.ActivityOpenCase, vocab.OpenCaseRequest{
		Key:      OnboardingWorkflowID(o.in.SellerID) + "/onboarding-case",
		Category: vocab.CategorySellerOnboarding,
		Subject:  fmt.Sprintf("Seller %s stalled at %s", o.in.SellerID, strings.Join(stalled, ", ")),
		Description: "The seller's onboarding has not moved past its deadlines; the seller was reminded.\n" +
			"Checklist:\n" + strings.Join(lines, "\n"),
		AccountID: o.in.SellerID, OpenedBy: vocab.SystemActor, Channel: "seller_onboarding", Customer: &seller,
	}).Get(ctx, &out)
	if err != nil {
		// Only a refusal gets here (the open retries for an hour first):
		// the next stall tries again.
		workflow.GetLogger(ctx).Error("onboarding case not opened", "seller", o.in.SellerID, "error", err)
		o.record(ctx, vocab.SystemActor, EventCaseOpened, "steps", strings.Join(stalled, ","), "error", err.Error())
		return
	}
	o.view.CaseID = out.CaseID
	o.record(ctx, vocab.SystemActor, EventCaseOpened, "steps", strings.Join(stalled, ","), "case_id", out.CaseID)
}

// tellCase reports an event to the onboarding case, when there is one.
func (o *onboarding) tellCase(ctx workflow.Context, actor, kind string, kv ...string) {
	if o.view.CaseID == "" {
		return
	}
	vocab.ReportToCase(ctx, o.view.CaseID, vocab.CaseEvent{Actor: actor, Kind: kind,
		Payload: vocab.Payload(append([]string{"seller_id", o.in.SellerID}, kv...)...)})
}

// record appends an event with the payload of key, value pairs kv.
func (o *onboarding) record(ctx workflow.Context, actor, kind string, kv ...string) {
	if actor == "" {
		actor = vocab.SystemActor
	}
	now := workflow.Now(ctx)
	e := vocab.Event{Seq: o.view.LastSeq + 1, Actor: actor, Kind: kind, At: now, Payload: vocab.Payload(kv...)}
	o.timeline = append(o.timeline, e)
	o.view.LastSeq, o.view.UpdatedAt = e.Seq, now
}

// changed publishes the new state: the search attributes that moved and
// the Web UI's details (the checklist).
func (o *onboarding) changed(ctx workflow.Context) {
	next := sellerAttributes{verification: o.view.Verification.Status, ids: true}
	if updates := o.attrs.diff(next, o.in.SellerID, false); len(updates) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
			workflow.GetLogger(ctx).Error("search attributes not updated", "seller", o.in.SellerID, "error", err)
		}
	}
	o.attrs = next
	workflow.SetCurrentDetails(ctx, o.details())
}

// details is the Markdown the Web UI shows: the seller's standing and checklist.
func (o *onboarding) details() string {
	v := o.view
	lines := []string{fmt.Sprintf("**%s** · seller %s · region %s · identity check %s", v.Status, v.SellerID, v.Region, v.Verification.Status)}
	if v.Reason != "" {
		lines = append(lines, "Reason: "+v.Reason)
	}
	list := make([]string, 0, len(v.Steps))
	for _, s := range v.Steps {
		mark := "[ ]"
		when := "due " + s.DueAt.UTC().Format("2006-01-02 15:04 UTC")
		if s.Status == StepDone {
			mark, when = "[x]", "done "+s.DoneAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		list = append(list, fmt.Sprintf("- %s %s (%s, %s)", mark, s.Name, s.Status, when))
	}
	lines = append(lines, strings.Join(list, "\n"))
	if v.CaseID != "" {
		lines = append(lines, "Onboarding case: "+v.CaseID)
	}
	return strings.Join(lines, "\n\n")
}

// project writes each change to the read model (vocab.ProjectReadModel).
func (o *onboarding) project(ctx workflow.Context) {
	vocab.ProjectReadModel(ctx, "project seller to Postgres", func() int { return o.view.LastSeq }, &o.projectedSeq,
		func(lctx workflow.Context, from, upto int) workflow.Future {
			first := len(o.timeline) - (o.view.LastSeq - from)
			last := len(o.timeline) - (o.view.LastSeq - upto)
			in := SellerProjection{Seller: o.result(), Events: slices.Clone(o.timeline[max(first, 0):last])}
			return workflow.ExecuteLocalActivity(lctx, ActivityProjectSeller, in)
		})
}

// result answers the seller without its timeline.
func (o *onboarding) result() SellerView {
	v := o.view
	v.Steps = slices.Clone(v.Steps)
	v.Documents = slices.Clone(v.Documents)
	v.Timeline = nil
	return v
}

// fullView answers the seller with its timeline.
func (o *onboarding) fullView() SellerView {
	v := o.result()
	v.Timeline = slices.Clone(o.timeline)
	return v
}

// continueAsNew takes what already arrived, then carries the seller into a
// new run with the timeline of this one's last events only.
func (o *onboarding) continueAsNew(ctx workflow.Context, channels ...workflow.ReceiveChannel) error {
	for {
		var e SellerEvent
		var s VerificationStatus
		var st Standing
		switch {
		case channels[0].ReceiveAsync(&e):
			o.takeEvent(ctx, e)
		case channels[1].ReceiveAsync(&s):
			o.takeVerification(ctx, s)
		case channels[2].ReceiveAsync(&st):
			o.takeStanding(ctx, st)
		default:
			if err := workflow.Await(ctx, func() bool { return o.projectedSeq == o.view.LastSeq && workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			if channels[0].Len()+channels[1].Len()+channels[2].Len() > 0 {
				// A signal came while the read model was written: take it
				// here, or the new run would never see it.
				continue
			}
			const keepEvents, keepIDs = 50, 1000
			tl := o.timeline[max(len(o.timeline)-keepEvents, 0):]
			ids := o.seenIn[max(len(o.seenIn)-keepIDs, 0):]
			o.in.Carried = &OnboardingCarry{View: o.result(), Timeline: slices.Clone(tl), SeenIDs: slices.Clone(ids),
				CheckStarted: o.checkStarted, DocumentIDs: slices.Clone(o.in.Identity.DocumentIDs)}
			return workflow.NewContinueAsNewError(ctx, WorkflowSellerOnboarding, o.in)
		}
	}
}

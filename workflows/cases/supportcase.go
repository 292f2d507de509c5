package cases

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// SupportCase is the durable life of one support case: it answers agent
// actions as updates, keeps its SLA clocks and escalates by itself when a
// target passes, tells people what happened, and closes itself when the
// reopen window or the wait on the customer runs out.
func SupportCase(ctx workflow.Context, in CaseInput) (CaseView, error) {
	if err := in.Validate(); err != nil {
		return CaseView{}, err
	}
	c, err := newSupportCase(ctx, in)
	if err != nil {
		return CaseView{}, err
	}
	if err := c.setup(ctx); err != nil {
		return CaseView{}, err
	}
	return c.run(ctx)
}

// target names one SLA target of a case.
type target string

const (
	targetFirstResponse target = "first_response"
	targetNextResponse  target = "next_response"
	targetResolution    target = "resolution"
)

var targetLabels = map[target]string{
	targetFirstResponse: "first response",
	targetNextResponse:  "next response",
	targetResolution:    "resolution",
}

// slaTarget is one SLA clock of the case with what it has already caused.
type slaTarget struct {
	name     target
	clock    sla.Clock
	active   bool // started and neither met nor stopped
	warned   bool
	breaches int
}

// supportCase is the workflow's state; handlers change it, run waits on it.
type supportCase struct {
	in       CaseInput
	view     CaseView
	timeline []vocab.Event
	policy   sla.Policy
	targets  []*slaTarget // first response, next response, resolution, in that order

	latestCustomerMessage string
	waitingSince          time.Time
	reminderSent          bool
	// surveyOver is set when the CSAT window has passed.
	surveyOver bool

	// version grows with every change so run wakes up and re-arms its timer.
	version int
	// pending counts notifications still being delivered.
	pending int
	// projectedSeq is the newest timeline event the read model has.
	projectedSeq int
	// projects is false for cases that began before the read model existed.
	projects bool
	// notifyInTask tries each notification as a local activity first
	// (changeNotifyInTask).
	notifyInTask bool
	// causeIDs names each notification after its cause, not its event's
	// timeline number (changeCauseIDs); issued counts the ids so named, so
	// a cause that tells one audience of one event twice names the second.
	causeIDs bool
	issued   vocab.IssuedIDs
	// incidents and recoveries count the account workflows started, for their ids.
	incidents, recoveries, profileChanges int
	// returns and disputes count the returns and disputes started, for their ids.
	returns, disputes int
	// erasures lists the erasures of the customer's data already carried out.
	erasures []string
	// attrs is what the search attributes were last set to.
	attrs caseAttributes
	timer deadlineTimer
}

func newSupportCase(ctx workflow.Context, in CaseInput) (*supportCase, error) {
	now := in.OpenedAt
	if now.IsZero() { // opened before the API chose the time
		now = workflow.Now(ctx)
	}
	c, err := openState(in, now)
	if err != nil {
		return nil, err
	}
	c.attrs = currentAttributes(ctx)
	return c, nil
}

// openState is a new case as it is before its first workflow task ends:
// its view, its SLA clocks started at now and the opened event.
func openState(in CaseInput, now time.Time) (*supportCase, error) {
	c := &supportCase{in: in}
	policy, err := c.policyFor(in.Priority)
	if err != nil {
		return nil, err
	}
	c.policy = policy
	c.view = CaseView{
		ID: in.ID, Category: in.Category, Priority: in.Priority, Subject: in.Subject,
		Description: in.Description, Customer: in.Customer, AccountID: in.AccountID,
		OrderID: in.OrderID, Channel: in.Channel, DeliveryID: in.DeliveryID, FollowsUp: in.FollowsUp, Team: in.Team, Status: StatusNew,
		CreatedAt: now, UpdatedAt: now, LastSeq: 1,
	}
	c.latestCustomerMessage = strings.TrimSpace(in.Description)
	c.targets = []*slaTarget{
		{name: targetFirstResponse, clock: sla.NewClock(policy.Targets.FirstResponse, now), active: true},
		{name: targetNextResponse},
		{name: targetResolution, clock: sla.NewClock(policy.Targets.Resolution, now), active: true},
	}
	c.timeline = []vocab.Event{{Seq: 1, Actor: in.OpenedBy, Kind: EventOpened, At: now,
		Payload: vocab.Payload("category", string(in.Category), "priority", string(in.Priority), "team", string(in.Team), "channel", in.Channel, "follows_up", in.FollowsUp)}}
	c.version++
	return c, nil
}

// InitialView answers the view a case opened with in has once its first
// workflow task has run, without asking the workflow: the API answers an
// open with it in the one round trip of the start. It needs in.OpenedAt,
// and answers false for a case whose opening starts other workflows (a
// security case locking its account), whose first state the API reads.
func InitialView(in CaseInput) (CaseView, bool, error) {
	if in.OpenedAt.IsZero() || (in.AccountID != "" && slices.Contains(lockOnOpen, in.Category) && !in.KeepAccountOpen) {
		return CaseView{}, false, nil
	}
	c, err := openedByAPI(in)
	if err != nil {
		return CaseView{}, false, err
	}
	return c.view, true, nil
}

// openedByAPI is the state of a case whose opening time the API chose
// (in.OpenedAt), with its SLA view, as its first workflow task leaves it.
func openedByAPI(in CaseInput) (*supportCase, error) {
	c, err := openState(in, in.OpenedAt)
	if err != nil {
		return nil, err
	}
	if c.view.SLA, err = c.slaViewAt(in.OpenedAt); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *supportCase) policyFor(p vocab.Priority) (sla.Policy, error) {
	for _, pol := range c.in.Policies {
		if pol.Priority == string(p) {
			return pol, nil
		}
	}
	return sla.Policy{}, vocab.InvalidArgument(fmt.Sprintf("priority: no SLA policy for %s in the case input", p))
}

func (c *supportCase) setup(ctx workflow.Context) error {
	// Built before any handler is registered: an update that came with the
	// start may run before setup ends, and must not take the opened
	// event's place in the notification's id.
	c.view.SLA = c.slaView(ctx)
	c.causeIDs = c.has(ctx, changeCauseIDs)
	opened := c.notification("", EventOpened, vocab.AudienceCustomer, "", "")
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateAssign, settled(c, c.assign), c.validateAssign},
		{UpdateReply, settled(c, c.reply), c.validateReply},
		{UpdateNote, settled(c, c.note), c.validateNote},
		{UpdateCustomerMessage, settled(c, c.customerMessage), c.validateCustomerMessage},
		{UpdateWaitOnCustomer, settled(c, c.waitOnCustomer), c.validateWaitOnCustomer},
		{UpdateEscalate, settled(c, c.escalate), c.validateEscalate},
		{UpdateChangePriority, settled(c, c.changePriority), c.validateChangePriority},
		{UpdateResolve, settled(c, c.resolve), c.validateResolve},
		{UpdateReopen, settled(c, c.reopen), c.validateReopen},
		{UpdateClose, settled(c, c.close), c.validateClose},
		{UpdateCSAT, settled(c, c.csat), c.validateCSAT},
		{UpdateAddEvidence, settled(c, c.addEvidence), c.validateAddEvidence},
		{UpdateRecordDownload, settled(c, c.recordDownload), c.validateRecordDownload},
		{UpdateLockAccount, settled(c, c.lockAccount), c.validateLockAccount},
		{UpdateStartRecovery, settled(c, c.startRecoveryUpdate), c.validateStartRecovery},
		{UpdateRequestProfileChange, settled(c, c.requestProfileChange), c.validateProfileChange},
		{UpdateStartReturn, settled(c, c.startReturn), c.validateStartReturn},
		{UpdateOpenDispute, settled(c, c.openDispute), c.validateOpenDispute},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler,
			workflow.UpdateHandlerOptions{Validator: h.validator}); err != nil {
			return fmt.Errorf("register update %s: %w", h.name, err)
		}
	}
	if err := workflow.SetQueryHandler(ctx, QueryCase, func() (CaseView, error) {
		return c.fullView(), nil
	}); err != nil {
		return fmt.Errorf("register query %s: %w", QueryCase, err)
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		// The nth signal is the nth in every try of a task: the cause of
		// what it tells.
		ch, received := workflow.GetSignalChannel(ctx, SignalCustomerMessage), 0
		for {
			var in InboundMessage
			ch.Receive(ctx, &in)
			received++
			c.inboundMessage(vocab.CausedBy(ctx, SignalCustomerMessage+"/"+strconv.Itoa(received)), in)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch, received := workflow.GetSignalChannel(ctx, SignalCaseEvent), 0
		for {
			var ev vocab.CaseEvent
			ch.Receive(ctx, &ev)
			received++
			c.onCaseEvent(vocab.CausedBy(ctx, SignalCaseEvent+"/"+strconv.Itoa(received)), ev)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) { vocab.TakeErasures(ctx, c.eraseCustomer) })
	c.lockIfReported(ctx)
	c.timer.lazy = c.has(ctx, changeLazySLA)
	c.projects = c.has(ctx, changeReadModel)
	if c.projects {
		workflow.Go(ctx, c.project)
	}
	c.notifyInTask = c.has(ctx, changeNotifyInTask)
	c.changed(ctx)
	c.deliver(ctx, opened)
	return nil
}

// run waits for whatever comes first, an action or the next deadline,
// until the case is closed and nothing it started is still going.
func (c *supportCase) run(ctx workflow.Context) (CaseView, error) {
	for !c.finished() {
		now := workflow.Now(ctx)
		next, ok := c.nextDeadline(now)
		if ok && !next.at.After(now) {
			c.onDeadline(ctx, next)
			continue
		}
		c.timer.arm(ctx, next, ok, next.summary(c.view.Priority))
		seen := c.version
		if err := workflow.Await(ctx, func() bool { return c.version != seen || c.timer.Fired }); err != nil {
			return c.view, err
		}
		if c.timer.Fired {
			c.timer.Fired = false
			if !c.timer.lazy {
				c.onDeadline(ctx, c.timer.deadline)
			}
			// A lazy timer may fire before anything is due: the loop's
			// first step acts on what is.
		}
	}
	c.timer.arm(ctx, deadline{}, false, "")
	if err := workflow.Await(ctx, func() bool {
		return c.pending == 0 && c.caughtUp() && workflow.AllHandlersFinished(ctx)
	}); err != nil {
		return c.view, err
	}
	return c.fullView(), nil
}

// finished reports that the case is closed and its survey can no longer be answered.
func (c *supportCase) finished() bool {
	return c.view.Status == StatusClosed && (c.view.ResolvedAt == nil || c.view.CSAT != nil || c.surveyOver)
}

func (c *supportCase) csatDeadline() time.Time {
	if c.view.ResolvedAt == nil {
		return time.Time{}
	}
	return c.view.ResolvedAt.Add(c.in.Lifecycle.CSATWindow)
}

// record appends an event to the timeline and bumps the case's version.
func (c *supportCase) record(ctx workflow.Context, actor, kind string, payload map[string]string) vocab.Event {
	now := workflow.Now(ctx)
	e := vocab.Event{Seq: len(c.timeline) + 1, Actor: actor, Kind: kind, At: now, Payload: payload}
	c.timeline = append(c.timeline, e)
	c.view.LastSeq = e.Seq
	c.view.UpdatedAt = now
	c.version++
	return e
}

// changed publishes the new state: search attributes (one upsert for every
// key that moved), the Web UI's current details and the SLA view.
func (c *supportCase) changed(ctx workflow.Context) {
	c.view.SLA = c.slaView(ctx)
	next := c.attributes()
	if c.timer.lazy && c.attrs.onlyDueLater(next) {
		// SLADueAt may lag behind a deadline that moved later: it stays
		// no later than the real one, so a search for what is due finds
		// every case, and it is brought up to date with the next change
		// that upserts anyway. An upsert is a billable action.
		next = c.attrs
	}
	if updates := c.attrs.diff(next); len(updates) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
			workflow.GetLogger(ctx).Error("search attributes not updated", "error", err)
		}
	}
	c.attrs = next
	workflow.SetCurrentDetails(ctx, c.details())
	c.version++
}

// fullView answers the case with its timeline, as the query and the result give it.
func (c *supportCase) fullView() CaseView {
	v := c.view
	v.Timeline = slices.Clone(c.timeline)
	return v
}

// result answers the view an update returns: the case without its timeline.
func (c *supportCase) result() CaseView {
	v := c.view
	v.Timeline = nil
	return v
}

// details is the Markdown the Web UI shows as the case's current details.
func (c *supportCase) details() string {
	lines := []string{fmt.Sprintf("**%s** · %s · team %s", c.view.Status, c.view.Priority, c.view.Team)}
	if c.view.Assignee != "" {
		lines[0] += " · assignee " + c.view.Assignee
	}
	if c.view.EscalationLevel > 0 {
		lines[0] += fmt.Sprintf(" · escalation level %d", c.view.EscalationLevel)
	}
	for _, due := range []struct {
		label string
		at    *time.Time
	}{
		{"first response", c.view.SLA.FirstResponseDue},
		{"next response", c.view.SLA.NextResponseDue},
		{"resolution", c.view.SLA.ResolutionDue},
	} {
		if due.at != nil {
			lines = append(lines, due.label+" due "+due.at.UTC().Format(time.RFC3339))
		}
	}
	if c.view.SLA.Paused {
		lines = append(lines, "SLA paused: waiting on the customer")
	}
	if n := len(c.view.SLA.Breaches); n > 0 {
		lines = append(lines, fmt.Sprintf("%d SLA breach(es)", n))
	}
	return strings.Join(lines, "\n\n")
}

// invalidTransition refuses action because the case is in status.
func invalidTransition(action string, status Status) error {
	return vocab.InvalidTransition(action, string(status))
}

// allow refuses action unless the case is in one of statuses.
func (c *supportCase) allow(action string, statuses ...Status) error {
	if slices.Contains(statuses, c.view.Status) {
		return nil
	}
	return invalidTransition(action, c.view.Status)
}

// authorize refuses a staff action by a member of another team than the
// case's; ActorTeam is empty for admins, who may act on any case.
func (c *supportCase) authorize(action string, actorTeam vocab.Team) error {
	if actorTeam == "" || actorTeam == c.view.Team {
		return nil
	}
	return temporal.NewApplicationError(
		fmt.Sprintf("cannot %s: the case belongs to %s, not %s", action, c.view.Team, actorTeam), vocab.ErrPermissionDenied)
}

package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/sla"
)

// CaseWorkflowID is the workflow id of case id.
func CaseWorkflowID(id string) string { return "case/" + id }

// Names of the SupportCase workflow's updates, signal and query.
const (
	UpdateAssign          = "assign"
	UpdateReply           = "reply"
	UpdateNote            = "note"
	UpdateCustomerMessage = "customer-message"
	UpdateWaitOnCustomer  = "wait-on-customer"
	UpdateEscalate        = "escalate"
	UpdateChangePriority  = "change-priority"
	UpdateResolve         = "resolve"
	UpdateReopen          = "reopen"
	UpdateClose           = "close"
	UpdateCSAT            = "csat"
	// UpdateAddEvidence records a file already stored in S3 on the case.
	UpdateAddEvidence = "add-evidence"
	// UpdateRecordDownload records that someone fetched an evidence file.
	UpdateRecordDownload = "record-evidence-download"

	// SignalCustomerMessage takes a customer message from inbound channels
	// (email, chat) that cannot wait for an answer.
	SignalCustomerMessage = "customer-message"

	// QueryCase answers the whole CaseView with its timeline.
	QueryCase = "case"
)

// CaseInput opens a case. The SLA policies of every priority of its
// category are copied in at start, so a later change of the policy file
// never changes a running case's arithmetic or its replay.
type CaseInput struct {
	ID          string   `json:"id"`
	Category    Category `json:"category"`
	Priority    Priority `json:"priority"`
	Subject     string   `json:"subject"`
	Description string   `json:"description"`
	Customer    Customer `json:"customer"`
	AccountID   string   `json:"account_id,omitempty"`
	OrderID     string   `json:"order_id,omitempty"`
	Channel     string   `json:"channel,omitempty"`
	Team        Team     `json:"team"`
	OpenedBy    string   `json:"opened_by"`
	// Policies holds one policy per priority of the case's category.
	Policies  []sla.Policy  `json:"policies"`
	Lifecycle sla.Lifecycle `json:"lifecycle"`
	// OpenedAt is when the API opened the case: the SLA clocks start then,
	// so the API can answer the open with the case's first state. Zero for
	// cases opened before it existed, which start at the workflow's start.
	OpenedAt time.Time `json:"opened_at,omitzero"`
	// Accounts holds the windows of the account workflows the case starts;
	// zero fields (cases opened before it existed) take the defaults.
	Accounts sla.AccountPolicy `json:"accounts"`
	// Revision is the CaseRevision the case was opened under (zero before
	// revisions existed): the behaviour changes it includes are on without
	// a version marker.
	Revision int `json:"revision,omitempty"`
}

// AssignInput gives the case to an agent, optionally of another team.
type AssignInput struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and customers.
	ActorTeam Team   `json:"actor_team,omitempty"`
	Assignee  string `json:"assignee"`
	Team      Team   `json:"team,omitempty"`
}

// MessageInput carries a reply, an internal note or a customer message.
type MessageInput struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and customers.
	ActorTeam Team   `json:"actor_team,omitempty"`
	Body      string `json:"body"`
}

// ReasonInput carries an action whose only field is why: wait on customer, reopen, close.
type ReasonInput struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and customers.
	ActorTeam Team   `json:"actor_team,omitempty"`
	Reason    string `json:"reason"`
}

// EscalateInput hands the case to a team (or up the current one) with why.
type EscalateInput struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and customers.
	ActorTeam Team   `json:"actor_team,omitempty"`
	Team      Team   `json:"team"`
	Reason    string `json:"reason"`
}

// PriorityInput changes the case's priority.
type PriorityInput struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and customers.
	ActorTeam Team     `json:"actor_team,omitempty"`
	Priority  Priority `json:"priority"`
}

// ResolveInput resolves the case with what was done.
type ResolveInput struct {
	Actor string `json:"actor"`
	// ActorTeam is the acting agent's team; staff actions on a case of
	// another team are refused. Empty for admins and customers.
	ActorTeam  Team   `json:"actor_team,omitempty"`
	Resolution string `json:"resolution"`
}

// CSATInput is the customer's survey answer.
type CSATInput struct {
	Actor   string `json:"actor"`
	Rating  int    `json:"rating"`
	Comment string `json:"comment"`
}

// CaseStartOptions answers the options that start in's workflow: its id,
// the task queue, a summary for the Web UI and the initial search attributes.
func CaseStartOptions(in CaseInput, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                    CaseWorkflowID(in.ID),
		TaskQueue:             taskQueue,
		StaticSummary:         fmt.Sprintf("Case %s · %s · %s", in.ID, in.Category, in.Priority),
		StaticDetails:         fmt.Sprintf("**%s**\n\nCustomer %s (%s), opened by %s", in.Subject, in.Customer.ID, in.Customer.Locale, in.OpenedBy),
		TypedSearchAttributes: temporal.NewSearchAttributes(openingAttributes(in)...),
	}
}

// openingAttributes are the search attributes a case starts with: every
// key its first workflow task would otherwise upsert, SLADueAt included
// when the API chose the opening time (each upsert is a billable action).
func openingAttributes(in CaseInput) []temporal.SearchAttributeUpdate {
	a := caseAttributes{
		status: string(StatusNew), priority: string(in.Priority), category: string(in.Category),
		team: string(in.Team), level: LevelAgent, account: in.AccountID, order: in.OrderID, customer: in.Customer.ID,
	}
	if !in.OpenedAt.IsZero() {
		if c, err := openedByAPI(in); err == nil {
			a = c.attributes()
		}
	}
	// The level and the breach flag are set even at their zero value, so a
	// search for level 0 or for cases not breached finds a new case.
	return append(caseAttributes{level: a.level, breached: a.breached}.diff(a), CaseEscalationLevelKey.ValueSet(a.level), SLABreachedKey.ValueSet(a.breached))
}

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
	timeline []Event
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
	// incidents and recoveries count the account workflows started, for their ids.
	incidents, recoveries, profileChanges int
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
		OrderID: in.OrderID, Channel: in.Channel, Team: in.Team, Status: StatusNew,
		CreatedAt: now, UpdatedAt: now, LastSeq: 1,
	}
	c.latestCustomerMessage = strings.TrimSpace(in.Description)
	c.targets = []*slaTarget{
		{name: targetFirstResponse, clock: sla.NewClock(policy.Targets.FirstResponse, now), active: true},
		{name: targetNextResponse},
		{name: targetResolution, clock: sla.NewClock(policy.Targets.Resolution, now), active: true},
	}
	c.timeline = []Event{{Seq: 1, Actor: in.OpenedBy, Kind: EventOpened, At: now,
		Payload: payload("category", string(in.Category), "priority", string(in.Priority), "team", string(in.Team), "channel", in.Channel)}}
	c.version++
	return c, nil
}

// InitialView answers the view a case opened with in has once its first
// workflow task has run, without asking the workflow: the API answers an
// open with it in the one round trip of the start. It needs in.OpenedAt,
// and answers false for a case whose opening starts other workflows (a
// security case locking its account), whose first state the API reads.
func InitialView(in CaseInput) (CaseView, bool, error) {
	if in.OpenedAt.IsZero() || (in.AccountID != "" && slices.Contains(lockOnOpen, in.Category)) {
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

func (c *supportCase) policyFor(p Priority) (sla.Policy, error) {
	for _, pol := range c.in.Policies {
		if pol.Priority == string(p) {
			return pol, nil
		}
	}
	return sla.Policy{}, invalidArgument(fmt.Sprintf("priority: no SLA policy for %s in the case input", p))
}

func (c *supportCase) setup(ctx workflow.Context) error {
	// Built before any handler is registered: an update that came with the
	// start may run before setup ends, and must not take the opened
	// event's place in the notification's id.
	c.view.SLA = c.slaView(ctx)
	opened := c.notification(EventOpened, audienceCustomer, "", "")
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateAssign, c.assign, c.validateAssign},
		{UpdateReply, c.reply, c.validateReply},
		{UpdateNote, c.note, c.validateNote},
		{UpdateCustomerMessage, c.customerMessage, c.validateCustomerMessage},
		{UpdateWaitOnCustomer, c.waitOnCustomer, c.validateWaitOnCustomer},
		{UpdateEscalate, c.escalate, c.validateEscalate},
		{UpdateChangePriority, c.changePriority, c.validateChangePriority},
		{UpdateResolve, c.resolve, c.validateResolve},
		{UpdateReopen, c.reopen, c.validateReopen},
		{UpdateClose, c.close, c.validateClose},
		{UpdateCSAT, c.csat, c.validateCSAT},
		{UpdateAddEvidence, c.addEvidence, c.validateAddEvidence},
		{UpdateRecordDownload, c.recordDownload, c.validateRecordDownload},
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
		ch := workflow.GetSignalChannel(ctx, SignalCustomerMessage)
		for {
			var in MessageInput
			ch.Receive(ctx, &in)
			c.customerMessageSignal(ctx, in)
		}
	})
	if err := c.setupAccountFlows(ctx); err != nil {
		return err
	}
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
		if err := workflow.Await(ctx, func() bool { return c.version != seen || c.timer.fired }); err != nil {
			return c.view, err
		}
		if c.timer.fired {
			c.timer.fired = false
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
func (c *supportCase) record(ctx workflow.Context, actor, kind string, payload map[string]string) Event {
	now := workflow.Now(ctx)
	e := Event{Seq: len(c.timeline) + 1, Actor: actor, Kind: kind, At: now, Payload: payload}
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

func invalidTransition(action string, status Status) error {
	return temporal.NewApplicationError(
		fmt.Sprintf("cannot %s: the case is %s", action, status), ErrInvalidTransition)
}

func invalidArgument(msg string) error {
	return temporal.NewApplicationError(msg, ErrInvalidArgument)
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
func (c *supportCase) authorize(action string, actorTeam Team) error {
	if actorTeam == "" || actorTeam == c.view.Team {
		return nil
	}
	return temporal.NewApplicationError(
		fmt.Sprintf("cannot %s: the case belongs to %s, not %s", action, c.view.Team, actorTeam), ErrPermissionDenied)
}

func required(field, value string) error {
	if strings.TrimSpace(value) == "" {
		return invalidArgument(field + ": must not be empty")
	}
	return nil
}

// payload builds an event's payload from key, value pairs, leaving out
// empty values.
func payload(kv ...string) map[string]string {
	p := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			p[kv[i]] = kv[i+1]
		}
	}
	return p
}

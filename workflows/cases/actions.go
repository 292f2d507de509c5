package cases

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// Statuses in which a case is being worked on: every agent action is open to it.
var activeStatuses = []Status{StatusNew, StatusOpen, StatusWaitingCustomer, StatusEscalated}

// Validators only read the state; a refusal leaves the case as it was and
// leaves no trace in its history. Handlers change the state and answer the
// case as it now is.

func (c *supportCase) validateAssign(in AssignInput) error {
	if err := c.authorize("assign", in.ActorTeam); err != nil {
		return err
	}
	if err := c.allow("assign", activeStatuses...); err != nil {
		return err
	}
	if err := vocab.Required("assignee", in.Assignee); err != nil {
		return err
	}
	if in.Team != "" && !slices.Contains(vocab.Teams, in.Team) {
		return vocab.InvalidArgument(fmt.Sprintf("team: unknown team %q", in.Team))
	}
	return nil
}

func (c *supportCase) assign(ctx workflow.Context, in AssignInput) (CaseView, error) {
	c.view.Assignee = strings.TrimSpace(in.Assignee)
	if in.Team != "" {
		c.view.Team = in.Team
	}
	if c.view.Status == StatusNew {
		c.view.Status = StatusOpen
	}
	c.record(ctx, in.Actor, EventAssigned, vocab.Payload("assignee", c.view.Assignee, "team", string(c.view.Team)))
	c.changed(ctx)
	return c.result(), nil
}

func (c *supportCase) validateReply(in MessageInput) error {
	if err := c.authorize("reply", in.ActorTeam); err != nil {
		return err
	}
	if err := c.allow("reply", activeStatuses...); err != nil {
		return err
	}
	return vocab.Required("body", in.Body)
}

// reply is a public answer to the customer: it meets the first response (the
// first time) and the pending next response.
func (c *supportCase) reply(ctx workflow.Context, in MessageInput) (CaseView, error) {
	now := workflow.Now(ctx)
	if c.view.FirstResponseAt == nil {
		c.view.FirstResponseAt = &now
	}
	c.meet(ctx, targetFirstResponse)
	c.meet(ctx, targetNextResponse)
	if c.view.Status == StatusNew {
		c.view.Status = StatusOpen
	}
	c.record(ctx, in.Actor, EventAgentReply, vocab.Payload("body", in.Body, "article_id", in.ArticleID))
	c.changed(ctx)
	c.notify(ctx, EventAgentReply, vocab.AudienceCustomer, in.Body)
	return c.result(), nil
}

func (c *supportCase) validateNote(in MessageInput) error {
	if err := c.allow("add a note", StatusNew, StatusOpen, StatusWaitingCustomer, StatusEscalated, StatusResolved); err != nil {
		return err
	}
	return vocab.Required("body", in.Body)
}

func (c *supportCase) note(ctx workflow.Context, in MessageInput) (CaseView, error) {
	c.record(ctx, in.Actor, EventInternalNote, vocab.Payload("body", in.Body))
	c.changed(ctx)
	return c.result(), nil
}

func (c *supportCase) validateCustomerMessage(in MessageInput) error {
	if err := c.allow("add a customer message", StatusNew, StatusOpen, StatusWaitingCustomer, StatusEscalated, StatusResolved); err != nil {
		return err
	}
	return vocab.Required("body", in.Body)
}

func (c *supportCase) customerMessage(ctx workflow.Context, in MessageInput) (CaseView, error) {
	c.takeCustomerMessage(ctx, in)
	c.tellStaffOfCustomer(ctx, in.Body)
	return c.result(), nil
}

// takeCustomerMessage resumes the clock of a case waiting on the customer,
// reopens a resolved one and starts the next-response target; extra adds
// to the event's payload (its channel, its message id).
func (c *supportCase) takeCustomerMessage(ctx workflow.Context, in MessageInput, extra ...string) {
	c.settleOverdue(ctx)
	now := workflow.Now(ctx)
	c.latestCustomerMessage = in.Body
	switch c.view.Status {
	case StatusWaitingCustomer:
		c.resumeClocks(now)
		c.view.Status = StatusOpen
	case StatusResolved:
		c.reopenAt(now)
	}
	c.startNextResponse(now)
	c.record(ctx, in.Actor, EventCustomerMessage, vocab.Payload(append([]string{"body", in.Body}, extra...)...))
	c.changed(ctx)
}

func (c *supportCase) validateWaitOnCustomer(in ReasonInput) error {
	if err := c.authorize("wait on the customer", in.ActorTeam); err != nil {
		return err
	}
	if err := c.allow("wait on the customer", StatusNew, StatusOpen, StatusEscalated); err != nil {
		return err
	}
	return vocab.Required("reason", in.Reason)
}

func (c *supportCase) waitOnCustomer(ctx workflow.Context, in ReasonInput) (CaseView, error) {
	now := workflow.Now(ctx)
	c.pauseClocks(now)
	c.view.Status = StatusWaitingCustomer
	c.waitingSince = now
	c.reminderSent = false
	c.record(ctx, in.Actor, EventWaitingCustomer, vocab.Payload("reason", in.Reason))
	c.changed(ctx)
	c.notify(ctx, EventWaitingCustomer, vocab.AudienceCustomer, in.Reason)
	return c.result(), nil
}

func (c *supportCase) validateEscalate(in EscalateInput) error {
	if err := c.authorize("escalate", in.ActorTeam); err != nil {
		return err
	}
	if err := c.allow("escalate", activeStatuses...); err != nil {
		return err
	}
	if !slices.Contains(vocab.Teams, in.Team) {
		return vocab.InvalidArgument(fmt.Sprintf("team: unknown team %q", in.Team))
	}
	if in.Team == c.view.Team && c.view.EscalationLevel >= LevelSupportManager {
		return invalidTransition("escalate within "+string(in.Team), "already at the support manager")
	}
	if missing := c.missingHandoffContext(in); len(missing) > 0 {
		return temporal.NewApplicationError(
			fmt.Sprintf("cannot escalate to %s: the case lacks %s", in.Team, strings.Join(missing, ", ")),
			vocab.ErrMissingHandoffContext, missing)
	}
	return nil
}

// missingHandoffContext lists what the receiving team would have to ask for:
// the account for account management and security, the order for trust &
// safety, and for everyone the customer's latest words and why.
func (c *supportCase) missingHandoffContext(in EscalateInput) []string {
	var missing []string
	switch in.Team {
	case vocab.TeamAccountManagement, vocab.TeamSecurity:
		if c.view.AccountID == "" {
			missing = append(missing, "account_id")
		}
	case vocab.TeamTrustSafety:
		if c.view.OrderID == "" {
			missing = append(missing, "order_id")
		}
	}
	if c.latestCustomerMessage == "" {
		missing = append(missing, "latest_customer_message")
	}
	if strings.TrimSpace(in.Reason) == "" {
		missing = append(missing, "reason")
	}
	return missing
}

// escalate hands the case to another team, or up one level in its own team.
func (c *supportCase) escalate(ctx workflow.Context, in EscalateInput) (CaseView, error) {
	from := c.view.Team
	if in.Team == c.view.Team {
		c.view.EscalationLevel++
	} else {
		c.view.Team = in.Team
		c.view.Assignee = ""
		c.view.EscalationLevel = LevelAgent
	}
	if c.view.Status == StatusWaitingCustomer {
		c.resumeClocks(workflow.Now(ctx))
	}
	c.view.Status = StatusEscalated
	c.record(ctx, in.Actor, EventEscalated, vocab.Payload("from_team", string(from), "to_team", string(c.view.Team), "reason", in.Reason, "level", strconv.Itoa(c.view.EscalationLevel), "latest_customer_message", c.latestCustomerMessage))
	c.changed(ctx)
	c.notify(ctx, EventEscalated, vocab.AudienceTeam, in.Reason)
	return c.result(), nil
}

func (c *supportCase) validateChangePriority(in PriorityInput) error {
	if err := c.authorize("change the priority", in.ActorTeam); err != nil {
		return err
	}
	if err := c.allow("change the priority", activeStatuses...); err != nil {
		return err
	}
	if !slices.Contains(vocab.Priorities, in.Priority) {
		return vocab.InvalidArgument(fmt.Sprintf("priority: want p1, p2, p3 or p4, got %q", in.Priority))
	}
	if _, err := c.policyFor(in.Priority); err != nil {
		return err
	}
	return nil
}

// changePriority moves every SLA target to the new priority's policy,
// keeping the business time already used.
func (c *supportCase) changePriority(ctx workflow.Context, in PriorityInput) (CaseView, error) {
	policy, err := c.policyFor(in.Priority)
	if err != nil {
		return CaseView{}, err
	}
	from := c.view.Priority
	c.retarget(workflow.Now(ctx), policy)
	c.view.Priority = in.Priority
	c.record(ctx, in.Actor, EventPriorityChanged, vocab.Payload("from", string(from), "to", string(in.Priority)))
	c.changed(ctx)
	return c.result(), nil
}

func (c *supportCase) validateResolve(in ResolveInput) error {
	if err := c.authorize("resolve", in.ActorTeam); err != nil {
		return err
	}
	if err := c.allow("resolve", activeStatuses...); err != nil {
		return err
	}
	return vocab.Required("resolution", in.Resolution)
}

// resolve stops the SLA clocks and opens the reopen window and the survey.
func (c *supportCase) resolve(ctx workflow.Context, in ResolveInput) (CaseView, error) {
	now := workflow.Now(ctx)
	c.stopClocks(now)
	c.view.Status = StatusResolved
	c.view.Resolution = in.Resolution
	c.view.ResolvedAt = &now
	c.view.CSAT = nil
	c.surveyOver = false
	c.record(ctx, in.Actor, EventResolved, vocab.Payload("resolution", in.Resolution))
	c.changed(ctx)
	c.notify(ctx, EventResolved, vocab.AudienceCustomer, in.Resolution)
	c.tellDelivery(ctx, vocab.LinkedCaseOutcome{CaseID: c.in.ID, Outcome: vocab.OutcomeResolved, Actor: in.Actor, Detail: in.Resolution})
	return c.result(), nil
}

func (c *supportCase) validateReopen(in ReasonInput) error {
	if err := c.authorize("reopen", in.ActorTeam); err != nil {
		return err
	}
	if err := c.allow("reopen", StatusResolved); err != nil {
		return err
	}
	return vocab.Required("reason", in.Reason)
}

func (c *supportCase) reopen(ctx workflow.Context, in ReasonInput) (CaseView, error) {
	c.reopenAt(workflow.Now(ctx))
	c.record(ctx, in.Actor, EventReopened, vocab.Payload("reason", in.Reason))
	c.changed(ctx)
	return c.result(), nil
}

func (c *supportCase) validateClose(in ReasonInput) error {
	if err := c.authorize("close", in.ActorTeam); err != nil {
		return err
	}
	return c.allow("close", StatusResolved)
}

func (c *supportCase) close(ctx workflow.Context, in ReasonInput) (CaseView, error) {
	c.closeCase(ctx, in.Actor, in.Reason)
	return c.result(), nil
}

func (c *supportCase) validateCSAT(in CSATInput) error {
	if err := c.allow("answer the survey", StatusResolved, StatusClosed); err != nil {
		return err
	}
	if c.view.ResolvedAt == nil {
		return invalidTransition("answer the survey", "closed without a resolution")
	}
	if c.view.CSAT != nil {
		return invalidTransition("answer the survey", "already rated")
	}
	if c.surveyOver {
		return invalidTransition("answer the survey", "past its survey window")
	}
	if in.Rating < 1 || in.Rating > 5 {
		return vocab.InvalidArgument(fmt.Sprintf("rating: want 1 to 5, got %d", in.Rating))
	}
	return nil
}

func (c *supportCase) csat(ctx workflow.Context, in CSATInput) (CaseView, error) {
	c.view.CSAT = &CSAT{Rating: in.Rating, Comment: in.Comment, At: workflow.Now(ctx)}
	c.record(ctx, in.Actor, EventCSAT, vocab.Payload("rating", strconv.Itoa(in.Rating), "comment", in.Comment))
	c.changed(ctx)
	return c.result(), nil
}

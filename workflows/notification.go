package workflows

import (
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ActivityNotify is the name of the activity that tells people what
// happened to a case (activities.Notifier.Notify).
const ActivityNotify = "Notify"

// Who a notification is for.
const (
	audienceCustomer = "customer"
	audienceAssignee = "assignee"
	audienceTeam     = "team"
)

// Notification asks the notifier to tell one audience about one event.
type Notification struct {
	// ID is the workflow id, the event's sequence number and the audience;
	// the channels use it to deliver at most once.
	ID string `json:"id"`
	// Event is the timeline event kind being told.
	Event string `json:"event"`
	// Audience is customer, assignee or team.
	Audience string           `json:"audience"`
	Case     NotificationCase `json:"case"`
	// Detail is the event's text: a reply, a resolution, the SLA target due.
	Detail string `json:"detail,omitempty"`
	// To, when set, is the customer address to write to instead of the
	// case customer's (the old address of a contact change).
	To string `json:"to,omitempty"`
}

// NotificationCase is what a message may say about the case.
type NotificationCase struct {
	ID              string   `json:"id"`
	Subject         string   `json:"subject"`
	Category        Category `json:"category"`
	Priority        Priority `json:"priority"`
	Status          Status   `json:"status"`
	Team            Team     `json:"team"`
	Assignee        string   `json:"assignee,omitempty"`
	EscalationLevel int      `json:"escalation_level"`
	Customer        Customer `json:"customer"`
	// FirstResponseDue is when the customer can expect a first answer, while it is owed.
	FirstResponseDue *time.Time `json:"first_response_due,omitempty"`
}

// changeAlertTeamOnFailure is the workflow.GetVersion change id under which
// a failed delivery to a customer or assignee also alerts the team.
const changeAlertTeamOnFailure = "alert-team-on-failed-notification"

// notify tells audience about the newest timeline event in the background;
// a delivery that fails past its retry budget is recorded on the timeline
// and never fails the case.
func (c *supportCase) notify(ctx workflow.Context, event, audience, detail string) {
	c.notifyTo(ctx, event, audience, detail, "")
}

// notifyTo is notify writing to the address to, when set, instead of the
// customer's.
func (c *supportCase) notifyTo(ctx workflow.Context, event, audience, detail, to string) {
	c.deliver(ctx, c.notification(event, audience, detail, to))
}

// notification is what tells audience about the newest timeline event, as
// the case now is; its id names that event, so build it when the event is
// recorded.
func (c *supportCase) notification(event, audience, detail, to string) Notification {
	return Notification{
		To:       to,
		ID:       CaseWorkflowID(c.view.ID) + "/" + strconv.Itoa(c.view.LastSeq) + "/" + audience,
		Event:    event,
		Audience: audience,
		Detail:   detail,
		Case: NotificationCase{
			ID: c.view.ID, Subject: c.view.Subject, Category: c.view.Category, Priority: c.view.Priority,
			Status: c.view.Status, Team: c.view.Team, Assignee: c.view.Assignee,
			EscalationLevel: c.view.EscalationLevel, Customer: c.view.Customer,
			FirstResponseDue: c.view.SLA.FirstResponseDue,
		},
	}
}

// deliver runs the notify activity for n in the background.
func (c *supportCase) deliver(ctx workflow.Context, n Notification) {
	event, audience := n.Event, n.Audience
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: time.Hour,
		Summary:                fmt.Sprintf("tell %s: %s", audience, event),
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
		},
	})
	c.pending++
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() { c.pending--; c.version++ }()
		if err := workflow.ExecuteActivity(actx, ActivityNotify, n).Get(gctx, nil); err != nil {
			c.record(gctx, SystemActor, EventNotifyFailed, payload("notification", n.ID, "event", event, "audience", audience, "error", err.Error()))
			c.changed(gctx)
			// The team hears of a customer or assignee who could not be told.
			if audience != audienceTeam && workflow.GetVersion(gctx, changeAlertTeamOnFailure, workflow.DefaultVersion, 1) >= 1 {
				c.notify(gctx, EventNotifyFailed, audienceTeam, fmt.Sprintf("could not tell the %s about %s: %v", audience, event, err))
			}
		}
	})
}

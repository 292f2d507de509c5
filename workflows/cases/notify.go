package cases

import (
	"fmt"
	"strconv"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/disputes"
	"handoff/workflows/vocab"
)

// changeAlertTeamOnFailure is the workflow.GetVersion change id under which
// a failed delivery to a customer or assignee also alerts the team.
const changeAlertTeamOnFailure = "alert-team-on-failed-notification"

// changeCauseIDs is the change under which a notification's id names what
// caused it (the update, the deadline, the signal) instead of its event's
// timeline number. A worker killed in a workflow task that had already
// sent a notification leaves the task to run again later, when a deadline
// may have passed in between: the retried task records that deadline's
// event first, so the action's event takes another number, and under
// numbered ids its notification would go out a second time under another
// id. A cause is the same in every try of the task.
const changeCauseIDs = "notification-ids-from-causes"

// cause names deadline d: its kind, its target and when it is due, so a
// breach's every level has its own.
func (d deadline) cause() string {
	if d.target != "" {
		return vocab.DeadlineCause(d.at, strconv.Itoa(int(d.kind)), string(d.target))
	}
	return vocab.DeadlineCause(d.at, strconv.Itoa(int(d.kind)))
}

// notify tells audience about the newest timeline event in the background;
// a delivery that fails past its retry budget is recorded on the timeline
// and never fails the case.
func (c *supportCase) notify(ctx workflow.Context, event, audience, detail string) {
	c.notifyTo(ctx, event, audience, detail, "")
}

// notifyTo is notify writing to the address to, when set, instead of the
// customer's.
func (c *supportCase) notifyTo(ctx workflow.Context, event, audience, detail, to string) {
	cause := ""
	if c.causeIDs {
		cause = vocab.CauseOf(ctx)
	}
	c.deliver(ctx, c.notification(cause, event, audience, detail, to))
}

// notificationID answers the id of the notification of event to audience:
// under cause, <case workflow>/<cause>/<event>/<audience> (a second one of
// the same cause, event and audience ends in /2, and so on); without one,
// <case workflow>/<timeline number>/<audience>, so build it when the event
// is recorded. The acknowledgement's is always the latter, the root of the
// case's email thread (activities.CaseThreadRoot).
func (c *supportCase) notificationID(cause, event, audience string) string {
	if cause == "" {
		return CaseWorkflowID(c.view.ID) + "/" + strconv.Itoa(c.view.LastSeq) + "/" + audience
	}
	id := CaseWorkflowID(c.view.ID) + "/" + cause + "/" + event + "/" + audience
	return c.issued.Name(id)
}

// notification is what tells audience about the newest timeline event, as
// the case now is, named after cause (notificationID).
func (c *supportCase) notification(cause, event, audience, detail, to string) vocab.Notification {
	n := vocab.Notification{
		To:       to,
		ID:       c.notificationID(cause, event, audience),
		Event:    event,
		Audience: audience,
		Detail:   detail,
		Case: vocab.NotificationCase{
			ID: c.view.ID, Subject: c.view.Subject, Category: c.view.Category, Priority: c.view.Priority,
			Status: string(c.view.Status), Team: c.view.Team, Assignee: c.view.Assignee,
			EscalationLevel: c.view.EscalationLevel, Customer: c.view.Customer,
			FirstResponseDue: c.view.SLA.FirstResponseDue, FollowsUp: c.view.FollowsUp,
		},
	}
	// The resolution's survey link lasts as long as the case takes an answer.
	if event == EventResolved && c.view.ResolvedAt != nil {
		until := c.csatDeadline()
		n.Case.SurveyUntil = &until
	}
	return n
}

// changeNotifyInTask is the workflow.GetVersion change id under which a
// notification is first tried as a local activity, in the workflow task of
// the change it tells, and runs as an activity only when that try fails.
const changeNotifyInTask = "notify-in-task"

// deliver tells n's audience in the background. Under changeNotifyInTask
// it first tries in the workflow task that recorded the event, where it
// costs no billable action of its own (a task's local activities count as
// one, and the read model's write is already one); a try that fails for
// any reason but a refusal is handed to the notify activity with its full
// retry budget. A delivery that fails past that budget is recorded on the
// timeline and never fails the case. A confidential case tells its staff
// only, and a case whose customer's data was erased has no one to write to,
// but for the seller of its dispute: a dispute's seller notice rides the
// customer audience (its route is the marketplace webhook, not the buyer)
// and is no message to the erased customer.
func (c *supportCase) deliver(ctx workflow.Context, n vocab.Notification) {
	if n.Audience == vocab.AudienceCustomer &&
		(c.in.Confidential || len(c.erasures) > 0 && n.Event != disputes.NoticeSeller) {
		return
	}
	event, audience := n.Event, n.Audience
	c.pending++
	workflow.Go(ctx, func(gctx workflow.Context) {
		defer func() { c.pending--; c.version++ }()
		if err := c.send(gctx, n); err != nil {
			c.record(gctx, vocab.SystemActor, EventNotifyFailed, vocab.Payload("notification", n.ID, "event", event, "audience", audience, "error", err.Error()))
			c.changed(gctx)
			// The team hears of a customer or assignee who could not be told.
			if audience != vocab.AudienceTeam && c.has(gctx, changeAlertTeamOnFailure) {
				c.notify(vocab.CausedBy(gctx, "failed/"+n.ID), EventNotifyFailed, vocab.AudienceTeam, fmt.Sprintf("could not tell the %s about %s: %v", audience, event, err))
			}
		}
	})
}

// send runs the notify activity for n, first as a local activity when the
// case does so, and answers the error that ended its last attempt.
func (c *supportCase) send(ctx workflow.Context, n vocab.Notification) error {
	return vocab.SendNotification(ctx, n, c.notifyInTask)
}

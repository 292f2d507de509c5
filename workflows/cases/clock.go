package cases

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// The case's SLA targets and the deadlines they and the lifecycle set:
// warnings, breaches, the reminder and auto-close of a wait on the
// customer, the end of the reopen window and of the survey.

func (c *supportCase) target(name target) *slaTarget {
	for _, t := range c.targets {
		if t.name == name {
			return t
		}
	}
	panic("unknown SLA target " + string(name))
}

// meet stops a target that was met in time (or late: its breach stays recorded).
func (c *supportCase) meet(ctx workflow.Context, name target) {
	t := c.target(name)
	if t.active {
		t.clock.Pause(workflow.Now(ctx), c.policy.Calendar)
		t.active = false
	}
}

// startNextResponse starts the next-response target on a customer message,
// unless the first response is still owed (it covers the message) or a
// next response is already owed (the oldest unanswered message counts).
func (c *supportCase) startNextResponse(now time.Time) {
	if c.target(targetFirstResponse).active || c.target(targetNextResponse).active {
		return
	}
	c.targets[1] = &slaTarget{name: targetNextResponse, clock: sla.NewClock(c.policy.Targets.NextResponse, now), active: true}
	if c.view.Status == StatusWaitingCustomer {
		c.targets[1].clock.Pause(now, c.policy.Calendar)
	}
}

func (c *supportCase) pauseClocks(now time.Time) {
	for _, t := range c.targets {
		if t.active {
			t.clock.Pause(now, c.policy.Calendar)
		}
	}
}

func (c *supportCase) resumeClocks(now time.Time) {
	for _, t := range c.targets {
		if t.active {
			t.clock.Resume(now)
		}
	}
}

// stopClocks ends every target: the case is resolved.
func (c *supportCase) stopClocks(now time.Time) {
	c.pauseClocks(now)
	for _, t := range c.targets {
		t.active = false
	}
}

// reopenAt brings a resolved case back to open, its resolution clock
// running again from the business time it had already used.
func (c *supportCase) reopenAt(now time.Time) {
	c.view.Status = StatusOpen
	c.view.ResolvedAt = nil
	c.view.Resolution = ""
	res := c.target(targetResolution)
	res.active = true
	res.clock.Resume(now)
}

// retarget moves every target to policy's, keeping the business time used.
func (c *supportCase) retarget(now time.Time, policy sla.Policy) {
	paused := c.view.Status == StatusWaitingCustomer
	targets := map[target]time.Duration{
		targetFirstResponse: policy.Targets.FirstResponse,
		targetNextResponse:  policy.Targets.NextResponse,
		targetResolution:    policy.Targets.Resolution,
	}
	for _, t := range c.targets {
		if !t.active {
			continue
		}
		if !paused {
			t.clock.Pause(now, c.policy.Calendar)
		}
		t.clock.Retarget(targets[t.name])
		if !paused {
			t.clock.Resume(now)
		}
	}
	c.policy = policy
}

// deadlineKind is what happens when a deadline passes.
type deadlineKind int

const (
	deadlineWarning deadlineKind = iota + 1
	deadlineBreach
	deadlineReminder
	deadlineAutoClose
	deadlineReopenWindowEnd
	deadlineSurveyEnd
)

// deadline is the next moment the case must act by itself.
type deadline struct {
	at     time.Time
	kind   deadlineKind
	target target
}

func (d deadline) summary(priority vocab.Priority) string {
	at := d.at.UTC().Format("2006-01-02 15:04 UTC")
	switch d.kind {
	case deadlineWarning:
		return fmt.Sprintf("%s warning %s (%s)", targetLabels[d.target], at, priority)
	case deadlineBreach:
		return fmt.Sprintf("%s due %s (%s)", targetLabels[d.target], at, priority)
	case deadlineReminder:
		return "remind the customer " + at
	case deadlineAutoClose:
		return "close for no answer " + at
	case deadlineReopenWindowEnd:
		return "reopen window ends " + at
	default:
		return "survey closes " + at
	}
}

// changeOverdueFirst is the change under which an action first settles
// the SLA deadlines already past (settleOverdue).
const changeOverdueFirst = "overdue-deadlines-first"

// settleOverdue warns and breaches for every SLA deadline already past,
// before an action changes the clocks. An action and the timer of a
// deadline before it can reach the case in one workflow task (a worker
// down at the deadline takes both at once after), and the action's
// handler runs before the loop hears the timer: without this, a reply
// ten seconds late would meet a target that had breached. Lifecycle
// deadlines (the reminder, auto-close, the reopen window, the survey)
// are left to the loop: their handlers change the status the action's
// validator has already accepted.
func (c *supportCase) settleOverdue(ctx workflow.Context) {
	now := workflow.Now(ctx)
	overdue := func() (deadline, bool) {
		next, ok := c.nextDeadline(now)
		return next, ok && !next.at.After(now) && (next.kind == deadlineWarning || next.kind == deadlineBreach)
	}
	next, ok := overdue()
	if !ok || !c.has(ctx, changeOverdueFirst) {
		return
	}
	for ; ok; next, ok = overdue() {
		c.onDeadline(ctx, next)
	}
}

// settled wraps an update handler so that it runs settleOverdue first:
// whatever an action records comes after what was due before it, in the
// same order however the worker's tasks fell (a worker killed in the task
// that warned must not, on the task's retry, record the action first and
// the warning after it, under other timeline numbers and so under other
// notification ids).
func settled[I, O any](c *supportCase, h func(workflow.Context, I) (O, error)) func(workflow.Context, I) (O, error) {
	return func(ctx workflow.Context, in I) (O, error) {
		c.settleOverdue(ctx)
		return h(ctx, in)
	}
}

// nextDeadline answers the earliest moment the case must act by itself.
func (c *supportCase) nextDeadline(now time.Time) (deadline, bool) {
	var all []deadline
	lc := c.in.Lifecycle
	switch c.view.Status {
	case StatusWaitingCustomer:
		if !c.reminderSent {
			all = append(all, deadline{at: c.waitingSince.Add(lc.AutoCloseAfterWaiting / 2), kind: deadlineReminder})
		}
		all = append(all, deadline{at: c.waitingSince.Add(lc.AutoCloseAfterWaiting), kind: deadlineAutoClose})
	case StatusResolved:
		all = append(all, deadline{at: c.view.ResolvedAt.Add(lc.ReopenWindow), kind: deadlineReopenWindowEnd})
	case StatusClosed:
		if c.view.ResolvedAt != nil && c.view.CSAT == nil && !c.surveyOver {
			all = append(all, deadline{at: c.csatDeadline(), kind: deadlineSurveyEnd})
		}
	}
	for _, t := range c.targets {
		if !t.active || c.view.Status == StatusWaitingCustomer {
			continue
		}
		if !t.warned && t.breaches == 0 {
			if at, ok, err := t.clock.WarnAt(c.policy.Calendar, c.policy.WarningThreshold); err == nil && ok {
				all = append(all, deadline{at: at, kind: deadlineWarning, target: t.name})
			}
		}
		if at, ok := c.breachAt(t); ok {
			all = append(all, deadline{at: at, kind: deadlineBreach, target: t.name})
		}
	}
	if len(all) == 0 {
		return deadline{}, false
	}
	next := all[0]
	for _, d := range all[1:] {
		if d.at.Before(next.at) {
			next = d
		}
	}
	return next, true
}

// breachAt answers when t breaches next: its target for the first breach,
// each further target period for the next level, none past the top level.
func (c *supportCase) breachAt(t *slaTarget) (time.Time, bool) {
	if t.breaches > 0 && c.view.EscalationLevel >= LevelSupportManager {
		return time.Time{}, false
	}
	clock := t.clock
	clock.Target = t.clock.Target * time.Duration(t.breaches+1)
	at, ok, err := clock.DueAt(c.policy.Calendar)
	return at, err == nil && ok
}

// onDeadline does what d asks for; run has checked it is due.
func (c *supportCase) onDeadline(ctx workflow.Context, d deadline) {
	ctx = vocab.CausedBy(ctx, d.cause())
	switch d.kind {
	case deadlineWarning:
		c.warn(ctx, c.target(d.target), d.at)
	case deadlineBreach:
		c.breach(ctx, c.target(d.target), d.at)
	case deadlineReminder:
		c.reminderSent = true
		c.record(ctx, vocab.SystemActor, EventCustomerReminder, nil)
		c.changed(ctx)
		c.notify(ctx, EventCustomerReminder, vocab.AudienceCustomer, "")
	case deadlineAutoClose:
		c.stopClocks(workflow.Now(ctx))
		c.closeCase(ctx, vocab.SystemActor, fmt.Sprintf("no answer from the customer in %s", c.in.Lifecycle.AutoCloseAfterWaiting))
	case deadlineReopenWindowEnd:
		c.closeCase(ctx, vocab.SystemActor, "reopen window ended")
	case deadlineSurveyEnd:
		c.surveyOver = true
		c.version++
	}
}

func (c *supportCase) warn(ctx workflow.Context, t *slaTarget, dueAt time.Time) {
	t.warned = true
	due, _ := c.breachAt(t)
	c.record(ctx, vocab.SystemActor, EventSLAWarning, vocab.Payload("target", string(t.name), "due_at", due.UTC().Format(time.RFC3339)))
	c.changed(ctx)
	detail := fmt.Sprintf("%s due %s", targetLabels[t.name], due.UTC().Format(time.RFC3339))
	if c.view.Assignee != "" {
		c.notify(ctx, EventSLAWarning, vocab.AudienceAssignee, detail)
	}
	c.notify(ctx, EventSLAWarning, vocab.AudienceTeam, detail)
}

// breach escalates the case one level, records it on the timeline and in
// the search attributes, and alerts the team channel, once per breach.
func (c *supportCase) breach(ctx workflow.Context, t *slaTarget, dueAt time.Time) {
	now := workflow.Now(ctx)
	t.breaches++
	if c.view.EscalationLevel < LevelSupportManager {
		c.view.EscalationLevel++
	}
	if c.view.Status != StatusWaitingCustomer {
		c.view.Status = StatusEscalated
	}
	b := Breach{Target: string(t.name), DueAt: dueAt, At: now, Level: c.view.EscalationLevel}
	c.view.SLA.Breaches = append(c.view.SLA.Breaches, b)
	c.record(ctx, vocab.SystemActor, EventSLABreach, vocab.Payload("target", string(t.name), "due_at", dueAt.UTC().Format(time.RFC3339), "level", strconv.Itoa(c.view.EscalationLevel)))
	c.changed(ctx)
	c.notify(ctx, EventSLABreach, vocab.AudienceTeam, fmt.Sprintf("%s was due %s; escalated to level %d",
		targetLabels[t.name], dueAt.UTC().Format(time.RFC3339), c.view.EscalationLevel))
}

// closeCase closes a resolved case or one the customer never answered.
func (c *supportCase) closeCase(ctx workflow.Context, actor, reason string) {
	now := workflow.Now(ctx)
	c.view.Status = StatusClosed
	c.view.ClosedAt = &now
	c.record(ctx, actor, EventClosed, vocab.Payload("reason", reason))
	c.changed(ctx)
	c.notify(ctx, EventClosed, vocab.AudienceCustomer, reason)
}

// slaView answers the due times of the running targets.
func (c *supportCase) slaView(ctx workflow.Context) SLAView {
	v, err := c.slaViewAt(workflow.Now(ctx))
	if err != nil {
		workflow.GetLogger(ctx).Error("SLA due time not computed", "error", err)
	}
	return v
}

// slaViewAt answers the SLA view at now; a target whose due time cannot be
// computed is left out and named in the error.
func (c *supportCase) slaViewAt(now time.Time) (SLAView, error) {
	v := SLAView{Paused: c.view.Status == StatusWaitingCustomer, Breaches: c.view.SLA.Breaches}
	if v.Breaches == nil {
		v.Breaches = []Breach{}
	}
	var errs []error
	for _, t := range c.targets {
		if !t.active {
			continue
		}
		at, ok, err := t.clock.DueAt(c.policy.Calendar)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.name, err))
			continue
		}
		if !ok { // paused: show when it would be due if the clock ran from now
			at, err = c.policy.Calendar.Add(now, t.clock.Remaining(now, c.policy.Calendar))
			if err != nil {
				continue
			}
		}
		switch t.name {
		case targetFirstResponse:
			v.FirstResponseDue = &at
		case targetNextResponse:
			v.NextResponseDue = &at
		case targetResolution:
			v.ResolutionDue = &at
		}
	}
	return v, errors.Join(errs...)
}

// NearestDue is the earliest due time among the running targets, nil when none runs.
func (v SLAView) NearestDue() *time.Time {
	var best *time.Time
	for _, at := range []*time.Time{v.FirstResponseDue, v.NextResponseDue, v.ResolutionDue} {
		if at != nil && (best == nil || at.Before(*best)) {
			best = at
		}
	}
	return best
}

// deadlineTimer is the one timer the case keeps: re-armed only when the
// next deadline moves, so an action that leaves it in place costs no timer.
type deadlineTimer struct {
	vocab.Timer
	deadline deadline
	// lazy keeps an armed timer that is due no later than the next
	// deadline instead of cancelling it and starting another: it wakes the
	// case early, the case finds nothing due and arms the next one then.
	// Each timer started is a billable action; most changes (a reply, a
	// customer message) move the next deadline later, and cost none.
	lazy bool
}

// changeLazySLA is the workflow.GetVersion change id under which cases
// keep an earlier timer rather than restart one at every change, and leave
// SLADueAt early rather than upsert it alone when a deadline moves later.
const changeLazySLA = "lazy-sla"

func (t *deadlineTimer) arm(ctx workflow.Context, next deadline, ok bool, summary string) {
	armed := t.Armed()
	if armed && ok && next.at.Equal(t.deadline.at) && next.kind == t.deadline.kind && next.target == t.deadline.target {
		return
	}
	if t.lazy && armed && ok && !next.at.Before(t.deadline.at) {
		return
	}
	if !ok {
		t.Stop()
		return
	}
	t.deadline = next
	t.Start(ctx, next.at.Sub(workflow.Now(ctx)), summary)
}

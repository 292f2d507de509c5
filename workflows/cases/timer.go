package cases

import (
	"go.temporal.io/sdk/workflow"
)

// deadlineTimer is the one timer the case keeps: re-armed only when the
// next deadline moves, so an action that leaves it in place costs no timer.
type deadlineTimer struct {
	deadline   deadline
	armed      bool
	cancel     workflow.CancelFunc
	generation int
	fired      bool
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
	if t.armed && ok && next.at.Equal(t.deadline.at) && next.kind == t.deadline.kind && next.target == t.deadline.target {
		return
	}
	if t.lazy && t.armed && ok && !next.at.Before(t.deadline.at) {
		return
	}
	if t.armed {
		t.cancel()
		t.armed = false
	}
	if !ok {
		return
	}
	t.generation++
	gen := t.generation
	tctx, cancel := workflow.WithCancel(ctx)
	t.cancel, t.deadline, t.armed = cancel, next, true
	f := workflow.NewTimerWithOptions(tctx, next.at.Sub(workflow.Now(ctx)), workflow.TimerOptions{Summary: summary})
	workflow.Go(ctx, func(gctx workflow.Context) {
		if err := f.Get(gctx, nil); err == nil && gen == t.generation {
			t.armed = false
			t.fired = true
		}
	})
}

package vocab

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// Timer is the one timer a workflow keeps for its next deadline: started,
// cancelled and started again as the deadline moves. Fired is set when the
// timer that is armed goes off (a cancelled one never sets it); the
// workflow's loop clears it once it has looked.
type Timer struct {
	armed      bool
	cancel     workflow.CancelFunc
	generation int
	Fired      bool
}

// Armed reports whether a timer is running.
func (t *Timer) Armed() bool { return t.armed }

// Start cancels the armed timer, if any, and starts one of d with summary,
// which the Web UI shows.
func (t *Timer) Start(ctx workflow.Context, d time.Duration, summary string) {
	t.Stop()
	t.generation++
	gen := t.generation
	tctx, cancel := workflow.WithCancel(ctx)
	t.cancel, t.armed = cancel, true
	f := workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: summary})
	workflow.Go(ctx, func(gctx workflow.Context) {
		if err := f.Get(gctx, nil); err == nil && gen == t.generation {
			t.armed = false
			t.Fired = true
		}
	})
}

// Stop cancels the armed timer, if any.
func (t *Timer) Stop() {
	if t.armed {
		t.cancel()
		t.armed = false
	}
}

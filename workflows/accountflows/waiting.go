package accountflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"handoff/workflows/vocab"
)

// accountActivityOptions are the options of directory activities: short
// attempts retried with backoff for up to a day, since a lock or a reset
// that never lands helps nobody.
func accountActivityOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        2 * time.Minute,
			NonRetryableErrorTypes: []string{ErrAccountNotFound, vocab.ErrInvalidArgument},
		},
	})
}

// within arms a timer of d and answers a function that reports whether it fired.
func within(ctx workflow.Context, d time.Duration, summary string) (fired func() bool, cancel func()) {
	tctx, cancel := workflow.WithCancel(ctx)
	done := false
	f := workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: summary})
	workflow.Go(ctx, func(gctx workflow.Context) {
		if f.Get(gctx, nil) == nil {
			done = true
		}
	})
	return func() bool { return done }, cancel
}

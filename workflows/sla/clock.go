package sla

import "time"

// Clock is one SLA target being measured: first response, next response or
// resolution. It lives in workflow state, so it is plain data and every
// method takes the current time (workflow.Now) and the calendar as arguments.
//
// Business time accrues only while the clock runs; it is paused while the
// case waits on the customer, and stopped for good once the target is met.
type Clock struct {
	// Target is the business time allowed.
	Target time.Duration `json:"target"`
	// Elapsed is the business time accrued before RunningSince (or in all,
	// when the clock is paused or stopped).
	Elapsed time.Duration `json:"elapsed"`
	// RunningSince is when the clock last started running; zero when paused
	// or stopped.
	RunningSince time.Time `json:"running_since,omitzero"`
	// StoppedAt is when Stop was called; zero while the clock can still run.
	StoppedAt time.Time `json:"stopped_at,omitzero"`
}

// NewClock answers a clock for target that runs from now.
func NewClock(target time.Duration, now time.Time) Clock {
	return Clock{Target: target, RunningSince: now}
}

// Running reports whether business time currently accrues.
func (c Clock) Running() bool { return !c.RunningSince.IsZero() }

// Stopped reports whether Stop was called: the measured event happened.
func (c Clock) Stopped() bool { return !c.StoppedAt.IsZero() }

// Pause accrues the business time used so far and stops the clock until
// Resume, as when the case starts waiting on the customer. Pausing a clock
// that is not running changes nothing.
func (c *Clock) Pause(now time.Time, cal Calendar) {
	if !c.Running() {
		return
	}
	c.Elapsed += cal.Between(c.RunningSince, now)
	c.RunningSince = time.Time{}
}

// Resume starts a paused clock again from now. Resuming a running or stopped
// clock changes nothing, so a duplicate event cannot restart a met target.
func (c *Clock) Resume(now time.Time) {
	if c.Running() || c.Stopped() {
		return
	}
	c.RunningSince = now
}

// Stop accrues the business time used and freezes the clock for good: the
// response or resolution it measured happened at now. Stopping twice keeps
// the first stop.
func (c *Clock) Stop(now time.Time, cal Calendar) {
	if c.Stopped() {
		return
	}
	c.Pause(now, cal)
	c.StoppedAt = now
}

// Retarget replaces the target, as when the case's priority changes, keeping
// the business time already used.
func (c *Clock) Retarget(target time.Duration) {
	c.Target = target
}

// Used answers the business time accrued up to now.
func (c Clock) Used(now time.Time, cal Calendar) time.Duration {
	if !c.Running() {
		return c.Elapsed
	}
	return c.Elapsed + cal.Between(c.RunningSince, now)
}

// Remaining answers the business time left before the target is missed;
// negative once it is.
func (c Clock) Remaining(now time.Time, cal Calendar) time.Duration {
	return c.Target - c.Used(now, cal)
}

// Breached reports whether the whole target has been used by now: at the
// deadline itself the target counts as missed, so a timer set for DueAt finds
// the clock breached when it fires.
func (c Clock) Breached(now time.Time, cal Calendar) bool {
	return c.Used(now, cal) >= c.Target
}

// DueAt answers the instant at which the target will be used up if the clock
// keeps running, and false when it is paused or stopped (no deadline then).
// When the target was already used up before the clock last started, the
// answer is RunningSince, in the past: the caller's timer fires at once.
func (c Clock) DueAt(cal Calendar) (time.Time, bool, error) {
	return c.reach(c.Target, cal)
}

// WarnAt answers the instant at which threshold (a fraction such as 0.8) of
// the target will be used, like DueAt for a shorter target.
func (c Clock) WarnAt(cal Calendar, threshold float64) (time.Time, bool, error) {
	// A plain float multiply: deterministic on every platform, and a
	// nanosecond of rounding does not matter to a warning.
	return c.reach(time.Duration(float64(c.Target)*threshold), cal)
}

// reach answers when the clock will show used business time, if it runs.
func (c Clock) reach(used time.Duration, cal Calendar) (time.Time, bool, error) {
	if !c.Running() {
		return time.Time{}, false, nil
	}
	left := used - c.Elapsed
	if left <= 0 {
		return c.RunningSince, true, nil
	}
	t, err := cal.Add(c.RunningSince, left)
	if err != nil {
		return time.Time{}, false, err
	}
	return t, true, nil
}

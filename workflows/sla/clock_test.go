package sla

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// due answers DueAt and fails the test on error.
func due(t *testing.T, c Clock, cal Calendar) (time.Time, bool) {
	t.Helper()
	at, ok, err := c.DueAt(cal)
	require.NoError(t, err)
	return at, ok
}

func TestClockRunsInBusinessTime(t *testing.T) {
	p := func(s string) time.Time { return in(t, "Europe/Paris", s) }
	c := NewClock(4*time.Hour, p("2026-03-02 16:00"))

	at, ok := due(t, c, euBiz)
	assert.True(t, ok)
	assert.Equal(t, p("2026-03-03 11:00"), at, "two hours on Monday, two on Tuesday")
	assert.Equal(t, 2*time.Hour, c.Used(p("2026-03-03 08:00"), euBiz), "the night does not count")
	assert.Equal(t, 2*time.Hour, c.Remaining(p("2026-03-03 08:00"), euBiz))
}

func TestTimePausedNeverCounts(t *testing.T) {
	p := func(s string) time.Time { return in(t, "Europe/Paris", s) }
	c := NewClock(2*time.Hour, p("2026-03-02 09:00"))

	c.Pause(p("2026-03-02 10:00"), euBiz) // the case waits on the customer
	assert.False(t, c.Running())
	assert.Equal(t, time.Hour, c.Elapsed)
	assert.Equal(t, time.Hour, c.Used(p("2026-03-04 17:00"), euBiz), "two working days paused")
	_, ok := due(t, c, euBiz)
	assert.False(t, ok, "no deadline while paused")
	w, ok, err := c.WarnAt(euBiz, 0.8)
	assert.NoError(t, err)
	assert.False(t, ok, "no warning while paused")
	assert.True(t, w.IsZero())

	c.Pause(p("2026-03-04 17:00"), euBiz) // a second pause changes nothing
	assert.Equal(t, time.Hour, c.Elapsed)

	c.Resume(p("2026-03-05 09:00")) // the customer answered
	at, ok := due(t, c, euBiz)
	assert.True(t, ok)
	assert.Equal(t, p("2026-03-05 10:00"), at)

	c.Resume(p("2026-03-05 09:30")) // a duplicate resume does not move the start
	assert.Equal(t, p("2026-03-05 09:00"), c.RunningSince)
	assert.Equal(t, 90*time.Minute, c.Used(p("2026-03-05 09:30"), euBiz))
}

func TestBreachAtTheDeadline(t *testing.T) {
	start := in(t, "UTC", "2026-03-02 09:00")
	c := NewClock(time.Hour, start)
	at, _ := due(t, c, allDay)
	assert.False(t, c.Breached(at.Add(-time.Second), allDay))
	assert.True(t, c.Breached(at, allDay), "a timer for DueAt finds the clock breached")
	assert.Equal(t, -30*time.Minute, c.Remaining(at.Add(30*time.Minute), allDay))
}

func TestWarnAtEightyPercent(t *testing.T) {
	start := in(t, "UTC", "2026-03-02 00:00")
	c := NewClock(10*time.Hour, start)
	w, ok, err := c.WarnAt(allDay, 0.8)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, start.Add(8*time.Hour), w)

	c.Pause(start.Add(time.Hour), allDay)
	c.Resume(start.Add(5 * time.Hour))
	w, _, err = c.WarnAt(allDay, 0.8)
	require.NoError(t, err)
	assert.Equal(t, start.Add(12*time.Hour), w, "the four paused hours push the warning")

	// In business hours: 8 of 10 hours from Monday 09:00 end that day at 17:00.
	p := func(s string) time.Time { return in(t, "Europe/Paris", s) }
	b := NewClock(10*time.Hour, p("2026-03-02 09:00"))
	w, _, err = b.WarnAt(euBiz, 0.8)
	require.NoError(t, err)
	assert.Equal(t, p("2026-03-02 17:00"), w)
	at, _ := due(t, b, euBiz)
	assert.Equal(t, p("2026-03-03 10:00"), at)
}

func TestWarnAtAndDueAtWhenAlreadyPast(t *testing.T) {
	start := in(t, "UTC", "2026-03-02 00:00")
	c := NewClock(time.Hour, start)
	c.Pause(start.Add(2*time.Hour), allDay) // breached, then paused
	c.Resume(start.Add(3 * time.Hour))
	at, ok := due(t, c, allDay)
	assert.True(t, ok)
	assert.Equal(t, start.Add(3*time.Hour), at, "already due: now, not in the future")
	w, ok, err := c.WarnAt(allDay, 0.8)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, start.Add(3*time.Hour), w)
}

func TestRetargetKeepsTimeUsed(t *testing.T) {
	p := func(s string) time.Time { return in(t, "Europe/Paris", s) }
	c := NewClock(40*time.Hour, p("2026-03-02 09:00")) // p3 resolution
	c.Pause(p("2026-03-02 12:00"), euBiz)
	c.Resume(p("2026-03-02 14:00"))

	c.Retarget(8 * time.Hour) // raised to p1
	assert.Equal(t, 3*time.Hour, c.Elapsed)
	at, ok := due(t, c, euBiz)
	assert.True(t, ok)
	assert.Equal(t, p("2026-03-03 10:00"), at, "5h left: 4h on Monday, 1h on Tuesday")
}

func TestStopFreezesTheClock(t *testing.T) {
	start := in(t, "UTC", "2026-03-02 00:00")
	c := NewClock(time.Hour, start)
	c.Stop(start.Add(20*time.Minute), allDay) // the agent answered
	assert.True(t, c.Stopped())
	assert.Equal(t, 20*time.Minute, c.Used(start.Add(5*time.Hour), allDay))
	c.Resume(start.Add(time.Hour))
	assert.False(t, c.Running(), "a met target never restarts")
	c.Stop(start.Add(2*time.Hour), allDay)
	assert.Equal(t, start.Add(20*time.Minute), c.StoppedAt, "the first stop stays")
	_, ok := due(t, c, allDay)
	assert.False(t, ok)
	assert.False(t, c.Breached(start.Add(5*time.Hour), allDay))
}

func TestClockSurvivesJSON(t *testing.T) {
	start := in(t, "Europe/Paris", "2026-03-02 09:00")
	for _, c := range []Clock{NewClock(time.Hour, start), {Target: time.Hour, Elapsed: time.Minute}} {
		data, err := json.Marshal(c)
		require.NoError(t, err)
		var back Clock
		require.NoError(t, json.Unmarshal(data, &back))
		assert.True(t, back.RunningSince.Equal(c.RunningSince))
		assert.Equal(t, c.Running(), back.Running())
		assert.Equal(t, c.Elapsed, back.Elapsed)
		if !c.Running() {
			assert.NotContains(t, string(data), "running_since", "a paused clock says so by omission")
		}
	}
}

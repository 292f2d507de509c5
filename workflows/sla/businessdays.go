package sla

import (
	"fmt"
	"time"
)

// AddBusinessDays answers the moment n business days after from, in the
// calendar's zone: the same wall-clock time as from on the n-th business
// day after from's local date. A business day is a date with open hours (not
// a closed weekday, not a holiday); every date is one for an always-open
// calendar. A deadline counted in business days is how marketplaces give a
// seller time to answer ("three business days"), so Friday 17:00 + 3 is
// Wednesday 17:00 and a holiday in between moves it a day further.
//
// When from's local date is no business day (a Saturday, a holiday),
// counting starts from the opening of the next business day: Saturday 11:00
// + 1 in a 09:00-18:00 calendar is Tuesday 09:00. For n == 0 the answer is
// from itself, open or not, as Add answers for a zero duration.
//
// A wall-clock time the clocks skip on the answer's date (the spring
// change) answers the instant of the change; one they repeat (the autumn
// change) its first occurrence. The answer is in from's location. It fails
// for a negative n, a time zone that does not load, or when the calendar has
// no business day within two years of where counting got to.
func (c Calendar) AddBusinessDays(from time.Time, n int) (time.Time, error) {
	switch {
	case n < 0:
		return time.Time{}, fmt.Errorf("sla: add %d business days: negative count", n)
	case n == 0:
		return from, nil
	}
	loc, err := c.location()
	if err != nil {
		return time.Time{}, fmt.Errorf("sla: calendar %q: %w", c.Name, err)
	}
	day := localDate(from, loc)
	clock := wallClock(from.In(loc)).Sub(day)
	if !c.isBusinessDay(day) {
		next, err := c.nextBusinessDay(day, from)
		if err != nil {
			return time.Time{}, err
		}
		day, clock = next, time.Duration(c.spans(next)[0].Start)*time.Minute
	}
	for ; n > 0; n-- {
		if day, err = c.nextBusinessDay(day, from); err != nil {
			return time.Time{}, err
		}
	}
	return atClock(day, clock, loc).In(from.Location()), nil
}

// isBusinessDay reports whether the local date day (midnight UTC of that
// date) has open hours.
func (c Calendar) isBusinessDay(day time.Time) bool {
	return c.AlwaysOpen || len(c.spans(day)) > 0
}

// nextBusinessDay answers the first business day after the local date day;
// from is only for the error.
func (c Calendar) nextBusinessDay(day, from time.Time) (time.Time, error) {
	for i := 1; i <= maxIdleDays; i++ {
		if next := day.AddDate(0, 0, i); c.isBusinessDay(next) {
			return next, nil
		}
	}
	return time.Time{}, fmt.Errorf("sla: calendar %q: no business day within two years after %s", c.Name, from.Format(time.RFC3339))
}

// atClock answers the first instant at which the clocks of loc show clock
// (a time of day, below 24h) on the local date day, or a later time when
// they skip it; whole minutes follow at's rules and the seconds below them
// are added on.
func atClock(day time.Time, clock time.Duration, loc *time.Location) time.Time {
	minutes := clock / time.Minute
	return at(day, int(minutes), loc).Add(clock - minutes*time.Minute)
}

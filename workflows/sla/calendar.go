// Package sla is the SLA clock of a support case: business calendars, clocks
// that pause while the case waits on the customer, and the policy file that
// says which targets apply to which category and priority.
//
// Everything a workflow calls here is pure arithmetic on its arguments: no
// time.Now, no I/O besides reading time zone data, no goroutines and no map
// iteration, so a workflow replays to the same deadlines. The policy file
// loader (Load, Parse) reads files and must only run outside workflows; its
// result, a Policy, is copied into the workflow input whole.
package sla

import (
	"errors"
	"fmt"
	"slices"
	"time"

	// Zones must load in scratch containers too, or deadlines could not be
	// computed there at all.
	_ "time/tzdata"
)

// maxIdleDays bounds the search for the next open minute: a calendar that
// stays closed for two years is a broken calendar, not a long weekend.
const maxIdleDays = 2*366 + 1

// dateLayout is how holidays are written: local dates, no time.
const dateLayout = "2006-01-02"

// Calendar decides which instants count as business time. It is plain data so
// that it can travel inside a workflow input as JSON and replay identically
// even after the policy file changes.
type Calendar struct {
	// Name is the calendar's name in the policy file, for people reading
	// workflow inputs.
	Name string `json:"name"`
	// TimeZone is an IANA zone name such as "Europe/Paris"; the weekly hours
	// and holidays are read as wall-clock times in it.
	TimeZone string `json:"time_zone"`
	// AlwaysOpen makes every instant count (24x7); Week and Holidays are then
	// ignored.
	AlwaysOpen bool `json:"always_open,omitempty"`
	// Week holds the open spans of each weekday, indexed by time.Weekday
	// (0 is Sunday), sorted and not overlapping.
	Week [7][]Span `json:"week"`
	// Holidays are local dates ("YYYY-MM-DD", sorted ascending) on which no
	// time counts.
	Holidays []string `json:"holidays,omitempty"`
}

// Span is an open period of a day in local wall-clock minutes from midnight:
// 0 <= Start < End <= 1440, so 24:00 is written as 1440.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Validate reports whether the calendar can be used: the time zone loads,
// spans are within a day, sorted and not overlapping, some span exists, and
// holidays are sorted valid dates.
func (c Calendar) Validate() error {
	return errors.Join(append(c.zoneErrors(), c.hoursErrors()...)...)
}

// zoneErrors says what is wrong with the time zone.
func (c Calendar) zoneErrors() []error {
	if c.TimeZone == "" || c.TimeZone == "Local" {
		// "Local" would make deadlines depend on the machine computing them.
		return []error{fmt.Errorf("time zone %q: name an IANA zone such as Europe/Paris or UTC", c.TimeZone)}
	}
	if _, err := c.location(); err != nil {
		return []error{fmt.Errorf("time zone %q: %w", c.TimeZone, err)}
	}
	return nil
}

// hoursErrors says what is wrong with the week and the holidays.
func (c Calendar) hoursErrors() []error {
	if c.AlwaysOpen {
		return nil
	}
	var errs []error
	open := false
	for day, spans := range c.Week {
		prevEnd := 0
		for i, s := range spans {
			switch {
			case s.Start < 0 || s.End > 1440 || s.Start >= s.End:
				errs = append(errs, fmt.Errorf("%s span %d (%s): want 00:00 <= start < end <= 24:00", time.Weekday(day), i, s))
			case s.Start < prevEnd:
				errs = append(errs, fmt.Errorf("%s span %d (%s): overlaps or precedes the span before it", time.Weekday(day), i, s))
			default:
				open = true
			}
			prevEnd = max(prevEnd, s.End)
		}
	}
	if !open {
		errs = append(errs, errors.New("no opening hours: set some hours or always_open"))
	}
	for i, h := range c.Holidays {
		if _, err := time.Parse(dateLayout, h); err != nil {
			errs = append(errs, fmt.Errorf("holiday %q: want YYYY-MM-DD", h))
		} else if i > 0 && h <= c.Holidays[i-1] {
			errs = append(errs, fmt.Errorf("holiday %q: holidays must be sorted and unique", h))
		}
	}
	return errs
}

// String writes the span as the policy file does, e.g. "09:00-18:00".
func (s Span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.Start/60, s.Start%60, s.End/60, s.End%60)
}

// Add answers the instant at which d of business time has elapsed counting
// from from. Counting starts at from if it is open, else at the next opening,
// and the answer is the end of the last counted instant: it can be the closing
// time of a span (9h from Monday 09:00 in a 09:00-18:00 calendar is Monday
// 18:00, not Tuesday 09:00). For d == 0 the answer is from itself, open or
// not, so that Between(from, Add(from, d)) == d holds for every d >= 0.
//
// The answer is in from's location. It fails for a negative d, a time zone
// that does not load, or when the calendar has no open minute within two
// years of where counting got to.
func (c Calendar) Add(from time.Time, d time.Duration) (time.Time, error) {
	switch {
	case d < 0:
		return time.Time{}, fmt.Errorf("sla: add %v: negative duration", d)
	case d == 0:
		return from, nil
	case c.AlwaysOpen:
		return from.Add(d), nil
	}
	loc, err := c.location()
	if err != nil {
		return time.Time{}, fmt.Errorf("sla: calendar %q: %w", c.Name, err)
	}
	left := d
	idle := 0
	// Start a day early: in a zone whose clocks go back across midnight,
	// from can lie in the previous local date's span of instants.
	for day := localDate(from, loc).AddDate(0, 0, -1); idle <= maxIdleDays; day = day.AddDate(0, 0, 1) {
		counted := false
		for _, span := range c.spans(day) {
			start, end := later(at(day, span.Start, loc), from), at(day, span.End, loc)
			if !start.Before(end) {
				continue
			}
			counted = true
			n := end.Sub(start)
			if left <= n {
				return start.Add(left).In(from.Location()), nil
			}
			left -= n
		}
		// Only a run of closed days trips the bound, so a long d over a
		// working calendar never does.
		if counted {
			idle = 0
		} else {
			idle++
		}
	}
	return time.Time{}, fmt.Errorf("sla: calendar %q: no open minute within two years after %s", c.Name, from.Format(time.RFC3339))
}

// Between answers the business time elapsed in [a, b), zero when b is not
// after a. A calendar whose time zone does not load (Validate reports it) is
// counted in UTC, since a clock must always read something; Add reports the
// error instead.
func (c Calendar) Between(a, b time.Time) time.Duration {
	if !a.Before(b) {
		return 0
	}
	if c.AlwaysOpen {
		return b.Sub(a)
	}
	loc, err := c.location()
	if err != nil {
		loc = time.UTC
	}
	var sum time.Duration
	for day := localDate(a, loc).AddDate(0, 0, -1); at(day, 0, loc).Before(b); day = day.AddDate(0, 0, 1) {
		for _, span := range c.spans(day) {
			start, end := later(at(day, span.Start, loc), a), earlier(at(day, span.End, loc), b)
			if start.Before(end) {
				sum += end.Sub(start)
			}
		}
	}
	return sum
}

// IsOpen reports whether the instant t counts as business time.
func (c Calendar) IsOpen(t time.Time) bool {
	// The smallest interval starting at t holds business time exactly when
	// t itself does; reusing Between keeps one definition of "open".
	return c.Between(t, t.Add(time.Nanosecond)) > 0
}

// location loads the calendar's time zone. It is loaded on every call rather
// than cached: a shared cache would be mutable global state reached from
// workflow code, and zones load in microseconds.
func (c Calendar) location() (*time.Location, error) {
	// Zone data is read-only, so the same name yields the same rules on
	// every replay (workflowcheck agrees). The embedded time/tzdata only
	// backs machines without zone files; elsewhere the system's are used.
	return time.LoadLocation(c.TimeZone)
}

// spans answers the open spans of a local date (given as midnight UTC of that
// date), none on a holiday.
func (c Calendar) spans(day time.Time) []Span {
	if _, holiday := slices.BinarySearch(c.Holidays, day.Format(dateLayout)); holiday {
		return nil
	}
	return c.Week[day.Weekday()]
}

// localDate answers t's local date in loc as midnight UTC of that date, which
// steps by whole days with AddDate whatever loc's clocks do.
func localDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// at answers the first instant at which the clocks of loc show minute m of
// the local date day (m == 1440 is midnight ending the day) or a later time.
//
// Defining spans by "first instant the clocks reach it" makes the mapping from
// wall time to instants monotonic, so spans of one day never overlap and days
// tile time exactly, even on the days clocks change:
//   - a wall time skipped when clocks go forward maps to the instant of the
//     change, so 02:30-04:00 on the spring-forward day in Paris opens at
//     03:00 CEST and counts one real hour;
//   - a wall time repeated when clocks go back maps to its first occurrence,
//     so 01:00-04:00 on the fall-back day counts four real hours.
//
// time.Date alone guarantees neither: it may pick either side of a change.
func at(day time.Time, m int, loc *time.Location) time.Time {
	want := day.Add(time.Duration(m) * time.Minute)
	y, mo, d := day.Date()
	t := time.Date(y, mo, d, 0, m, 0, 0, loc)
	switch got := wallClock(t); {
	case got.After(want): // want was skipped; t lies after the change
		start, _ := t.ZoneBounds()
		return start
	case got.Before(want): // want was skipped; t lies before the change
		_, end := t.ZoneBounds()
		return end
	}
	// want exists; if clocks went back just before t, it may also have
	// existed earlier under the previous offset.
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return t
	}
	_, off := t.Zone()
	_, prevOff := start.Add(-time.Nanosecond).Zone()
	if prevOff <= off {
		return t
	}
	if first := t.Add(time.Duration(off-prevOff) * time.Second); first.Before(start) && wallClock(first).Equal(want) {
		return first
	}
	return t
}

// wallClock answers what t's clocks show, as the same reading in UTC, so
// readings of different offsets compare as wall times.
func wallClock(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
}

// later answers the later of two instants.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// earlier answers the earlier of two instants.
func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

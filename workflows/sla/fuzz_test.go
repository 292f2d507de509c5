package sla

import (
	"testing"
	"time"
)

// fuzzCalendars cover what makes calendar arithmetic hard: holidays, weekends,
// both DST changes in Europe and America, spans starting and ending inside
// the skipped or repeated hour, clocks changing at midnight (Santiago),
// half-hour changes (Lord Howe), spans joined across midnight, and 24x7.
var fuzzCalendars = func() []Calendar {
	office := []Span{{9 * 60, 18 * 60}}
	eu := Calendar{Name: "eu", TimeZone: "Europe/Paris", Week: hours(office, weekdays...),
		Holidays: withCountryHolidays([]string{"2026-12-24"}, "fr", 2025, 2029)}
	// Sunday spans start and end inside 02:00-03:00, the hour Paris skips
	// in March and repeats in October; Monday to Saturday open at night.
	parisEdges := Calendar{Name: "paris-edges", TimeZone: "Europe/Paris", Week: hours([]Span{{60, 240}},
		time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday)}
	parisEdges.Week[time.Sunday] = []Span{{0, 135}, {150, 165}, {170, 1440}}
	ny := Calendar{Name: "ny", TimeZone: "America/New_York", Week: hours(office, weekdays...),
		Holidays: withCountryHolidays(nil, "us", 2025, 2029)}
	ny.Week[time.Sunday] = []Span{{0, 1440}}
	london := Calendar{Name: "late", TimeZone: "Europe/London",
		Week:     [7][]Span{time.Friday: {{18 * 60, 1440}}, time.Saturday: {{0, 120}, {23 * 60, 1440}}, time.Sunday: {{0, 60}}},
		Holidays: withCountryHolidays(nil, "gb", 2025, 2029)}
	santiago := Calendar{Name: "santiago", TimeZone: "America/Santiago",
		Week: hours([]Span{{0, 1440}}, time.Saturday, time.Sunday)}
	santiago.Week[time.Wednesday] = []Span{{0, 30}, {23*60 + 30, 1440}}
	lordHowe := Calendar{Name: "lord-howe", TimeZone: "Australia/Lord_Howe", Week: hours([]Span{{90, 150}, {8 * 60, 20 * 60}},
		time.Sunday, time.Monday, time.Saturday)}
	return []Calendar{eu, parisEdges, ny, london, santiago, lordHowe, allDay}
}()

// fuzzStart is where random starts begin: they span 2026 and 2027.
var fuzzStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// FuzzAddBetween checks the laws the SLA clock relies on, from random
// instants in 2026-2027 and for business durations up to 400 hours:
// Between(from, Add(from, d)) == d, Add is monotonic in d, its answer closes
// an open instant (or is from when d == 0), and Between is additive.
func FuzzAddBetween(f *testing.F) {
	sec := func(s string) uint64 {
		t, err := time.Parse("2006-01-02 15:04 -0700", s)
		if err != nil {
			f.Fatal(err)
		}
		return uint64(t.Sub(fuzzStart))
	}
	for i := range fuzzCalendars {
		c := uint8(i)
		f.Add(c, sec("2026-03-02 10:00 +0100"), uint64(2*time.Hour), uint64(time.Hour))
		f.Add(c, sec("2026-03-28 23:30 +0100"), uint64(30*time.Hour), uint64(90*time.Minute))     // Paris spring
		f.Add(c, sec("2026-10-25 01:59 +0200"), uint64(3*time.Hour), uint64(time.Minute))         // Paris autumn
		f.Add(c, sec("2026-03-08 01:30 -0500"), uint64(time.Hour), uint64(23*time.Hour))          // New York spring
		f.Add(c, sec("2026-11-01 01:30 -0400"), uint64(90*time.Minute), uint64(time.Hour))        // New York autumn
		f.Add(c, sec("2026-04-04 23:30 -0300"), uint64(45*time.Minute), uint64(time.Hour))        // Santiago autumn
		f.Add(c, sec("2026-09-05 23:30 -0400"), uint64(45*time.Minute), uint64(time.Hour))        // Santiago spring
		f.Add(c, sec("2026-10-04 01:45 +1030"), uint64(time.Hour), uint64(time.Hour))             // Lord Howe spring
		f.Add(c, sec("2026-04-30 17:00 +0200"), uint64(2*time.Hour), uint64(time.Nanosecond))     // French holiday
		f.Add(c, sec("2026-12-24 08:00 +0100"), uint64(100*time.Hour), uint64(time.Second))       // Christmas
		f.Add(c, sec("2027-07-02 16:00 -0400"), uint64(8*time.Hour+1), uint64(17*time.Minute))    // observed 4 July
		f.Add(c, sec("2026-03-06 23:59 +0000"), uint64(0), uint64(time.Hour))                     // zero
		f.Add(c, sec("2027-12-31 23:00 +0000"), uint64(400*time.Hour), uint64(400*time.Hour))     // the far end
		f.Add(c, sec("2026-01-01 00:00 +0000"), uint64(time.Nanosecond), uint64(time.Nanosecond)) // tiny
	}
	const span = 2 * 365 * 24 * time.Hour
	const maxD = 400 * time.Hour
	f.Fuzz(func(t *testing.T, ci uint8, offset, dRaw, extraRaw uint64) {
		cal := fuzzCalendars[int(ci)%len(fuzzCalendars)]
		from := fuzzStart.Add(time.Duration(offset % uint64(span)))
		d := time.Duration(dRaw % uint64(maxD+1))
		extra := time.Duration(extraRaw % uint64(maxD+1))

		checkLaws(t, cal, from, d, extra)
	})
}

// checkLaws fails t unless the calendar laws hold for from, d and d+extra.
func checkLaws(t *testing.T, cal Calendar, from time.Time, d, extra time.Duration) {
	t.Helper()
	got, err := cal.Add(from, d)
	if err != nil {
		t.Fatalf("%s: Add(%v, %v): %v", cal.Name, from, d, err)
	}
	if back := cal.Between(from, got); back != d {
		t.Fatalf("%s: Between(%v, Add(%v, %v) = %v) = %v", cal.Name, from, from, d, got, back)
	}
	if d == 0 && !got.Equal(from) {
		t.Fatalf("%s: Add(%v, 0) = %v, want from", cal.Name, from, got)
	}
	if d > 0 && !cal.IsOpen(got.Add(-time.Nanosecond)) {
		t.Fatalf("%s: Add(%v, %v) = %v, but the instant before it is closed", cal.Name, from, d, got)
	}
	further, err := cal.Add(from, d+extra)
	if err != nil {
		t.Fatalf("%s: Add(%v, %v): %v", cal.Name, from, d+extra, err)
	}
	if further.Before(got) {
		t.Fatalf("%s: Add(%v, %v) = %v is before Add(.., %v) = %v", cal.Name, from, d+extra, further, d, got)
	}
	// Counting on from where the first count stopped lands at the same
	// place: what a resumed clock relies on.
	if again, err := cal.Add(got, extra); err != nil || !again.Equal(further) {
		t.Fatalf("%s: Add(Add(%v, %v), %v) = %v, %v; want %v", cal.Name, from, d, extra, again, err, further)
	}
	mid := from.Add(further.Sub(from) / 2)
	if a, b, all := cal.Between(from, mid), cal.Between(mid, further), cal.Between(from, further); a+b != all {
		t.Fatalf("%s: Between is not additive at %v: %v + %v != %v", cal.Name, mid, a, b, all)
	}
}

// TestLawsAroundClockChanges walks starts every few minutes across each
// change of clocks in 2026-2027 in every fuzz calendar's zone, where random
// starts rarely land.
func TestLawsAroundClockChanges(t *testing.T) {
	ds := []time.Duration{0, time.Nanosecond, 29 * time.Minute, time.Hour, 150 * time.Minute, 26 * time.Hour}
	for _, cal := range fuzzCalendars {
		if cal.AlwaysOpen {
			continue
		}
		loc, err := time.LoadLocation(cal.TimeZone)
		if err != nil {
			t.Fatal(err)
		}
		for at := fuzzStart.In(loc); at.Year() < 2028; {
			_, change := at.ZoneBounds()
			if change.IsZero() {
				break
			}
			for from := change.Add(-26 * time.Hour); from.Before(change.Add(26 * time.Hour)); from = from.Add(28*time.Minute + 7*time.Second) {
				for i, d := range ds {
					checkLaws(t, cal, from, d, ds[(i+3)%len(ds)])
				}
			}
			at = change
		}
	}
}

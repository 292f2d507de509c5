package sla

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parisSellers is a Paris seller desk, 09:00-18:00 on weekdays, closed on
// Whit Monday 2026-05-25 and on 2026-12-25.
var parisSellers = Calendar{Name: "fr-sellers", TimeZone: "Europe/Paris",
	Week: hours([]Span{{9 * 60, 18 * 60}}, weekdays...), Holidays: []string{"2026-05-25", "2026-12-25"}}

func TestAddBusinessDays(t *testing.T) {
	const paris, ny = "Europe/Paris", "America/New_York"
	tests := []struct {
		name string
		cal  Calendar
		zone string
		from string
		n    int
		want string
	}{
		{"within the week", parisSellers, paris, "2026-03-02 10:00", 3, "2026-03-05 10:00"},
		{"across a weekend", parisSellers, paris, "2026-03-06 17:00", 3, "2026-03-11 17:00"},
		{"after closing keeps the wall clock", parisSellers, paris, "2026-03-06 20:30", 1, "2026-03-09 20:30"},
		{"across a holiday Monday", parisSellers, paris, "2026-05-22 16:00", 3, "2026-05-28 16:00"},
		{"from the eve of a holiday", parisSellers, paris, "2026-12-24 09:15", 1, "2026-12-28 09:15"},
		{"from a Saturday counts from Monday's opening", parisSellers, paris, "2026-03-07 11:00", 1, "2026-03-10 09:00"},
		{"from a holiday counts from the next opening", parisSellers, paris, "2026-05-25 12:00", 2, "2026-05-28 09:00"},
		{"zero is from", parisSellers, paris, "2026-03-06 17:00", 0, "2026-03-06 17:00"},
		{"zero on a Saturday is from", parisSellers, paris, "2026-03-07 11:00", 0, "2026-03-07 11:00"},
		{"across the spring change keeps the wall clock", parisSellers, paris, "2026-03-27 17:00", 1, "2026-03-30 17:00"},
		{"across the autumn change keeps the wall clock", parisSellers, paris, "2026-10-23 17:00", 1, "2026-10-26 17:00"},
		{"a skipped wall time answers the change", parisSunday, paris, "2026-03-22 02:30", 1, "2026-03-29 03:00"},
		{"a repeated wall time answers its first occurrence", parisSunday, paris, "2026-10-18 02:30", 1, "2026-10-25 02:30 +0200"},
		{"New York across the spring change", Calendar{Name: "ny", TimeZone: ny, Week: hours([]Span{{9 * 60, 17 * 60}}, weekdays...)},
			ny, "2026-03-06 16:00", 1, "2026-03-09 16:00"},
		{"always open counts every day", allDay, "UTC", "2026-03-07 11:00", 2, "2026-03-09 11:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := in(t, tt.zone, tt.from)
			got, err := tt.cal.AddBusinessDays(from, tt.n)
			require.NoError(t, err)
			want := in(t, tt.zone, tt.want)
			assert.True(t, want.Equal(got), "want %v, got %v", want, got)
			assert.Equal(t, from.Location(), got.Location(), "the answer is in from's location")
		})
	}
}

func TestAddBusinessDaysSpansTheRealHoursOfAChangedDay(t *testing.T) {
	// Friday 17:00 CET to Monday 17:00 CEST is three days less the hour
	// the clocks skipped.
	from := in(t, "Europe/Paris", "2026-03-27 17:00")
	got, err := parisSellers.AddBusinessDays(from, 1)
	require.NoError(t, err)
	assert.Equal(t, 71*time.Hour, got.Sub(from))
}

func TestAddBusinessDaysKeepsSecondsAndLocation(t *testing.T) {
	from := in(t, "Europe/Paris", "2026-03-06 17:00").Add(42*time.Second + 7*time.Millisecond).UTC()
	got, err := parisSellers.AddBusinessDays(from, 3)
	require.NoError(t, err)
	assert.Equal(t, time.UTC, got.Location())
	assert.True(t, in(t, "Europe/Paris", "2026-03-11 17:00").Add(42*time.Second+7*time.Millisecond).Equal(got), "got %v", got)
}

func TestAddBusinessDaysFails(t *testing.T) {
	from := in(t, "UTC", "2026-03-02 10:00")
	_, err := parisSellers.AddBusinessDays(from, -1)
	assert.ErrorContains(t, err, "negative")

	_, err = Calendar{Name: "closed", TimeZone: "Europe/Paris"}.AddBusinessDays(from, 1)
	assert.ErrorContains(t, err, "no business day within two years")

	_, err = Calendar{TimeZone: "Mars/Olympus_Mons", Week: parisSellers.Week}.AddBusinessDays(from, 1)
	assert.ErrorContains(t, err, "Mars/Olympus_Mons")
}

package sla

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hours builds the same spans for the given weekdays.
func hours(spans []Span, days ...time.Weekday) [7][]Span {
	var w [7][]Span
	for _, d := range days {
		w[d] = spans
	}
	return w
}

var (
	weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

	// euBiz is a Paris office, 09:00-18:00 on weekdays, closed on two
	// Fridays: 2026-05-01 and 2026-12-25.
	euBiz = Calendar{Name: "eu", TimeZone: "Europe/Paris",
		Week: hours([]Span{{9 * 60, 18 * 60}}, weekdays...), Holidays: []string{"2026-05-01", "2026-12-25"}}
	// parisSunday is open all Sunday only, to see the 23h and 25h days.
	parisSunday = Calendar{Name: "paris-sunday", TimeZone: "Europe/Paris", Week: hours([]Span{{0, 1440}}, time.Sunday)}
	// parisNight is open 01:00-04:00 on Sundays, across the changed hour.
	parisNight = Calendar{Name: "paris-night", TimeZone: "Europe/Paris", Week: hours([]Span{{60, 240}}, time.Sunday)}
	// parisGap opens on Sundays at 02:30, a time skipped in spring.
	parisGap = Calendar{Name: "paris-gap", TimeZone: "Europe/Paris", Week: hours([]Span{{150, 240}}, time.Sunday)}
	// nySunday is open all Sunday in New York.
	nySunday = Calendar{Name: "ny-sunday", TimeZone: "America/New_York", Week: hours([]Span{{0, 1440}}, time.Sunday)}
	// lateNight is open Friday 18:00 to Saturday 02:00, across midnight.
	lateNight = Calendar{Name: "late", TimeZone: "Europe/Paris",
		Week: [7][]Span{time.Friday: {{18 * 60, 1440}}, time.Saturday: {{0, 120}}}}
	allDay = Calendar{Name: "24x7", TimeZone: "UTC", AlwaysOpen: true}
)

// in reads a wall time "2006-01-02 15:04" in zone; for times that exist twice
// write the offset: "2006-01-02 15:04 -0700".
func in(t testing.TB, zone, s string) time.Time {
	t.Helper()
	if len(s) > len("2006-01-02 15:04") {
		v, err := time.Parse("2006-01-02 15:04 -0700", s)
		require.NoError(t, err)
		return v
	}
	loc, err := time.LoadLocation(zone)
	require.NoError(t, err)
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	require.NoError(t, err)
	return v
}

func TestAdd(t *testing.T) {
	const paris, ny = "Europe/Paris", "America/New_York"
	tests := []struct {
		name string
		cal  Calendar
		zone string
		from string
		d    time.Duration
		want string
	}{
		{"inside hours", euBiz, paris, "2026-03-02 10:00", 2 * time.Hour, "2026-03-02 12:00"},
		{"up to closing ends at closing", euBiz, paris, "2026-03-02 09:00", 9 * time.Hour, "2026-03-02 18:00"},
		{"over the night", euBiz, paris, "2026-03-02 17:00", 2 * time.Hour, "2026-03-03 10:00"},
		{"over the weekend", euBiz, paris, "2026-03-06 17:00", 2 * time.Hour, "2026-03-09 10:00"},
		{"over a holiday and the weekend", euBiz, paris, "2026-04-30 17:00", 2 * time.Hour, "2026-05-04 10:00"},
		{"a business week", euBiz, paris, "2026-03-02 09:00", 40 * time.Hour, "2026-03-06 13:00"},
		{"before opening", euBiz, paris, "2026-03-02 07:00", time.Hour, "2026-03-02 10:00"},
		{"after closing", euBiz, paris, "2026-03-02 20:00", time.Hour, "2026-03-03 10:00"},
		{"on a holiday", euBiz, paris, "2026-05-01 11:00", 30 * time.Minute, "2026-05-04 09:30"},
		{"on a weekend", euBiz, paris, "2026-03-07 11:00", time.Hour, "2026-03-09 10:00"},
		{"zero outside hours is from", euBiz, paris, "2026-03-07 11:00", 0, "2026-03-07 11:00"},
		{"zero inside hours is from", euBiz, paris, "2026-03-02 11:00", 0, "2026-03-02 11:00"},
		{"across midnight through 24:00", lateNight, paris, "2026-03-06 23:00", 2 * time.Hour, "2026-03-07 01:00"},
		{"ends at 24:00", lateNight, paris, "2026-03-06 18:00", 6 * time.Hour, "2026-03-07 00:00"},
		{"24x7", allDay, "UTC", "2026-03-07 11:00", 5 * time.Hour, "2026-03-07 16:00"},
		{"Paris spring Sunday has 23 hours", parisSunday, paris, "2026-03-28 12:00", 23 * time.Hour, "2026-03-30 00:00"},
		{"Paris spring Sunday, one hour more", parisSunday, paris, "2026-03-28 12:00", 24 * time.Hour, "2026-04-05 01:00"},
		{"Paris autumn Sunday has 25 hours", parisSunday, paris, "2026-10-25 00:00", 25 * time.Hour, "2026-10-26 00:00"},
		{"Paris autumn Sunday, repeated hour counts twice", parisSunday, paris, "2026-10-25 00:00", 210 * time.Minute, "2026-10-25 02:30 +0100"},
		{"Paris spring night 01:00-04:00 is 2h", parisNight, paris, "2026-03-29 00:00", 2 * time.Hour, "2026-03-29 04:00"},
		{"Paris spring night, past it", parisNight, paris, "2026-03-29 00:00", 150 * time.Minute, "2026-04-05 01:30"},
		{"Paris autumn night 01:00-04:00 is 4h", parisNight, paris, "2026-10-25 00:00", 4 * time.Hour, "2026-10-25 04:00"},
		{"Paris autumn night, first 02:30", parisNight, paris, "2026-10-25 00:00", 90 * time.Minute, "2026-10-25 02:30 +0200"},
		{"span starting in the skipped hour opens at the change", parisGap, paris, "2026-03-29 00:00", 30 * time.Minute, "2026-03-29 03:30"},
		{"New York spring Sunday has 23 hours", nySunday, ny, "2026-03-08 00:00", 23 * time.Hour, "2026-03-09 00:00"},
		{"New York autumn Sunday has 25 hours", nySunday, ny, "2026-11-01 00:00", 25 * time.Hour, "2026-11-02 00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := in(t, tt.zone, tt.from)
			got, err := tt.cal.Add(from, tt.d)
			require.NoError(t, err)
			want := in(t, tt.zone, tt.want)
			assert.True(t, want.Equal(got), "want %v, got %v", want, got)
			assert.Equal(t, tt.d, tt.cal.Between(from, got), "Between(from, Add(from, d))")
		})
	}
}

func TestAddFailsWithoutOpenMinutes(t *testing.T) {
	from := in(t, "UTC", "2026-03-02 10:00")
	closed := Calendar{Name: "closed", TimeZone: "Europe/Paris"}
	_, err := closed.Add(from, time.Hour)
	assert.ErrorContains(t, err, "no open minute within two years")

	_, err = euBiz.Add(from, -time.Hour)
	assert.ErrorContains(t, err, "negative")

	_, err = Calendar{TimeZone: "Mars/Olympus_Mons", Week: euBiz.Week}.Add(from, time.Hour)
	assert.ErrorContains(t, err, "Mars/Olympus_Mons")
}

func TestAddLongDurationsDoNotTripTheBound(t *testing.T) {
	from := in(t, "Europe/Paris", "2026-01-05 09:00")
	got, err := euBiz.Add(from, 3*52*45*time.Hour) // about three working years
	require.NoError(t, err)
	assert.Equal(t, 2029, got.Year())
}

func TestBetween(t *testing.T) {
	const paris = "Europe/Paris"
	tests := []struct {
		name     string
		cal      Calendar
		zone     string
		from, to string
		want     time.Duration
	}{
		{"a working day", euBiz, paris, "2026-03-02 08:00", "2026-03-02 20:00", 9 * time.Hour},
		{"over the weekend", euBiz, paris, "2026-03-06 17:00", "2026-03-09 10:00", 2 * time.Hour},
		{"a week", euBiz, paris, "2026-03-02 00:00", "2026-03-09 00:00", 45 * time.Hour},
		{"a week with a holiday", euBiz, paris, "2026-04-27 00:00", "2026-05-04 00:00", 36 * time.Hour},
		{"empty when reversed", euBiz, paris, "2026-03-03 00:00", "2026-03-02 00:00", 0},
		{"empty when equal", euBiz, paris, "2026-03-02 10:00", "2026-03-02 10:00", 0},
		{"across midnight", lateNight, paris, "2026-03-06 00:00", "2026-03-08 00:00", 8 * time.Hour},
		{"24x7", allDay, "UTC", "2026-03-06 00:00", "2026-03-08 00:00", 48 * time.Hour},
		{"Paris spring Sunday", parisSunday, paris, "2026-03-28 00:00", "2026-03-30 00:00", 23 * time.Hour},
		{"Paris autumn Sunday", parisSunday, paris, "2026-10-24 00:00", "2026-10-26 00:00", 25 * time.Hour},
		{"Paris spring night", parisNight, paris, "2026-03-29 00:00", "2026-03-30 00:00", 2 * time.Hour},
		{"Paris autumn night", parisNight, paris, "2026-10-25 00:00", "2026-10-26 00:00", 4 * time.Hour},
		{"span starting in the skipped hour", parisGap, paris, "2026-03-29 00:00", "2026-03-30 00:00", time.Hour},
		{"span starting in the repeated hour", parisGap, paris, "2026-10-25 00:00", "2026-10-26 00:00", 150 * time.Minute},
		{"New York spring Sunday", nySunday, "America/New_York", "2026-03-08 00:00", "2026-03-09 00:00", 23 * time.Hour},
		{"New York autumn Sunday", nySunday, "America/New_York", "2026-11-01 00:00", "2026-11-02 00:00", 25 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.cal.Between(in(t, tt.zone, tt.from), in(t, tt.zone, tt.to)))
		})
	}
}

func TestIsOpen(t *testing.T) {
	const paris = "Europe/Paris"
	assert.True(t, euBiz.IsOpen(in(t, paris, "2026-03-02 09:00")), "opening minute")
	assert.True(t, euBiz.IsOpen(in(t, paris, "2026-03-02 17:59")))
	assert.False(t, euBiz.IsOpen(in(t, paris, "2026-03-02 18:00")), "closing minute")
	assert.False(t, euBiz.IsOpen(in(t, paris, "2026-05-01 10:00")), "holiday")
	assert.False(t, euBiz.IsOpen(in(t, paris, "2026-03-07 10:00")), "Saturday")
	assert.True(t, allDay.IsOpen(in(t, "UTC", "2026-03-07 03:00")))
}

func TestValidate(t *testing.T) {
	assert.NoError(t, euBiz.Validate())
	assert.NoError(t, allDay.Validate())
	tests := []struct {
		name string
		cal  Calendar
		want string
	}{
		{"unknown zone", Calendar{TimeZone: "Europe/Pariss", Week: euBiz.Week}, `time zone "Europe/Pariss"`},
		{"machine zone", Calendar{TimeZone: "Local", Week: euBiz.Week}, `time zone "Local"`},
		{"no zone", Calendar{Week: euBiz.Week}, `time zone ""`},
		{"no hours", Calendar{TimeZone: "UTC"}, "no opening hours"},
		{"past midnight", Calendar{TimeZone: "UTC", Week: [7][]Span{1: {{600, 1500}}}}, "Monday span 0 (10:00-25:00)"},
		{"empty span", Calendar{TimeZone: "UTC", Week: [7][]Span{1: {{600, 600}}}}, "Monday span 0"},
		{"overlap", Calendar{TimeZone: "UTC", Week: [7][]Span{2: {{540, 720}, {700, 800}}}}, "Tuesday span 1 (11:40-13:20): overlaps"},
		{"unsorted holidays", Calendar{TimeZone: "UTC", Week: euBiz.Week, Holidays: []string{"2026-05-08", "2026-05-01"}}, "sorted"},
		{"bad holiday", Calendar{TimeZone: "UTC", Week: euBiz.Week, Holidays: []string{"2026-13-01"}}, `holiday "2026-13-01"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorContains(t, tt.cal.Validate(), tt.want)
		})
	}
}

func TestCalendarSurvivesJSON(t *testing.T) {
	data, err := json.Marshal(euBiz)
	require.NoError(t, err)
	var back Calendar
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, euBiz, back)
}

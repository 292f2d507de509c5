package sla

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var shippedFiles = []string{"../../deploy/sla/default.yaml", "../../deploy/sla/demo.yaml"}

// mid2026 is the "now" policies are resolved at in these tests.
var mid2026 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func TestShippedFilesResolveEveryCase(t *testing.T) {
	for _, path := range shippedFiles {
		t.Run(path, func(t *testing.T) {
			b, err := Load(path)
			require.NoError(t, err)
			assert.Equal(t, CategoryNames, b.Categories())
			assert.Equal(t, 0.8, b.WarningThreshold())
			lc := b.Lifecycle()
			assert.Positive(t, lc.AutoCloseAfterWaiting)
			assert.Positive(t, lc.ReopenWindow)
			assert.Positive(t, lc.CSATWindow)
			for _, category := range CategoryNames {
				d, err := b.Category(category)
				require.NoError(t, err)
				assert.Contains(t, Priorities, d.Priority)
				assert.Contains(t, TeamNames, d.Team)
				for _, priority := range Priorities {
					p, err := b.Policy(category, priority, mid2026)
					require.NoError(t, err, "%s/%s", category, priority)
					assert.NoError(t, p.Calendar.Validate(), "%s/%s", category, priority)
					assert.Positive(t, p.Targets.FirstResponse)
					assert.LessOrEqual(t, p.Targets.FirstResponse, p.Targets.Resolution)
					// A deadline can be computed from any moment.
					_, err = p.Calendar.Add(mid2026, p.Targets.Resolution)
					assert.NoError(t, err)
				}
			}
		})
	}
}

func TestDefaultPolicies(t *testing.T) {
	b, err := Load("../../deploy/sla/default.yaml")
	require.NoError(t, err)

	p1, err := b.Policy("order_issue", "p1", mid2026)
	require.NoError(t, err)
	assert.Equal(t, Targets{FirstResponse: time.Hour, NextResponse: 2 * time.Hour, Resolution: 8 * time.Hour}, p1.Targets)
	assert.True(t, p1.Calendar.AlwaysOpen)
	assert.Equal(t, 0.8, p1.WarningThreshold)

	p3, err := b.Policy("login_failure", "p3", mid2026)
	require.NoError(t, err)
	assert.Equal(t, Targets{FirstResponse: 8 * time.Hour, NextResponse: 16 * time.Hour, Resolution: 40 * time.Hour}, p3.Targets)
	assert.Equal(t, "eu-business", p3.Calendar.Name)
	assert.Equal(t, "Europe/Paris", p3.Calendar.TimeZone)
	assert.Contains(t, p3.Calendar.Holidays, "2026-07-14", "Bastille Day, from the country")
	assert.Contains(t, p3.Calendar.Holidays, "2026-12-24", "an explicit date")

	sec, err := b.Policy("security_alert", "p4", mid2026)
	require.NoError(t, err)
	assert.True(t, sec.Calendar.AlwaysOpen, "security never waits for office hours")
	assert.Less(t, sec.Targets.FirstResponse, p3.Targets.FirstResponse)

	d, err := b.Category("fraud_report")
	require.NoError(t, err)
	assert.Equal(t, CategoryDefaults{Priority: "p2", Team: "trust_safety"}, d)

	_, err = b.Policy("order_issue", "p9", mid2026)
	assert.ErrorContains(t, err, `unknown priority "p9"`)
	_, err = b.Policy("pizza", "p1", mid2026)
	assert.ErrorContains(t, err, `unknown category "pizza"`)
	_, err = b.Category("pizza")
	assert.ErrorContains(t, err, `unknown category "pizza"`)
}

// validFile is a small valid policy file; the error tests break it one way each.
func validFile() string {
	var sb strings.Builder
	sb.WriteString(`warning_threshold: 0.8
lifecycle:
  auto_close_after_waiting: 168h
  reopen_window: 72h
  csat_window: 168h
calendars:
  24x7: {time_zone: UTC, always_open: true}
  biz:
    time_zone: Europe/Paris
    hours:
      mon: ["09:00-12:00", "13:00-18:00"]
    holidays: {country: fr, dates: ["2026-12-24"]}
policies:
  - {priority: p1, calendar: 24x7, first_response: 1h, next_response: 2h, resolution: 8h}
  - {priority: p2, calendar: 24x7, first_response: 4h, next_response: 8h, resolution: 24h}
  - {priority: p3, calendar: biz, first_response: 8h, next_response: 16h, resolution: 40h}
  - {priority: p4, calendar: biz, first_response: 24h, next_response: 24h, resolution: 80h}
  - {category: security_alert, calendar: 24x7, first_response: 15m, next_response: 1h, resolution: 4h}
  - {category: security_alert, priority: p1, calendar: 24x7, first_response: 5m, next_response: 30m, resolution: 2h}
categories:
`)
	for _, c := range CategoryNames {
		fmt.Fprintf(&sb, "  %s: {priority: p3, team: tier1_support}\n", c)
	}
	return sb.String()
}

func TestParseValidFile(t *testing.T) {
	b, err := Parse([]byte(validFile()), "test.yaml")
	require.NoError(t, err)

	// The most specific entry wins: category and priority, then category,
	// then priority.
	for _, tt := range []struct {
		category, priority string
		first              time.Duration
	}{
		{"security_alert", "p1", 5 * time.Minute},
		{"security_alert", "p3", 15 * time.Minute},
		{"order_issue", "p3", 8 * time.Hour},
		{"order_issue", "p1", time.Hour},
	} {
		p, err := b.Policy(tt.category, tt.priority, mid2026)
		require.NoError(t, err)
		assert.Equal(t, tt.first, p.Targets.FirstResponse, "%s/%s", tt.category, tt.priority)
		assert.Equal(t, tt.category, p.Category)
		assert.Equal(t, tt.priority, p.Priority)
	}

	p, err := b.Policy("order_issue", "p3", mid2026)
	require.NoError(t, err)
	assert.Equal(t, [7][]Span{time.Monday: {{540, 720}, {780, 1080}}}, p.Calendar.Week)
	assert.True(t, slices.IsSorted(p.Calendar.Holidays))
	assert.Equal(t, "2025-01-01", p.Calendar.Holidays[0], "holidays start the year before now")
	assert.Contains(t, p.Calendar.Holidays, "2029-12-25", "and end three years after")
	assert.NotContains(t, p.Calendar.Holidays, "2030-01-01")
	assert.Contains(t, p.Calendar.Holidays, "2026-12-24")
}

func TestObservedHolidaysCount(t *testing.T) {
	// Independence Day 2026 is a Saturday: the US observes it on Friday.
	file := strings.Replace(validFile(), "holidays: {country: fr, dates: [\"2026-12-24\"]}", "holidays: {country: us}", 1)
	b, err := Parse([]byte(file), "test.yaml")
	require.NoError(t, err)
	p, err := b.Policy("order_issue", "p3", mid2026)
	require.NoError(t, err)
	assert.Contains(t, p.Calendar.Holidays, "2026-07-03")
}

func TestParseErrorsNameTheProblem(t *testing.T) {
	tests := []struct {
		name        string
		old, new    string
		want        []string
		wantNothing bool
	}{
		{name: "unknown key", old: "  reopen_window: 72h\n", new: "  reopen_window: 72h\n  reopen_windw: 72h\n",
			want: []string{`test.yaml:5: unknown key "reopen_windw"`}},
		{name: "bad duration", old: "resolution: 8h}", new: "resolution: 8 hours}",
			want: []string{"test.yaml:14: policies[0].resolution:", `"8 hours" is not a duration`}},
		{name: "missing duration", old: "  csat_window: 168h\n", new: "",
			want: []string{"lifecycle.csat_window: missing"}},
		{name: "missing category", old: "  dispute: {priority: p3, team: tier1_support}\n", new: "",
			want: []string{"categories: missing dispute"}},
		{name: "unknown category", old: "  dispute: {", new: "  disputes: {priority: p3, team: tier1_support}\n  dispute: {",
			want: []string{"categories.disputes: unknown category"}},
		{name: "unknown team", old: "  dispute: {priority: p3, team: tier1_support}", new: "  dispute: {priority: p3, team: legal}",
			want: []string{"categories.dispute.team:", `"legal" is not a team`}},
		{name: "bad priority", old: "  dispute: {priority: p3,", new: "  dispute: {priority: high,",
			want: []string{"categories.dispute.priority:", `"high" is not a priority`}},
		{name: "uncovered priority", old: "  - {priority: p4, calendar: biz, first_response: 24h, next_response: 24h, resolution: 80h}\n", new: "",
			want: []string{"test.yaml:13: policies: no policy covers priority p4"}},
		{name: "partly uncovered priority", old: "  - {priority: p4,", new: "  - {category: dispute, priority: p4,",
			want: []string{"no policy covers priority p4 for account_delivery_issue, account_merge,"}},
		{name: "bad calendar reference", old: "- {priority: p3, calendar: biz,", new: "- {priority: p3, calendar: bizz,",
			want: []string{"test.yaml:16: policies[2].calendar:", `unknown calendar "bizz" (want one of 24x7, biz)`}},
		{name: "bad time zone", old: "time_zone: Europe/Paris", new: "time_zone: Europe/Pariss",
			want: []string{"test.yaml:9: calendars.biz.time_zone:", `"Europe/Pariss"`}},
		{name: "bad hours", old: `"13:00-18:00"`, new: `"13:00-18:60"`,
			want: []string{"calendars.biz.hours.mon[1]:", `"13:00-18:60" is not a span HH:MM-HH:MM`}},
		{name: "hours across midnight", old: `"13:00-18:00"`, new: `"22:00-02:00"`,
			want: []string{"calendars.biz.hours.mon[1]:", "split it at 24:00"}},
		{name: "overlapping hours", old: `"13:00-18:00"`, new: `"11:00-18:00"`,
			want: []string{"calendars.biz: Monday span 1 (11:00-18:00): overlaps"}},
		{name: "unknown country", old: "country: fr", new: "country: xx",
			want: []string{"calendars.biz.holidays.country:", `no holidays known for "xx"`}},
		{name: "bad holiday", old: `"2026-12-24"`, new: `"24/12/2026"`,
			want: []string{"calendars.biz.holidays.dates[0]:", `"24/12/2026" is not a date`}},
		{name: "always open with hours", old: "{time_zone: UTC, always_open: true}", new: "{time_zone: UTC, always_open: true, hours: {mon: [\"09:00-10:00\"]}}",
			want: []string{"calendars.24x7: always_open counts every minute"}},
		{name: "threshold out of range", old: "warning_threshold: 0.8", new: "warning_threshold: 1.5",
			want: []string{"test.yaml:1: warning_threshold: 1.5 is not a fraction"}},
		{name: "first response after resolution", old: "first_response: 1h, next_response: 2h, resolution: 8h", new: "first_response: 9h, next_response: 2h, resolution: 8h",
			want: []string{"policies[0].first_response: 9h0m0s is longer than resolution 8h0m0s"}},
		{name: "zero target", old: "next_response: 2h,", new: "next_response: 0s,",
			want: []string{"policies[0].next_response: 0s must be positive"}},
		{name: "duplicate policy", old: "  - {priority: p4,", new: "  - {priority: p3, calendar: biz, first_response: 1h, next_response: 1h, resolution: 1h}\n  - {priority: p4,",
			want: []string{"policies[3]: same category and priority as policies[2]"}},
		{name: "yaml syntax", old: "calendars:\n", new: "calendars: [\n",
			want: []string{"test.yaml:5: did not find expected"}},
		{name: "wrong kind of value", old: "warning_threshold: 0.8", new: "warning_threshold: high",
			want: []string{`test.yaml:1: "high" is not a number`}},
		{name: "scalar for a list", old: `mon: ["09:00-12:00", "13:00-18:00"]`, new: `mon: "09:00-12:00"`,
			want: []string{`test.yaml:11: "09:00-1`, `is not a list`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := validFile()
			require.Contains(t, file, tt.old, "the test's edit must apply")
			_, err := Parse([]byte(strings.Replace(file, tt.old, tt.new, 1)), "test.yaml")
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	file := strings.NewReplacer("resolution: 8h}", "resolution: 8x}", "team: tier1_support}\n", "team: nobody}\n").Replace(validFile())
	_, err := Parse([]byte(file), "test.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"8x" is not a duration`)
	assert.Equal(t, len(CategoryNames)+1, strings.Count(err.Error(), "\n")+1, "one line a problem")
}

func TestParseEmptyFile(t *testing.T) {
	_, err := Parse(nil, "empty.yaml")
	assert.ErrorContains(t, err, "empty.yaml: empty policy file")
	_, err = Load("no/such/file.yaml")
	assert.ErrorContains(t, err, "no/such/file.yaml")
}

func TestDeliveriesTakeTheFileOverTheDefaults(t *testing.T) {
	data, err := os.ReadFile("../../deploy/sla/default.yaml")
	require.NoError(t, err)
	shipped := string(data)
	require.Contains(t, shipped, "confirmation_window: 72h")
	edited := strings.NewReplacer("confirmation_window: 72h", "confirmation_window: 24h",
		"# product_warranties: {some-game: 120h}", "product_warranties: {valorant: 120h}").Replace(shipped)
	b, err := Parse([]byte(edited), "test.yaml")
	require.NoError(t, err)
	d := b.Deliveries()
	assert.Equal(t, 24*time.Hour, d.ConfirmationWindow)
	assert.Equal(t, 14*24*time.Hour, d.Warranty)
	assert.Equal(t, 120*time.Hour, d.WarrantyFor("valorant"))
	assert.Equal(t, d.Warranty, d.WarrantyFor("steam"), "a product without its own takes the warranty")

	_, err = Parse([]byte(strings.Replace(shipped, "warranty: 336h", "warranty: soon", 1)), "test.yaml")
	require.ErrorContains(t, err, "deliveries.warranty")

	// Left out entirely, the section is the defaults.
	i := strings.Index(shipped, "\ndeliveries:")
	j := strings.Index(shipped, "\ncalendars:")
	b, err = Parse([]byte(shipped[:i]+shipped[j:]), "test.yaml")
	require.NoError(t, err)
	assert.Equal(t, DefaultDeliveryPolicy, b.Deliveries())
}

func TestReturnsAndDisputesTakeTheFileOverTheDefaults(t *testing.T) {
	data, err := os.ReadFile("../../deploy/sla/default.yaml")
	require.NoError(t, err)
	shipped := string(data)
	b, err := Parse(data, "default.yaml")
	require.NoError(t, err)
	assert.Equal(t, int64(50000), b.Returns().ApprovalAboveMinor)
	assert.Equal(t, 48*time.Hour, b.Returns().InspectWithin)
	assert.Equal(t, 3, b.Disputes().RespondBusinessDays)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	fr, err := b.SellerCalendar("fr", now)
	require.NoError(t, err)
	assert.Equal(t, "Europe/Paris", fr.TimeZone)
	assert.NotEmpty(t, fr.Holidays, "the region's country holidays are expanded")
	us, err := b.SellerCalendar("us", now)
	require.NoError(t, err)
	assert.Equal(t, "America/New_York", us.TimeZone)
	other, err := b.SellerCalendar("jp", now)
	require.NoError(t, err)
	assert.Equal(t, "Europe/Paris", other.TimeZone, "a region not listed takes the default calendar")

	for bad, where := range map[string]string{
		"on_no_inspection: refund_full":       "returns.on_no_inspection",
		"respond_business_days: 3":            "disputes.respond_business_days",
		"default_calendar: eu-business":       "disputes.default_calendar",
		"reminder_before: 72h":                "returns.reminder_before",
		"seller_calendars: {fr: eu-business,": "disputes.seller_calendars.fr",
	} {
		broken := map[string]string{
			"on_no_inspection: refund_full":       "on_no_inspection: refund_half",
			"respond_business_days: 3":            "respond_business_days: 0",
			"default_calendar: eu-business":       "default_calendar: mars",
			"reminder_before: 72h":                "reminder_before: 400h",
			"seller_calendars: {fr: eu-business,": "seller_calendars: {fr: mars,",
		}[bad]
		require.Contains(t, shipped, bad)
		_, err := Parse([]byte(strings.Replace(shipped, bad, broken, 1)), "test.yaml")
		assert.ErrorContains(t, err, where, bad)
	}

	i := strings.Index(shipped, "\nreturns:")
	j := strings.Index(shipped, "\ncalendars:")
	b, err = Parse([]byte(shipped[:i]+shipped[j:]), "test.yaml")
	require.NoError(t, err)
	assert.Equal(t, DefaultReturnTerms, b.Returns())
	assert.Equal(t, DefaultDisputeTerms, b.Disputes())
}

package sla

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/es"
	"github.com/rickar/cal/v2/fr"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/ie"
	"github.com/rickar/cal/v2/it"
	"github.com/rickar/cal/v2/nl"
	"github.com/rickar/cal/v2/us"
)

// Book is a validated policy file. It is read-only after Parse and safe for
// concurrent use.
type Book struct {
	threshold  float64
	lifecycle  Lifecycle
	accounts   AccountPolicy
	deliveries DeliveryPolicy
	returns    ReturnTerms
	disputes   DisputeTerms
	sellers    SellerTerms
	fraud      FraudTerms
	calendars  map[string]bookCalendar
	categories map[string]CategoryDefaults
	rules      []rule
}

// bookCalendar is a calendar whose country holidays are expanded only when a
// policy is resolved, for the years around that moment.
type bookCalendar struct {
	calendar Calendar // explicit holiday dates only
	country  string
}

// rule is one policies entry; an empty category or priority matches any.
type rule struct {
	category, priority, calendar string
	targets                      Targets
}

// Policy resolves the policy of a case: the most specific entry for category
// and priority, with its calendar's country holidays expanded for the years
// from now's year-1 to year+3 (now is a parameter, not the clock, so the
// answer is reproducible).
func (b *Book) Policy(category, priority string, now time.Time) (Policy, error) {
	if _, ok := b.categories[category]; !ok {
		return Policy{}, fmt.Errorf("sla: unknown category %q", category)
	}
	if !slices.Contains(Priorities, priority) {
		return Policy{}, fmt.Errorf("sla: unknown priority %q (want one of %s)", priority, strings.Join(Priorities, ", "))
	}
	r, ok := b.match(category, priority)
	if !ok { // Parse checked coverage, so only a zero Book gets here
		return Policy{}, fmt.Errorf("sla: no policy for %s/%s", category, priority)
	}
	bc := b.calendars[r.calendar]
	c := bc.calendar
	if bc.country != "" {
		c.Holidays = withCountryHolidays(c.Holidays, bc.country, now.UTC().Year()-1, now.UTC().Year()+3)
	}
	return Policy{Category: category, Priority: priority, Calendar: c, Targets: r.targets, WarningThreshold: b.threshold}, nil
}

// Category answers the defaults of a category.
func (b *Book) Category(name string) (CategoryDefaults, error) {
	d, ok := b.categories[name]
	if !ok {
		return CategoryDefaults{}, fmt.Errorf("sla: unknown category %q", name)
	}
	return d, nil
}

// Accounts answers the windows of the account workflows.
func (b *Book) Accounts() AccountPolicy { return b.accounts }

// Deliveries answers the windows of account deliveries.
func (b *Book) Deliveries() DeliveryPolicy { return b.deliveries }

// Lifecycle answers the wall-clock windows of a case.
func (b *Book) Lifecycle() Lifecycle { return b.lifecycle }

// WarningThreshold answers the fraction of a target at which people are warned.
func (b *Book) WarningThreshold() float64 { return b.threshold }

// Categories answers the configured categories, sorted.
func (b *Book) Categories() []string {
	names := make([]string, 0, len(b.categories))
	for n := range b.categories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// match finds the most specific rule for a case.
func (b *Book) match(category, priority string) (rule, bool) {
	best, bestScore := rule{}, -1
	for _, r := range b.rules {
		if (r.category != "" && r.category != category) || (r.priority != "" && r.priority != priority) {
			continue
		}
		// Category outranks priority: a category's own targets are the
		// reason it has an entry at all.
		score := 0
		if r.category != "" {
			score += 2
		}
		if r.priority != "" {
			score++
		}
		if score > bestScore {
			best, bestScore = r, score
		}
	}
	return best, bestScore >= 0
}

// holidayCountries maps a policy file's country code to its national holidays.
var holidayCountries = map[string][]*cal.Holiday{
	"de": de.Holidays, "es": es.Holidays, "fr": fr.Holidays, "gb": gb.Holidays,
	"ie": ie.Holidays, "it": it.Holidays, "nl": nl.Holidays, "us": us.Holidays,
}

// withCountryHolidays adds a country's observed holidays in [from, to] to
// sorted dates and answers them sorted and unique.
func withCountryHolidays(dates []string, country string, from, to int) []string {
	out := slices.Clone(dates)
	for year := from; year <= to; year++ {
		for _, h := range holidayCountries[country] {
			// Observed: when a holiday falls on a weekend some countries
			// close the next weekday instead, and that day is what counts.
			if _, observed := h.Calc(year); !observed.IsZero() {
				out = append(out, observed.Format(dateLayout))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

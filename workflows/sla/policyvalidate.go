package sla

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// validator turns a file into a Book, collecting every problem with its line.
type validator struct {
	name string
	root *yaml.Node
	errs []error
}

// failf records a problem at a key path.
func (v *validator) failf(at keys, format string, args ...any) {
	where := v.name
	if line := lineOf(v.root, at); line > 0 {
		where += ":" + strconv.Itoa(line)
	}
	v.errs = append(v.errs, fmt.Errorf("%s: %s: %s", where, at, fmt.Sprintf(format, args...)))
}

func (v *validator) book(f *file) *Book {
	b := &Book{
		calendars:  map[string]bookCalendar{},
		categories: map[string]CategoryDefaults{},
	}
	switch t := f.WarningThreshold; {
	case t == nil:
		v.failf(key("warning_threshold"), "missing")
	case *t <= 0 || *t >= 1:
		v.failf(key("warning_threshold"), "%v is not a fraction strictly between 0 and 1", *t)
	default:
		b.threshold = *t
	}
	if f.Lifecycle == nil {
		v.failf(key("lifecycle"), "missing")
	} else {
		b.lifecycle = Lifecycle{
			AutoCloseAfterWaiting: v.duration(key("lifecycle", "auto_close_after_waiting"), f.Lifecycle.AutoCloseAfterWaiting),
			ReopenWindow:          v.duration(key("lifecycle", "reopen_window"), f.Lifecycle.ReopenWindow),
			CSATWindow:            v.duration(key("lifecycle", "csat_window"), f.Lifecycle.CSATWindow),
		}
	}
	b.accounts = DefaultAccountPolicy
	if a := f.Accounts; a != nil {
		if a.SecurityReview != "" {
			b.accounts.SecurityReview = v.duration(key("accounts", "security_review"), a.SecurityReview)
		}
		if a.CodeValidFor != "" {
			b.accounts.CodeValidFor = v.duration(key("accounts", "code_valid_for"), a.CodeValidFor)
		}
		if a.CodeAttempts != nil {
			if *a.CodeAttempts < 1 || *a.CodeAttempts > 20 {
				v.failf(key("accounts", "code_attempts"), "%d is not between 1 and 20", *a.CodeAttempts)
			}
			b.accounts.CodeAttempts = *a.CodeAttempts
		}
		if a.ContactCoolDown != "" {
			b.accounts.ContactCoolDown = v.duration(key("accounts", "contact_cool_down"), a.ContactCoolDown)
		}
		if a.SignalThreshold != nil {
			if *a.SignalThreshold < 1 {
				v.failf(key("accounts", "signal_threshold"), "%d must be at least 1", *a.SignalThreshold)
			}
			b.accounts.SignalThreshold = *a.SignalThreshold
		}
		if a.SignalWindow != "" {
			b.accounts.SignalWindow = v.duration(key("accounts", "signal_window"), a.SignalWindow)
		}
	}
	b.deliveries = v.deliveries(f.Deliveries)
	b.returns = v.returnTerms(f.Returns)
	b.disputes = v.disputeTerms(f.Disputes, f.Calendars)
	b.sellers = v.sellerTerms(f.Sellers)
	b.fraud = v.fraudTerms(f.Fraud)
	for _, name := range sortedKeys(f.Calendars) {
		b.calendars[name] = v.calendar(name, f.Calendars[name])
	}
	for _, name := range sortedKeys(f.Categories) {
		here, c := key("categories", name), f.Categories[name]
		if !slices.Contains(CategoryNames, name) {
			v.failf(here, "unknown category (want one of %s)", strings.Join(CategoryNames, ", "))
		}
		if !slices.Contains(Priorities, c.Priority) {
			v.failf(here.and("priority"), "%q is not a priority (want one of %s)", c.Priority, strings.Join(Priorities, ", "))
		}
		if !slices.Contains(TeamNames, c.Team) {
			v.failf(here.and("team"), "%q is not a team (want one of %s)", c.Team, strings.Join(TeamNames, ", "))
		}
		b.categories[name] = CategoryDefaults(c)
	}
	var missing []string
	for _, name := range CategoryNames {
		if _, ok := f.Categories[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		v.failf(key("categories"), "missing %s", strings.Join(missing, ", "))
	}
	for i, p := range f.Policies {
		// Kept even when invalid: the book is then discarded anyway, and
		// coverage should report only real gaps.
		b.rules = append(b.rules, v.rule(i, p, f))
	}
	v.coverage(b)
	return b
}

func (v *validator) calendar(name string, fc fileCalendar) bookCalendar {
	here := key("calendars", name)
	c := Calendar{Name: name, TimeZone: fc.TimeZone, AlwaysOpen: fc.AlwaysOpen}
	days := [7][]string{fc.Hours.Sun, fc.Hours.Mon, fc.Hours.Tue, fc.Hours.Wed, fc.Hours.Thu, fc.Hours.Fri, fc.Hours.Sat}
	hasHours := false
	for day, spans := range days {
		dayKey := strings.ToLower(time.Weekday(day).String()[:3])
		for i, text := range spans {
			hasHours = true
			s, err := parseSpan(text)
			if err != nil {
				v.failf(here.and("hours", dayKey, i), "%v", err)
				continue
			}
			c.Week[day] = append(c.Week[day], s)
		}
	}
	if fc.AlwaysOpen && (hasHours || fc.Holidays.Country != "" || len(fc.Holidays.Dates) > 0) {
		// Both would be ignored; saying so beats a calendar that surprises.
		v.failf(here, "always_open counts every minute: drop hours and holidays")
	}
	if fc.Holidays.Country != "" {
		if _, ok := holidayCountries[fc.Holidays.Country]; !ok {
			v.failf(here.and("holidays", "country"), "no holidays known for %q (want one of %s)", fc.Holidays.Country, strings.Join(sortedKeys(holidayCountries), ", "))
		}
	}
	for i, d := range fc.Holidays.Dates {
		if _, err := time.Parse(dateLayout, d); err != nil {
			v.failf(here.and("holidays", "dates", i), "%q is not a date YYYY-MM-DD", d)
			continue
		}
		c.Holidays = append(c.Holidays, d)
	}
	slices.Sort(c.Holidays)
	c.Holidays = slices.Compact(c.Holidays)
	for _, err := range c.zoneErrors() {
		v.failf(here.and("time_zone"), "%v", err)
	}
	for _, err := range c.hoursErrors() {
		v.failf(here, "%v", err)
	}
	return bookCalendar{calendar: c, country: fc.Holidays.Country}
}

func (v *validator) rule(i int, p filePolicy, f *file) rule {
	here := key("policies", i)
	if p.Category != "" && !slices.Contains(CategoryNames, p.Category) {
		v.failf(here.and("category"), "unknown category %q", p.Category)
	}
	if p.Priority != "" && !slices.Contains(Priorities, p.Priority) {
		v.failf(here.and("priority"), "%q is not a priority (want one of %s)", p.Priority, strings.Join(Priorities, ", "))
	}
	if _, ok := f.Calendars[p.Calendar]; !ok {
		v.failf(here.and("calendar"), "unknown calendar %q (want one of %s)", p.Calendar, strings.Join(sortedKeys(f.Calendars), ", "))
	}
	r := rule{category: p.Category, priority: p.Priority, calendar: p.Calendar, targets: Targets{
		FirstResponse: v.duration(here.and("first_response"), p.FirstResponse),
		NextResponse:  v.duration(here.and("next_response"), p.NextResponse),
		Resolution:    v.duration(here.and("resolution"), p.Resolution),
	}}
	if r.targets.FirstResponse > r.targets.Resolution && r.targets.Resolution > 0 {
		v.failf(here.and("first_response"), "%v is longer than resolution %v", r.targets.FirstResponse, r.targets.Resolution)
	}
	for j, q := range f.Policies[:i] {
		if q.Category == p.Category && q.Priority == p.Priority {
			v.failf(here, "same category and priority as policies[%d]", j)
		}
	}
	return r
}

// coverage checks that every category and priority resolves to a policy.
func (v *validator) coverage(b *Book) {
	for _, p := range Priorities {
		var uncovered []string
		for _, c := range CategoryNames {
			if _, ok := b.match(c, p); !ok {
				uncovered = append(uncovered, c)
			}
		}
		switch {
		case len(uncovered) == len(CategoryNames):
			v.failf(key("policies"), "no policy covers priority %s", p)
		case len(uncovered) > 0:
			v.failf(key("policies"), "no policy covers priority %s for %s", p, strings.Join(uncovered, ", "))
		}
	}
}

// duration parses a required positive duration.
func (v *validator) duration(at keys, text string) time.Duration {
	if text == "" {
		v.failf(at, "missing")
		return 0
	}
	d, err := time.ParseDuration(text)
	switch {
	case err != nil:
		v.failf(at, "%q is not a duration (write e.g. 30m, 8h, 168h)", text)
	case d <= 0:
		v.failf(at, "%v must be positive", d)
	}
	return d
}

// parseSpan reads "HH:MM-HH:MM".
func parseSpan(text string) (Span, error) {
	from, to, ok := strings.Cut(text, "-")
	start, err1 := parseMinute(from)
	end, err2 := parseMinute(to)
	if !ok || err1 != nil || err2 != nil {
		return Span{}, fmt.Errorf("%q is not a span HH:MM-HH:MM", text)
	}
	if start >= end {
		return Span{}, fmt.Errorf("%q ends before it starts (a span cannot cross midnight: split it at 24:00)", text)
	}
	return Span{Start: start, End: end}, nil
}

// parseMinute reads "HH:MM" as minutes from midnight; "24:00" ends a day.
func parseMinute(text string) (int, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(text), ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || len(mm) != 2 || h < 0 || m < 0 || m > 59 || h*60+m > 1440 {
		return 0, fmt.Errorf("bad time %q", text)
	}
	return h*60 + m, nil
}

// sortedKeys answers a map's keys in order, so errors come out the same way
// every run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// deliveries reads the deliveries section over DefaultDeliveryPolicy.
func (v *validator) deliveries(d *fileDeliveries) DeliveryPolicy {
	p := DefaultDeliveryPolicy
	if d == nil {
		return p
	}
	if d.ConfirmationWindow != "" {
		p.ConfirmationWindow = v.duration(key("deliveries", "confirmation_window"), d.ConfirmationWindow)
	}
	if d.Warranty != "" {
		p.Warranty = v.duration(key("deliveries", "warranty"), d.Warranty)
	}
	if d.WarrantyNotice != "" {
		p.WarrantyNotice = v.duration(key("deliveries", "warranty_notice"), d.WarrantyNotice)
	}
	if len(d.ProductWarranties) > 0 {
		p.ProductWarranties = map[string]time.Duration{}
		for _, name := range sortedKeys(d.ProductWarranties) {
			p.ProductWarranties[name] = v.duration(key("deliveries", "product_warranties", name), d.ProductWarranties[name])
		}
	}
	return p
}

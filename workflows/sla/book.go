package sla

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
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
	"go.yaml.in/yaml/v3"
)

// Priorities are the case priorities, most urgent first.
var Priorities = []string{"p1", "p2", "p3", "p4"}

// CategoryNames are the case categories a policy file must configure, sorted.
var CategoryNames = []string{
	"account_delivery_issue", "account_merge", "defective_item", "delivery_delay",
	"dispute", "fraud_report", "general_question", "locked_account",
	"login_failure", "order_issue", "password_reset", "profile_change",
	"refund_request", "return_request", "security_alert", "seller_onboarding",
	"seller_payment",
}

// TeamNames are the teams a category can belong to, sorted.
var TeamNames = []string{"account_management", "security", "tier1_support", "trust_safety"}

// holidayCountries maps a policy file's country code to its national holidays.
var holidayCountries = map[string][]*cal.Holiday{
	"de": de.Holidays, "es": es.Holidays, "fr": fr.Holidays, "gb": gb.Holidays,
	"ie": ie.Holidays, "it": it.Holidays, "nl": nl.Holidays, "us": us.Holidays,
}

// Targets are the business time allowed for each response of a case.
type Targets struct {
	// FirstResponse is the time until the first agent reply.
	FirstResponse time.Duration `json:"first_response"`
	// NextResponse is the time until the agent answers each later customer
	// message.
	NextResponse time.Duration `json:"next_response"`
	// Resolution is the time until the case is resolved.
	Resolution time.Duration `json:"resolution"`
}

// Policy is everything a case's SLA needs, resolved from the book: it is
// copied into the workflow input, so a later change of the policy file never
// changes a running case.
type Policy struct {
	// Category and Priority are what the policy was resolved for.
	Category string `json:"category"`
	Priority string `json:"priority"`
	// Calendar counts the targets' business time, holidays expanded.
	Calendar Calendar `json:"calendar"`
	// Targets are the business time allowed.
	Targets Targets `json:"targets"`
	// WarningThreshold is the fraction of a target at which the assignee and
	// team are warned.
	WarningThreshold float64 `json:"warning_threshold"`
}

// Lifecycle holds the wall-clock windows of a case after its SLA.
type Lifecycle struct {
	// AutoCloseAfterWaiting closes a case waiting on the customer who does
	// not answer; a reminder goes out at half of it.
	AutoCloseAfterWaiting time.Duration `json:"auto_close_after_waiting"`
	// ReopenWindow is how long after resolve the customer can reopen; then
	// the case closes by itself.
	ReopenWindow time.Duration `json:"reopen_window"`
	// CSATWindow is how long after resolve a satisfaction answer is accepted.
	CSATWindow time.Duration `json:"csat_window"`
}

// AccountPolicy holds the windows of the account workflows a case starts:
// security incidents, recoveries and profile changes. All count wall-clock
// time (24x7).
type AccountPolicy struct {
	// SecurityReview is how long a security incident may wait for its
	// decision before the case escalates.
	SecurityReview time.Duration `json:"security_review"`
	// CodeValidFor is how long a one-time code can be used.
	CodeValidFor time.Duration `json:"code_valid_for"`
	// CodeAttempts is how many wrong codes end a verification.
	CodeAttempts int `json:"code_attempts"`
	// ContactCoolDown is how long a verified email or phone change waits,
	// cancellable from the old contact, before it applies.
	ContactCoolDown time.Duration `json:"contact_cool_down"`
	// SignalThreshold account signals (failed logins, new devices...)
	// inside SignalWindow open a security case.
	SignalThreshold int           `json:"signal_threshold"`
	SignalWindow    time.Duration `json:"signal_window"`
}

// DefaultAccountPolicy is used for what the policy file leaves out, and
// by cases started before the file could say it.
var DefaultAccountPolicy = AccountPolicy{
	SecurityReview:  4 * time.Hour,
	CodeValidFor:    15 * time.Minute,
	CodeAttempts:    5,
	ContactCoolDown: 24 * time.Hour,
	SignalThreshold: 5,
	SignalWindow:    15 * time.Minute,
}

// WithDefaults answers p with each zero field set from DefaultAccountPolicy.
func (p AccountPolicy) WithDefaults() AccountPolicy {
	d := DefaultAccountPolicy
	if p.SecurityReview > 0 {
		d.SecurityReview = p.SecurityReview
	}
	if p.CodeValidFor > 0 {
		d.CodeValidFor = p.CodeValidFor
	}
	if p.CodeAttempts > 0 {
		d.CodeAttempts = p.CodeAttempts
	}
	if p.ContactCoolDown > 0 {
		d.ContactCoolDown = p.ContactCoolDown
	}
	if p.SignalThreshold > 0 {
		d.SignalThreshold = p.SignalThreshold
	}
	if p.SignalWindow > 0 {
		d.SignalWindow = p.SignalWindow
	}
	return d
}

// CategoryDefaults are what a new case of a category starts with.
type CategoryDefaults struct {
	// Priority is used when the case is opened without one.
	Priority string `json:"priority"`
	// Team owns the category's cases.
	Team string `json:"team"`
}

// Book is a validated policy file. It is read-only after Parse and safe for
// concurrent use.
type Book struct {
	threshold  float64
	lifecycle  Lifecycle
	accounts   AccountPolicy
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

// Load reads and validates the policy file at path; Parse describes the file.
func Load(path string) (*Book, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sla policy: %w", err)
	}
	return Parse(data, path)
}

// Parse reads a policy file's content strictly and validates it; name (the
// file's path) prefixes every error, which gives the line and key at fault.
// All problems found are reported together. An unknown key is an error, so a
// typo cannot silently drop a target. The file looks like this:
//
//	warning_threshold: 0.8            # fraction of a target at which assignee and team are warned
//	lifecycle:
//	  auto_close_after_waiting: 168h  # a case waiting on the customer closes after this (reminder at half)
//	  reopen_window: 72h              # after resolve the customer can reopen; then the case closes
//	  csat_window: 168h               # how long the CSAT answer is accepted after resolve
//	accounts:                         # optional; each key defaults to DefaultAccountPolicy
//	  security_review: 4h             # a security incident's decision is due within this (24x7)
//	  code_valid_for: 15m             # a one-time code works this long
//	  code_attempts: 5                # wrong codes that end a verification
//	  contact_cool_down: 24h          # a verified email or phone change waits this long
//	  signal_threshold: 5             # account signals inside signal_window that open a security case
//	  signal_window: 15m
//	calendars:                        # name -> business calendar
//	  24x7: {time_zone: UTC, always_open: true}
//	  eu-business:
//	    time_zone: Europe/Paris       # IANA zone the hours and holidays are read in
//	    hours:                        # mon..sun: open spans "HH:MM-HH:MM", sorted; "24:00" ends a day
//	      mon: ["09:00-18:00"]
//	      fri: ["09:00-12:30", "13:30-17:00"]
//	    holidays:
//	      country: fr                 # national holidays of: de es fr gb ie it nl us
//	      dates: ["2026-12-24"]       # more closed local dates
//	categories:                       # all 17 categories: default priority and owning team
//	  login_failure: {priority: p3, team: tier1_support}
//	policies:                         # targets; the most specific entry wins
//	  - {priority: p1, calendar: 24x7, first_response: 1h, next_response: 2h, resolution: 8h}
//	  - {category: security_alert, priority: p1, calendar: 24x7, first_response: 15m, next_response: 1h, resolution: 4h}
//
// A policy entry names a category, a priority, both or neither; for a case the
// entry naming both wins, then the category alone, then the priority alone,
// then the entry naming neither. Every category and priority must be covered.
// Durations use Go syntax (30m, 8h, 168h); targets count business time of the
// entry's calendar, lifecycle windows count wall-clock time.
func Parse(data []byte, name string) (*Book, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty policy file", name)
		}
		return nil, yamlError(name, err)
	}
	// A second pass keeps the node tree, only to give lines in errors.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	v := &validator{name: name, root: &root}
	b := v.book(&f)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return b, nil
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

// file is the policy file as written.
type file struct {
	WarningThreshold *float64                `yaml:"warning_threshold"`
	Lifecycle        *fileLifecycle          `yaml:"lifecycle"`
	Accounts         *fileAccounts           `yaml:"accounts"`
	Calendars        map[string]fileCalendar `yaml:"calendars"`
	Categories       map[string]fileCategory `yaml:"categories"`
	Policies         []filePolicy            `yaml:"policies"`
}

// Durations and hours are read as text and parsed while validating, so that
// their errors can name the key and line.
type fileLifecycle struct {
	AutoCloseAfterWaiting string `yaml:"auto_close_after_waiting"`
	ReopenWindow          string `yaml:"reopen_window"`
	CSATWindow            string `yaml:"csat_window"`
}

// fileAccounts is the optional accounts section; what it leaves out is
// DefaultAccountPolicy.
type fileAccounts struct {
	SecurityReview  string `yaml:"security_review"`
	CodeValidFor    string `yaml:"code_valid_for"`
	CodeAttempts    *int   `yaml:"code_attempts"`
	ContactCoolDown string `yaml:"contact_cool_down"`
	SignalThreshold *int   `yaml:"signal_threshold"`
	SignalWindow    string `yaml:"signal_window"`
}

type fileCalendar struct {
	TimeZone   string       `yaml:"time_zone"`
	AlwaysOpen bool         `yaml:"always_open"`
	Hours      fileHours    `yaml:"hours"`
	Holidays   fileHolidays `yaml:"holidays"`
}

type fileHours struct {
	Mon []string `yaml:"mon"`
	Tue []string `yaml:"tue"`
	Wed []string `yaml:"wed"`
	Thu []string `yaml:"thu"`
	Fri []string `yaml:"fri"`
	Sat []string `yaml:"sat"`
	Sun []string `yaml:"sun"`
}

type fileHolidays struct {
	Country string   `yaml:"country"`
	Dates   []string `yaml:"dates"`
}

type fileCategory struct {
	Priority string `yaml:"priority"`
	Team     string `yaml:"team"`
}

type filePolicy struct {
	Category      string `yaml:"category"`
	Priority      string `yaml:"priority"`
	Calendar      string `yaml:"calendar"`
	FirstResponse string `yaml:"first_response"`
	NextResponse  string `yaml:"next_response"`
	Resolution    string `yaml:"resolution"`
}

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

// keys is a path in the document, such as ("policies", 2, "calendar"):
// strings are mapping keys, ints sequence indexes.
type keys []any

// key starts a key path.
func key(k ...any) keys { return k }

// and answers the path extended by more, never sharing memory with k.
func (k keys) and(more ...any) keys { return append(slices.Clip(k), more...) }

// String writes a key path as policies[2].calendar.
func (k keys) String() string {
	var sb strings.Builder
	for _, part := range k {
		if i, ok := part.(int); ok {
			fmt.Fprintf(&sb, "[%d]", i)
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		fmt.Fprint(&sb, part)
	}
	return sb.String()
}

// lineOf answers the line of the key (or item) at path in the document, or of
// the deepest part of it that exists; 0 when unknown.
func lineOf(n *yaml.Node, path keys) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, k := range path {
		next := (*yaml.Node)(nil)
		switch k := k.(type) {
		case string:
			for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					next, line = n.Content[i+1], n.Content[i].Line
					break
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

var (
	// yamlLine, unknownField and wrongKind match yaml's messages.
	yamlLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)
	unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)
	wrongKind    = regexp.MustCompile("cannot unmarshal !!\\w+ `([^`]*)` into (\\S+)")
)

// yamlError rewords yaml's errors for people who write the file, not Go, in
// the same "file:line: problem" form as validation errors.
func yamlError(name string, err error) error {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		m = yamlLine.ReplaceAllString(m, name+":$1: ")
		m = unknownField.ReplaceAllString(m, `unknown key "$1"`)
		if sub := wrongKind.FindStringSubmatch(m); sub != nil {
			m = strings.Replace(m, sub[0], fmt.Sprintf("%q is not %s", sub[1], kindName(sub[2])), 1)
		}
		if !strings.HasPrefix(m, name+":") {
			m = name + ": " + strings.TrimPrefix(m, "yaml: ")
		}
		errs[i] = errors.New(m)
	}
	return errors.Join(errs...)
}

// kindName says in words what a Go type holds.
func kindName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case goType == "float64":
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a single value"
	default:
		return "a mapping"
	}
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

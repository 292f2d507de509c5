package sla

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

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
//	deliveries:                       # optional; each key defaults to DefaultDeliveryPolicy
//	  confirmation_window: 72h        # a delivered account is confirmed by default after this (reminder at half)
//	  warranty: 336h                  # protection after delivery; its end retires the delivery
//	  warranty_notice: 48h            # the buyer is told this long before the warranty ends
//	  product_warranties: {valorant: 120h}   # products or platforms with a warranty of their own
//	returns:                          # optional; each key defaults to DefaultReturnTerms
//	  window: 720h                    # a return may be asked for this long after delivery
//	  ship_within: 336h               # the buyer ships within this (reminder_before it ends), else the return closes
//	  reminder_before: 72h
//	  arrive_within: 504h             # a shipped parcel later than this escalates the case
//	  inspect_within: 48h             # the seller inspects within this, else on_no_inspection
//	  on_no_inspection: refund_full   # refund_full, store_credit or reject
//	  approval_above_minor: 50000     # refunds above this (minor units) need trust_safety's approval; 0 never
//	disputes:                         # optional; each key defaults to DefaultDisputeTerms
//	  respond_business_days: 3        # the seller's time, in business days of the seller region's calendar
//	  respond_within: 2m              # instead, a plain duration (demos)
//	  seller_calendars: {fr: eu-business}   # seller region -> calendar; others take default_calendar
//	  default_calendar: eu-business   # else the calendar of the dispute category's default priority
//	  decide_for_buyer_on_silence: true
//	  offer_answer_within: 72h        # the buyer's time to answer a partial offer
//	  review_within: 120h             # trust_safety's time; past it the case escalates once
//	  appeal_window: 720h             # either party may appeal this long after a decision
//	sellers:                          # optional; each key defaults to DefaultSellerTerms
//	  steps:                          # the checklist, replacing the default one whole
//	    - {step: first_listing, due: 168h, escalate_after: 48h}   # reminder at due, trust_safety's case at due+escalate_after
//	  hold_payouts_until_verified: true
//	  verification_poll_every: 1h     # ask the provider when its webhook has not come
//	  verification_review_within: 48h # trust_safety's time for a doubted check
//	fraud:                            # optional; each key defaults to DefaultFraudTerms
//	  rules:                          # threshold signals of kinds within window open one fraud case
//	    - {name: disputes_lost, kinds: [dispute_lost], threshold: 3, window: 720h}
//	    - {name: payout_redirect, kinds: [payout_destination_changed, large_payout], sequence: true, window: 48h}
//	  review_within: 24h              # trust_safety's time; past it the case escalates once
//	  hold_for: 720h                  # a fraud hold on payouts ends by itself then, unless extended
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

// file is the policy file as written.
type file struct {
	WarningThreshold *float64                `yaml:"warning_threshold"`
	Lifecycle        *fileLifecycle          `yaml:"lifecycle"`
	Accounts         *fileAccounts           `yaml:"accounts"`
	Deliveries       *fileDeliveries         `yaml:"deliveries"`
	Returns          *fileReturns            `yaml:"returns"`
	Disputes         *fileDisputes           `yaml:"disputes"`
	Sellers          *fileSellers            `yaml:"sellers"`
	Fraud            *fileFraud              `yaml:"fraud"`
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

// fileDeliveries is the optional deliveries section; what it leaves out is
// DefaultDeliveryPolicy.
type fileDeliveries struct {
	ConfirmationWindow string            `yaml:"confirmation_window"`
	Warranty           string            `yaml:"warranty"`
	WarrantyNotice     string            `yaml:"warranty_notice"`
	ProductWarranties  map[string]string `yaml:"product_warranties"`
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

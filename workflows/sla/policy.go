package sla

import "time"

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

// DeliveryPolicy holds the windows of account deliveries: how long the buyer
// has to confirm, and how long the warranty runs, by product or platform.
// All count wall-clock time (24x7).
type DeliveryPolicy struct {
	// ConfirmationWindow is how long a delivered account waits for the
	// buyer's confirmation or problem report (a reminder at half); then it
	// is confirmed by default.
	ConfirmationWindow time.Duration `json:"confirmation_window"`
	// Warranty is how long the delivery is protected after delivery, for a
	// product without one of its own; its end retires the delivery.
	Warranty time.Duration `json:"warranty"`
	// WarrantyNotice is how long before the warranty's end the buyer is told.
	WarrantyNotice time.Duration `json:"warranty_notice"`
	// ProductWarranties are the warranties of products or platforms that
	// differ from Warranty, by name.
	ProductWarranties map[string]time.Duration `json:"product_warranties,omitempty"`
}

// DefaultDeliveryPolicy is used for what the policy file leaves out: the
// 72 hours marketplaces give a buyer to inspect an account, and 14 days of
// protection.
var DefaultDeliveryPolicy = DeliveryPolicy{
	ConfirmationWindow: 72 * time.Hour,
	Warranty:           14 * 24 * time.Hour,
	WarrantyNotice:     48 * time.Hour,
}

// WarrantyFor answers the warranty of product: its own, else Warranty.
func (p DeliveryPolicy) WarrantyFor(product string) time.Duration {
	if d, ok := p.ProductWarranties[product]; ok {
		return d
	}
	return p.Warranty
}

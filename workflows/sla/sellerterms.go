package sla

import (
	"slices"
	"time"
)

// SellerStep is one step of the seller checklist in the policy file's
// sellers section: due Due after the onboarding starts (the seller is
// reminded then), stalled EscalateAfter later (trust_safety's case).
type SellerStep struct {
	Step          string        `json:"step"`
	Due           time.Duration `json:"due"`
	EscalateAfter time.Duration `json:"escalate_after"`
}

// SellerTerms are the sellers section: the checklist and the identity check.
type SellerTerms struct {
	Steps []SellerStep `json:"steps"`
	// HoldPayoutsUntilVerified holds a new seller's payouts until the
	// identity check passes.
	HoldPayoutsUntilVerified bool `json:"hold_payouts_until_verified"`
	// VerificationPollEvery is how long the check waits for the provider's
	// webhook before asking the provider.
	VerificationPollEvery time.Duration `json:"verification_poll_every"`
	// VerificationReviewWithin is trust_safety's time to decide a doubted check.
	VerificationReviewWithin time.Duration `json:"verification_review_within"`
}

// SellerStepNames lists the steps a policy may name (workflows/sellers.Steps).
var SellerStepNames = []string{"account_created", "identity_verified", "payout_verified", "first_listing", "first_order_shipped"}

// DefaultSellerTerms are used for what the policy file leaves out: every
// step, within an hour to a month, two days to stall; payouts held until
// verified; the provider asked every hour; two days of review.
var DefaultSellerTerms = SellerTerms{
	Steps: []SellerStep{
		{Step: "account_created", Due: time.Hour, EscalateAfter: 48 * time.Hour},
		{Step: "identity_verified", Due: 72 * time.Hour, EscalateAfter: 48 * time.Hour},
		{Step: "payout_verified", Due: 72 * time.Hour, EscalateAfter: 48 * time.Hour},
		{Step: "first_listing", Due: 7 * 24 * time.Hour, EscalateAfter: 48 * time.Hour},
		{Step: "first_order_shipped", Due: 30 * 24 * time.Hour, EscalateAfter: 7 * 24 * time.Hour},
	},
	HoldPayoutsUntilVerified: true, VerificationPollEvery: time.Hour, VerificationReviewWithin: 48 * time.Hour,
}

// FraudRule is one rule of the fraud section: Threshold behaviour signals
// of Kinds within the rolling Window open a fraud case; a Sequence rule
// fires when its Kinds happen in that order within Window instead.
type FraudRule struct {
	Name      string        `json:"name"`
	Kinds     []string      `json:"kinds"`
	Threshold int           `json:"threshold,omitempty"`
	Window    time.Duration `json:"window"`
	Sequence  bool          `json:"sequence,omitempty"`
}

// FraudTerms are the fraud section: the rules, trust_safety's review time
// and how long a fraud hold on a seller's payouts lasts unless extended.
type FraudTerms struct {
	Rules        []FraudRule   `json:"rules"`
	ReviewWithin time.Duration `json:"review_within"`
	HoldFor      time.Duration `json:"hold_for"`
}

// FraudSignalKinds lists the behaviour signals a rule may count.
var FraudSignalKinds = []string{"refund_requested", "dispute_lost", "chargeback", "account_signal", "payout_destination_changed", "large_payout"}

// DefaultFraudTerms: three lost disputes or three chargebacks in 30 days,
// five refund requests in 7 days, three account signals in a day, a new
// payout destination then a large payout within 48 hours; 72 hours to
// review; a hold of 14 days unless extended.
var DefaultFraudTerms = FraudTerms{
	Rules: []FraudRule{
		{Name: "disputes_lost", Kinds: []string{"dispute_lost"}, Threshold: 3, Window: 30 * 24 * time.Hour},
		{Name: "chargebacks", Kinds: []string{"chargeback"}, Threshold: 3, Window: 30 * 24 * time.Hour},
		{Name: "refund_requests", Kinds: []string{"refund_requested"}, Threshold: 5, Window: 7 * 24 * time.Hour},
		{Name: "account_signals", Kinds: []string{"account_signal"}, Threshold: 3, Window: 24 * time.Hour},
		{Name: "payout_redirect", Kinds: []string{"payout_destination_changed", "large_payout"}, Sequence: true, Window: 48 * time.Hour},
	},
	ReviewWithin: 72 * time.Hour, HoldFor: 14 * 24 * time.Hour,
}

// Sellers answers the seller checklist and identity-check terms.
func (b *Book) Sellers() SellerTerms { return b.sellers }

// Fraud answers the fraud rules.
func (b *Book) Fraud() FraudTerms { return b.fraud }

// fileSellers is the optional sellers section; what it leaves out is
// DefaultSellerTerms (a steps list replaces the default list whole).
type fileSellers struct {
	Steps []struct {
		Step          string `yaml:"step"`
		Due           string `yaml:"due"`
		EscalateAfter string `yaml:"escalate_after"`
	} `yaml:"steps"`
	HoldPayoutsUntilVerified *bool  `yaml:"hold_payouts_until_verified"`
	VerificationPollEvery    string `yaml:"verification_poll_every"`
	VerificationReviewWithin string `yaml:"verification_review_within"`
}

// fileFraud is the optional fraud section; a rules list replaces the
// default rules whole.
type fileFraud struct {
	Rules []struct {
		Name      string   `yaml:"name"`
		Kinds     []string `yaml:"kinds"`
		Threshold int      `yaml:"threshold"`
		Window    string   `yaml:"window"`
		Sequence  bool     `yaml:"sequence"`
	} `yaml:"rules"`
	ReviewWithin string `yaml:"review_within"`
	HoldFor      string `yaml:"hold_for"`
}

// sellerTerms reads the sellers section over DefaultSellerTerms.
func (v *validator) sellerTerms(f *fileSellers) SellerTerms {
	t := DefaultSellerTerms
	t.Steps = slices.Clone(t.Steps)
	if f == nil {
		return t
	}
	if len(f.Steps) > 0 {
		t.Steps = nil
		seen := map[string]bool{}
		for i, s := range f.Steps {
			here := key("sellers", "steps", i)
			if !slices.Contains(SellerStepNames, s.Step) {
				v.failf(here.and("step"), "unknown step %q", s.Step)
			}
			if seen[s.Step] {
				v.failf(here.and("step"), "step %q listed twice", s.Step)
			}
			seen[s.Step] = true
			t.Steps = append(t.Steps, SellerStep{Step: s.Step, Due: v.duration(here.and("due"), s.Due),
				EscalateAfter: v.duration(here.and("escalate_after"), s.EscalateAfter)})
		}
	}
	if f.HoldPayoutsUntilVerified != nil {
		t.HoldPayoutsUntilVerified = *f.HoldPayoutsUntilVerified
	}
	if f.VerificationPollEvery != "" {
		t.VerificationPollEvery = v.duration(key("sellers", "verification_poll_every"), f.VerificationPollEvery)
	}
	if f.VerificationReviewWithin != "" {
		t.VerificationReviewWithin = v.duration(key("sellers", "verification_review_within"), f.VerificationReviewWithin)
	}
	return t
}

// fraudTerms reads the fraud section over DefaultFraudTerms.
func (v *validator) fraudTerms(f *fileFraud) FraudTerms {
	t := DefaultFraudTerms
	t.Rules = slices.Clone(t.Rules)
	if f == nil {
		return t
	}
	if len(f.Rules) > 0 {
		t.Rules = nil
		for i, r := range f.Rules {
			here := key("fraud", "rules", i)
			if r.Name == "" {
				v.failf(here.and("name"), "a rule needs a name")
			}
			if len(r.Kinds) == 0 {
				v.failf(here.and("kinds"), "a rule counts at least one kind")
			}
			for _, k := range r.Kinds {
				if !slices.Contains(FraudSignalKinds, k) {
					v.failf(here.and("kinds"), "unknown signal kind %q", k)
				}
			}
			if r.Sequence && len(r.Kinds) < 2 {
				v.failf(here.and("kinds"), "a sequence names at least two kinds in order")
			}
			if !r.Sequence && r.Threshold < 1 {
				v.failf(here.and("threshold"), "%d is not a positive count", r.Threshold)
			}
			t.Rules = append(t.Rules, FraudRule{Name: r.Name, Kinds: slices.Clone(r.Kinds), Threshold: r.Threshold,
				Window: v.duration(here.and("window"), r.Window), Sequence: r.Sequence})
		}
	}
	if f.ReviewWithin != "" {
		t.ReviewWithin = v.duration(key("fraud", "review_within"), f.ReviewWithin)
	}
	if f.HoldFor != "" {
		t.HoldFor = v.duration(key("fraud", "hold_for"), f.HoldFor)
	}
	return t
}

package sla

import (
	"fmt"
	"time"
)

// ReturnTerms are the return windows of the policy file's returns section;
// the return workflow turns them into its policy when a return starts.
type ReturnTerms struct {
	// Window is how long after delivery a return may be asked for.
	Window time.Duration `json:"window"`
	// ShipWithin is the buyer's time to ship, ReminderBefore how long
	// before its end they are reminded.
	ShipWithin     time.Duration `json:"ship_within"`
	ReminderBefore time.Duration `json:"reminder_before"`
	// ArriveWithin is how long a shipped parcel may take before the case
	// is escalated.
	ArriveWithin time.Duration `json:"arrive_within"`
	// InspectWithin is the seller's time to inspect a received item;
	// OnNoInspection is what happens then (refund_full, store_credit, reject).
	InspectWithin  time.Duration `json:"inspect_within"`
	OnNoInspection string        `json:"on_no_inspection"`
	// ApprovalAboveMinor is the refund, in minor units of the order's
	// currency, above which trust_safety approves; 0 never asks.
	ApprovalAboveMinor int64 `json:"approval_above_minor"`
}

// DefaultReturnTerms are used for what the policy file leaves out: a 30-day
// window, 14 days to ship with a reminder 3 days before, 48 hours to
// inspect and a refund in full when the seller does not (as Amazon refunds
// for a seller who does not), 21 days to arrive.
var DefaultReturnTerms = ReturnTerms{
	Window: 30 * 24 * time.Hour, ShipWithin: 14 * 24 * time.Hour, ReminderBefore: 3 * 24 * time.Hour,
	ArriveWithin: 21 * 24 * time.Hour, InspectWithin: 48 * time.Hour, OnNoInspection: "refund_full",
}

// DisputeTerms are the dispute windows of the policy file's disputes section.
type DisputeTerms struct {
	// RespondBusinessDays is the seller's time to answer, in business days
	// of the seller region's calendar; RespondWithin, when set, replaces it
	// with a plain duration (demos).
	RespondBusinessDays int           `json:"respond_business_days"`
	RespondWithin       time.Duration `json:"respond_within,omitempty"`
	// SellerCalendars maps a seller region to its calendar's name; a
	// region not listed takes DefaultCalendar.
	SellerCalendars map[string]string `json:"seller_calendars,omitempty"`
	DefaultCalendar string            `json:"default_calendar"`
	// DecideForBuyerOnSilence refunds the buyer when the seller does not answer.
	DecideForBuyerOnSilence bool          `json:"decide_for_buyer_on_silence"`
	OfferAnswerWithin       time.Duration `json:"offer_answer_within"`
	ReviewWithin            time.Duration `json:"review_within"`
	AppealWindow            time.Duration `json:"appeal_window"`
}

// DefaultDisputeTerms are used for what the policy file leaves out: eBay's
// 3 business days for the seller, for the buyer on silence, 72 hours to
// answer an offer, 5 days for trust_safety, 30 days to appeal.
var DefaultDisputeTerms = DisputeTerms{
	RespondBusinessDays: 3, DecideForBuyerOnSilence: true, OfferAnswerWithin: 72 * time.Hour,
	ReviewWithin: 5 * 24 * time.Hour, AppealWindow: 30 * 24 * time.Hour,
}

// Returns answers the return windows.
func (b *Book) Returns() ReturnTerms { return b.returns }

// Disputes answers the dispute windows.
func (b *Book) Disputes() DisputeTerms { return b.disputes }

// SellerCalendar answers the business calendar of a seller region, with its
// country holidays expanded for the years around now: the region's calendar
// of the disputes section, else its default calendar, else the calendar of
// the dispute category's default priority.
func (b *Book) SellerCalendar(region string, now time.Time) (Calendar, error) {
	name := b.disputes.SellerCalendars[region]
	if name == "" {
		name = b.disputes.DefaultCalendar
	}
	if name == "" {
		d, err := b.Category("dispute")
		if err != nil {
			return Calendar{}, err
		}
		p, err := b.Policy("dispute", d.Priority, now)
		if err != nil {
			return Calendar{}, err
		}
		return p.Calendar, nil
	}
	bc, ok := b.calendars[name]
	if !ok {
		return Calendar{}, fmt.Errorf("sla: no calendar %q", name)
	}
	c := bc.calendar
	if bc.country != "" {
		c.Holidays = withCountryHolidays(c.Holidays, bc.country, now.UTC().Year()-1, now.UTC().Year()+3)
	}
	return c, nil
}

// fileReturns is the optional returns section; what it leaves out is
// DefaultReturnTerms.
type fileReturns struct {
	Window             string `yaml:"window"`
	ShipWithin         string `yaml:"ship_within"`
	ReminderBefore     string `yaml:"reminder_before"`
	ArriveWithin       string `yaml:"arrive_within"`
	InspectWithin      string `yaml:"inspect_within"`
	OnNoInspection     string `yaml:"on_no_inspection"`
	ApprovalAboveMinor *int64 `yaml:"approval_above_minor"`
}

// fileDisputes is the optional disputes section; what it leaves out is
// DefaultDisputeTerms.
type fileDisputes struct {
	RespondBusinessDays     *int              `yaml:"respond_business_days"`
	RespondWithin           string            `yaml:"respond_within"`
	SellerCalendars         map[string]string `yaml:"seller_calendars"`
	DefaultCalendar         string            `yaml:"default_calendar"`
	DecideForBuyerOnSilence *bool             `yaml:"decide_for_buyer_on_silence"`
	OfferAnswerWithin       string            `yaml:"offer_answer_within"`
	ReviewWithin            string            `yaml:"review_within"`
	AppealWindow            string            `yaml:"appeal_window"`
}

// returnTerms reads the returns section over DefaultReturnTerms.
func (v *validator) returnTerms(f *fileReturns) ReturnTerms {
	t := DefaultReturnTerms
	if f == nil {
		return t
	}
	for _, d := range []struct {
		name, text string
		into       *time.Duration
	}{
		{"window", f.Window, &t.Window}, {"ship_within", f.ShipWithin, &t.ShipWithin},
		{"reminder_before", f.ReminderBefore, &t.ReminderBefore}, {"arrive_within", f.ArriveWithin, &t.ArriveWithin},
		{"inspect_within", f.InspectWithin, &t.InspectWithin},
	} {
		if d.text != "" {
			*d.into = v.duration(key("returns", d.name), d.text)
		}
	}
	if t.ReminderBefore >= t.ShipWithin {
		v.failf(key("returns", "reminder_before"), "%s is not shorter than ship_within %s", t.ReminderBefore, t.ShipWithin)
	}
	switch f.OnNoInspection {
	case "":
	case "refund_full", "store_credit", "reject":
		t.OnNoInspection = f.OnNoInspection
	default:
		v.failf(key("returns", "on_no_inspection"), "%q is not refund_full, store_credit or reject", f.OnNoInspection)
	}
	if f.ApprovalAboveMinor != nil {
		if *f.ApprovalAboveMinor < 0 {
			v.failf(key("returns", "approval_above_minor"), "%d must not be negative", *f.ApprovalAboveMinor)
		}
		t.ApprovalAboveMinor = *f.ApprovalAboveMinor
	}
	return t
}

// disputeTerms reads the disputes section over DefaultDisputeTerms; the
// calendars it names must exist in calendars.
func (v *validator) disputeTerms(f *fileDisputes, calendars map[string]fileCalendar) DisputeTerms {
	t := DefaultDisputeTerms
	if f == nil {
		return t
	}
	if f.RespondBusinessDays != nil {
		if *f.RespondBusinessDays < 1 || *f.RespondBusinessDays > 30 {
			v.failf(key("disputes", "respond_business_days"), "%d is not between 1 and 30", *f.RespondBusinessDays)
		}
		t.RespondBusinessDays = *f.RespondBusinessDays
	}
	if f.RespondWithin != "" {
		t.RespondWithin = v.duration(key("disputes", "respond_within"), f.RespondWithin)
	}
	for _, d := range []struct {
		name, text string
		into       *time.Duration
	}{
		{"offer_answer_within", f.OfferAnswerWithin, &t.OfferAnswerWithin},
		{"review_within", f.ReviewWithin, &t.ReviewWithin}, {"appeal_window", f.AppealWindow, &t.AppealWindow},
	} {
		if d.text != "" {
			*d.into = v.duration(key("disputes", d.name), d.text)
		}
	}
	if f.DecideForBuyerOnSilence != nil {
		t.DecideForBuyerOnSilence = *f.DecideForBuyerOnSilence
	}
	if f.DefaultCalendar != "" {
		if _, ok := calendars[f.DefaultCalendar]; !ok {
			v.failf(key("disputes", "default_calendar"), "no calendar %q in calendars", f.DefaultCalendar)
		}
		t.DefaultCalendar = f.DefaultCalendar
	}
	if len(f.SellerCalendars) > 0 {
		t.SellerCalendars = map[string]string{}
		for _, region := range sortedKeys(f.SellerCalendars) {
			name := f.SellerCalendars[region]
			if _, ok := calendars[name]; !ok {
				v.failf(key("disputes", "seller_calendars", region), "no calendar %q in calendars", name)
			}
			t.SellerCalendars[region] = name
		}
	}
	return t
}

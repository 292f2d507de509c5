package returns

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"handoff/workflows/vocab"
)

// currencyCode is an ISO 4217 code as vocab.Money spells it.
var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// countryCode is an ISO 3166-1 alpha-2 code as vocab.Address spells it.
var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// Validate checks a new return's input: every missing or malformed field
// is named at once, so the case (or whoever fills it) fixes them in one go.
// Whether the return is allowed (the window, the item, the reason) is not
// checked here: an ineligible return still runs, to tell the buyer why.
// The workflow calls it at start.
func (in Input) Validate() error {
	var problems []string
	need := func(field, value string) {
		if strings.TrimSpace(value) == "" {
			problems = append(problems, field+": must not be empty")
		}
	}
	need("id", in.ID)
	need("case_id", in.CaseID)
	need("order_id", in.OrderID)
	need("buyer.id", in.Buyer.ID)
	if !strings.Contains(in.Buyer.Email, "@") {
		problems = append(problems, "buyer.email: must be an email address")
	}
	if !slices.Contains(vocab.Locales, in.Buyer.Locale) {
		problems = append(problems, fmt.Sprintf("buyer.locale: want en or fr, got %q", in.Buyer.Locale))
	}
	need("seller_id", in.SellerID)
	need("item.sku", in.Item.SKU)
	need("item.name", in.Item.Name)
	if !currencyCode.MatchString(in.Paid.Currency) {
		problems = append(problems, fmt.Sprintf("paid.currency: want an ISO 4217 code such as EUR, got %q", in.Paid.Currency))
	}
	if in.Paid.Minor <= 0 {
		problems = append(problems, fmt.Sprintf("paid.minor: must be positive, got %d", in.Paid.Minor))
	}
	if in.DeliveredAt.IsZero() {
		problems = append(problems, "delivered_at: must be set")
	}
	need("reason", in.Reason)
	problems = append(problems, checkAddress("from", in.From)...)
	problems = append(problems, checkAddress("to", in.To)...)
	if in.WeightGrams <= 0 {
		problems = append(problems, fmt.Sprintf("weight_grams: must be positive, got %d", in.WeightGrams))
	}
	problems = append(problems, in.Policy.check(in.Paid.Currency)...)
	if len(problems) > 0 {
		return vocab.InvalidArgument(strings.Join(problems, "; "))
	}
	return nil
}

// checkAddress names what a label needs of address field and lacks.
func checkAddress(field string, a vocab.Address) []string {
	var problems []string
	for _, f := range []struct{ name, value string }{
		{"name", a.Name}, {"line1", a.Line1}, {"city", a.City}, {"postal_code", a.PostalCode},
	} {
		if strings.TrimSpace(f.value) == "" {
			problems = append(problems, field+"."+f.name+": must not be empty")
		}
	}
	if !countryCode.MatchString(a.Country) {
		problems = append(problems, fmt.Sprintf("%s.country: want an ISO 3166-1 alpha-2 code such as FR, got %q", field, a.Country))
	}
	return problems
}

// check names what is wrong with the policy of a return paid in currency.
func (p Policy) check(currency string) []string {
	var problems []string
	for _, d := range []struct {
		name  string
		value fmt.Stringer
		ok    bool
	}{
		{"policy.window", p.Window, p.Window > 0},
		{"policy.ship_within", p.ShipWithin, p.ShipWithin > 0},
		{"policy.inspect_within", p.InspectWithin, p.InspectWithin > 0},
		{"policy.arrive_within", p.ArriveWithin, p.ArriveWithin > 0},
	} {
		if !d.ok {
			problems = append(problems, fmt.Sprintf("%s: must be positive, got %s", d.name, d.value))
		}
	}
	if p.ReminderBefore < 0 || (p.ShipWithin > 0 && p.ReminderBefore >= p.ShipWithin) {
		problems = append(problems, fmt.Sprintf("policy.reminder_before: want 0 (no reminder) or less than ship_within, got %s", p.ReminderBefore))
	}
	switch {
	case p.ApprovalAbove.Minor < 0:
		problems = append(problems, fmt.Sprintf("policy.approval_above.minor: must not be negative, got %d", p.ApprovalAbove.Minor))
	case p.ApprovalAbove.Minor > 0 && p.ApprovalAbove.Currency != currency:
		problems = append(problems, fmt.Sprintf("policy.approval_above.currency: want the paid currency %q, got %q", currency, p.ApprovalAbove.Currency))
	}
	if !slices.Contains(noInspectionOutcomes, p.OnNoInspection) {
		problems = append(problems, fmt.Sprintf("policy.on_no_inspection: want refund_full, store_credit or reject, got %q", p.OnNoInspection))
	}
	return problems
}

// noInspectionOutcomes are the outcomes a policy may decide alone: a
// partial refund needs someone to say how much.
var noInspectionOutcomes = []Outcome{OutcomeRefundFull, OutcomeStoreCredit, OutcomeReject}

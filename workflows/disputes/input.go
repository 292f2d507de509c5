package disputes

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"handoff/workflows/vocab"
)

// currencyCode is an ISO 4217 code as vocab.Money holds it.
var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// Validate checks a dispute's input: the case starts the child only with
// an input it passes, and the workflow checks it again at start. Every
// problem is named at once.
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
	need("seller_region", in.SellerRegion)
	if !currencyCode.MatchString(in.Amount.Currency) {
		problems = append(problems, fmt.Sprintf("amount.currency: want an ISO 4217 code such as EUR, got %q", in.Amount.Currency))
	}
	if in.Amount.Minor <= 0 {
		problems = append(problems, "amount.minor: the disputed amount must be positive")
	}
	if !slices.Contains(Reasons, in.Reason) {
		problems = append(problems, fmt.Sprintf("reason: want one of %s, got %q", strings.Join(Reasons, ", "), in.Reason))
	}
	need("description", in.Description)
	for i, e := range in.Evidence {
		if err := e.Check(); err != nil {
			problems = append(problems, fmt.Sprintf("evidence[%d].%s", i, message(err)))
		}
	}
	if in.OpenedAt.IsZero() {
		problems = append(problems, "opened_at: the seller's business days count from it")
	}
	problems = append(problems, in.Policy.problems()...)
	if len(problems) == 0 {
		if _, err := in.SellerRespondBy(); err != nil {
			problems = append(problems, "policy.seller_calendar: "+err.Error())
		}
	}
	if len(problems) > 0 {
		return vocab.InvalidArgument(strings.Join(problems, "; "))
	}
	return nil
}

// problems names what is wrong with a policy.
func (p Policy) problems() []string {
	var out []string
	if p.RespondBusinessDays < 1 && p.RespondWithin <= 0 {
		out = append(out, fmt.Sprintf("policy.respond_business_days: want at least 1, got %d", p.RespondBusinessDays))
	}
	if err := p.SellerCalendar.Validate(); err != nil {
		out = append(out, "policy.seller_calendar: "+strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if p.OfferAnswerWithin <= 0 || p.ReviewWithin <= 0 || p.AppealWindow <= 0 {
		out = append(out, "policy: offer_answer_within, review_within and appeal_window must be positive")
	}
	return out
}

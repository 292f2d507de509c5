package returns

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

func TestAWellFormedInputIsValid(t *testing.T) {
	require.NoError(t, testInput().Validate())
	in := testInput()
	in.OpenedAt, in.Description, in.Policy.ReminderBefore = time.Time{}, "", 0
	assert.NoError(t, in.Validate(), "the opening time, the description and the reminder are optional")
}

// An ineligible return is valid input: the workflow runs to tell the
// buyer why it is refused.
func TestIneligibilityIsNoInvalidInput(t *testing.T) {
	in := testInput()
	in.Item.Returnable, in.Reason, in.OpenedAt = false, "too_expensive", deliveredAt.Add(90*day)
	assert.NoError(t, in.Validate())
}

func TestValidateNamesEachBadField(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*Input)
		want   string
	}{
		"id":                  {func(in *Input) { in.ID = " " }, "id: must not be empty"},
		"case":                {func(in *Input) { in.CaseID = "" }, "case_id: must not be empty"},
		"order":               {func(in *Input) { in.OrderID = "" }, "order_id: must not be empty"},
		"buyer":               {func(in *Input) { in.Buyer.ID = "" }, "buyer.id: must not be empty"},
		"buyer email":         {func(in *Input) { in.Buyer.Email = "bea" }, "buyer.email: must be an email address"},
		"buyer locale":        {func(in *Input) { in.Buyer.Locale = "de" }, `buyer.locale: want en or fr, got "de"`},
		"seller":              {func(in *Input) { in.SellerID = "" }, "seller_id: must not be empty"},
		"sku":                 {func(in *Input) { in.Item.SKU = "" }, "item.sku: must not be empty"},
		"item name":           {func(in *Input) { in.Item.Name = "" }, "item.name: must not be empty"},
		"currency":            {func(in *Input) { in.Paid.Currency = "eur" }, `paid.currency: want an ISO 4217 code such as EUR, got "eur"`},
		"nothing paid":        {func(in *Input) { in.Paid.Minor = 0 }, "paid.minor: must be positive, got 0"},
		"delivered":           {func(in *Input) { in.DeliveredAt = time.Time{} }, "delivered_at: must be set"},
		"reason":              {func(in *Input) { in.Reason = "" }, "reason: must not be empty"},
		"from street":         {func(in *Input) { in.From.Line1 = "" }, "from.line1: must not be empty"},
		"to postal code":      {func(in *Input) { in.To.PostalCode = "" }, "to.postal_code: must not be empty"},
		"to country":          {func(in *Input) { in.To.Country = "France" }, `to.country: want an ISO 3166-1 alpha-2 code such as FR, got "France"`},
		"weight":              {func(in *Input) { in.WeightGrams = 0 }, "weight_grams: must be positive, got 0"},
		"window":              {func(in *Input) { in.Policy.Window = 0 }, "policy.window: must be positive, got 0s"},
		"ship within":         {func(in *Input) { in.Policy.ShipWithin = -time.Hour }, "policy.ship_within: must be positive, got -1h0m0s"},
		"inspect within":      {func(in *Input) { in.Policy.InspectWithin = 0 }, "policy.inspect_within: must be positive"},
		"arrive within":       {func(in *Input) { in.Policy.ArriveWithin = 0 }, "policy.arrive_within: must be positive"},
		"reminder too early":  {func(in *Input) { in.Policy.ReminderBefore = 14 * day }, "policy.reminder_before: want 0 (no reminder) or less than ship_within, got 336h0m0s"},
		"approval currency":   {func(in *Input) { in.Policy.ApprovalAbove = vocab.Money{Minor: 100, Currency: "USD"} }, `policy.approval_above.currency: want the paid currency "EUR", got "USD"`},
		"negative approval":   {func(in *Input) { in.Policy.ApprovalAbove.Minor = -1 }, "policy.approval_above.minor: must not be negative"},
		"partial by default":  {func(in *Input) { in.Policy.OnNoInspection = OutcomeRefundPartial }, `policy.on_no_inspection: want refund_full, store_credit or reject, got "refund_partial"`},
		"no default decision": {func(in *Input) { in.Policy.OnNoInspection = "" }, `policy.on_no_inspection: want refund_full, store_credit or reject, got ""`},
	} {
		t.Run(name, func(t *testing.T) {
			in := testInput()
			tc.change(&in)
			err := in.Validate()
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "want a refusal, got %v", err)
			assert.Equal(t, vocab.ErrInvalidArgument, appErr.Type())
			assert.Contains(t, appErr.Error(), tc.want)
		})
	}
}

func TestValidateNamesEveryProblemAtOnce(t *testing.T) {
	err := Input{}.Validate()
	require.Error(t, err)
	for _, field := range []string{"id:", "case_id:", "order_id:", "buyer.id:", "buyer.email:", "buyer.locale:",
		"seller_id:", "item.sku:", "item.name:", "paid.currency:", "paid.minor:", "delivered_at:", "reason:",
		"from.name:", "from.country:", "to.line1:", "to.city:", "weight_grams:", "policy.window:",
		"policy.on_no_inspection:"} {
		assert.Contains(t, err.Error(), field)
	}
	assert.Greater(t, strings.Count(err.Error(), "; "), 20)
}

func TestTheDefaultPolicyIsTheMarketplacesStandard(t *testing.T) {
	p := DefaultPolicy()
	assert.Equal(t, 30*day, p.Window)
	assert.Equal(t, 14*day, p.ShipWithin)
	assert.Equal(t, 3*day, p.ReminderBefore)
	assert.Equal(t, 48*time.Hour, p.InspectWithin)
	assert.Equal(t, 21*day, p.ArriveWithin)
	assert.Equal(t, OutcomeRefundFull, p.OnNoInspection)
	assert.Zero(t, p.ApprovalAbove.Minor, "no approval limit unless the marketplace sets one")
	assert.Empty(t, p.check("EUR"))
}

func TestThePolicyFilesDefaultTermsAreTheDefaultPolicy(t *testing.T) {
	assert.Equal(t, DefaultPolicy(), PolicyFrom(sla.DefaultReturnTerms, "EUR"))
	p := PolicyFrom(sla.ReturnTerms{ApprovalAboveMinor: 50000}, "EUR")
	assert.Equal(t, vocab.Money{Minor: 50000, Currency: "EUR"}, p.ApprovalAbove, "the limit is in the order's currency")
}

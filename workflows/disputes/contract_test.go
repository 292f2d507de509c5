package disputes

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

func TestValidateAcceptsACompleteInput(t *testing.T) {
	require.NoError(t, testInput().Validate())
	in := testInput()
	in.DeliveryID, in.Evidence, in.OpenedBy = "", nil, ""
	assert.NoError(t, in.Validate(), "delivery, evidence and opener are optional")
}

func TestValidateNamesEachProblem(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Input)
		want   string
	}{
		{"no id", func(in *Input) { in.ID = " " }, "id: must not be empty"},
		{"no case", func(in *Input) { in.CaseID = "" }, "case_id: must not be empty"},
		{"no order", func(in *Input) { in.OrderID = "" }, "order_id: must not be empty"},
		{"no buyer", func(in *Input) { in.Buyer.ID = "" }, "buyer.id: must not be empty"},
		{"bad email", func(in *Input) { in.Buyer.Email = "bea" }, "buyer.email"},
		{"bad locale", func(in *Input) { in.Buyer.Locale = "de" }, `buyer.locale: want en or fr, got "de"`},
		{"no seller", func(in *Input) { in.SellerID = "" }, "seller_id: must not be empty"},
		{"no region", func(in *Input) { in.SellerRegion = "" }, "seller_region: must not be empty"},
		{"zero amount", func(in *Input) { in.Amount.Minor = 0 }, "amount.minor: the disputed amount must be positive"},
		{"bad currency", func(in *Input) { in.Amount.Currency = "eur" }, `amount.currency: want an ISO 4217 code such as EUR, got "eur"`},
		{"unknown reason", func(in *Input) { in.Reason = "changed_mind" }, `reason: want one of not_received, not_as_described, account_taken_back, unauthorised, got "changed_mind"`},
		{"no description", func(in *Input) { in.Description = "" }, "description: must not be empty"},
		{"bad evidence", func(in *Input) { in.Evidence[0].SHA256 = "xyz" }, "evidence[0].sha256: want 64 lowercase hex digits"},
		{"no opening time", func(in *Input) { in.OpenedAt = time.Time{} }, "opened_at"},
		{"no business days", func(in *Input) { in.Policy.RespondBusinessDays = 0 }, "policy.respond_business_days: want at least 1, got 0"},
		{"bad calendar", func(in *Input) { in.Policy.SellerCalendar.TimeZone = "Mars/Olympus_Mons" }, `policy.seller_calendar: time zone "Mars/Olympus_Mons"`},
		{"no appeal window", func(in *Input) { in.Policy.AppealWindow = 0 }, "appeal_window must be positive"},
		{"no offer window", func(in *Input) { in.Policy.OfferAnswerWithin = -time.Hour }, "offer_answer_within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput()
			tt.change(&in)
			err := in.Validate()
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "want a refusal, got %v", err)
			assert.Equal(t, vocab.ErrInvalidArgument, appErr.Type())
			assert.Contains(t, appErr.Message(), tt.want)
		})
	}
}

func TestValidateNamesEveryProblemAtOnce(t *testing.T) {
	in := testInput()
	in.OrderID, in.SellerID, in.Reason = "", "", "x"
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(in.Validate(), &appErr))
	for _, want := range []string{"order_id", "seller_id", "reason"} {
		assert.Contains(t, appErr.Message(), want)
	}
}

func TestValidateRefusesACalendarWithoutBusinessDays(t *testing.T) {
	in := testInput()
	// No open hours: the seller would never have a business day to answer in.
	in.Policy.SellerCalendar = sla.Calendar{Name: "closed", TimeZone: "Europe/Paris"}
	err := in.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no opening hours")
}

func TestDefaultPolicyIsTheMarketplacesWindows(t *testing.T) {
	p := DefaultPolicy(parisSeller)
	assert.Equal(t, 3, p.RespondBusinessDays)
	assert.True(t, p.DecideForBuyerOnSilence)
	assert.Equal(t, 72*time.Hour, p.OfferAnswerWithin)
	assert.Equal(t, 5*24*time.Hour, p.ReviewWithin)
	assert.Equal(t, 30*24*time.Hour, p.AppealWindow)
	assert.Equal(t, parisSeller, p.SellerCalendar)
}

func TestChildOptionsStartTheDisputeAwaitingTheSeller(t *testing.T) {
	opts := ChildOptions(testInput(), "handoff")
	assert.Equal(t, "dispute/DP-1", opts.WorkflowID)
	assert.Equal(t, "handoff", opts.TaskQueue)
	assert.Equal(t, enumspb.PARENT_CLOSE_POLICY_ABANDON, opts.ParentClosePolicy, "the dispute outlives its case")
	assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, opts.WorkflowIDReusePolicy)
	assert.Equal(t, "Dispute DP-1 · order ord-1 · not_received", opts.StaticSummary)
	sa := opts.TypedSearchAttributes
	status, _ := sa.GetKeywordList(vocab.DisputeStatusKey)
	assert.Equal(t, []string{string(StatusAwaitingSeller)}, status)
	due, ok := sa.GetTime(vocab.RespondByKey)
	require.True(t, ok)
	assert.Equal(t, sellerDue, due, "three business days of the Paris calendar, Whit Monday off")
	for key, want := range map[temporal.SearchAttributeKeyKeyword]string{
		vocab.SellerIDKey: "sel-1", vocab.OrderIDKey: "ord-1", vocab.CustomerIDKey: "buy-1",
	} {
		got, _ := sa.GetKeyword(key)
		assert.Equal(t, want, got, key.GetName())
	}
}

func TestNotifiedEventsAreTheDisputesNotices(t *testing.T) {
	assert.ElementsMatch(t, []string{"dispute_seller_notice", "dispute_seller_late", "dispute_offer", "dispute_decided",
		"dispute_appeal_open", "dispute_review_needed"}, NotifiedEvents)
}

func TestThePolicyFilesDefaultTermsAreTheDefaultPolicy(t *testing.T) {
	cal := sla.Calendar{TimeZone: "UTC", AlwaysOpen: true}
	assert.Equal(t, DefaultPolicy(cal), PolicyFrom(sla.DefaultDisputeTerms, cal))
}

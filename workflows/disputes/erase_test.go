package disputes

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/workflows/vocab"
)

func TestErasureDropsTheBuyersDataFromTheRunningDisputeAndTellsOnlyTheSeller(t *testing.T) {
	dt := newDisputeTest(t)
	statement := "Bea logged in herself on the 20th, see the chat"
	dt.at(time.Hour, func() {
		dt.mustUpdate(UpdateSellerRespond, SellerResponse{Actor: "seller:sel-1", Kind: RespondContest, Statement: statement})
	})
	erase := vocab.EraseCustomer{ErasureID: "E-1", CustomerID: "buy-1", RequestedBy: "admin:dpo"}
	pii := []string{"bea@example.com", "Bea", statement, testInput().Description}
	var toldBefore int
	var reportedBefore []string
	dt.at(2*time.Hour, func() {
		require.Equal(t, StatusUnderReview, dt.view().Status)
		raw := string(mustJSON(t, dt.view()))
		require.Contains(t, raw, statement, "the seller's statement is in the state before")
		require.Contains(t, raw, testInput().Description, "the buyer's claim is in the state before")
		toldBefore, reportedBefore = len(dt.told(vocab.AudienceCustomer)), dt.reported()
		dt.env.SignalWorkflow(vocab.SignalEraseCustomer, vocab.EraseCustomer{ErasureID: "E-0", CustomerID: "someone-else", RequestedBy: "admin:dpo"})
		dt.env.SignalWorkflow(vocab.SignalEraseCustomer, erase)
		dt.env.SignalWorkflow(vocab.SignalEraseCustomer, erase)
	})
	dt.at(3*time.Hour, func() {
		v := dt.view()
		raw := string(mustJSON(t, v))
		for _, p := range pii {
			assert.NotContains(t, raw, p)
		}
		assert.Equal(t, "buy-1", v.BuyerID)
		assert.Equal(t, ReasonNotReceived, v.Reason, "a reason of the list stays")
		assert.Equal(t, disputed, v.Amount)
		assert.Equal(t, StatusUnderReview, v.Status)
		assert.Equal(t, vocab.ErasedText, v.SellerResponse.Statement)
		n := 0
		for _, e := range v.Timeline {
			if e.Kind == vocab.EventDataErased {
				n++
				assert.Equal(t, "admin:dpo", e.Actor)
				assert.Equal(t, "E-1", e.Payload["erasure_id"])
			}
		}
		assert.Equal(t, 1, n, "one erasure recorded")
		assert.Equal(t, reportedBefore, dt.reported(), "the erasure is not reported: the case records its own")
		dt.mustUpdate(UpdateDecide, DecideInput{Actor: "trust_safety:tess", Outcome: OutcomeRefundFull, Reason: "no proof of the login"})
	})
	final := dt.run(testInput())
	assert.Equal(t, StatusClosed, final.Status, "the dispute goes on to its end")
	dt.mu.Lock()
	require.Len(t, dt.refunds, 1, "the money still moves")
	dt.mu.Unlock()
	after := dt.told(vocab.AudienceCustomer)[toldBefore:]
	assert.NotEmpty(t, after, "the seller is still told")
	for _, event := range after {
		assert.Equal(t, NoticeSeller, event, "an erased buyer is told nothing")
	}
	assert.Contains(t, dt.reported(), EventResolved, "the case still hears every step")
}

func TestAnErasedDisputeViewKeepsIdsAmountsAndFunds(t *testing.T) {
	dec := Decision{N: 1, Outcome: OutcomeDeny, Amount: eur(0), Reason: "Bea had the account", Party: PartyTrustSafety}
	v := View{ID: "DP-1", BuyerID: "buy-1", Amount: disputed, Reason: ReasonNotReceived, Status: StatusResolved,
		SellerResponse: &SellerResponse{Actor: "seller:s", Kind: RespondContest, Statement: "Bea lies"},
		Decision:       &dec, Decisions: []Decision{dec},
		Appeal: &Appeal{Party: PartyBuyer, Reason: "Bea never got it"},
		Funds:  Funds{HoldState: HoldReleased, Refunded: eur(0)}}
	e := v.Erased()
	assert.NotContains(t, string(mustJSON(t, e)), "Bea")
	assert.Equal(t, vocab.ErasedText, e.Decisions[0].Reason)
	assert.Equal(t, vocab.ErasedText, e.Decision.Reason)
	assert.Equal(t, vocab.ErasedText, e.Appeal.Reason)
	assert.Equal(t, ReasonNotReceived, e.Reason)
	assert.Equal(t, v.Funds, e.Funds)
	assert.Equal(t, "buy-1", e.BuyerID)
	assert.True(t, slices.Equal([]string{"Bea had the account"}, []string{v.Decisions[0].Reason}), "the view erased from is not changed")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}

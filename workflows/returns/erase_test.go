package returns

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/workflows/vocab"
)

func TestErasureDropsTheBuyersDataFromTheRunningReturnAndTellsThemNothingMore(t *testing.T) {
	rt := newReturnTest(t)
	rt.refundStatus = vocab.MovementPending
	rt.receivedAt(time.Hour, 2*time.Hour)
	seller := "Bea Martin dropped it, the lid is cracked"
	rt.at(3*time.Hour, func() {
		rt.mustUpdate(UpdateInspect, InspectInput{Actor: "seller:sel-1", Outcome: OutcomeRefundPartial,
			Amount: vocab.Money{Minor: 1500, Currency: "EUR"}, Reason: seller})
	})
	erase := vocab.EraseCustomer{ErasureID: "E-1", CustomerID: "buy-1", RequestedBy: "admin:dpo"}
	var toldBefore, reportedBefore int
	rt.at(day, func() {
		require.Equal(t, StatusRefunding, rt.view().Status, "the refund waits for its settlement")
		require.Contains(t, string(mustJSON(t, rt.view())), seller, "the seller's words are in the state before")
		toldBefore, reportedBefore = len(rt.told()), len(rt.caseEvents())
		rt.env.SignalWorkflow(vocab.SignalEraseCustomer, vocab.EraseCustomer{ErasureID: "E-0", CustomerID: "someone-else", RequestedBy: "admin:dpo"})
		rt.env.SignalWorkflow(vocab.SignalEraseCustomer, erase)
		rt.env.SignalWorkflow(vocab.SignalEraseCustomer, erase)
	})
	rt.at(day+time.Hour, func() {
		v := rt.view()
		raw := string(mustJSON(t, v))
		for _, pii := range []string{"bea@example.com", "Bea", seller} {
			assert.NotContains(t, raw, pii)
		}
		assert.Equal(t, "buy-1", v.Buyer.ID)
		assert.Equal(t, "fr", v.Buyer.Locale, "the locale is no personal data")
		assert.Equal(t, ReasonDefective, v.Reason, "a reason of the list stays")
		assert.Equal(t, StatusRefunding, v.Status)
		assert.Equal(t, vocab.Money{Minor: 1500, Currency: "EUR"}, v.Amount)
		assert.Equal(t, vocab.ErasedText, v.Inspection.Reason)
		assert.Equal(t, vocab.ErasedText, find(v.Timeline, EventInspected).Payload["reason"])
		assert.Equal(t, 1, count(kinds(v.Timeline), vocab.EventDataErased), "one erasure recorded")
		e := find(v.Timeline, vocab.EventDataErased)
		assert.Equal(t, "admin:dpo", e.Actor)
		assert.Equal(t, "E-1", e.Payload["erasure_id"])
		assert.Len(t, rt.caseEvents(), reportedBefore, "the erasure is not reported: the case records its own")
		rt.env.SignalWorkflow(SignalPaymentResult, vocab.PaymentResult{EventID: "pe-1", MovementID: "mv-1",
			Key: RefundKey("R-1"), Status: vocab.MovementSucceeded})
	})
	final := rt.run(testInput())
	assert.Equal(t, StatusRefunded, final.Status, "the return goes on")
	assert.Contains(t, rt.caseKinds(), EventRefunded, "the case still hears every step")
	assert.Len(t, rt.told(), toldBefore, "an erased buyer is not told the refund")
	assert.Contains(t, rt.toldEvents(), NoticeLabel, "the buyer was told before the erasure")
}

func TestAnErasedViewKeepsIdsAmountsAndStatusesOnly(t *testing.T) {
	v := View{ID: "R-1", Buyer: vocab.Customer{ID: "buy-1", Email: "bea@example.com", Name: "Bea", Locale: "en"},
		Reason: "my own words", Status: StatusRejected, StatusReason: "Bea broke it",
		NextAction: "nothing: the return is rejected (Bea broke it)", Amount: paid,
		Inspection: &Inspection{Actor: "seller:s-1", Outcome: OutcomeReject, Reason: "Bea broke it"},
		Approval:   &Approval{Actor: "trust_safety:t", Reason: "no"}}
	e := v.Erased()
	raw := string(mustJSON(t, e))
	for _, pii := range []string{"bea@example.com", "Bea", "my own words"} {
		assert.NotContains(t, raw, pii)
	}
	assert.Equal(t, "nothing: the return is rejected ([erased])", e.NextAction)
	assert.Equal(t, vocab.ErasedText, e.Reason, "a reason off the list is the buyer's words")
	assert.Equal(t, vocab.ErasedText, e.Approval.Reason)
	assert.Equal(t, "R-1", e.ID)
	assert.Equal(t, StatusRejected, e.Status)
	assert.Equal(t, paid, e.Amount)
	assert.Equal(t, "Bea broke it", v.Inspection.Reason, "the view erased from is not changed")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}

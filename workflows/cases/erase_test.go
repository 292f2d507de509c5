package cases

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"handoff/workflows/disputes"
	"handoff/workflows/vocab"
)

func TestErasureDropsTheCustomersDataFromTheRunningCase(t *testing.T) {
	ct := newCaseTest(t)
	in := testInput(vocab.P1)
	erase := vocab.EraseCustomer{ErasureID: "E-1", CustomerID: in.Customer.ID, RequestedBy: "admin:dpo"}
	ct.at(time.Minute, func() {
		ct.env.SignalWorkflow(SignalCustomerMessage, MessageInput{Actor: "email:ada@example.com", Body: "My card ends 4242, Ada Lovelace"})
	})
	ct.at(2*time.Minute, func() {
		ct.mustUpdate(UpdateReply, MessageInput{Actor: "agent:bo", Body: "Thanks Ada, looking"})
	})
	ct.at(3*time.Minute, func() {
		ct.env.SignalWorkflow(vocab.SignalEraseCustomer, vocab.EraseCustomer{ErasureID: "E-0", CustomerID: "someone-else", RequestedBy: "admin:dpo"})
		ct.env.SignalWorkflow(vocab.SignalEraseCustomer, erase)
		ct.env.SignalWorkflow(vocab.SignalEraseCustomer, erase) // sent twice, done once
	})
	ct.at(4*time.Minute, func() {
		v := ct.view()
		raw, _ := json.Marshal(v)
		for _, pii := range []string{"ada@example.com", "Ada", "4242", "Cannot log in", "The code never arrives"} {
			assert.NotContains(t, string(raw), pii, "the case still holds %q after its erasure", pii)
		}
		assert.Equal(t, 1, count(v.Timeline, vocab.EventDataErased), "one erasure recorded, the other customer's ignored")
		last := v.Timeline[len(v.Timeline)-1]
		assert.Equal(t, "admin:dpo", last.Actor)
		assert.Equal(t, "E-1", last.Payload["erasure_id"])
		assert.Equal(t, in.Customer.ID, v.Customer.ID, "the case still names its customer by id")
		ct.mu.Lock()
		projected := ct.projected[len(ct.projected)-1]
		ct.mu.Unlock()
		raw, _ = json.Marshal(projected)
		assert.NotContains(t, string(raw), "ada@example.com", "the read model is written the erased view")
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
	})
	ct.run(in)
	ct.mu.Lock()
	defer ct.mu.Unlock()
	for _, n := range ct.sent {
		if n.Audience == vocab.AudienceCustomer {
			assert.NotEqual(t, EventResolved, n.Event, "an erased customer is not written to")
		}
	}
}

// An erased customer hears nothing more, but the seller of the case's
// dispute does: the dispute's seller notice rides the customer audience.
func TestAnErasedCaseStillTellsTheSellerOfItsDispute(t *testing.T) {
	ct := newCaseTest(t)
	in := testInput(vocab.P1)
	ct.at(time.Minute, func() {
		ct.env.SignalWorkflow(vocab.SignalEraseCustomer, vocab.EraseCustomer{ErasureID: "E-1", CustomerID: in.Customer.ID, RequestedBy: "admin:dpo"})
	})
	ct.at(2*time.Minute, func() {
		ct.env.SignalWorkflow(vocab.SignalCaseEvent, vocab.CaseEvent{Kind: disputes.EventSellerLate, Tell: []vocab.Notice{
			{Audience: vocab.AudienceCustomer, Event: disputes.NoticeSeller, Detail: "seller S-1: answer by Friday"},
			{Audience: vocab.AudienceCustomer, Event: disputes.NoticeDecided, Detail: "refunded"},
		}})
	})
	ct.resolveAt(3 * time.Minute)
	ct.run(in)
	assert.Equal(t, 1, ct.notified(disputes.NoticeSeller, vocab.AudienceCustomer), "the seller is told")
	assert.Zero(t, ct.notified(disputes.NoticeDecided, vocab.AudienceCustomer), "the erased buyer is not")
}

package deliveries

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"handoff/workflows/vocab"
)

func TestErasureDropsTheBuyersDataAndStopsWritingToThem(t *testing.T) {
	dt := newDeliveryTest(t)
	dt.delivered(time.Minute)
	erase := vocab.EraseCustomer{ErasureID: "E-1", CustomerID: "buy-1", RequestedBy: "admin:dpo"}
	dt.at(time.Hour, func() {
		dt.env.SignalWorkflow(vocab.SignalEraseCustomer, vocab.EraseCustomer{ErasureID: "E-0", CustomerID: "someone-else", RequestedBy: "admin:dpo"})
		dt.env.SignalWorkflow(vocab.SignalEraseCustomer, erase)
		dt.env.SignalWorkflow(vocab.SignalEraseCustomer, erase)
	})
	var toldBefore int
	dt.at(2*time.Hour, func() {
		v := dt.view()
		raw, _ := json.Marshal(v)
		for _, pii := range []string{"bea@example.com", "Bea"} {
			assert.NotContains(t, string(raw), pii)
		}
		n := 0
		for _, e := range v.Timeline {
			if e.Kind == vocab.EventDataErased {
				n++
			}
		}
		assert.Equal(t, 1, n, "one erasure recorded")
		assert.Equal(t, "buy-1", v.Buyer.ID)
		toldBefore = len(dt.told())
		dt.mustUpdate(UpdateRetire, ReasonInput{Actor: "trust_safety:tess", Reason: "order cancelled"})
	})
	final := dt.run(testInput())
	assert.Equal(t, StatusRetired, final.Status)
	assert.Len(t, dt.told(), toldBefore, "an erased buyer is not written to")
}

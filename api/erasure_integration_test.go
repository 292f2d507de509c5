//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/disputes"
	"handoff/workflows/erasure"
	"handoff/workflows/returns"
	"handoff/workflows/vocab"
)

// awaitErasure reads erasure id until it is done, failing t after a minute.
func (s *caseStack) awaitErasure(t *testing.T, location string) erasure.Result {
	t.Helper()
	var res erasure.Result
	require.Eventually(t, func() bool {
		r := s.as(t, store.RoleAdmin, http.MethodGet, location, nil)
		if r.Status != http.StatusOK {
			return false
		}
		require.NoError(t, json.Unmarshal(r.Body, &res))
		return res.Status == erasure.StatusErased
	}, time.Minute, 200*time.Millisecond, "the erasure at %s never finished", location)
	return res
}

// readModelText answers every text the read model keeps of customer's
// cases: rows, views, timeline events, file records, inbound mail and
// notification targets; and of their deliveries, returns and disputes.
func (s *caseStack) readModelText(t *testing.T, customerID string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT row_to_json(c)::text FROM cases c WHERE customer_id = $1`,
		`SELECT row_to_json(e)::text FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.customer_id = $1`,
		`SELECT row_to_json(e)::text FROM evidence e JOIN cases c ON c.id = e.case_id WHERE c.customer_id = $1`,
		`SELECT row_to_json(n)::text FROM notification_deliveries n JOIN cases c ON c.id = n.case_id WHERE c.customer_id = $1`,
		`SELECT row_to_json(d)::text FROM deliveries d WHERE buyer_id = $1`,
		`SELECT row_to_json(e)::text FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id WHERE d.buyer_id = $1`,
		`SELECT row_to_json(r)::text FROM returns r WHERE customer_id = $1`,
		`SELECT row_to_json(e)::text FROM return_events e JOIN returns r ON r.id = e.return_id WHERE r.customer_id = $1`,
		`SELECT row_to_json(d)::text FROM disputes d WHERE customer_id = $1`,
		`SELECT row_to_json(e)::text FROM dispute_events e JOIN disputes d ON d.id = e.dispute_id WHERE d.customer_id = $1`,
	} {
		rows, err := s.db.Pool().Query(stacktest.Context(t), q, customerID)
		require.NoError(t, err)
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			b.WriteString(line + "\n")
		}
		require.NoError(t, rows.Err())
	}
	return b.String()
}

func TestErasureLeavesNoPersonalDataInPostgresS3OrARunningCase(t *testing.T) {
	s := newCaseStack(t)
	base := s.evidenceAPI(t, nil)
	c3 := stacktest.S3(t)
	bucket := s.cfg.S3.Bucket

	// One customer, three cases: a running login failure with a file, a
	// running dispute with a file under legal hold, and one whose workflow ended.
	body := newCaseBody(vocab.CategoryLoginFailure)
	body.Customer.Name = "Grace Erasable-" + unique()
	body.Description = "My phone is +44 7700 " + unique()
	customer := body.Customer
	pii := []string{customer.Email, customer.Name, body.Subject, body.Description}
	running := s.open(t, store.RoleIntegration, body)
	reply := "Hello " + customer.Name + ", we are on it"
	require.Equal(t, http.StatusOK, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+running.ID+"/replies", map[string]any{"body": reply}).Status)
	pii = append(pii, reply)
	note := "screenshot of " + customer.Email
	file := evidenceOf(t, s.sendUpload(t, base, store.RoleIntegration, running.ID,
		upload{kind: "delivery_screenshot", note: note, claimed: "image/png", body: bytes.NewReader(pngBytes(t, 2000))}), http.StatusCreated).Evidence

	dispute := newCaseBody(vocab.CategoryDispute)
	dispute.Customer = customer
	dispute.OrderID = "ord-" + unique()
	held := s.open(t, store.RoleIntegration, dispute)
	pii = append(pii, dispute.Subject)
	heldFile := evidenceOf(t, s.sendUpload(t, base, store.RoleTrustSafety, held.ID,
		upload{kind: "dispute_document", claimed: "application/pdf", body: bytes.NewReader([]byte("%PDF-1.7\n" + unique()))}), http.StatusCreated).Evidence
	require.True(t, heldFile.Retained)

	// And a running delivery they are the buyer of.
	delivery := newDeliveryBody()
	delivery.Buyer = buyerBody{ID: customer.ID, Email: customer.Email, Name: customer.Name, Locale: "en"}
	recoveryEmail := delivery.RecoveryPath.Email
	bought := s.startDelivery(t, delivery)
	pii = append(pii, recoveryEmail)

	// A dispute on the dispute case, which the seller contests naming the
	// buyer, running under review.
	disputeBody := validDisputeBody()
	disputeBody.OrderID = ""
	disputeBody.Description = "Claim of " + customer.Name + ": the account was not the one advertised " + unique()
	disputed := s.openDispute(t, store.RoleIntegration, held.ID, disputeBody).Dispute
	s.awaitDispute(t, disputed.ID, awaitingSeller)
	statement := customer.Name + " logged in from her flat, " + unique()
	require.Equal(t, http.StatusOK, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/disputes/"+disputed.ID+"/seller-response",
		map[string]string{"kind": "contest", "statement": statement}).Status)
	pii = append(pii, disputeBody.Description, statement)

	// And on a return case, a return cancelled with the buyer's words
	// (ended), then one waiting for the parcel (running).
	returnBody := newCaseBody(vocab.CategoryReturnRequest)
	returnBody.Customer = customer
	returned := s.open(t, store.RoleIntegration, returnBody)
	pii = append(pii, returnBody.Subject)
	itemBody := validReturnBody()
	itemBody.From = addressBody{Name: customer.Name, Line1: "12 Erasable Lane " + unique(), City: "Leeds", PostalCode: "LS1 4AP", Country: "GB"}
	itemBody.Description = "It arrived cracked, " + unique()
	cancelled := s.startReturn(t, store.RoleIntegration, returned.ID, itemBody).Return
	s.awaitReturn(t, cancelled.ID, func(v returns.View) bool { return v.Status == returns.StatusLabelSent })
	cancelReason := customer.Name + " bought one in town, " + unique()
	require.Equal(t, http.StatusOK, s.as(t, store.RoleAgent, http.MethodPost, "/v1/returns/"+cancelled.ID+"/cancel",
		map[string]string{"reason": cancelReason}).Status)
	pii = append(pii, cancelReason, itemBody.From.Line1)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		c := s.get(t, returned.ID)
		require.NotNil(ct, c.Return)
		assert.False(ct, c.Return.Running, "the case hears its first return ended")
	}, 30*time.Second, 200*time.Millisecond)
	runningReturn := s.startReturn(t, store.RoleIntegration, returned.ID, itemBody).Return
	s.awaitReturn(t, runningReturn.ID, func(v returns.View) bool { return v.Status == returns.StatusLabelSent })

	endedBody := newCaseBody(vocab.CategoryOrderIssue)
	endedBody.Customer = customer
	ended := s.open(t, store.RoleIntegration, endedBody)
	pii = append(pii, endedBody.Subject)
	require.Eventually(t, func() bool { return strings.Contains(s.readModelText(t, customer.ID), ended.ID) }, 10*time.Second, 100*time.Millisecond)
	require.NoError(t, s.tc.TerminateWorkflow(stacktest.Context(t), cases.CaseWorkflowID(ended.ID), "", "ended for the test"))
	require.Eventually(t, func() bool {
		text := s.readModelText(t, customer.ID)
		return strings.Contains(text, note) && strings.Contains(text, reply) && strings.Contains(text, recoveryEmail) &&
			strings.Contains(text, statement) && strings.Contains(text, disputeBody.Description) && strings.Contains(text, cancelReason) &&
			strings.Contains(text, runningReturn.ID)
	}, 10*time.Second, 100*time.Millisecond, "the cases, returns and disputes never reached the read model")

	// Only an admin may erase.
	problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/customers/"+customer.ID+"/erasure", nil), http.StatusForbidden)
	r := s.as(t, store.RoleAdmin, http.MethodPost, "/v1/customers/"+customer.ID+"/erasure", nil, "Idempotency-Key", "erase-"+customer.ID)
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r)
	location := r.Header.Get("Location")
	require.True(t, strings.HasPrefix(location, "/v1/erasures/E-"), location)
	again := s.as(t, store.RoleAdmin, http.MethodPost, "/v1/customers/"+customer.ID+"/erasure", nil, "Idempotency-Key", "erase-"+customer.ID)
	assert.Equal(t, location, again.Header.Get("Location"), "the same key answers the same erasure")

	res := s.awaitErasure(t, location)
	require.NoError(t, s.tc.GetWorkflow(stacktest.Context(t), erasure.WorkflowID(res.ID), "").Get(stacktest.Context(t), nil))
	done := s.as(t, store.RoleAdmin, http.MethodPost, "/v1/customers/"+customer.ID+"/erasure", nil, "Idempotency-Key", "erase-"+customer.ID)
	require.Equal(t, http.StatusAccepted, done.Status, "%s", done)
	var repeated erasure.Result
	require.NoError(t, json.Unmarshal(done.Body, &repeated))
	assert.Equal(t, erasure.StatusErased, repeated.Status, "the same key after the erasure ended answers its result")
	assert.ElementsMatch(t, []string{running.ID, held.ID, ended.ID, returned.ID}, res.Cases)
	assert.ElementsMatch(t, []string{running.ID, held.ID, returned.ID}, res.RunningCases)
	assert.Equal(t, 4, res.ReadModel.Cases)
	assert.Equal(t, []string{cancelled.ID, runningReturn.ID}, res.Returns)
	assert.Equal(t, []string{runningReturn.ID}, res.RunningReturns)
	assert.Equal(t, 2, res.ReadModel.Returns)
	assert.Equal(t, []string{disputed.ID}, res.Disputes)
	assert.Equal(t, []string{disputed.ID}, res.RunningDisputes)
	assert.Equal(t, 1, res.ReadModel.Disputes)
	assert.Equal(t, []string{bought.ID}, res.Deliveries)
	assert.Equal(t, []string{bought.ID}, res.RunningDeliveries)
	assert.Equal(t, 1, res.ReadModel.Deliveries)
	assert.Equal(t, []string{file.Key}, res.Evidence.Deleted)
	require.Len(t, res.Evidence.Held, 1, "the file under legal hold is kept and listed")
	assert.Equal(t, heldFile.Key, res.Evidence.Held[0].Key)
	assert.WithinDuration(t, time.Now().Add(24*time.Hour), res.Evidence.Held[0].RetainUntil, 5*time.Minute)
	assert.Equal(t, s.actor(store.RoleAdmin), res.RequestedBy)

	// Postgres: nothing of the customer but the id.
	text := s.readModelText(t, customer.ID)
	for _, p := range pii {
		assert.NotContains(t, text, p, "the read model still holds %q", p)
	}
	// Each case's timeline says who erased what.
	for _, id := range []string{running.ID, held.ID, ended.ID, returned.ID} {
		var erased []vocab.Event
		for _, ev := range s.timeline(t, id) {
			if ev.Kind == vocab.EventDataErased {
				erased = append(erased, ev)
			}
		}
		require.Len(t, erased, 1, "case %s records its erasure once", id)
		assert.Equal(t, s.actor(store.RoleAdmin), erased[0].Actor)
		assert.Equal(t, res.ID, erased[0].Payload["erasure_id"])
	}
	// So does each return's and dispute's, once.
	for _, tl := range []struct {
		table, fk, id string
	}{{"return_events", "return_id", cancelled.ID}, {"return_events", "return_id", runningReturn.ID}, {"dispute_events", "dispute_id", disputed.ID}} {
		var actors []string
		rows, err := s.db.Pool().Query(stacktest.Context(t), `SELECT actor FROM `+tl.table+` WHERE `+tl.fk+` = $1 AND kind = $2 AND payload->>'erasure_id' = $3`,
			tl.id, vocab.EventDataErased, res.ID)
		require.NoError(t, err)
		actors, err = pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		assert.Equal(t, []string{s.actor(store.RoleAdmin)}, actors, "%s records its erasure once", tl.id)
	}
	// S3: no version of the erased file is left; the held one stays.
	assert.Empty(t, versions(t, c3, bucket, file.Key), "every version of the file is deleted")
	assert.Len(t, versions(t, c3, bucket, heldFile.Key), 1)
	// The running workflows' state: what their query answers.
	for _, id := range []string{running.ID, held.ID} {
		q, err := s.tc.QueryWorkflow(stacktest.Context(t), cases.CaseWorkflowID(id), "", cases.QueryCase)
		require.NoError(t, err)
		var v cases.CaseView
		require.NoError(t, q.Get(&v))
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		for _, p := range pii {
			assert.NotContains(t, string(raw), p, "case %s's workflow still holds %q", id, p)
		}
		assert.Equal(t, customer.ID, v.Customer.ID)
	}

	q, err := s.tc.QueryWorkflow(stacktest.Context(t), deliveries.DeliveryWorkflowID(bought.ID), "", deliveries.QueryDelivery)
	require.NoError(t, err)
	var dv deliveries.DeliveryView
	require.NoError(t, q.Get(&dv))
	raw, err := json.Marshal(dv)
	require.NoError(t, err)
	for _, p := range pii {
		assert.NotContains(t, string(raw), p, "delivery %s's workflow still holds %q", bought.ID, p)
	}
	rq, err := s.tc.QueryWorkflow(stacktest.Context(t), returns.WorkflowID(runningReturn.ID), "", returns.QueryReturn)
	require.NoError(t, err)
	var rv returns.View
	require.NoError(t, rq.Get(&rv))
	assert.Equal(t, returns.StatusLabelSent, rv.Status, "the return goes on")
	assert.Equal(t, customer.ID, rv.Buyer.ID)
	dq, err := s.tc.QueryWorkflow(stacktest.Context(t), disputes.WorkflowID(disputed.ID), "", disputes.QueryDispute)
	require.NoError(t, err)
	var pv disputes.View
	require.NoError(t, dq.Get(&pv))
	assert.Equal(t, disputes.StatusUnderReview, pv.Status, "the dispute goes on")
	for id, v := range map[string]any{runningReturn.ID: rv, disputed.ID: pv} {
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		for _, p := range pii {
			assert.NotContains(t, string(raw), p, "%s's workflow still holds %q", id, p)
		}
	}

	// A case opened afterwards for the same customer is untouched.
	later := newCaseBody(vocab.CategoryLoginFailure)
	later.Customer = customer
	fresh := s.open(t, store.RoleIntegration, later)
	assert.Equal(t, customer.Email, fresh.Customer.Email)
	require.Eventually(t, func() bool { return strings.Contains(s.readModelText(t, customer.ID), customer.Email) }, 10*time.Second, 100*time.Millisecond,
		"the later case keeps the customer's email")

	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		stacktest.WriteHistory(t, s.tc, erasure.WorkflowID(res.ID), "",
			filepath.Join("..", "workflows", "erasure", "testdata", "erasure-"+name+".json"))
		stacktest.WriteHistory(t, s.tc, cases.CaseWorkflowID(running.ID), "",
			filepath.Join("..", "workflows", "cases", "testdata", "supportcase-erased-"+name+".json"))
		stacktest.WriteHistory(t, s.tc, deliveries.DeliveryWorkflowID(bought.ID), "",
			filepath.Join("..", "workflows", "deliveries", "testdata", "accountdelivery-erased-"+name+".json"))
		stacktest.WriteHistory(t, s.tc, returns.WorkflowID(runningReturn.ID), "",
			filepath.Join("..", "workflows", "returns", "testdata", "return-erased-"+name+".json"))
		stacktest.WriteHistory(t, s.tc, disputes.WorkflowID(disputed.ID), "",
			filepath.Join("..", "workflows", "disputes", "testdata", "dispute-erased-"+name+".json"))
	}
}

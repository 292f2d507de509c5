//go:build integration

package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/disputes"
	"handoff/workflows/erasure"
	"handoff/workflows/returns"
	"handoff/workflows/vocab"
)

// customerText answers every row the read model keeps of the customer's
// returns and disputes and of their timeline events, as text.
func customerText(t *testing.T, db *store.Store, customerID string) string {
	t.Helper()
	rows, err := db.Pool().Query(stacktest.Context(t), `
SELECT row_to_json(r)::text FROM returns r WHERE customer_id = $1
UNION ALL SELECT row_to_json(e)::text FROM return_events e JOIN returns r ON r.id = e.return_id WHERE r.customer_id = $1
UNION ALL SELECT row_to_json(d)::text FROM disputes d WHERE customer_id = $1
UNION ALL SELECT row_to_json(e)::text FROM dispute_events e JOIN disputes d ON d.id = e.dispute_id WHERE d.customer_id = $1`, customerID)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	slices.Sort(lines) // the same rows read twice compare equal
	return strings.Join(lines, "\n")
}

func TestErasurePseudonymisesTheEndedReturnsAndDisputesOfTheCustomerOnly(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	said := "Grace " + tag + " threw it at the wall"

	r := newItemReturn(tag, "a")
	r.Buyer = vocab.Customer{ID: "cus-" + tag, Email: "grace-" + tag + "@example.com", Name: "Grace " + tag, Locale: "en"}
	r.Status, r.StatusReason = returns.StatusRejected, said
	r.NextAction = "nothing: the return is rejected (" + said + ")"
	r.Inspection = &returns.Inspection{Actor: "seller:s", Outcome: returns.OutcomeReject, Reason: said, At: now}
	projectReturn(t, db, r,
		vocab.Event{Seq: 1, Actor: "customer:cus-" + tag, Kind: returns.EventRequested, At: now, Payload: vocab.Payload("reason", returns.ReasonDamaged)},
		vocab.Event{Seq: 2, Actor: "seller:s", Kind: returns.EventInspected, At: now, Payload: vocab.Payload("reason", said, "outcome", "reject")},
		vocab.Event{Seq: 3, Actor: "seller:s", Kind: returns.EventRejected, At: now, Payload: vocab.Payload("reason", said)})

	d := newBuyerDispute(tag, "a")
	d.Status = disputes.StatusClosed
	d.SellerResponse = &disputes.SellerResponse{Actor: "seller:s", Kind: disputes.RespondContest, Statement: said}
	dec := disputes.Decision{N: 1, Outcome: disputes.OutcomeDeny, Amount: vocab.Money{Currency: "EUR"}, Reason: said, Party: disputes.PartyTrustSafety, At: now}
	d.Decision, d.Decisions = &dec, []disputes.Decision{dec}
	projectDispute(t, db, d,
		vocab.Event{Seq: 1, Actor: "buyer:cus-" + tag, Kind: disputes.EventOpened, At: now, Payload: vocab.Payload("description", said, "buyer_id", "cus-"+tag)},
		vocab.Event{Seq: 2, Actor: "seller:s", Kind: disputes.EventContested, At: now, Payload: vocab.Payload("statement", said)})

	// Another buyer's return keeps its data.
	other := newItemReturn(tag+"x", "b")
	other.StatusReason = said
	projectReturn(t, db, other)

	before := customerText(t, db, "cus-"+tag)
	for _, pii := range []string{said, r.Buyer.Email, r.Buyer.Name} {
		require.Contains(t, before, pii, "the test's data is in the read model before")
	}
	found, err := db.CustomerRecords(ctx, "cus-"+tag)
	require.NoError(t, err)
	assert.Equal(t, []string{r.ID}, found.ReturnIDs)
	assert.Equal(t, []string{d.ID}, found.DisputeIDs)

	in := erasure.ReadModelInput{Erasure: erasure.Input{ID: "E-" + tag, CustomerID: "cus-" + tag, RequestedBy: "admin:dpo"},
		EndedReturns: found.ReturnIDs, EndedDisputes: found.DisputeIDs}
	out, err := db.EraseCustomerCases(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, 1, out.Returns)
	assert.Equal(t, 1, out.Disputes)
	assert.Equal(t, 3, out.ReturnEvents, "the request, the inspection and the rejection (every reason key)")
	assert.Equal(t, 2, out.DisputeEvents, "the opening and the contest")

	after := customerText(t, db, "cus-"+tag)
	for _, pii := range []string{said, r.Buyer.Email, r.Buyer.Name} {
		assert.NotContains(t, after, pii, "the read model still holds %q", pii)
	}
	got, err := db.GetReturn(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, "cus-"+tag, got.Buyer.ID)
	assert.Equal(t, returns.StatusRejected, got.Status)
	assert.Equal(t, returns.ReasonDamaged, got.Reason)
	assert.Equal(t, r.Paid, got.Paid)
	assert.Equal(t, 4, got.LastSeq, "the ended return's timeline records the erasure")
	gotD, err := db.GetDispute(ctx, d.ID)
	require.NoError(t, err)
	assert.Equal(t, d.Amount, gotD.Amount)
	assert.Equal(t, vocab.ErasedText, gotD.SellerResponse.Statement)
	assert.Equal(t, 3, gotD.LastSeq, "the ended dispute's timeline records the erasure")
	for _, id := range []string{r.ID, d.ID} {
		var n int
		require.NoError(t, db.Pool().QueryRow(ctx, `
SELECT (SELECT count(*) FROM return_events WHERE return_id = $1 AND kind = $2 AND payload->>'erasure_id' = $3 AND actor = 'admin:dpo')
     + (SELECT count(*) FROM dispute_events WHERE dispute_id = $1 AND kind = $2 AND payload->>'erasure_id' = $3 AND actor = 'admin:dpo')`,
			id, vocab.EventDataErased, in.Erasure.ID).Scan(&n))
		assert.Equal(t, 1, n, "%s records its erasure once", id)
	}

	// Again: nothing more changes, and the other buyer's return is untouched.
	again, err := db.EraseCustomerCases(ctx, in)
	require.NoError(t, err)
	assert.Zero(t, again.ReturnEvents+again.DisputeEvents)
	assert.Equal(t, after, customerText(t, db, "cus-"+tag))
	kept, err := db.GetReturn(ctx, other.ID)
	require.NoError(t, err)
	assert.Equal(t, said, kept.StatusReason)
	assert.Equal(t, other.Buyer.Email, kept.Buyer.Email)
}

func TestErasureWaitsForARunningReturnToProjectItsOwn(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)
	r := newItemReturn(tag, "a")
	projectReturn(t, db, r)
	in := erasure.ReadModelInput{Erasure: erasure.Input{ID: "E-" + tag, CustomerID: r.Buyer.ID, RequestedBy: "admin:dpo"},
		RunningReturns: []string{r.ID}}
	_, err := db.EraseCustomerCases(ctx, in)
	require.ErrorIs(t, err, store.ErrCaseNotErased)

	r.Buyer = r.Buyer.Erased()
	r.LastSeq = 4
	projectReturn(t, db, r, vocab.Event{Seq: 4, Actor: "admin:dpo", Kind: vocab.EventDataErased, At: time.Now(),
		Payload: vocab.Payload("erasure_id", in.Erasure.ID)})
	out, err := db.EraseCustomerCases(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, 1, out.Returns)
}

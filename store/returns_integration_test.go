//go:build integration

package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/disputes"
	"handoff/workflows/returns"
	"handoff/workflows/vocab"
)

// As for cases, every return and dispute made here carries a fresh tag in
// its ids and every list is scoped by an id only this test uses.

// newItemReturn answers a return waiting for its parcel, with id
// "R-"+tag+"-"+name, on case "C-"+tag, sold by "sel-"+tag to "cus-"+tag.
func newItemReturn(tag, name string) returns.View {
	now := *at(time.Now())
	arrive := now.Add(21 * 24 * time.Hour)
	return returns.View{
		ID: "R-" + tag + "-" + name, CaseID: "C-" + tag, OrderID: "ord-" + tag + "-" + name,
		Buyer:    vocab.Customer{ID: "cus-" + tag, Email: "b@example.com", Name: "B", Locale: "en"},
		SellerID: "sel-" + tag, Item: returns.Item{SKU: "HS-1", Name: "Headset", Returnable: true},
		Paid: vocab.Money{Minor: 4999, Currency: "EUR"}, Reason: returns.ReasonDamaged,
		Status: returns.StatusShipped, NextAction: "the carrier delivers the parcel",
		TrackingNumber: "TRK-" + name, WindowEndsAt: now.Add(27 * 24 * time.Hour),
		ArriveBy: &arrive, RespondBy: &arrive,
		CreatedAt: now.Add(-time.Hour), UpdatedAt: now, LastSeq: 3,
	}
}

// newBuyerDispute answers a dispute awaiting its seller, with id
// "P-"+tag+"-"+name, on case "C-"+tag, between "sel-"+tag and "cus-"+tag.
func newBuyerDispute(tag, name string) disputes.View {
	now := *at(time.Now())
	due := now.Add(72 * time.Hour)
	return disputes.View{
		ID: "P-" + tag + "-" + name, CaseID: "C-" + tag, OrderID: "ord-" + tag + "-" + name,
		BuyerID: "cus-" + tag, SellerID: "sel-" + tag, Amount: vocab.Money{Minor: 2500, Currency: "EUR"},
		Reason: disputes.ReasonNotAsDescribed, Status: disputes.StatusAwaitingSeller,
		Awaiting: disputes.PartySeller, RespondBy: &due, SellerDueAt: due, Decisions: []disputes.Decision{},
		Funds:    disputes.Funds{HoldState: disputes.HoldHeld, Refunds: []vocab.Movement{}, Refunded: vocab.Money{Currency: "EUR"}},
		OpenedAt: now.Add(-time.Hour), UpdatedAt: now, LastSeq: 2,
	}
}

func projectReturn(t *testing.T, db *store.Store, r returns.View, events ...vocab.Event) {
	t.Helper()
	require.NoError(t, db.ProjectReturn(stacktest.Context(t), returns.ProjectionInput{Return: r, Events: events}))
}

func projectDispute(t *testing.T, db *store.Store, d disputes.View, events ...vocab.Event) {
	t.Helper()
	require.NoError(t, db.ProjectDispute(stacktest.Context(t), disputes.ProjectionInput{Dispute: d, Events: events}))
}

func returnIDs(views []returns.View) []string {
	out := make([]string, len(views))
	for i, r := range views {
		out[i] = r.ID
	}
	return out
}

func TestProjectReturnTwiceStoresEachEventOnceAndTheView(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	r := newItemReturn(newTag(t), "twice")
	events := []vocab.Event{
		event(1, returns.EventRequested, nil),
		event(2, returns.EventLabelSent, map[string]string{"tracking_number": "TRK-twice"}),
		event(3, returns.EventShipped, nil),
	}
	withTimeline := r
	withTimeline.Timeline = events
	projectReturn(t, db, withTimeline, events...)
	projectReturn(t, db, withTimeline, events...)

	var n int
	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM return_events WHERE return_id = $1`, r.ID).Scan(&n))
	assert.Equal(t, 3, n)
	got, err := db.GetReturn(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, r, got, "the view is stored whole, without its timeline")

	// The columns the lists filter and sort on come from the view.
	var caseID, order, seller, customer, status string
	var respondBy *time.Time
	require.NoError(t, db.Pool().QueryRow(ctx,
		`SELECT case_id, order_id, seller_id, customer_id, status, respond_by FROM returns WHERE id = $1`, r.ID).
		Scan(&caseID, &order, &seller, &customer, &status, &respondBy))
	assert.Equal(t, []string{r.CaseID, r.OrderID, r.SellerID, r.Buyer.ID, "shipped"}, []string{caseID, order, seller, customer, status})
	require.NotNil(t, respondBy)
	assert.True(t, r.RespondBy.Equal(*respondBy))

	_, err = db.GetReturn(ctx, r.ID+"-missing")
	assert.ErrorIs(t, err, store.ErrNotFound)
	assert.ErrorContains(t, db.ProjectReturn(ctx, returns.ProjectionInput{Return: returns.View{ID: " "}}), "no id")
}

func TestOlderReturnOrDisputeProjectionNeverOverwritesANewerOne(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)
	newer := newItemReturn(tag, "late-retry")
	newer.Status, newer.RespondBy, newer.LastSeq = returns.StatusRefunded, nil, 6
	older := newItemReturn(tag, "late-retry")
	projectReturn(t, db, newer, event(6, returns.EventRefunded, nil))
	projectReturn(t, db, older, event(3, returns.EventShipped, nil)) // a late retry
	got, err := db.GetReturn(ctx, newer.ID)
	require.NoError(t, err)
	assert.Equal(t, newer, got, "the row keeps the newer projection")
	var n int
	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM return_events WHERE return_id = $1`, newer.ID).Scan(&n))
	assert.Equal(t, 2, n, "the late retry's events still land")

	closed := newBuyerDispute(tag, "late-retry")
	closed.Status, closed.Awaiting, closed.RespondBy, closed.LastSeq = disputes.StatusClosed, "", nil, 9
	projectDispute(t, db, closed, event(9, disputes.EventOpened, nil))
	projectDispute(t, db, newBuyerDispute(tag, "late-retry"), event(2, disputes.EventOpened, nil))
	gotDispute, err := db.GetDispute(ctx, closed.ID)
	require.NoError(t, err)
	assert.Equal(t, closed, gotDispute)
	var created time.Time
	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT created_at FROM disputes WHERE id = $1`, closed.ID).Scan(&created))
	assert.True(t, closed.OpenedAt.Equal(created), "a dispute was created when it was opened")
}

func TestListReturnsAppliesEveryFilter(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)
	now := time.Now()
	dueIn := func(r returns.View, in time.Duration) returns.View {
		r.RespondBy = at(now.Add(in))
		return r
	}
	soon := dueIn(newItemReturn(tag, "soon"), time.Hour)
	received := dueIn(newItemReturn(tag, "received"), 2*time.Hour)
	received.Status = returns.StatusReceived
	otherBuyer := dueIn(newItemReturn(tag, "other-buyer"), 3*time.Hour)
	otherBuyer.Buyer.ID = "cus-" + tag + "-other"
	otherSeller := dueIn(newItemReturn(tag, "other-seller"), 4*time.Hour)
	otherSeller.SellerID = "sel-" + tag + "-other"
	otherCase := dueIn(newItemReturn(tag, "other-case"), 5*time.Hour)
	otherCase.CaseID = "C-" + tag + "-other"
	refunded := newItemReturn(tag, "refunded") // waits on no deadline: last
	refunded.Status, refunded.RespondBy = returns.StatusRefunded, nil
	for _, r := range []returns.View{refunded, otherSeller, received, otherCase, soon, otherBuyer} {
		projectReturn(t, db, r)
	}

	for name, tc := range map[string]struct {
		filter store.PartyFilter
		want   []string
	}{
		"customer, soonest deadline first, none last": {store.PartyFilter{CustomerID: "cus-" + tag},
			[]string{soon.ID, received.ID, otherSeller.ID, otherCase.ID, refunded.ID}},
		"status":         {store.PartyFilter{SellerID: "sel-" + tag, Status: "received"}, []string{received.ID}},
		"order":          {store.PartyFilter{OrderID: otherBuyer.OrderID}, []string{otherBuyer.ID}},
		"other customer": {store.PartyFilter{CustomerID: "cus-" + tag + "-other"}, []string{otherBuyer.ID}},
		"other seller":   {store.PartyFilter{SellerID: "sel-" + tag + "-other"}, []string{otherSeller.ID}},
		"case":           {store.PartyFilter{CaseID: "C-" + tag + "-other"}, []string{otherCase.ID}},
		"filters combine (and)": {store.PartyFilter{CaseID: "C-" + tag, SellerID: "sel-" + tag, Status: "shipped"},
			[]string{soon.ID, otherBuyer.ID}},
		"no match": {store.PartyFilter{CaseID: "C-" + tag, Status: "cancelled"}, []string{}},
	} {
		t.Run(name, func(t *testing.T) {
			views, next, err := db.ListReturns(ctx, tc.filter)
			require.NoError(t, err)
			assert.Equal(t, tc.want, returnIDs(views))
			assert.NotNil(t, views)
			assert.Empty(t, next)
		})
	}
}

func TestListReturnsPagesWithoutDeadlineLast(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)
	base := time.Now().Add(time.Hour)
	due := func(r returns.View, in time.Duration) returns.View {
		r.RespondBy = at(base.Add(in))
		return r
	}
	none := func(r returns.View) returns.View {
		r.RespondBy = nil
		return r
	}
	// Ids chosen so that id order differs from deadline order.
	want := []returns.View{
		due(newItemReturn(tag, "z1"), time.Minute),
		due(newItemReturn(tag, "b2"), 2*time.Minute),
		due(newItemReturn(tag, "c2"), 2*time.Minute),
		none(newItemReturn(tag, "n1")),
		none(newItemReturn(tag, "n2")),
	}
	for _, i := range []int{3, 0, 4, 2, 1} {
		projectReturn(t, db, want[i])
	}
	for _, limit := range []int{1, 2, 3, 4, 5} {
		var got []string
		pages, cursor := 0, ""
		for {
			views, next, err := db.ListReturns(ctx, store.PartyFilter{SellerID: "sel-" + tag, Limit: limit, Cursor: cursor})
			require.NoError(t, err)
			pages++
			got = append(got, returnIDs(views)...)
			if next == "" {
				break
			}
			require.Len(t, views, limit, "only the last page is short")
			cursor = next
			require.Less(t, pages, 10, "pagination does not end")
		}
		assert.Equal(t, returnIDs(want), got, "limit %d", limit)
		assert.Equal(t, (len(want)+limit-1)/limit, pages, "limit %d: no empty last page", limit)
	}
}

func TestListReturnsAndDisputesRefuseABadCursorAndLimitAndEachOthersCursor(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	for _, cursor := range []string{"not a cursor", "e30", "eyJpIjoiIn0"} { // not base64url, {}, {"i":""}
		_, _, err := db.ListReturns(ctx, store.PartyFilter{Cursor: cursor})
		assert.ErrorIs(t, err, store.ErrBadCursor, cursor)
		_, _, err = db.ListDisputes(ctx, store.PartyFilter{Cursor: cursor})
		assert.ErrorIs(t, err, store.ErrBadCursor, cursor)
	}
	for _, limit := range []int{-1, 201} {
		_, _, err := db.ListReturns(ctx, store.PartyFilter{Limit: limit})
		assert.ErrorIs(t, err, store.ErrBadLimit, limit)
		_, _, err = db.ListDisputes(ctx, store.PartyFilter{Limit: limit})
		assert.ErrorIs(t, err, store.ErrBadLimit, limit)
	}

	tag := newTag(t)
	projectReturn(t, db, newItemReturn(tag, "a"))
	projectReturn(t, db, newItemReturn(tag, "b"))
	projectDispute(t, db, newBuyerDispute(tag, "a"))
	projectDispute(t, db, newBuyerDispute(tag, "b"))
	returnsPage, returnNext, err := db.ListReturns(ctx, store.PartyFilter{SellerID: "sel-" + tag, Limit: 1})
	require.NoError(t, err)
	require.Len(t, returnsPage, 1)
	require.NotEmpty(t, returnNext)
	disputesPage, disputeNext, err := db.ListDisputes(ctx, store.PartyFilter{CaseID: "C-" + tag, Limit: 1})
	require.NoError(t, err)
	require.Len(t, disputesPage, 1)
	require.NotEmpty(t, disputeNext)
	rest, _, err := db.ListDisputes(ctx, store.PartyFilter{CaseID: "C-" + tag, Cursor: disputeNext})
	require.NoError(t, err)
	assert.Equal(t, []string{"P-" + tag + "-b"}, []string{rest[0].ID}, "the dispute cursor pages disputes")
	_, _, err = db.ListDisputes(ctx, store.PartyFilter{Cursor: returnNext})
	assert.ErrorIs(t, err, store.ErrBadCursor, "a return cursor is no dispute cursor")
	_, _, err = db.ListReturns(ctx, store.PartyFilter{Cursor: disputeNext})
	assert.ErrorIs(t, err, store.ErrBadCursor, "a dispute cursor is no return cursor")
}

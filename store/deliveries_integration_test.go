//go:build integration

package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

// As for cases, every delivery made here carries a fresh tag in its ids
// and every list is scoped by an id only this test uses.

// newAccountDelivery answers a delivered delivery of account "acc-"+tag with id
// "D-"+tag+"-"+name, sold by "sel-"+tag to "buy-"+tag.
func newAccountDelivery(tag, name string) deliveries.DeliveryView {
	now := *at(time.Now())
	delivered := now.Add(-time.Hour)
	confirmBy := now.Add(72 * time.Hour)
	ends := now.Add(30 * 24 * time.Hour)
	return deliveries.DeliveryView{
		ID:     "D-" + tag + "-" + name,
		Status: deliveries.StatusDelivered,
		Handoff: deliveries.HandoffRecord{
			AccountID: "acc-" + tag, OrderID: "ord-" + tag + "-" + name, DeliveredAt: &delivered,
			RecoveryPath: deliveries.RecoveryPath{Email: "recover@example.com", ResetBy: "buyer", Instructions: "Change the password."},
			AllowedUse:   "personal play",
			LatestCommunication: &deliveries.Communication{At: delivered, Direction: "to_buyer",
				Kind: deliveries.EventDelivered, Summary: "Your account, ça marche ?"},
			Missing: []string{},
		},
		Buyer:          vocab.Customer{ID: "buy-" + tag, Email: "b@example.com", Name: "B", Locale: "fr"},
		NextAction:     "the buyer confirms",
		SellerID:       "sel-" + tag,
		Product:        "game",
		Region:         "eu",
		ConfirmBy:      &confirmBy,
		WarrantyEndsAt: &ends,
		Evidence: []vocab.Evidence{{ID: "E-" + tag, Kind: "screenshot", Key: "deliveries/x", SHA256: "ab",
			Size: 3, ContentType: "image/png", UploadedBy: "integration:shop", Seq: 2}},
		LinkedCases: []deliveries.LinkedCase{},
		CreatedAt:   now.Add(-2 * time.Hour),
		UpdatedAt:   now,
		LastSeq:     3,
	}
}

func projectDelivery(t *testing.T, db *store.Store, d deliveries.DeliveryView, events ...vocab.Event) {
	t.Helper()
	require.NoError(t, db.ProjectDelivery(stacktest.Context(t), deliveries.ProjectionInput{Delivery: d, Events: events}))
}

func deliveryIDs(views []deliveries.DeliveryView) []string {
	out := make([]string, len(views))
	for i, d := range views {
		out[i] = d.ID
	}
	return out
}

func TestProjectDeliveryTwiceStoresEachEventOnce(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	d := newAccountDelivery(newTag(t), "twice")
	events := []vocab.Event{
		event(1, deliveries.EventStarted, nil),
		event(2, deliveries.EventEvidenceAdded, map[string]string{"evidence_id": "E-1"}),
		event(3, deliveries.EventDelivered, nil),
	}
	withTimeline := d
	withTimeline.Timeline = events
	projectDelivery(t, db, withTimeline, events...)
	projectDelivery(t, db, withTimeline, events...)

	var n int
	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM delivery_events WHERE delivery_id = $1`, d.ID).Scan(&n))
	assert.Equal(t, 3, n)
	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE id = $1`, d.ID).Scan(&n))
	assert.Equal(t, 1, n)

	got, err := db.GetDelivery(ctx, d.ID)
	require.NoError(t, err)
	assert.Equal(t, d, got, "the view is stored whole, without its timeline")
	timeline, err := db.DeliveryTimeline(ctx, d.ID)
	require.NoError(t, err)
	assert.Equal(t, events, timeline)

	// The columns the lists filter and sort on come from the view.
	var status, account, order, buyer, email, seller, product, region string
	var ends, confirmBy, deliveredAt *time.Time
	var lastSeq int
	require.NoError(t, db.Pool().QueryRow(ctx, `
		SELECT status, account_id, order_id, buyer_id, buyer_email, seller_id, product, region,
		       warranty_ends_at, confirm_by, delivered_at, last_seq
		FROM deliveries WHERE id = $1`, d.ID).
		Scan(&status, &account, &order, &buyer, &email, &seller, &product, &region, &ends, &confirmBy, &deliveredAt, &lastSeq))
	assert.Equal(t, []string{"delivered", d.Handoff.AccountID, d.Handoff.OrderID, d.Buyer.ID, d.Buyer.Email, d.SellerID, "game", "eu"},
		[]string{status, account, order, buyer, email, seller, product, region})
	require.NotNil(t, ends)
	require.NotNil(t, confirmBy)
	require.NotNil(t, deliveredAt)
	assert.True(t, d.WarrantyEndsAt.Equal(*ends))
	assert.True(t, d.ConfirmBy.Equal(*confirmBy))
	assert.True(t, d.Handoff.DeliveredAt.Equal(*deliveredAt))
	assert.Equal(t, 3, lastSeq)
}

func TestProjectDeliveriesInOrderEachNewerOneWins(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	ready := newAccountDelivery(newTag(t), "in-order")
	ready.Status = deliveries.StatusReady
	ready.Handoff.DeliveredAt = nil
	ready.WarrantyEndsAt = nil
	ready.ConfirmBy = nil
	ready.LastSeq = 1
	delivered := newAccountDelivery("", "")
	delivered.ID, delivered.Handoff.AccountID, delivered.Handoff.OrderID = ready.ID, ready.Handoff.AccountID, ready.Handoff.OrderID
	delivered.Buyer, delivered.SellerID = ready.Buyer, ready.SellerID
	delivered.LastSeq = 2

	projectDelivery(t, db, ready, event(1, deliveries.EventStarted, nil))
	got, err := db.GetDelivery(ctx, ready.ID)
	require.NoError(t, err)
	assert.Equal(t, ready, got)

	projectDelivery(t, db, delivered, event(2, deliveries.EventDelivered, nil))
	got, err = db.GetDelivery(ctx, ready.ID)
	require.NoError(t, err)
	assert.Equal(t, delivered, got)
	timeline, err := db.DeliveryTimeline(ctx, ready.ID)
	require.NoError(t, err)
	require.Len(t, timeline, 2)
	assert.Equal(t, []int{1, 2}, []int{timeline[0].Seq, timeline[1].Seq})

	// The same sequence again (a retry of the newest) rewrites the row.
	delivered.NextAction = "nothing: confirmed"
	projectDelivery(t, db, delivered)
	got, err = db.GetDelivery(ctx, ready.ID)
	require.NoError(t, err)
	assert.Equal(t, "nothing: confirmed", got.NextAction)
}

func TestOlderDeliveryProjectionNeverOverwritesANewerOne(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	newer := newAccountDelivery(newTag(t), "late-retry")
	newer.Status = deliveries.StatusUnderReview
	newer.LastSeq = 5
	older := newer
	older.Status = deliveries.StatusDelivered
	older.WarrantyEndsAt = nil
	older.LastSeq = 4

	projectDelivery(t, db, newer, event(5, deliveries.EventProblemReported, map[string]string{"description": "banned"}))
	projectDelivery(t, db, older, event(4, deliveries.EventDelivered, nil)) // a late retry

	got, err := db.GetDelivery(ctx, newer.ID)
	require.NoError(t, err)
	assert.Equal(t, newer, got, "the row keeps the newer projection")
	var status string
	var ends *time.Time
	var lastSeq int
	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT status, warranty_ends_at, last_seq FROM deliveries WHERE id = $1`, newer.ID).
		Scan(&status, &ends, &lastSeq))
	assert.Equal(t, "under_review", status)
	assert.NotNil(t, ends)
	assert.Equal(t, 5, lastSeq)
	timeline, err := db.DeliveryTimeline(ctx, newer.ID)
	require.NoError(t, err)
	require.Len(t, timeline, 2, "the late retry's events still land")
	assert.Equal(t, []int{4, 5}, []int{timeline[0].Seq, timeline[1].Seq})
}

func TestGetDeliveryAndTimelineOfUnknownOrQuietDeliveries(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	d := newAccountDelivery(newTag(t), "quiet")
	projectDelivery(t, db, d)

	timeline, err := db.DeliveryTimeline(ctx, d.ID)
	require.NoError(t, err)
	assert.NotNil(t, timeline)
	assert.Empty(t, timeline)

	_, err = db.GetDelivery(ctx, d.ID+"-missing")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = db.DeliveryTimeline(ctx, d.ID+"-missing")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestProjectDeliveryRefusesADeliveryWithoutID(t *testing.T) {
	db := stacktest.Store(t)
	err := db.ProjectDelivery(stacktest.Context(t), deliveries.ProjectionInput{Delivery: deliveries.DeliveryView{ID: " "}})
	assert.ErrorContains(t, err, "no id")
}

func TestListDeliveriesAppliesEveryFilter(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)
	now := time.Now()
	endsIn := func(d deliveries.DeliveryView, in time.Duration) deliveries.DeliveryView {
		d.WarrantyEndsAt = at(now.Add(in))
		return d
	}

	soon := endsIn(newAccountDelivery(tag, "soon"), 24*time.Hour)
	review := endsIn(newAccountDelivery(tag, "review"), 10*24*time.Hour)
	review.Status = deliveries.StatusUnderReview
	otherBuyer := endsIn(newAccountDelivery(tag, "other-buyer"), 20*24*time.Hour)
	otherBuyer.Buyer.ID = "buy-" + tag + "-other"
	otherSeller := endsIn(newAccountDelivery(tag, "other-seller"), 40*24*time.Hour)
	otherSeller.SellerID = "sel-" + tag + "-other"
	otherAccount := endsIn(newAccountDelivery(tag, "other-account"), 5*24*time.Hour)
	otherAccount.Handoff.AccountID = "acc-" + tag + "-other"
	ready := newAccountDelivery(tag, "ready") // not delivered: no warranty end, sorted last
	ready.Status = deliveries.StatusReady
	ready.WarrantyEndsAt, ready.ConfirmBy, ready.Handoff.DeliveredAt = nil, nil, nil

	for _, d := range []deliveries.DeliveryView{ready, otherSeller, review, otherAccount, soon, otherBuyer} {
		projectDelivery(t, db, d)
	}

	account := "acc-" + tag
	before := now.Add(15 * 24 * time.Hour)
	for name, tc := range map[string]struct {
		filter store.DeliveryFilter
		want   []string
	}{
		"account, soonest warranty end first, none last": {store.DeliveryFilter{AccountID: account},
			[]string{soon.ID, review.ID, otherBuyer.ID, otherSeller.ID, ready.ID}},
		"status":        {store.DeliveryFilter{AccountID: account, Status: "under_review"}, []string{review.ID}},
		"ready":         {store.DeliveryFilter{SellerID: "sel-" + tag, Status: "ready"}, []string{ready.ID}},
		"order":         {store.DeliveryFilter{OrderID: otherBuyer.Handoff.OrderID}, []string{otherBuyer.ID}},
		"buyer":         {store.DeliveryFilter{BuyerID: "buy-" + tag + "-other"}, []string{otherBuyer.ID}},
		"seller":        {store.DeliveryFilter{SellerID: "sel-" + tag + "-other"}, []string{otherSeller.ID}},
		"other account": {store.DeliveryFilter{AccountID: "acc-" + tag + "-other"}, []string{otherAccount.ID}},
		"seller queue": {store.DeliveryFilter{SellerID: "sel-" + tag},
			[]string{soon.ID, otherAccount.ID, review.ID, otherBuyer.ID, ready.ID}},
		"warranty ends before, none left out": {store.DeliveryFilter{BuyerID: "buy-" + tag, WarrantyEndsBefore: &before},
			[]string{soon.ID, otherAccount.ID, review.ID}},
		"filters combine (and)": {store.DeliveryFilter{AccountID: account, Status: "delivered", SellerID: "sel-" + tag},
			[]string{soon.ID, otherBuyer.ID}},
		"no match":               {store.DeliveryFilter{AccountID: account, Status: "retired"}, []string{}},
		"unknown account is not": {store.DeliveryFilter{AccountID: account + "-nobody"}, []string{}},
	} {
		t.Run(name, func(t *testing.T) {
			views, next, err := db.ListDeliveries(ctx, tc.filter)
			require.NoError(t, err)
			assert.Equal(t, tc.want, deliveryIDs(views))
			assert.NotNil(t, views)
			assert.Empty(t, next)
		})
	}

	views, _, err := db.ListDeliveries(ctx, store.DeliveryFilter{OrderID: review.Handoff.OrderID})
	require.NoError(t, err)
	require.Len(t, views, 1)
	assert.Equal(t, review, views[0], "a listed delivery is the whole view")
}

func TestListDeliveriesPagesWithoutWarrantyEndLast(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)
	base := time.Now().Add(24 * time.Hour)
	ends := func(d deliveries.DeliveryView, in time.Duration) deliveries.DeliveryView {
		d.WarrantyEndsAt = at(base.Add(in))
		return d
	}
	none := func(d deliveries.DeliveryView) deliveries.DeliveryView {
		d.WarrantyEndsAt = nil
		return d
	}
	// Ids chosen so that id order differs from warranty order: the sort is
	// by warranty end, then id only among equal ends.
	want := []deliveries.DeliveryView{
		ends(newAccountDelivery(tag, "z1"), time.Minute),
		ends(newAccountDelivery(tag, "b2"), 2*time.Minute),
		ends(newAccountDelivery(tag, "c2"), 2*time.Minute),
		ends(newAccountDelivery(tag, "a3"), 3*time.Minute),
		none(newAccountDelivery(tag, "n1")),
		none(newAccountDelivery(tag, "n2")),
		none(newAccountDelivery(tag, "n3")),
	}
	for _, i := range []int{5, 0, 3, 6, 1, 4, 2} {
		projectDelivery(t, db, want[i])
	}

	for _, limit := range []int{1, 2, 3, 4, 5, 6, 7} {
		var got []string
		var pages int
		cursor := ""
		for {
			views, next, err := db.ListDeliveries(ctx, store.DeliveryFilter{SellerID: "sel-" + tag, Limit: limit, Cursor: cursor})
			require.NoError(t, err)
			pages++
			assert.LessOrEqual(t, len(views), limit)
			got = append(got, deliveryIDs(views)...)
			if next == "" {
				break
			}
			require.Len(t, views, limit, "only the last page is short")
			cursor = next
			require.Less(t, pages, 10, "pagination does not end")
		}
		assert.Equal(t, deliveryIDs(want), got, "limit %d", limit)
		assert.Equal(t, (len(want)+limit-1)/limit, pages, "limit %d: no empty last page", limit)
	}

	// A cursor keeps its place across filters that keep the row: the
	// second page by account is the second page by seller.
	_, next, err := db.ListDeliveries(ctx, store.DeliveryFilter{SellerID: "sel-" + tag, Limit: 3})
	require.NoError(t, err)
	views, _, err := db.ListDeliveries(ctx, store.DeliveryFilter{AccountID: "acc-" + tag, Limit: 3, Cursor: next})
	require.NoError(t, err)
	assert.Equal(t, deliveryIDs(want[3:6]), deliveryIDs(views))

	// The default limit holds them all on one page.
	views, next, err = db.ListDeliveries(ctx, store.DeliveryFilter{SellerID: "sel-" + tag})
	require.NoError(t, err)
	assert.Equal(t, deliveryIDs(want), deliveryIDs(views))
	assert.Empty(t, next)
}

func TestListDeliveriesRefusesABadCursorAndLimit(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	for _, cursor := range []string{"not a cursor", "e30", "eyJpIjoiIn0"} { // not base64url, {}, {"i":""}
		_, _, err := db.ListDeliveries(ctx, store.DeliveryFilter{Cursor: cursor})
		assert.ErrorIs(t, err, store.ErrBadCursor, cursor)
	}
	for _, limit := range []int{-1, 201} {
		_, _, err := db.ListDeliveries(ctx, store.DeliveryFilter{Limit: limit})
		assert.ErrorIs(t, err, store.ErrBadLimit, limit)
	}
	_, _, err := db.ListDeliveries(ctx, store.DeliveryFilter{Limit: store.MaxDeliveryLimit})
	assert.NoError(t, err)

	// A case list's cursor is not a delivery list's, and the other way round.
	tag := newTag(t)
	project(t, db, newCase(tag, "a"))
	project(t, db, newCase(tag, "b"))
	page, err := db.ListCases(ctx, store.CaseFilter{AccountID: "acc-" + tag, Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, page.NextCursor)
	_, _, err = db.ListDeliveries(ctx, store.DeliveryFilter{Cursor: page.NextCursor})
	assert.ErrorIs(t, err, store.ErrBadCursor)

	projectDelivery(t, db, newAccountDelivery(tag, "a"))
	projectDelivery(t, db, newAccountDelivery(tag, "b"))
	_, next, err := db.ListDeliveries(ctx, store.DeliveryFilter{SellerID: "sel-" + tag, Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, next)
	_, err = db.ListCases(ctx, store.CaseFilter{Cursor: next})
	assert.ErrorIs(t, err, store.ErrBadCursor)
}

func TestDeliveriesOfAccountAnswersTheAccountsOnly(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	tag := newTag(t)
	first := newAccountDelivery(tag, "first")
	first.Status = deliveries.StatusRetired
	first.WarrantyEndsAt = at(time.Now().Add(-24 * time.Hour))
	first.RetiredAt = at(time.Now())
	first.RetireReason = "handed to another buyer"
	second := newAccountDelivery(tag, "second")
	elsewhere := newAccountDelivery(tag, "elsewhere")
	elsewhere.Handoff.AccountID = "acc-" + tag + "-other"
	for _, d := range []deliveries.DeliveryView{second, elsewhere, first} {
		projectDelivery(t, db, d)
	}

	got, err := db.DeliveriesOfAccount(ctx, "acc-"+tag)
	require.NoError(t, err)
	assert.Equal(t, []deliveries.DeliveryView{first, second}, got)

	got, err = db.DeliveriesOfAccount(ctx, "acc-"+tag+"-nobody")
	require.NoError(t, err)
	assert.NotNil(t, got)
	assert.Empty(t, got)
}

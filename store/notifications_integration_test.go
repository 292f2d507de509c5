//go:build integration

package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
)

func newDelivery(t *testing.T, channel string) store.Delivery {
	id := "C-" + newTag(t)
	return store.Delivery{NotificationID: "case/" + id + "/1/customer", Channel: channel, CaseID: id, Event: "opened", Target: "ada@example.com"}
}

func TestNotificationDeliveryIsClaimedOnceThenSkipped(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	d := newDelivery(t, "email")

	c, err := db.ClaimDelivery(ctx, d, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.Claim{State: store.ClaimSend, Attempts: 1}, c)

	busy, err := db.ClaimDelivery(ctx, d, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.ClaimBusy, busy.State)
	assert.WithinDuration(t, time.Now().Add(time.Minute), busy.Until, 10*time.Second)

	require.NoError(t, db.MarkDeliverySent(ctx, d.NotificationID, d.Channel))
	sent, err := db.ClaimDelivery(ctx, d, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.ClaimSent, sent.State)

	recs, err := db.Deliveries(ctx, d.NotificationID)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, d, recs[0].Delivery)
	assert.Equal(t, "sent", recs[0].Status)
	assert.Equal(t, 1, recs[0].Attempts)
	assert.NotNil(t, recs[0].SentAt)
}

func TestNotificationDeliveryReleasedAfterAFailureIsClaimedAgainWithTheError(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	d := newDelivery(t, "marketplace_webhook")
	_, err := db.ClaimDelivery(ctx, d, time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.ReleaseDelivery(ctx, d.NotificationID, d.Channel, "receiver answered 502"))

	c, err := db.ClaimDelivery(ctx, d, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.Claim{State: store.ClaimSend, Attempts: 2, LastError: "receiver answered 502"}, c)
}

func TestNotificationDeliveryOfADeadAttemptIsTakenOverWhenItsLeaseEnds(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	d := newDelivery(t, "email")
	_, err := db.ClaimDelivery(ctx, d, 200*time.Millisecond)
	require.NoError(t, err)
	// The claiming attempt dies without a word; its lease runs out.
	require.Eventually(t, func() bool {
		c, err := db.ClaimDelivery(ctx, d, time.Minute)
		require.NoError(t, err)
		return c.State == store.ClaimSend && c.Attempts == 2
	}, 5*time.Second, 50*time.Millisecond)
}

func TestNotificationDeliveryFailedForGoodStaysFailed(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	d := newDelivery(t, "email")
	_, err := db.ClaimDelivery(ctx, d, time.Minute)
	require.NoError(t, err)
	require.NoError(t, db.FailDelivery(ctx, d.NotificationID, d.Channel, "550 no such user"))

	c, err := db.ClaimDelivery(ctx, d, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.Claim{State: store.ClaimFailed, Attempts: 1, LastError: "550 no such user"}, c)
	assert.ErrorIs(t, db.MarkDeliverySent(ctx, d.NotificationID, d.Channel), store.ErrNotFound, "only a claimed delivery ends")
}

func TestNotificationDeliveryChannelsAreKeptApart(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	email := newDelivery(t, "email")
	hook := email
	hook.Channel, hook.Target = "marketplace_webhook", "https://shop.example"
	for _, d := range []store.Delivery{email, hook} {
		c, err := db.ClaimDelivery(ctx, d, time.Minute)
		require.NoError(t, err)
		assert.Equal(t, store.ClaimSend, c.State, d.Channel)
	}
	recs, err := db.Deliveries(ctx, email.NotificationID)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, "email", recs[0].Channel)
	assert.Equal(t, "marketplace_webhook", recs[1].Channel)
}

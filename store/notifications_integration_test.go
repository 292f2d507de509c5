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

// committing claims d and marks it 'committing', as an attempt does just
// before the last byte of its message; lease is the claim's.
func committing(t *testing.T, db *store.Store, d store.Delivery, lease time.Duration) {
	t.Helper()
	ctx := stacktest.Context(t)
	c, err := db.ClaimDelivery(ctx, d, lease)
	require.NoError(t, err)
	require.Equal(t, store.ClaimSend, c.State)
	require.NoError(t, db.MarkDeliveryCommitting(ctx, d.NotificationID, d.Channel))
	recs, err := db.Deliveries(ctx, d.NotificationID)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, "committing", recs[0].Status)
}

func TestNotificationDeliveryCommittingWithALiveLeaseIsBusy(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	d := newDelivery(t, "email")
	committing(t, db, d, time.Minute)

	c, err := db.ClaimDelivery(ctx, d, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.ClaimBusy, c.State)
	assert.False(t, c.HandedOver)
	assert.WithinDuration(t, time.Now().Add(time.Minute), c.Until, 10*time.Second)
	recs, err := db.Deliveries(ctx, d.NotificationID)
	require.NoError(t, err)
	assert.Equal(t, "committing", recs[0].Status, "a live holder keeps it")
	assert.Equal(t, 1, recs[0].Attempts)
}

// The holder died between its commit point and the receiver's answer:
// the message is taken as delivered, never sent again.
func TestNotificationDeliveryCommittingWhoseLeaseEndedIsTakenAsSent(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	d := newDelivery(t, "marketplace_webhook")
	committing(t, db, d, time.Minute)
	_, err := db.Pool().Exec(ctx, `UPDATE notification_deliveries SET claimed_until = now() - interval '1 second' WHERE notification_id = $1`, d.NotificationID)
	require.NoError(t, err)

	c, err := db.ClaimDelivery(ctx, d, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.Claim{State: store.ClaimSent, Attempts: 1, HandedOver: true}, c)
	recs, err := db.Deliveries(ctx, d.NotificationID)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "sent", recs[0].Status)
	assert.Equal(t, 1, recs[0].Attempts, "no send tried")
	assert.NotNil(t, recs[0].SentAt)

	again, err := db.ClaimDelivery(ctx, d, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.Claim{State: store.ClaimSent, Attempts: 1}, again, "taken once; later claims find it sent")
	assert.ErrorIs(t, db.MarkDeliveryCommitting(ctx, d.NotificationID, d.Channel), store.ErrNotFound, "a sent delivery commits no more")
}

func TestNotificationDeliveryEndsFromCommittingAsFromSending(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)

	sent := newDelivery(t, "email")
	committing(t, db, sent, time.Minute)
	require.NoError(t, db.MarkDeliverySent(ctx, sent.NotificationID, sent.Channel))
	c, err := db.ClaimDelivery(ctx, sent, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.Claim{State: store.ClaimSent, Attempts: 1}, c)

	// A receiver's refusal after the commit point: released, claimed again
	// at once as 'sending', the attempt counted.
	released := newDelivery(t, "email")
	committing(t, db, released, time.Minute)
	require.NoError(t, db.ReleaseDelivery(ctx, released.NotificationID, released.Channel, "451 try later"))
	recs, err := db.Deliveries(ctx, released.NotificationID)
	require.NoError(t, err)
	assert.Equal(t, "sending", recs[0].Status)
	c, err = db.ClaimDelivery(ctx, released, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.Claim{State: store.ClaimSend, Attempts: 2, LastError: "451 try later"}, c)

	failed := newDelivery(t, "marketplace_webhook")
	committing(t, db, failed, time.Minute)
	require.NoError(t, db.FailDelivery(ctx, failed.NotificationID, failed.Channel, "receiver answered 410"))
	c, err = db.ClaimDelivery(ctx, failed, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.Claim{State: store.ClaimFailed, Attempts: 1, LastError: "receiver answered 410"}, c)
}

func TestNotificationDeliveryCommitsOnlyUnderALiveLease(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	d := newDelivery(t, "email")
	assert.ErrorIs(t, db.MarkDeliveryCommitting(ctx, d.NotificationID, d.Channel), store.ErrNotFound, "no claim, no commit")

	c, err := db.ClaimDelivery(ctx, d, time.Minute)
	require.NoError(t, err)
	require.Equal(t, store.ClaimSend, c.State)
	require.NoError(t, db.MarkDeliveryCommitting(ctx, d.NotificationID, d.Channel))
	require.NoError(t, db.MarkDeliveryCommitting(ctx, d.NotificationID, d.Channel), "a holder may commit again (a transport's replay)")

	_, err = db.Pool().Exec(ctx, `UPDATE notification_deliveries SET status = 'sending', claimed_until = now() - interval '1 second' WHERE notification_id = $1`, d.NotificationID)
	require.NoError(t, err)
	assert.ErrorIs(t, db.MarkDeliveryCommitting(ctx, d.NotificationID, d.Channel), store.ErrNotFound, "a lease that ran out may be another attempt's")
}

package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"handoff/store"
)

// deliveryLog records what was sent (store.Store).
type deliveryLog interface {
	ClaimDelivery(ctx context.Context, d store.Delivery, lease time.Duration) (store.Claim, error)
	MarkDeliverySent(ctx context.Context, notificationID, channel string) error
	ReleaseDelivery(ctx context.Context, notificationID, channel, reason string) error
	FailDelivery(ctx context.Context, notificationID, channel, reason string) error
}

// delivery is one notification on one channel, ready to send.
type delivery struct {
	record store.Delivery
	// send delivers it; nil when the channel is off (no URL configured).
	send func(context.Context) error
}

// deliver sends d once across attempts: claim, send, record.
func (n *Notifier) deliver(ctx context.Context, d delivery) error {
	logger := activity.GetLogger(ctx)
	id, channel := d.record.NotificationID, d.record.Channel
	if _, sent := n.unrecorded.Load(deliveryKey(id, channel)); sent {
		// This process sent it and could not record it: record it, never
		// send it again.
		if err := n.recordSent(ctx, id, channel); err != nil {
			return fmt.Errorf("sent earlier, not recorded yet: %w", err)
		}
		logger.Info("notification sent earlier, now recorded", "notification", id, "channel", channel)
		return nil
	}
	claim, err := n.log.ClaimDelivery(ctx, d.record, deliveryLease)
	if err != nil {
		return err
	}
	switch claim.State {
	case store.ClaimSent:
		logger.Info("notification already sent", "notification", id, "channel", channel)
		return nil
	case store.ClaimFailed:
		return permanent(fmt.Errorf("failed for good earlier: %s", claim.LastError))
	case store.ClaimBusy:
		// Look again soon: the holder usually ends its send in seconds.
		wait := min(max(time.Until(claim.Until), 0)+time.Second, busyPoll)
		return retryAfter(fmt.Errorf("another attempt is sending it (lease until %s)", claim.Until.UTC().Format(time.RFC3339)), wait)
	}
	if claim.Attempts > 1 {
		// An earlier attempt may have sent it and died before recording:
		// the same id goes out again for the receiver to drop.
		logger.Warn("sending a notification again", "notification", id, "channel", channel,
			"attempts", claim.Attempts, "last_error", claim.LastError)
	}
	// The send runs to its own bound, not to the attempt's end: an attempt
	// that times out (a notification's try in the workflow task has two
	// seconds) must not cut a message the receiver may already have taken
	// and release it for another attempt to send again. The lease outlasts
	// the send, so no other attempt starts meanwhile.
	sctx, cancelSend := context.WithTimeout(context.WithoutCancel(ctx), sendBound)
	sendErr := d.send(sctx)
	cancelSend()
	// Record even when the attempt's context is ending: a send that went
	// out must not be sent again for want of a row.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	switch {
	case sendErr == nil:
		if err := n.log.MarkDeliverySent(rctx, id, channel); err != nil {
			// Postgres is away: this process remembers the send, so its
			// retries record it instead of sending it again, and records
			// it in the background meanwhile. Only another process that
			// claims it after the lease (this one died, or another
			// worker's retry wins the race) sends it again, under the
			// same id.
			n.unrecorded.Store(deliveryKey(id, channel), struct{}{})
			go n.recordLater(id, channel)
			return fmt.Errorf("sent, not recorded yet (this worker will not send it again): %w", err)
		}
		logger.Info("notification sent", "notification", id, "channel", channel, "target", d.record.Target)
		return nil
	case isPermanent(sendErr):
		if err := n.log.FailDelivery(rctx, id, channel, sendErr.Error()); err != nil {
			return errors.Join(sendErr, err)
		}
		return sendErr
	default:
		if err := n.log.ReleaseDelivery(rctx, id, channel, sendErr.Error()); err != nil {
			return errors.Join(sendErr, err)
		}
		return sendErr
	}
}

// deliveryKey names a delivery in Notifier.unrecorded.
func deliveryKey(id, channel string) string { return id + "\x00" + channel }

// recordSent records a delivery of Notifier.unrecorded as sent and forgets
// it. A row no longer 'sending' is recorded already (recordLater won).
func (n *Notifier) recordSent(ctx context.Context, id, channel string) error {
	err := n.log.MarkDeliverySent(ctx, id, channel)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	n.unrecorded.Delete(deliveryKey(id, channel))
	return nil
}

// recordLater tries to record a sent delivery every recordRetry until it
// is recorded or recordFor has passed; past that the delivery stays
// remembered, and the next attempt here tries again.
func (n *Notifier) recordLater(id, channel string) {
	ctx, cancel := context.WithTimeout(context.Background(), recordFor)
	defer cancel()
	tick := time.NewTicker(recordRetry)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, ok := n.unrecorded.Load(deliveryKey(id, channel)); !ok {
			return // an attempt recorded it
		}
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		err := n.recordSent(rctx, id, channel)
		rcancel()
		if err == nil {
			return
		}
	}
}

// Bounds of one delivery attempt.
const (
	// sendBound is the longest one send may take on any channel: the
	// dial, the SMTP conversation or the webhook's request and answer.
	sendBound = 30 * time.Second
	// deliveryLease is how long a claim holds a delivery: the send, the
	// record of its outcome (5 s) and a margin for clocks that disagree. An
	// attempt that dies holding it (a killed worker) delays the delivery
	// this long at most.
	deliveryLease = sendBound + 15*time.Second
	// busyPoll is how soon an attempt that found the delivery held looks
	// again.
	busyPoll = 5 * time.Second
	// recordRetry and recordFor pace and bound recordLater.
	recordRetry = time.Second
	recordFor   = 15 * time.Minute
)

// deliveryError says how a failed send may be retried.
type deliveryError struct {
	err error
	// permanent: no retry can deliver it.
	permanent bool
	// retryIn: the receiver asked to wait this long.
	retryIn time.Duration
}

// Error answers the failure's message.
func (e *deliveryError) Error() string { return e.err.Error() }

// Unwrap answers the failure it marks.
func (e *deliveryError) Unwrap() error { return e.err }

// permanent marks err as one no retry fixes.
func permanent(err error) error { return &deliveryError{err: err, permanent: true} }

// retryAfter marks err as one to retry after d (none when d is 0).
func retryAfter(err error, d time.Duration) error {
	if d <= 0 {
		return err
	}
	return &deliveryError{err: err, retryIn: d}
}

// isPermanent reports whether err is marked permanent.
func isPermanent(err error) bool {
	var de *deliveryError
	return errors.As(err, &de) && de.permanent
}

// retryDelay answers the delay err asks for, 0 when none.
func retryDelay(err error) time.Duration {
	var de *deliveryError
	if errors.As(err, &de) {
		return de.retryIn
	}
	return 0
}

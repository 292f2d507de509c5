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
			return fmt.Errorf("sent, but not recorded (a retry sends it again under the same id): %w", err)
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

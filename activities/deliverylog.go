package activities

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"

	"handoff/store"
)

// deliveryLog records what was sent (store.Store).
type deliveryLog interface {
	ClaimDelivery(ctx context.Context, d store.Delivery, lease time.Duration) (store.Claim, error)
	MarkDeliveryCommitting(ctx context.Context, notificationID, channel string) error
	MarkDeliverySent(ctx context.Context, notificationID, channel string) error
	ReleaseDelivery(ctx context.Context, notificationID, channel, reason string) error
	FailDelivery(ctx context.Context, notificationID, channel, reason string) error
}

// delivery is one notification on one channel, ready to send.
type delivery struct {
	record store.Delivery
	// send delivers it; nil when the channel is off (no URL configured).
	// It calls commit (when not nil) once, or again if it starts over
	// from nothing sent, immediately before the last step that hands the
	// message over (the SMTP data's final dot, a webhook body's last
	// byte), and hands nothing over when commit fails.
	send func(ctx context.Context, commit func(context.Context) error) error
}

// deliver sends d once across attempts: claim, send, record.
//
// The send has a commit point: just before the last byte that hands the
// message to the receiver, the row goes from 'sending' to 'committing'
// (MarkDeliveryCommitting). An attempt that dies before it leaves
// 'sending', and the retry after the lease sends again: the receiver got
// no complete message, or none at all. One that dies after it leaves
// 'committing', and the retry takes the message as delivered without
// sending it. What is left uncertain is the moment between the commit
// returning and the last byte's write, microseconds: a kill there loses
// that one message, and never doubles it (the kernel still delivers the
// bytes a killed process had written, and the receiver drops a message
// whose end never came). A receiver's definite refusal after the commit
// point (an SMTP reply to the data, a webhook's non-2xx) releases or
// fails the row as before it, so only a dead attempt leaves 'committing'.
// A send whose outcome is unknown after the last byte (the connection
// drops before the answer) fails and releases the row too, as it did
// before the commit point: the retry sends again under the same id.
func (n *Notifier) deliver(ctx context.Context, d delivery) error {
	logger := activity.GetLogger(ctx)
	id, channel := d.record.NotificationID, d.record.Channel
	claim, err := n.log.ClaimDelivery(ctx, d.record, deliveryLease)
	if err != nil {
		return err
	}
	switch claim.State {
	case store.ClaimSent:
		if claim.HandedOver {
			logger.Warn("notification taken as delivered: the last attempt died handing it over",
				"notification", id, "channel", channel, "attempts", claim.Attempts)
			return nil
		}
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
	// The commit point runs to the record's bound, not the send's.
	var commitFailed atomic.Bool
	commit := func(c context.Context) error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(c), recordBound)
		defer cancel()
		if err := n.log.MarkDeliveryCommitting(cctx, id, channel); err != nil {
			commitFailed.Store(true)
			return fmt.Errorf("mark it committing: %w", err)
		}
		return nil
	}
	sendErr := d.send(sctx, commit)
	cancelSend()
	if sendErr != nil && commitFailed.Load() {
		// Nothing was handed over: release it for a retry, whatever the
		// channel made of the error.
		sendErr = &deliveryError{err: fmt.Errorf("not sent: %w", sendErr)}
	}
	// Record even when the attempt's context is ending: a send that went
	// out must not be sent again for want of a row.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordBound)
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
	// recordBound is the longest a write to the delivery log may take:
	// the commit point's inside the send, the record of the outcome after.
	recordBound = 5 * time.Second
	// deliveryLease is how long a claim holds a delivery: the send (its
	// commit point included), the record of its outcome and a margin for
	// clocks that disagree. An attempt that dies holding it (a killed
	// worker) delays the delivery this long at most. The commit point
	// keeps the lease: a 'committing' row whose lease is over belongs to
	// an attempt that died after it committed to hand the message over,
	// and the next claim takes the message as delivered instead of
	// sending it again. The window left is between the commit returning
	// and the write of the last byte: a kill there loses that message;
	// none doubles it.
	deliveryLease = sendBound + recordBound + 10*time.Second
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

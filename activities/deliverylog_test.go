package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"handoff/store"
)

// runDeliver runs n.deliver(d) as Temporal runs an activity, answering its error.
func runDeliver(t *testing.T, n *Notifier, d delivery) error {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivityWithOptions(func(ctx context.Context) error { return n.deliver(ctx, d) },
		activity.RegisterOptions{Name: "Deliver"})
	_, err := env.ExecuteActivity("Deliver")
	return err
}

func commitNotifier(t *testing.T, log deliveryLog) *Notifier {
	t.Helper()
	n, err := newNotifier(testConfig(t), log)
	require.NoError(t, err)
	return n
}

var commitRecord = store.Delivery{NotificationID: "case/C-9/2/customer", Channel: ChannelMarketplaceWebhook, CaseID: "C-9", Event: "opened"}

// The hook deliver gives a send marks the row 'committing', under the
// claim's lease; a send that passes it and succeeds ends 'sent'.
func TestDeliverCommitPointMarksTheRowCommitting(t *testing.T) {
	log := newMemoryLog()
	n := commitNotifier(t, log)
	var during string
	err := runDeliver(t, n, delivery{record: commitRecord, send: func(ctx context.Context, commit func(context.Context) error) error {
		if err := commit(ctx); err != nil {
			return err
		}
		during = log.row(commitRecord.NotificationID, commitRecord.Channel).Status
		return nil
	}})
	require.NoError(t, err)
	assert.Equal(t, "committing", during)
	assert.Equal(t, "sent", log.row(commitRecord.NotificationID, commitRecord.Channel).Status)
}

// A receiver's refusal after the commit point releases the row for a
// retry, as before the commit point: only a dead attempt leaves it
// 'committing'.
func TestDeliverRefusedAfterTheCommitPointIsReleased(t *testing.T) {
	log := newMemoryLog()
	n := commitNotifier(t, log)
	err := runDeliver(t, n, delivery{record: commitRecord, send: func(ctx context.Context, commit func(context.Context) error) error {
		require.NoError(t, commit(ctx))
		return errors.New("receiver answered 503")
	}})
	require.Error(t, err)
	row := log.row(commitRecord.NotificationID, commitRecord.Channel)
	assert.Equal(t, "sending", row.Status)
	assert.Equal(t, "receiver answered 503", row.LastError)
	c, err := log.ClaimDelivery(context.Background(), commitRecord, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, store.ClaimSend, c.State, "claimed again at once")
	assert.Equal(t, 2, c.Attempts)
}

// committingFails is a log whose commit point fails.
type committingFails struct{ *memoryLog }

func (committingFails) MarkDeliveryCommitting(context.Context, string, string) error {
	return errors.New("postgres is gone")
}

// A failed commit point releases the row for a retry, even when the
// channel took the error for a permanent one.
func TestDeliverWhoseCommitFailsIsReleasedNotFailed(t *testing.T) {
	log := committingFails{newMemoryLog()}
	n := commitNotifier(t, log)
	err := runDeliver(t, n, delivery{record: commitRecord, send: func(ctx context.Context, commit func(context.Context) error) error {
		return permanent(commit(ctx))
	}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "postgres is gone")
	row := log.row(commitRecord.NotificationID, commitRecord.Channel)
	assert.Equal(t, "sending", row.Status, "released, not failed for good")
	assert.Contains(t, row.LastError, "postgres is gone")
}

// A row an earlier attempt left 'committing' with its lease over is taken
// as delivered: nothing is sent again.
func TestDeliverTakesADeadAttemptsCommittingRowAsDelivered(t *testing.T) {
	log := newMemoryLog()
	n := commitNotifier(t, log)
	_, err := log.ClaimDelivery(context.Background(), commitRecord, time.Minute)
	require.NoError(t, err)
	require.NoError(t, log.MarkDeliveryCommitting(context.Background(), commitRecord.NotificationID, commitRecord.Channel))
	log.mu.Lock()
	log.leases[[2]string{commitRecord.NotificationID, commitRecord.Channel}] = time.Now().Add(-time.Second)
	log.mu.Unlock()

	sent := false
	require.NoError(t, runDeliver(t, n, delivery{record: commitRecord, send: func(context.Context, func(context.Context) error) error {
		sent = true
		return nil
	}}))
	assert.False(t, sent, "not sent again")
	assert.Equal(t, "sent", log.row(commitRecord.NotificationID, commitRecord.Channel).Status)
}

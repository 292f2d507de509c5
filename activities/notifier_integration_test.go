//go:build integration

package activities_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"handoff/activities"
	"handoff/stacktest"
)

func TestSendEmailArrivesInMailpitWithItsMessageID(t *testing.T) {
	cfg := stacktest.Config(t)
	ctx := stacktest.Context(t)
	to := fmt.Sprintf("customer-%d@example.com", time.Now().UnixNano())
	n := activities.NewNotifier(cfg.SMTP)
	err := n.SendEmail(ctx, activities.Email{
		ID:      "case/C-1/7/email",
		To:      to,
		Subject: "We received your request",
		Text:    "Hello, we are on it.",
		HTML:    "<p>Hello, we are on it.</p>",
	})
	require.NoError(t, err)

	var got []stacktest.MailpitMessage
	require.Eventually(t, func() bool {
		got, err = stacktest.MailpitSearch(ctx, "to:"+to)
		return err == nil && len(got) == 1
	}, 10*time.Second, 100*time.Millisecond, "mail to %s never arrived: %v", to, err)
	assert.Equal(t, "We received your request", got[0].Subject)
	assert.Equal(t, "case.C-1.7.email@handoff.localhost", got[0].MessageID)
}

func TestSendEmailRefusesAMalformedMessageWithoutRetry(t *testing.T) {
	n := activities.NewNotifier(stacktest.Config(t).SMTP)
	err := n.SendEmail(stacktest.Context(t), activities.Email{ID: "x", To: "not an address", Subject: "s", Text: "t"})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.True(t, appErr.NonRetryable())
	assert.Equal(t, activities.ErrTypeInvalidEmail, appErr.Type())
}

//go:build integration

package activities

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
)

func TestEmailsShareOneSMTPSessionAndADroppedOneIsReplaced(t *testing.T) {
	ctx := stacktest.Context(t)
	to := fmt.Sprintf("sessions-%d@example.com", time.Now().UnixNano())
	n, _ := stackNotifier(t, "")
	send := func(i int) {
		t.Helper()
		require.NoError(t, n.sendEmail(ctx, Email{ID: fmt.Sprintf("sessions/%s/%d", to, i), To: to, Subject: fmt.Sprintf("mail %d", i), Text: "hello"}))
	}

	send(1)
	require.Len(t, n.sessions.idle, 1, "the session stays open after a send")
	first := n.sessions.idle[0].c
	send(2)
	require.Len(t, n.sessions.idle, 1)
	assert.Same(t, first, n.sessions.idle[0].c, "the second mail goes on the first one's session")

	// The server drops it (here: the connection ends under it).
	require.NoError(t, first.Close())
	send(3)
	require.Len(t, n.sessions.idle, 1)
	assert.NotSame(t, first, n.sessions.idle[0].c, "a new session replaced the dropped one")

	// A session idle too long is not reused.
	second := n.sessions.idle[0].c
	n.sessions.idle[0].since = time.Now().Add(-smtpIdleFor)
	send(4)
	assert.NotSame(t, second, n.sessions.idle[0].c)

	var subjects []string
	for _, m := range mailsTo(t, n, to) {
		subjects = append(subjects, m.Subject)
	}
	assert.ElementsMatch(t, []string{"mail 1", "mail 2", "mail 3", "mail 4"}, subjects, "each mail arrived once")
}

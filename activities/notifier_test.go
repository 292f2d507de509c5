package activities

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/config"
	"handoff/workflows"
)

func note(audience string) workflows.Notification {
	return workflows.Notification{
		ID: "case/C-7/3/" + audience, Event: workflows.EventSLABreach, Audience: audience,
		Case: workflows.NotificationCase{
			ID: "C-7", Subject: "Locked out", Category: workflows.CategoryLockedAccount, Priority: workflows.P1,
			Status: workflows.StatusEscalated, Team: workflows.TeamSecurity, Assignee: "bo",
			Customer: workflows.Customer{Email: "ada@example.com"},
		},
		Detail: "first response was due 2026-03-02T11:00:00Z",
	}
}

func TestRecipientOfEachAudience(t *testing.T) {
	n := NewNotifier(config.SMTP{From: "Support <support@shop.example>", StaffDomain: "staff.shop.example"})
	for audience, want := range map[string]string{
		"customer": "ada@example.com",
		"assignee": "bo@staff.shop.example",
		"team":     "team-security@staff.shop.example",
	} {
		got, err := n.recipient(note(audience))
		require.NoError(t, err)
		assert.Equal(t, want, got, audience)
	}
	withAddress := note("assignee")
	withAddress.Case.Assignee = "bo@elsewhere.example"
	got, err := n.recipient(withAddress)
	require.NoError(t, err)
	assert.Equal(t, "bo@elsewhere.example", got)
	_, err = n.recipient(note("board"))
	assert.ErrorContains(t, err, `unknown audience "board"`)
}

func TestRenderNamesTheCaseAndTheEvent(t *testing.T) {
	subject, text := render(note("team"))
	assert.Equal(t, "[C-7] SLA breached: Locked out", subject)
	assert.Contains(t, text, "Case C-7 · locked_account · p1 · escalated")
	assert.Contains(t, text, "first response was due 2026-03-02T11:00:00Z")
}

func TestMessageIDIsDerivedFromTheNotificationID(t *testing.T) {
	assert.Equal(t, "case.C-7.3.team@shop.example", messageID("case/C-7/3/team", "Support <support@shop.example>"))
	assert.Equal(t, "x@handoff.localhost", messageID("x", "no-domain"))
}

package activities

import (
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const shippedRoutesFile = "../deploy/notifications.yaml"

func TestShippedRoutesServeTheLocalStack(t *testing.T) {
	r, err := loadRoutes(shippedRoutesFile)
	require.NoError(t, err)
	assert.Equal(t, "en", r.staffLocale)
	assert.Empty(t, r.teamWebhooks)
	for _, event := range []string{cases.EventOpened, cases.EventAgentReply, cases.EventWaitingCustomer,
		cases.EventCustomerReminder, cases.EventResolved, cases.EventClosed, EventSecurityLock, EventRecoverySteps} {
		assert.Equal(t, []string{ChannelEmail, ChannelMarketplaceWebhook}, r.channels(event, "customer"), event)
	}
	for _, event := range []string{cases.EventEscalated, cases.EventSLAWarning, cases.EventSLABreach, cases.EventNotifyFailed} {
		assert.Equal(t, []string{ChannelEmail, ChannelTeamWebhook}, r.channels(event, "team"), event)
	}
	assert.Equal(t, []string{ChannelEmail}, r.channels(cases.EventSLAWarning, "assignee"))
	for _, event := range deliveries.NotifiedEvents {
		want := []string{ChannelEmail}
		if event == deliveries.EventProblemReported {
			want = append(want, ChannelMarketplaceWebhook) // for the marketplace to tell the seller
		}
		assert.Equal(t, want, r.channels(event, vocab.AudienceCustomer), event)
		for _, staff := range []string{vocab.AudienceAssignee, vocab.AudienceTeam} {
			assert.Empty(t, r.channels(event, staff), "a delivery tells its buyer: %s", event)
		}
	}
	assert.Empty(t, r.channels(cases.EventOpened, "team"), "what the file does not route goes nowhere")
	assert.Empty(t, r.channels("unheard_of", "customer"))
}

func TestShippedRoutesNameOnlyTheWorkflowsAudiences(t *testing.T) {
	assert.Equal(t, vocab.Audiences, Audiences, "the loader checks audiences against vocab.Audiences")
	r, err := loadRoutes(shippedRoutesFile)
	require.NoError(t, err)
	require.NotEmpty(t, r.events)
	for event, byAudience := range r.events {
		for audience := range byAudience {
			assert.Contains(t, vocab.Audiences, audience, "%s: events.%s names audience %q", shippedRoutesFile, event, audience)
		}
	}
}

func TestRoutesFileTakesEveryAudienceOfTheWorkflows(t *testing.T) {
	var opened strings.Builder
	opened.WriteString("  opened: {")
	for i, audience := range vocab.Audiences {
		if i > 0 {
			opened.WriteString(", ")
		}
		opened.WriteString(audience + ": [email]")
	}
	opened.WriteString("}\n")
	r, err := parseRoutes([]byte(routesFile("", opened.String())), "routes.yaml")
	require.NoError(t, err)
	for _, audience := range vocab.Audiences {
		assert.Equal(t, []string{ChannelEmail}, r.channels(cases.EventOpened, audience), audience)
	}
	_, err = parseRoutes([]byte(routesFile("", "  opened: {customers: [email]}\n")), "routes.yaml")
	assert.ErrorContains(t, err, "routes.yaml:2: events.opened.customers: unknown audience (want one of "+strings.Join(vocab.Audiences, ", ")+")")
}

func TestShippedRoutesTellEveryNotifiedEvent(t *testing.T) {
	r, err := loadRoutes(shippedRoutesFile)
	require.NoError(t, err)
	for _, event := range workflowNotifiedEvents() {
		routed := false
		for _, audience := range vocab.Audiences {
			routed = routed || len(r.channels(event, audience)) > 0
		}
		assert.True(t, routed, "%s routes %s to no audience: nobody would hear of it", shippedRoutesFile, event)
	}
}

// routesFile answers a valid routes file with the events section's lines
// for opened and closed replaced by extra (every other event stays listed).
func routesFile(top, opened string) string {
	var b strings.Builder
	b.WriteString(top)
	b.WriteString("events:\n")
	b.WriteString(opened)
	for _, e := range NotifiedEvents {
		if e != cases.EventOpened {
			b.WriteString("  " + e + ": {}\n")
		}
	}
	return b.String()
}

func TestRoutesFileErrorsNameTheProblemAndLine(t *testing.T) {
	for name, tc := range map[string]struct {
		file string
		want string
	}{
		"unknown event": {routesFile("", "  opened: {}\n  opend: {customer: [email]}\n"),
			`routes.yaml:3: events.opend: unknown event (want one of opened, agent_reply`},
		"unknown channel": {routesFile("", "  opened: {customer: [email, sms]}\n"),
			`routes.yaml:2: events.opened.customer[1]: unknown channel "sms" (want one of email, team_webhook, marketplace_webhook)`},
		"channel twice": {routesFile("", "  opened: {customer: [email, email]}\n"),
			`routes.yaml:2: events.opened.customer[1]: channel email is listed twice`},
		"unknown audience": {routesFile("", "  opened: {board: [email]}\n"),
			`routes.yaml:2: events.opened.board: unknown audience (want one of customer, assignee, team)`},
		"channels not a list": {routesFile("", "  opened: {customer: email}\n"),
			`routes.yaml:2: events.opened.customer: want a list of channels, such as [email]`},
		"missing event": {"events:\n  opened: {}\n",
			"routes.yaml:1: events: event closed is not listed (write `closed: {}` to send nothing)"},
		"missing events": {"staff_locale: en\n",
			"routes.yaml:1: events: missing: list every event"},
		"event twice": {routesFile("", "  opened: {}\n  opened: {}\n"),
			"routes.yaml:3: events.opened: given twice"},
		"unknown key": {routesFile("staff_lang: fr\n", "  opened: {}\n"),
			"routes.yaml:1: staff_lang: unknown key (want staff_locale, team_webhooks or events)"},
		"unknown locale": {routesFile("staff_locale: de\n", "  opened: {}\n"),
			`routes.yaml:1: staff_locale: unknown locale "de" (want one of en, fr)`},
		"unknown team": {routesFile("team_webhooks:\n  billing: https://hooks.example/x\n", "  opened: {}\n"),
			"routes.yaml:2: team_webhooks.billing: unknown team (want one of tier1_support, account_management, security, trust_safety)"},
		"bad webhook URL": {routesFile("team_webhooks:\n  security: hooks.example/x\n", "  opened: {}\n"),
			"routes.yaml:2: team_webhooks.security: not an http or https URL"},
		"not yaml": {"events: [\n",
			"routes.yaml:1: did not find expected node content"},
		"empty": {"", "routes.yaml: empty routes file"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseRoutes([]byte(tc.file), "routes.yaml")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRoutesFileReportsEveryProblemAtOnce(t *testing.T) {
	_, err := parseRoutes([]byte(routesFile("staff_locale: de\n", "  opened: {customer: [sms], board: [email]}\n")), "routes.yaml")
	require.Error(t, err)
	for _, want := range []string{"staff_locale", `unknown channel "sms"`, "unknown audience"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestRoutesFileReadsTeamWebhooksAndEmptyRoutes(t *testing.T) {
	r, err := parseRoutes([]byte(routesFile("staff_locale: fr\nteam_webhooks:\n  security: https://hooks.example/T/B/X\n  trust_safety: ''\n",
		"  opened: {customer: [], team: [team_webhook]}\n")), "routes.yaml")
	require.NoError(t, err)
	assert.Equal(t, "fr", r.staffLocale)
	assert.Equal(t, map[string]string{"security": "https://hooks.example/T/B/X"}, r.teamWebhooks)
	assert.Empty(t, r.channels(cases.EventOpened, "customer"))
	assert.Equal(t, []string{ChannelTeamWebhook}, r.channels(cases.EventOpened, "team"))
}

func TestMissingRoutesFileNamesIt(t *testing.T) {
	_, err := loadRoutes(t.TempDir() + "/nope.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope.yaml")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

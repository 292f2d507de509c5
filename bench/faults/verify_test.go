package faults

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestANotificationIDNamesItsCaseCauseAndEvent(t *testing.T) {
	for id, want := range map[string]string{
		"case/C-1/1/customer":                                                    "case/C-1|1|opened",
		"case/C-1/update/reply/k-9/agent_reply/customer":                         "case/C-1|update/reply/k-9|agent_reply",
		"case/C-1/update/reply/k-9/agent_reply/customer/2":                       "case/C-1|update/reply/k-9|agent_reply",
		"case/C-1/deadline/2/first_response/1700000000000/sla_breach/team":       "case/C-1|deadline/2/first_response/1700000000000|sla_breach",
		"case/C-1/failed/case/C-1/update/u/resolved/customer/notify_failed/team": "case/C-1|failed/case/C-1/update/u/resolved/customer|notify_failed",
	} {
		got, ok := notificationEvent(id)
		assert.True(t, ok, id)
		assert.Equal(t, want, got, id)
	}
	for _, id := range []string{"delivery/D-1/4/customer", "case/C-1/3/customer", "case/C-1"} {
		_, ok := notificationEvent(id)
		assert.False(t, ok, "%s is no case notification under a cause", id)
	}
}

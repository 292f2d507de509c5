package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRulesActionsCountEveryLifecyclesStart(t *testing.T) {
	one := HistoryCost{LocalActivityTasks: 5, Timers: 2, Upserts: 2, Updates: 4}
	assert.Equal(t, 14, one.Actions(), "the start, 5 marker batches, 2 timers, 2 upserts, 4 updates")
	assert.InDelta(t, 15.0, rulesActions([]HistoryCost{one, one, one}, 3), 1e-9, "14 each, and a query each")
	assert.InDelta(t, 14.0, rulesActions([]HistoryCost{one, one}, 0), 1e-9)
	assert.True(t, rulesActions(nil, 0) != rulesActions(nil, 0), "no lifecycle is NaN")
}

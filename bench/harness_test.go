package bench

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/workflows/sla"
)

func TestSimultaneousPolicyMakesEveryEarlierCaseDueAtTheSameMoment(t *testing.T) {
	opensAt := time.Date(2026, 11, 23, 19, 30, 0, 0, time.UTC)
	book, err := sla.Parse([]byte(simultaneousPolicy(opensAt)), "lateness.yaml")
	require.NoError(t, err)
	for _, openedAgo := range []time.Duration{time.Second, 40 * time.Second, 3 * time.Minute} {
		opened := opensAt.Add(-openedAgo)
		p, err := book.Policy("general_question", "p4", opened)
		require.NoError(t, err)
		due, ok, err := sla.NewClock(p.Targets.FirstResponse, opened).DueAt(p.Calendar)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, opensAt.Add(latenessTarget), due, "opened %s before the calendar opens", openedAgo)
	}
}

func TestStandardPolicyParses(t *testing.T) {
	book, err := sla.Parse([]byte(standardPolicy()), "bench.yaml")
	require.NoError(t, err)
	p, err := book.Policy("login_failure", "p1", time.Now())
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, p.Targets.FirstResponse)
}

func TestForEachVisitsEveryIndexOnceAndAnswersTheFirstError(t *testing.T) {
	seen := make([]int32, 100)
	require.NoError(t, forEach(len(seen), 4, func(i int) error {
		atomic.AddInt32(&seen[i], 1)
		return nil
	}))
	for i, n := range seen {
		assert.Equal(t, int32(1), n, "index %d", i)
	}
	boom := errors.New("boom")
	assert.ErrorIs(t, forEach(100, 4, func(i int) error {
		if i == 10 {
			return boom
		}
		return nil
	}), boom)
}

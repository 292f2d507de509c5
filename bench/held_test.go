package bench

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sortedMarks(n int) []int { return sortedKeys(sampleMarks(n)) }

func TestHeldSamplesAtEveryTenthOfNIncludingHalfAndN(t *testing.T) {
	assert.Equal(t, []int{200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000}, sortedMarks(2000))
	assert.Equal(t, []int{3, 5, 8, 10, 13, 15, 18, 20, 23, 25}, sortedMarks(25), "rounded up")
	assert.Equal(t, []int{1, 2, 3}, sortedMarks(3), "fewer marks than ten below 10")
	assert.Equal(t, []int{1}, sortedMarks(1))
	for _, n := range []int{1, 3, 25, 2000, 100001} {
		marks := sampleMarks(n)
		assert.True(t, marks[n], "N=%d is sampled at N", n)
		assert.True(t, marks[mark(5, n)], "N=%d is sampled at N/2", n)
		assert.Equal(t, (n+1)/2, mark(5, n), "N/2 rounded up for N=%d", n)
	}
}

func TestRSSPerCachedWorkflowDividesByWhatTheCacheHolds(t *testing.T) {
	const mib = 1 << 20
	// 2000 cases, a cache of 10,000: every case is cached.
	assert.InDelta(t, 20.48, perCachedKiB(100*mib, 140*mib, 2000, 10000), 1e-9)
	// 100,000 cases, a cache of 10,000: only 10,000 are.
	assert.InDelta(t, 40.96, perCachedKiB(100*mib, 500*mib, 100000, 10000), 1e-9)
	assert.True(t, math.IsNaN(perCachedKiB(0, mib, 10, 0)), "no cache, no figure")
}

func TestBoundedMemoryIsExpectedOnlyWithACacheOfAtMostHalfN(t *testing.T) {
	assert.True(t, boundedExpected(100000, 10000))
	assert.True(t, boundedExpected(2000, 1000))
	assert.False(t, boundedExpected(2000, 1001))
	assert.False(t, boundedExpected(2000, 10000), "the default run: every case stays cached")
}

func TestEachWorkerServesItsMetricsOnItsOwnPort(t *testing.T) {
	assert.Equal(t, []string{"127.0.0.1:19090"}, workerMetricsAddrs(1))
	assert.Equal(t, []string{"127.0.0.1:19090"}, workerMetricsAddrs(0), "at least one worker")
	assert.Equal(t, []string{"127.0.0.1:19090", "127.0.0.1:19091", "127.0.0.1:19092"}, workerMetricsAddrs(3))
	assert.Equal(t, "worker", workerName(0, 1), "one worker keeps the name of the usage lines")
	assert.Equal(t, []string{"worker1", "worker2"}, []string{workerName(0, 2), workerName(1, 2)})
}

func TestRunningQueryNamesTheQueueAndTheStatus(t *testing.T) {
	assert.Equal(t, "TaskQueue = 'handoff-bench-152300' AND ExecutionStatus = 'Running'", runningQuery("handoff-bench-152300"))
}

func TestWorkersOfAnEnvWithoutWorkerProcsIsWorkerProcAlone(t *testing.T) {
	w := &Proc{Name: "worker", PID: 1}
	env := &Env{APIProc: &Proc{Name: "api", PID: 2}, WorkerProc: w}
	assert.Equal(t, []*Proc{env.APIProc, w, MachineProc()}, env.underTest())
	env.WorkerProcs = []*Proc{w, {Name: "worker2", PID: 3}}
	env.EngineProcs = []*Proc{{Name: "temporal-server", PID: 4}}
	assert.Equal(t, []string{"api", "worker", "worker2", "temporal-server", "machine"}, procNames(env.underTest()))
}

func procNames(ps []*Proc) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

func TestTheMachineIsBusyAndUsesMemory(t *testing.T) {
	m := MachineProc()
	ticks, err := m.cpuTicks()
	require.NoError(t, err)
	assert.Positive(t, ticks)
	used, err := m.RSS()
	require.NoError(t, err)
	assert.Positive(t, used)
}

func TestEngineProcsAreThoseWhosePidFilesNameALiveProcess(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, ".dev", "run")
	require.NoError(t, os.MkdirAll(run, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(run, "temporal-history.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(run, "temporal-matching.pid"), []byte("999999999\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(run, "minio.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644))
	assert.Equal(t, []*Proc{{Name: "temporal-history", PID: os.Getpid()}}, EngineProcs(root))
}

func TestTheHeldPolicyMovesOnlyTheP4TargetsAway(t *testing.T) {
	held, standard := heldPolicy(), standardPolicy()
	assert.NotEqual(t, standard, held)
	assert.Contains(t, held, "{priority: p4, calendar: 24x7, first_response: 72h, next_response: 72h, resolution: 240h}")
	assert.Contains(t, held, "{priority: p1, calendar: 24x7, first_response: 2s")
	assert.Less(t, heldQuietFor, 72*time.Hour)
}

package erasure

import (
	"testing"

	"handoff/workflows/replaytest"
)

// TestReplayRecordedHistories replays every erasure recorded under
// testdata (from real runs: `HANDOFF_RECORD_HISTORY=<name> make test`), so
// a change that would break a running erasure's replay fails here.
func TestReplayRecordedHistories(t *testing.T) {
	replaytest.Run(t, "testdata", Workflows)
}

package fraud

import (
	"testing"

	"handoff/workflows/replaytest"
)

// TestReplayRecordedHistories replays every fraud watch recorded under
// testdata (from real runs: `HANDOFF_RECORD_HISTORY=<name> make test`), so
// a change that would break a running watch's replay fails here.
func TestReplayRecordedHistories(t *testing.T) {
	replaytest.Run(t, "testdata", Workflows)
}

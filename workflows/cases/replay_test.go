package cases

import (
	"testing"

	"handoff/workflows/replaytest"
)

// TestReplayRecordedHistories replays every case recorded under testdata
// (from real runs: `HANDOFF_RECORD_HISTORY=<name> make test`), so a change
// that would break a running case's replay fails here. A change that must
// alter the commands a case emits needs CaseRevision or workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	replaytest.Run(t, "testdata", Workflows)
}

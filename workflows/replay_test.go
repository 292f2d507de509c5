package workflows

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
)

// TestReplayRecordedHistories replays every history recorded under
// testdata (from real runs: `HANDOFF_RECORD_HISTORY=<name> make test`), so a
// change that would break a running case's replay fails here. A change that
// must alter the commands a workflow emits needs workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories under testdata: the replay test would prove nothing")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			for _, wf := range []any{SupportCase, SecurityIncident, AccountRecovery, ProfileChange, AccountSignals} {
				r.RegisterWorkflow(wf)
			}
			logger := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(logger, f))
		})
	}
}

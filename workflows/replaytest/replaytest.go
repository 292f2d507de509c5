// Package replaytest replays the histories an area recorded from real runs
// (testdata/*.json) against the area's workflow code, so a change that
// would break a running workflow's replay fails a test before it deploys.
// Histories are recorded with `HANDOFF_RECORD_HISTORY=<name> make test`.
package replaytest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Types answers the workflow type of every history file under dir, by file.
func Types(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	types := make(map[string]string, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var h struct {
			Events []struct {
				Attrs struct {
					WorkflowType struct {
						Name string `json:"name"`
					} `json:"workflowType"`
				} `json:"workflowExecutionStartedEventAttributes"`
			} `json:"events"`
		}
		if err := json.Unmarshal(data, &h); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if len(h.Events) == 0 || h.Events[0].Attrs.WorkflowType.Name == "" {
			return nil, fmt.Errorf("%s: the first event does not start a workflow", f)
		}
		types[f] = h.Events[0].Attrs.WorkflowType.Name
	}
	return types, nil
}

// Run replays every history under dir with workflows (registered name →
// function) registered by those names. It fails when a workflow has no
// recorded history, or a history is of a type not in workflows: a workflow
// type with nothing to replay is a deploy nobody has checked.
func Run(t *testing.T, dir string, workflows map[string]any) {
	t.Helper()
	types, err := Types(dir)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, typ := range types {
		have[typ] = true
	}
	for name := range workflows {
		if !have[name] {
			t.Errorf("no recorded history of %s under %s: record one from a real run (HANDOFF_RECORD_HISTORY=<name>)", name, dir)
		}
	}
	files := make([]string, 0, len(types))
	for f := range types {
		files = append(files, f)
	}
	slices.Sort(files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			fn, ok := workflows[types[f]]
			if !ok {
				t.Fatalf("%s is a history of %s, which this area does not define", f, types[f])
			}
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: types[f]})
			logger := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
			if err := r.ReplayWorkflowHistoryFromJSONFile(logger, f); err != nil {
				t.Fatal(err)
			}
		})
	}
}

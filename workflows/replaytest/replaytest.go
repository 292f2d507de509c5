// Package replaytest replays the histories an area recorded from real runs
// (testdata/*.json) against the area's workflow code, so a change that
// would break a running workflow's replay fails a test before it deploys.
// Histories are recorded with `HANDOFF_RECORD_HISTORY=<name> make test`.
package replaytest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"handoff/codec"
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
	// Every history replays twice through a replayer with the payload
	// codec on its converters, as the worker runs: as recorded (plain
	// payloads, the histories from before the codec) and sealed under a
	// key of this test (what the history store holds now).
	line, err := codec.NewKeyLine("replay")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := codec.ParseKeys(line)
	if err != nil {
		t.Fatal(err)
	}
	c := codec.New(ring)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			fn, ok := workflows[types[f]]
			if !ok {
				t.Fatalf("%s is a history of %s, which this area does not define", f, types[f])
			}
			for _, sealed := range []bool{false, true} {
				hist, err := readHistory(f)
				if err != nil {
					t.Fatal(err)
				}
				if sealed {
					if err := c.SealAll(context.Background(), hist); err != nil {
						t.Fatal(err)
					}
				}
				r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
					DataConverter: c.DataConverter(), FailureConverter: c.FailureConverter()})
				if err != nil {
					t.Fatal(err)
				}
				r.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: types[f]})
				logger := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
				if err := r.ReplayWorkflowHistory(logger, hist); err != nil {
					t.Fatalf("sealed %v: %v", sealed, err)
				}
			}
		})
	}
}

// readHistory reads a history file as the replayer's JSON loader does.
func readHistory(path string) (*historypb.History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return client.HistoryFromJSON(f, client.HistoryJSONOptions{})
}

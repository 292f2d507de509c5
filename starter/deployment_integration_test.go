//go:build integration

package main

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"handoff/stacktest"
	"handoff/worker/registry"
)

func versionedEcho(_ workflow.Context, s string) (string, error) { return s, nil }

// A worker named a deployment and a build polls as that version; promote
// makes it current once it polls, and a new workflow then runs on it,
// auto-upgrade as every Handoff type is.
func TestPromoteMakesTheWorkersBuildCurrentAndWorkflowsRunOnIt(t *testing.T) {
	ctx := stacktest.Context(t)
	cfg := stacktest.Config(t)
	tc := stacktest.Temporal(t)
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	cfg.WorkerDeployment, cfg.WorkerBuildID = "handoff-test-"+suffix, "build-1"
	queue := "handoff-versioning-" + suffix

	w := sdkworker.New(tc, queue, sdkworker.Options{DeploymentOptions: registry.DeploymentOptions(cfg)})
	w.RegisterWorkflowWithOptions(versionedEcho, workflow.RegisterOptions{Name: "VersionedEcho"})
	require.NoError(t, w.Start())
	defer w.Stop()

	var out bytes.Buffer
	require.NoError(t, promote(ctx, tc, cfg.WorkerDeployment, cfg.WorkerBuildID, &out))
	assert.Contains(t, out.String(), "build build-1 is current (was unversioned workers)")

	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "versioned-" + suffix, TaskQueue: queue}, "VersionedEcho", "hello")
	require.NoError(t, err)
	var got string
	require.NoError(t, run.Get(ctx, &got))
	assert.Equal(t, "hello", got)

	desc, err := tc.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	info := desc.GetWorkflowExecutionInfo().GetVersioningInfo()
	assert.Equal(t, enumspb.VERSIONING_BEHAVIOR_AUTO_UPGRADE, info.GetBehavior(), "versioning info %v", info)
	assert.Equal(t, fmt.Sprintf("%s.%s", cfg.WorkerDeployment, cfg.WorkerBuildID),
		info.GetDeploymentVersion().GetDeploymentName()+"."+info.GetDeploymentVersion().GetBuildId())

	// Promoting the current build again is a no-op that still succeeds.
	out.Reset()
	require.NoError(t, promote(ctx, tc, cfg.WorkerDeployment, cfg.WorkerBuildID, &out))
	assert.Contains(t, out.String(), "build build-1 is current")
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"handoff/config"
)

// promoteTimeout bounds how long promote waits for the new version's
// workers to poll: Temporal refuses to make current a version no worker of
// which has polled yet, and a rollout starts them moments before.
const promoteTimeout = 5 * time.Minute

// promoteDeployment makes WORKER_BUILD_ID the current version of
// WORKER_DEPLOYMENT_NAME once its workers poll: new workflows start on it,
// and running ones (every type is auto-upgrade) move to it at their next
// task. Running it again for the current version changes nothing.
func promoteDeployment(ctx context.Context, cfg config.Config, logger *slog.Logger, stdout io.Writer) error {
	if cfg.WorkerDeployment == "" {
		return fmt.Errorf("%w: deployment promote needs WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID", errUsage)
	}
	c, err := dial(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, promoteTimeout)
	defer cancel()
	return promote(ctx, c, cfg.WorkerDeployment, cfg.WorkerBuildID, stdout)
}

// promote sets buildID current in deployment, retrying while the version
// is not known yet (its workers have not polled). It reads the deployment
// first and passes its conflict token, so a change made meanwhile by
// someone else fails the call instead of being overwritten.
func promote(ctx context.Context, c client.Client, deployment, buildID string, stdout io.Writer) error {
	h := c.WorkerDeploymentClient().GetHandle(deployment)
	for {
		previous, token, err := currentVersion(ctx, h)
		if err == nil {
			_, err = h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: buildID, ConflictToken: token})
		}
		if err == nil {
			fmt.Fprintf(stdout, "deployment %s: build %s is current (was %s)\n", deployment, buildID, previous)
			return nil
		}
		var notFound *serviceerror.NotFound
		var precondition *serviceerror.FailedPrecondition
		if !errors.As(err, &notFound) && !errors.As(err, &precondition) {
			return fmt.Errorf("make build %s current in deployment %s: %w", buildID, deployment, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("make build %s current in deployment %s: no worker of it polled (%v): %w", buildID, deployment, err, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// currentVersion answers the build the deployment routes new workflows to
// ("unversioned workers" when none) and the token of that state.
func currentVersion(ctx context.Context, h client.WorkerDeploymentHandle) (string, []byte, error) {
	d, err := h.Describe(ctx, client.WorkerDeploymentDescribeOptions{})
	if err != nil {
		return "", nil, fmt.Errorf("describe: %w", err)
	}
	if v := d.Info.RoutingConfig.CurrentVersion; v != nil && v.BuildID != "" {
		return v.BuildID, d.ConflictToken, nil
	}
	return "unversioned workers", d.ConflictToken, nil
}

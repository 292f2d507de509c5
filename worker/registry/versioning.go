package registry

import (
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"handoff/config"
)

// DeploymentOptions turns on Worker Deployment Versioning when the worker
// is named a deployment and a build (WORKER_DEPLOYMENT_NAME,
// WORKER_BUILD_ID), else leaves the worker unversioned.
//
// Every workflow type is auto-upgrade, none pinned: a case lives for days,
// a delivery for its warranty, a seller's onboarding for weeks, so a
// pinned workflow would keep the workers of its first version running for
// as long. Auto-upgrade moves each workflow to the current version at its
// next task, which is safe because every change of behaviour is already
// patched (workflow.GetVersion or the case revision) and every workflow
// type's recorded histories replay against today's code in CI.
func DeploymentOptions(cfg config.Config) sdkworker.DeploymentOptions {
	if cfg.WorkerDeployment == "" {
		return sdkworker.DeploymentOptions{}
	}
	return sdkworker.DeploymentOptions{
		UseVersioning:             true,
		Version:                   sdkworker.WorkerDeploymentVersion{DeploymentName: cfg.WorkerDeployment, BuildID: cfg.WorkerBuildID},
		DefaultVersioningBehavior: workflow.VersioningBehaviorAutoUpgrade,
	}
}

// Package registry puts Handoff's workflows and activities on a Temporal
// worker, so the worker process and the integration tests run the same set.
package registry

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"handoff/accounts"
	"handoff/activities"
	"handoff/config"
	"handoff/store"
	"handoff/workflows"
	"handoff/workflows/sla"
)

// Deps are the clients the activities hold.
type Deps struct {
	Config   config.Config
	Logger   *slog.Logger
	Store    *store.Store
	Temporal client.Client
	S3       *s3.Client
}

// Workflows lists every workflow the worker runs.
var Workflows = []any{workflows.SupportCase, workflows.SecurityIncident, workflows.AccountRecovery, workflows.ProfileChange, workflows.AccountSignals}

// Register puts every workflow and activity on w. It fails when the
// notifier's templates or routes file, the SLA policy file or the account
// directory's configuration do not load; the error names what to fix.
func Register(w sdkworker.Registry, d Deps) error {
	notifier, err := activities.NewNotifier(d.Config, d.Store)
	if err != nil {
		return err
	}
	book, err := sla.Load(d.Config.SLAPolicyFile)
	if err != nil {
		return fmt.Errorf("SLA_POLICY_FILE: %w", err)
	}
	dir, err := accounts.New(d.Config.Accounts, d.Store.Pool(), d.Logger)
	if err != nil {
		return err
	}
	for _, wf := range Workflows {
		w.RegisterWorkflow(wf)
	}
	w.RegisterActivity(notifier)
	w.RegisterActivity(activities.NewProjection(d.Store))
	w.RegisterActivity(activities.NewAccounts(dir, d.S3, d.Config.S3.Bucket,
		time.Duration(d.Config.Evidence.RetentionDays)*24*time.Hour, d.Temporal, book, d.Config.Temporal.TaskQueue))
	return nil
}

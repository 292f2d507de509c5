// Package registry puts Handoff's workflows and activities on a Temporal
// worker, so the worker process and the integration tests run the same set.
package registry

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"handoff/accounts"
	"handoff/activities"
	"handoff/carrier"
	"handoff/config"
	"handoff/evidence"
	"handoff/payments"
	"handoff/store"
	"handoff/verification"
	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/disputes"
	"handoff/workflows/erasure"
	"handoff/workflows/fraud"
	"handoff/workflows/returns"
	"handoff/workflows/sellers"
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

// Workflows maps every workflow type the worker runs to its function, area
// by area; each is registered under its contract's name, so renaming a Go
// function never renames a workflow type that running workflows carry.
func Workflows() map[string]any {
	all := map[string]any{}
	for _, area := range []map[string]any{cases.Workflows, accountflows.Workflows, deliveries.Workflows,
		returns.Workflows, disputes.Workflows, sellers.Workflows, fraud.Workflows, erasure.Workflows} {
		maps.Copy(all, area)
	}
	return all
}

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
	commerce, err := newCommerce(d.Config.Commerce, d.Logger)
	if err != nil {
		return err
	}
	kyc, err := verification.NewHTTP(verification.HTTPConfig{BaseURL: d.Config.Verification.URL, KeyID: d.Config.Verification.KeyID,
		Secret: d.Config.Verification.Secret, Logger: d.Logger})
	if err != nil {
		return fmt.Errorf("KYC_URL, KYC_SECRET: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(Workflows())) {
		w.RegisterWorkflowWithOptions(Workflows()[name], workflow.RegisterOptions{Name: name})
	}
	w.RegisterActivity(notifier)
	w.RegisterActivity(activities.NewProjection(d.Store))
	w.RegisterActivity(activities.NewAccounts(dir, evidence.NewStore(d.S3, d.Config.S3.Bucket, d.Config.Evidence),
		cases.Opener{Temporal: d.Temporal, Book: book, TaskQueue: d.Config.Temporal.TaskQueue}))
	w.RegisterActivity(commerce)
	w.RegisterActivity(activities.NewErasure(d.Store, evidence.NewStore(d.S3, d.Config.S3.Bucket, d.Config.Evidence)))
	w.RegisterActivity(activities.NewVerification(kyc))
	w.RegisterActivity(activities.NewBehaviour(d.Temporal, d.Config.Temporal.TaskQueue, fraud.PolicyFrom(book.Fraud())))
	return nil
}

// newCommerce answers the money and label activities over the payment
// provider and the carrier cfg names.
func newCommerce(cfg config.Commerce, logger *slog.Logger) (*activities.Commerce, error) {
	p, err := payments.NewHTTP(payments.HTTPConfig{BaseURL: cfg.PaymentsURL, KeyID: cfg.PaymentsKeyID, Secret: cfg.PaymentsSecret, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("PAYMENTS_URL, PAYMENTS_SECRET: %w", err)
	}
	c, err := carrier.NewHTTP(carrier.HTTPConfig{BaseURL: cfg.CarrierURL, KeyID: cfg.CarrierKeyID, Secret: cfg.CarrierSecret, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("CARRIER_URL, CARRIER_SECRET: %w", err)
	}
	return activities.NewCommerce(p, c), nil
}

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"handoff/config"
	"handoff/workflows/cases"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

func dial(ctx context.Context, cfg config.Config, logger *slog.Logger) (client.Client, error) {
	opts, err := cfg.Temporal.ClientOptions(logger, nil)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.Temporal.Address, err)
	}
	return c, nil
}

// openCase starts a SupportCase workflow directly on Temporal, for demos
// and checks on a running stack; the API does the same for real callers.
func openCase(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("case open", flag.ContinueOnError)
	id := fs.String("id", fmt.Sprintf("C-%d", time.Now().Unix()), "case id")
	category := fs.String("category", string(vocab.CategoryLoginFailure), "category")
	priority := fs.String("priority", "", "p1 to p4; empty takes the category's default")
	subject := fs.String("subject", "Cannot log in", "subject")
	description := fs.String("description", "The one-time code never arrives.", "the customer's first message")
	email := fs.String("email", "customer@example.com", "customer email")
	account := fs.String("account", "acc-demo", "account id")
	order := fs.String("order", "", "order id")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	book, err := sla.Load(cfg.SLAPolicyFile)
	if err != nil {
		return fmt.Errorf("SLA_POLICY_FILE: %w", err)
	}
	c, err := dial(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	opener := cases.Opener{Temporal: c, Book: book, TaskQueue: cfg.Temporal.TaskQueue}
	in, err := opener.Open(ctx, cases.OpenRequest{
		ID: *id, Category: vocab.Category(*category), Priority: vocab.Priority(*priority),
		Subject: *subject, Description: *description,
		Customer:  vocab.Customer{ID: "cus-" + *id, Email: *email, Name: "Demo customer", Locale: "en"},
		AccountID: *account, OrderID: *order, Channel: "cli", OpenedBy: "starter",
	}, vocab.Once{})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "opened case %s (%s, %s, team %s): workflow %s\n", in.ID, in.Category, in.Priority, in.Team, cases.CaseWorkflowID(in.ID))
	return nil
}

func showCase(ctx context.Context, cfg config.Config, logger *slog.Logger, id string, stdout io.Writer) error {
	c, err := dial(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := c.QueryWorkflow(ctx, cases.CaseWorkflowID(id), "", cases.QueryCase)
	if err != nil {
		return fmt.Errorf("query case %s: %w", id, err)
	}
	var v cases.CaseView
	if err := res.Get(&v); err != nil {
		return fmt.Errorf("decode case %s: %w", id, err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"handoff/accounts"
	"handoff/config"
	"handoff/store"
)

// seedAccounts puts the demo accounts in the Postgres account directory
// and prints them, so demo cases have accounts to lock, recover and merge.
func seedAccounts(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("accounts seed", flag.ContinueOnError)
	reset := fs.Bool("reset", false, "restore demo accounts that demos changed to their first state")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: accounts seed takes no arguments, got %q", errUsage, fs.Args())
	}
	if cfg.Accounts.Directory != "postgres" {
		// The accounts would land in a table nothing reads.
		logger.Warn("seeding the Postgres account directory while ACCOUNT_DIRECTORY is not postgres",
			"account_directory", cfg.Accounts.Directory)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	seeded, err := accounts.Seed(ctx, db.Pool(), time.Now(), *reset)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSTATUS\tEMAIL\tPHONE\tMFA\tSESSIONS\tFAILED LOGINS\tLOCK REASON")
	for _, a := range seeded {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%t\t%d\t%d\t%s\n",
			a.ID, a.Status, a.Email, a.Phone, a.MFAEnabled, a.ActiveSessions, a.FailedLogins, a.LockReason)
	}
	return w.Flush()
}

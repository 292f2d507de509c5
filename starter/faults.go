package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"handoff/bench/faults"
	"handoff/config"
)

// runFaults runs the fault matrix on a stack of its own (Temporal, MinIO,
// Mailpit, webhook inbox, worker and API, a database on the machine's
// Postgres) and prints the table (go run ./starter faults -h).
func runFaults(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("faults", flag.ContinueOnError)
	names := make([]string, len(faults.Rows))
	for i, r := range faults.Rows {
		names[i] = r.Name
	}
	rows := fs.String("rows", "", "comma-separated rows to run (default all): "+strings.Join(names, ","))
	cases := fs.Int("cases", 1000, "case lifecycles each row drives (trial runs: 50)")
	window := fs.Duration("window", 90*time.Second, "how long each row's case starts are spread over; the fault falls inside it")
	outage := fs.Duration("outage", 60*time.Second, "how long Postgres, MinIO and SMTP stay down")
	temporalDown := fs.Duration("temporal-down", 20*time.Second, "how long the Temporal server stays stopped")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *cases < 1 {
		return fmt.Errorf("%w: -cases must be at least 1", errUsage)
	}
	o := faults.Options{Cases: *cases, Window: *window, Outage: *outage, TemporalDown: *temporalDown}
	if *rows != "" {
		o.Rows = strings.Split(*rows, ",")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	results, err := faults.Run(ctx, root, cfg, logger, o, stdout)
	if err != nil {
		return err
	}
	for _, r := range results {
		c := r.Cells
		if c.CasesLost+c.EventsLost+c.NotificationsDoubled+c.NotifsMissing+c.EscalationsWrong+c.ProjectionWrong+c.EvidenceHalf+c.Unnamed5xx > 0 {
			return fmt.Errorf("the fault matrix has cells that are not 0")
		}
	}
	return nil
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"time"

	"handoff/config"
	"handoff/store"
	"handoff/workflows/sla"
)

// seedHistory loads months of seeded cases, deliveries, returns and
// disputes into the read models (store.SeedHistory), and knowledge-base
// articles (store.SeedArticles), so reports and searches are measured at
// size. --reset --cases 0 --articles 0 only deletes them; --cases 0
// without --reset adds articles to a seeded history.
func seedHistory(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed history", flag.ContinueOnError)
	months := fs.Int("months", 6, "months of history before now")
	count := fs.Int("cases", 200_000, "cases to seed, spread over the months")
	seed := fs.Int64("seed", 1, "random seed: the same seed writes the same history (for the same day)")
	reset := fs.Bool("reset", false, "delete the rows and articles seeded earlier first (with --cases 0 --articles 0: only delete them)")
	articles := fs.Int("articles", 5000, "knowledge-base articles to seed, created over the months (with --reset: after deleting the seeded ones)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: seed history takes no arguments, got %q", errUsage, fs.Args())
	}
	if *articles < 0 {
		return fmt.Errorf("%w: --articles must be 0 or more, got %d", errUsage, *articles)
	}
	book, err := sla.Load(cfg.SLAPolicyFile)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	// One Now for both, so the articles span the months the cases do.
	opts := store.SeedOptions{Months: *months, Cases: *count, Seed: *seed, Reset: *reset, Book: book, Now: time.Now().UTC()}
	// Without --reset, no cases is nothing to do (SeedHistory would only
	// refuse the history seeded earlier).
	if *count > 0 || *reset {
		res, err := db.SeedHistory(ctx, opts, func(line string) { fmt.Fprintln(stdout, line) })
		if err != nil {
			return err
		}
		printSeeded(stdout, res)
	}
	if *articles > 0 || *reset {
		res, err := db.SeedArticles(ctx, *articles, opts)
		if err != nil {
			return err
		}
		printSeeded(stdout, res)
	}
	// COPY leaves the visibility map and the planner's statistics behind:
	// without them the reports' index-only scans read the heap and plans
	// are guessed. Autovacuum would get there; the bench should not wait.
	started := time.Now()
	if err := db.VacuumAnalyze(ctx, seededTables...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "vacuumed and analyzed %d tables in %s\n", len(seededTables), time.Since(started).Round(time.Millisecond))
	return nil
}

// seededTables are the tables the seed writes.
var seededTables = []string{"cases", "case_events", "deliveries", "delivery_events", "returns", "return_events",
	"disputes", "dispute_events", "kb_articles", "kb_article_versions",
	"report_case_weeks", "report_duration_weeks", "report_subject_weeks", "report_event_weeks"}

// printSeeded prints the rows deleted and written per table, and the time taken.
func printSeeded(w io.Writer, res store.SeedResult) {
	for _, part := range []struct {
		what string
		rows map[string]int
	}{{"deleted", res.Deleted}, {"seeded", res.Rows}} {
		tables := make([]string, 0, len(part.rows))
		for t := range part.rows {
			tables = append(tables, t)
		}
		sort.Strings(tables)
		for _, t := range tables {
			fmt.Fprintf(w, "%s %-16s %9d\n", part.what, t, part.rows[t])
		}
	}
	fmt.Fprintf(w, "in %.1fs\n", res.Elapsed.Round(100*time.Millisecond).Seconds())
}

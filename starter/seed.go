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
// disputes into the read models (store.SeedHistory), so reports and
// searches are measured at size. --reset --cases 0 only deletes them.
func seedHistory(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed history", flag.ContinueOnError)
	months := fs.Int("months", 6, "months of history before now")
	count := fs.Int("cases", 200_000, "cases to seed, spread over the months")
	seed := fs.Int64("seed", 1, "random seed: the same seed writes the same history (for the same day)")
	reset := fs.Bool("reset", false, "delete the rows seeded earlier first (with --cases 0: only delete them)")
	articles := fs.Int("articles", 0, "knowledge-base articles to seed (not seeded yet: the KB store has no bulk load)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: seed history takes no arguments, got %q", errUsage, fs.Args())
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
	opts := store.SeedOptions{Months: *months, Cases: *count, Seed: *seed, Reset: *reset, Book: book}
	res, err := db.SeedHistory(ctx, opts, func(line string) { fmt.Fprintln(stdout, line) })
	if err != nil {
		return err
	}
	printSeeded(stdout, res)
	if *articles > 0 {
		// TODO(kb): seed articles once the KB store has CopyArticles.
		fmt.Fprintf(stdout, "articles: %d asked, none seeded: the knowledge base has no bulk load yet\n", *articles)
	}
	return nil
}

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

// Package faults runs the fault matrix (issue 18): case lifecycles through
// Handoff's API while one fault at a time hits a stack of the command's
// own, then the ground truth read straight from Temporal, Postgres,
// Mailpit, the webhook inbox and S3, printed as a table whose cells must
// all be 0. docs/reliability.md says how each fault is made and what the
// last run measured.
package faults

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"handoff/config"
)

// Options choose the rows and the load of a run.
type Options struct {
	// Rows names the rows to run, in matrix order; empty runs all.
	Rows []string
	// Cases is how many lifecycles each row drives.
	Cases int
	// Window is how long the lifecycles' starts are spread over; the
	// faults fall inside it.
	Window time.Duration
	// Outage is how long Postgres, MinIO and SMTP stay down.
	Outage time.Duration
	// TemporalDown is how long the Temporal server stays stopped.
	TemporalDown time.Duration
}

// Row is one fault of the matrix.
type Row struct {
	Name string
	// What says how the fault is made, for the table's legend.
	What string
	// Evidence makes each case upload a file.
	Evidence bool
	// inject makes the fault while the load runs; it returns once the
	// fault is healed. ctx ends when the load has ended.
	inject func(ctx context.Context, s *Stack, o Options, log func(string, ...any)) error
}

// Rows are the matrix's rows, in order.
var Rows = []Row{
	{Name: "worker-kill", What: "SIGKILL of the worker every 2-8 s (uniform), started again at once, until the load ends",
		inject: killWorker},
	{Name: "temporal-restart", What: "the Temporal dev server stopped (SIGTERM) a quarter into the load, started again on its SQLite file after -temporal-down",
		inject: restartTemporal},
	{Name: "postgres-down", What: "the Postgres proxy closes every connection and refuses new ones for -outage, a quarter into the load",
		inject: func(ctx context.Context, s *Stack, o Options, log func(string, ...any)) error {
			return outage(ctx, s.PG, o, log)
		}},
	{Name: "minio-down", What: "the S3 proxy closes every connection and refuses new ones for -outage, a quarter into the load; every case uploads a file",
		Evidence: true,
		inject: func(ctx context.Context, s *Stack, o Options, log func(string, ...any)) error {
			return outage(ctx, s.S3, o, log)
		}},
	{Name: "smtp-slow-down", What: "the SMTP proxy holds each message's reply 5 s for -outage/2, then refuses every connection for -outage",
		inject: slowThenDownSMTP},
}

func killWorker(ctx context.Context, s *Stack, _ Options, log func(string, ...any)) error {
	kills := 0
	defer func() { log("worker killed %d times", kills) }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2*time.Second + rand.N(6*time.Second)):
		}
		kills++
		if err := s.KillWorker(context.WithoutCancel(ctx)); err != nil {
			return err
		}
	}
}

// atQuarter waits a quarter of the window, so cases of every stage are
// in flight when the fault begins.
func atQuarter(ctx context.Context, o Options) {
	select {
	case <-ctx.Done():
	case <-time.After(o.Window / 4):
	}
}

func restartTemporal(ctx context.Context, s *Stack, o Options, log func(string, ...any)) error {
	atQuarter(ctx, o)
	log("Temporal stopped for %s", o.TemporalDown)
	if err := s.RestartTemporal(context.WithoutCancel(ctx), o.TemporalDown); err != nil {
		return err
	}
	log("Temporal started again")
	return nil
}

func outage(ctx context.Context, p *Proxy, o Options, log func(string, ...any)) error {
	atQuarter(ctx, o)
	log("%s down for %s", p.Name(), o.Outage)
	p.Stop()
	time.Sleep(o.Outage)
	log("%s back", p.Name())
	return p.Resume()
}

// smtpEndOfData ends a message's DATA: the server's answer to it is the
// one a slow server takes its time over.
const smtpEndOfData = "\r\n.\r\n"

func slowThenDownSMTP(ctx context.Context, s *Stack, o Options, log func(string, ...any)) error {
	atQuarter(ctx, o)
	log("SMTP slow (5 s a message) for %s", o.Outage/2)
	s.SMTP.Slow(5*time.Second, smtpEndOfData)
	time.Sleep(o.Outage / 2)
	s.SMTP.Slow(0, "")
	// The answers held back are given before the stop: the server took
	// those messages (see Proxy.Drain).
	s.SMTP.Drain(6 * time.Second)
	log("SMTP down for %s", o.Outage)
	s.SMTP.Stop()
	time.Sleep(o.Outage)
	log("SMTP back")
	return s.SMTP.Resume()
}

// Result is one row as measured.
type Result struct {
	Row   Row
	Cells Cells
	Took  time.Duration
}

// Run brings the stack up, runs the rows and prints the table to stdout.
func Run(ctx context.Context, root string, cfg config.Config, logger *slog.Logger, o Options, stdout io.Writer) ([]Result, error) {
	rows, err := selectRows(o.Rows)
	if err != nil {
		return nil, err
	}
	log := func(format string, args ...any) {
		fmt.Fprintf(stdout, "%s  %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	log("starting the faults stack (Temporal, MinIO, Mailpit, inbox, worker, API) under %s/.dev/faults", root)
	s, err := Up(ctx, root, cfg, logger)
	if err != nil {
		return nil, err
	}
	defer s.Down()
	log("stack up: API %s, Temporal %s, task queue %s; logs in %s", s.APIURL, s.TemporalAddr, s.TaskQueue, s.LogDir())
	var results []Result
	for _, r := range rows {
		start := time.Now()
		log("row %s: %s", r.Name, r.What)
		cells, err := runRow(ctx, s, r, o, log)
		if err != nil {
			return results, fmt.Errorf("row %s: %w", r.Name, err)
		}
		res := Result{Row: r, Cells: cells, Took: time.Since(start)}
		results = append(results, res)
		log("row %s done in %s", r.Name, res.Took.Round(time.Second))
		for _, n := range cells.Notes {
			fmt.Fprintln(stdout, "    "+n)
		}
	}
	fmt.Fprintln(stdout)
	Print(stdout, results, o)
	return results, nil
}

func selectRows(names []string) ([]Row, error) {
	if len(names) == 0 {
		return Rows, nil
	}
	var out []Row
	for _, r := range Rows {
		for _, n := range names {
			if n == r.Name {
				out = append(out, r)
			}
		}
	}
	if len(out) != len(names) {
		known := make([]string, len(Rows))
		for i, r := range Rows {
			known[i] = r.Name
		}
		return nil, fmt.Errorf("unknown row in %s; rows: %s", strings.Join(names, ","), strings.Join(known, ","))
	}
	return out, nil
}

// runRow drives the load while the row's fault runs, heals what is left
// and reads the ground truth.
func runRow(ctx context.Context, s *Stack, r Row, o Options, log func(string, ...any)) (Cells, error) {
	if err := s.ResetReceivers(ctx); err != nil {
		return Cells{}, err
	}
	stats := newStats()
	a := &api{base: s.APIURL, key: s.Key, stats: stats,
		http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	lctx, endLoad := context.WithCancel(ctx)
	injected := make(chan error, 1)
	go func() { injected <- r.inject(lctx, s, o, log) }()
	listed := make(chan string, 1)
	go func() { listed <- listWhile(lctx, a) }()
	run := fmt.Sprintf("%s-%s", r.Name, time.Now().UTC().Format("150405"))
	lcs := load(ctx, a, run, o.Cases, o.Window, r.Evidence)
	log("load done: %d lifecycles", len(lcs))
	endLoad()
	log("%s", <-listed)
	if err := <-injected; err != nil {
		return Cells{}, err
	}
	return verify(ctx, s, lcs, stats), nil
}

// listWhile lists cases every 2 s until ctx ends, as an agent's queue
// would, and answers how the lists were answered; their 5xx are counted
// with the load's.
func listWhile(ctx context.Context, a *api) string {
	var ok, failed int
	for {
		select {
		case <-ctx.Done():
			return fmt.Sprintf("case lists during the row: %d answered, %d not", ok, failed)
		case <-time.After(2 * time.Second):
		}
		if err := a.once(ctx, http.MethodGet, "/v1/cases?limit=10", "", "", nil, nil); err != nil {
			failed++
		} else {
			ok++
		}
	}
}

// Print writes the matrix.
func Print(w io.Writer, results []Result, o Options) {
	fmt.Fprintf(w, "fault matrix: %d case lifecycles per row (half p1 that breach first response once, half p4 that breach nothing)\n\n", o.Cases)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "fault\tcases lost\ttimeline events lost\tnotifications doubled\tnotifications missing\tescalations missed or doubled\tprojection rows missing or stale\tevidence half-recorded\tAPI 5xx other than named 503s\t(named 503s)\t")
	for _, r := range results {
		c := r.Cells
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", r.Row.Name, c.CasesLost, c.EventsLost,
			c.NotificationsDoubled, c.NotifsMissing, c.EscalationsWrong, c.ProjectionWrong, c.EvidenceHalf, c.Unnamed5xx, c.Named503)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, r := range results {
		fmt.Fprintf(w, "  %s: %s\n", r.Row.Name, r.Row.What)
	}
}

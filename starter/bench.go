package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"handoff/bench"
	"handoff/config"
	"handoff/store"
)

// benchParts are every part, in the order they run.
var benchParts = []bench.Part{bench.Cost, bench.Latency, bench.Throughput, bench.Lateness, bench.ReadModel, bench.Evidence, bench.Reports, bench.Held}

// runBench drives the running stack through its own API and worker and
// prints every figure beside its target (go run ./starter bench -h).
func runBench(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	parts := fs.String("parts", "", "comma-separated parts to run (default all): "+partNames())
	duration := fs.Duration("duration", 10*time.Second, "length of each timed phase")
	concurrency := fs.Int("concurrency", 4, "clients driving the load at once")
	cases := fs.Int("cases", 2, "lifecycles the cost part measures")
	lateness := fs.String("lateness", "100", "comma-separated numbers of cases due at the same moment (the big run: 1000,10000)")
	readModel := fs.Int("readmodel-cases", 50_000, "cases in Postgres for the read model part (the big run: 1000000)")
	sizes := fs.String("evidence-sizes", "1MiB,100MiB", "comma-separated evidence upload sizes")
	long := fs.Int("long-case", 100, "actions on one case for the latency growth figure (the big run: 500)")
	workers := fs.Int("workers", 1, "worker processes under test, on one task queue (metrics on 127.0.0.1:19090, 19091, ...)")
	held := fs.Int("held", 2000, "cases the held part opens and keeps open (the big run: 100000)")
	heldConcurrency := fs.Int("held-concurrency", 16, "clients opening the held part's cases")
	out := fs.String("out", "bench/results", "folder for the JSON report (relative to the repository)")
	temporalMetrics := fs.String("temporal-metrics", "http://127.0.0.1:7235/metrics", "the Temporal server's /metrics (billable actions, state transitions); empty to skip")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *workers < 1 || *held < 1 || *heldConcurrency < 1 {
		return fmt.Errorf("%w: -workers, -held and -held-concurrency must be positive", errUsage)
	}
	opts := bench.Options{Duration: *duration, Concurrency: *concurrency, Cases: *cases, ReadModelCases: *readModel, LongCase: *long,
		Workers: *workers, Held: *held, HeldConcurrency: *heldConcurrency}
	if *parts != "" {
		opts.Parts = strings.Split(*parts, ",")
	}
	var err error
	if opts.Lateness, err = intList(*lateness); err != nil {
		return fmt.Errorf("%w: -lateness: %v", errUsage, err)
	}
	if opts.EvidenceSizes, err = sizeList(*sizes); err != nil {
		return fmt.Errorf("%w: -evidence-sizes: %v", errUsage, err)
	}
	selected, err := bench.Select(benchParts, opts.Parts)
	if err != nil {
		return fmt.Errorf("%w: -parts: %v", errUsage, err)
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}

	tc, err := dial(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer tc.Close()
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	s3c, err := cfg.S3.NewClient(ctx)
	if err != nil {
		return err
	}
	env := &bench.Env{
		Config: cfg, Logger: logger, Temporal: tc, DB: db.Pool(), S3: s3c,
		// As many idle connections as clients: none opens a new one per request.
		HTTP: &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{
			MaxIdleConns: 2 * *concurrency, MaxIdleConnsPerHost: 2 * *concurrency, IdleConnTimeout: time.Minute}},
		BareQueue:       "handoff-bench-bare-" + time.Now().UTC().Format("150405"),
		TemporalMetrics: *temporalMetrics,
	}
	if *temporalMetrics != "" {
		if _, err := http.Get(*temporalMetrics); err != nil {
			return fmt.Errorf("the Temporal server's metrics at %s do not answer (the local stack serves them; -temporal-metrics '' skips them): %w", *temporalMetrics, err)
		}
	}
	key, secret, err := db.CreateAPIKey(ctx, "bench-"+time.Now().UTC().Format("20060102T150405"), store.RoleAdmin)
	if err != nil {
		return fmt.Errorf("bench API key: %w", err)
	}
	defer func() {
		_, _ = db.Pool().Exec(context.WithoutCancel(ctx), `UPDATE api_keys SET revoked_at = now() WHERE id = $1`, key.ID)
	}()
	env.Key = secret
	stopBare, err := bench.StartBare(env)
	if err != nil {
		return err
	}
	defer stopBare()
	env.EngineProcs = bench.EngineProcs(root)
	stopProcs, err := bench.Launch(ctx, env, root, opts.Workers)
	if err != nil {
		return err
	}
	defer stopProcs()

	engine, err := describeTemporal(ctx, tc)
	if err != nil {
		return err
	}
	underTest := "worker"
	if opts.Workers > 1 {
		underTest = fmt.Sprintf("%d workers", opts.Workers)
	}
	rep := bench.Report{Started: time.Now(), Machine: machine(), Options: opts, Settings: []string{
		engine,
		"API " + env.API + " and " + underTest + " on task queue " + env.TaskQueue + ", started by the bench with its own SLA policy",
		fmt.Sprintf("bare baseline: a worker in the bench process on %s, default SDK options", env.BareQueue),
	}}
	for _, p := range selected {
		fmt.Fprintf(stdout, "running %s: %s\n", p.Name, p.What)
		start := time.Now()
		res, err := p.Run(ctx, env, opts)
		res.Part, res.Took = p.Name, time.Since(start)
		if err != nil {
			return fmt.Errorf("bench %s: %w", p.Name, err)
		}
		rep.Results = append(rep.Results, res)
	}
	rep.Print(stdout)
	dir := *out
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	path, err := rep.Save(dir)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nreport:", path)
	return nil
}

func partNames() string {
	names := make([]string, len(benchParts))
	for i, p := range benchParts {
		names[i] = p.Name
	}
	return strings.Join(names, ",")
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func sizeList(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		mult := int64(1)
		for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
			if v, ok := strings.CutSuffix(f, suffix); ok {
				f, mult = v, m
			}
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a size (write 1MiB, 100MiB)", f)
		}
		out = append(out, n*mult)
	}
	return out, nil
}

// machine describes this machine for the report.
func machine() bench.Machine {
	m := bench.Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryMB = kb / 1024
		}
	}
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	return m
}

// repoRoot answers the folder holding go.mod, from the working directory up:
// the bench runs the binaries under bin/ and writes under .dev/ and bench/.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory: run the bench from the repository")
		}
		dir = parent
	}
}

// describeTemporal says which Temporal the bench measures: the dev server
// (SQLite, one shard) or a cluster, with its store and shard count, so a
// report from one is never read as the other's.
func describeTemporal(ctx context.Context, tc client.Client) (string, error) {
	info, err := tc.WorkflowService().GetClusterInfo(ctx, &workflowservice.GetClusterInfoRequest{})
	if err != nil {
		return "", fmt.Errorf("describe the Temporal server: %w", err)
	}
	if info.GetPersistenceStore() == "sqlite" {
		return fmt.Sprintf("Temporal dev server %s on SQLite with journal_mode=wal and synchronous=normal, %d history shard (deploy/localstack)",
			info.GetServerVersion(), info.GetHistoryShardCount()), nil
	}
	return fmt.Sprintf("Temporal Server %s on %s (visibility %s), %d history shards",
		info.GetServerVersion(), info.GetPersistenceStore(), info.GetVisibilityStore(), info.GetHistoryShardCount()), nil
}

// benchChart reads bench reports and writes the scaling chart (SVG) and its
// table (Markdown, on stdout): bench/scaling.sh's runs, by history shards
// and worker processes.
func benchChart(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench chart", flag.ContinueOnError)
	out := fs.String("out", "bench/scaling.svg", "the SVG to write")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: bench chart: name the JSON reports to draw", errUsage)
	}
	reports, err := bench.ReadReports(fs.Args())
	if err != nil {
		return err
	}
	sc, err := bench.CollectScaling(reports, bench.ScalingPanels)
	if err != nil {
		return err
	}
	var svg strings.Builder
	sc.SVG(&svg)
	if err := os.WriteFile(*out, []byte(svg.String()), 0o644); err != nil {
		return fmt.Errorf("write the chart: %w", err)
	}
	sc.Table(stdout)
	return nil
}

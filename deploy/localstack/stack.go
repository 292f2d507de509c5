package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"handoff/config"
)

// Readiness deadlines: a first Temporal start creates its SQLite schema
// and a first Postgres start runs initdb, so infrastructure gets longer.
const (
	infraReadyTimeout = 90 * time.Second
	appReadyTimeout   = 60 * time.Second
)

// stack brings the parts up and remembers what it started, in start order,
// so it can stop exactly those in reverse.
type stack struct {
	cfg      config.Config
	layout   layout
	logger   *slog.Logger
	launcher launcher
	// infra is every part but the apps, in start order; waves is the same
	// parts in the groups that start together, each once the one before
	// answers and is prepared.
	infra    []infra
	waves    [][]infra
	started  []*child
	reused   []string
	adminKey string
}

func newStack(cfg config.Config, l layout, logger *slog.Logger, detached bool) (*stack, error) {
	pg, err := newPostgresPart(cfg.DatabaseURL, l, logger)
	if err != nil {
		return nil, err
	}
	dev := &temporalPart{cfg: cfg.Temporal, layout: l, codecEndpoint: codecEndpoint(cfg.HTTPAddr)}
	parts := []infra{pg}
	if cfg.LocalTemporal.Mode == config.TemporalDev {
		parts = append(parts, dev)
	}
	// An empty S3_ENDPOINT means AWS S3 itself, which is nothing to run.
	if cfg.S3.Endpoint != "" {
		parts = append(parts, &minioPart{cfg: cfg.S3, layout: l})
	}
	parts = append(parts, &mailpitPart{cfg: cfg.SMTP, layout: l},
		&webhookInboxPart{addr: cfg.WebhookInboxAddr, layout: l})
	// The stand-ins wait for Postgres's setup, which creates the database
	// the payments ledger goes in.
	standIns := []infra{
		&paymentsPart{cfg: cfg.Commerce, databaseURL: cfg.DatabaseURL, layout: l},
		&carrierPart{cfg: cfg.Commerce, httpAddr: cfg.HTTPAddr, lookup: os.LookupEnv, layout: l},
		&verificationPart{cfg: cfg.Verification, httpAddr: cfg.HTTPAddr, lookup: os.LookupEnv, layout: l},
	}
	waves := [][]infra{parts}
	if cfg.LocalTemporal.Mode == config.TemporalCluster {
		// The cluster persists to the stack's Postgres, so it starts once
		// that answers; its UI starts with the stand-ins, once it answers.
		cluster := &temporalCluster{cfg: cfg.Temporal, local: cfg.LocalTemporal, pg: pg.conn, layout: l, logger: logger}
		processes := clusterProcesses(cluster, dev)
		waves = append(waves, processes)
		standIns = append([]infra{&temporalUIPart{cluster: cluster, codecEndpoint: dev.codecEndpoint}}, standIns...)
	}
	waves = append(waves, standIns)
	return &stack{
		cfg:      cfg,
		layout:   l,
		logger:   logger,
		launcher: launcher{layout: l, detached: detached},
		infra:    slices.Concat(waves...),
		waves:    waves,
	}, nil
}

// upInfra makes every infrastructure part answer, reusing what already
// does and starting the rest, wave after wave, then prepares them
// (database, migrations, bucket, search attributes) and the admin API key.
func (s *stack) upInfra(ctx context.Context) error {
	if err := ensurePayloadKeys(s.cfg.Temporal, s.layout); err != nil {
		return err
	}
	for _, wave := range s.waves {
		if err := s.upWave(ctx, wave); err != nil {
			return err
		}
	}
	key, err := ensureAdminKey(ctx, s.cfg.DatabaseURL, s.layout.adminKeyFile())
	if err != nil {
		return fmt.Errorf("admin API key: %w", err)
	}
	s.adminKey = key
	return nil
}

// upWave starts or reuses the parts of one wave at once, waits until those
// started are ready, then prepares each.
func (s *stack) upWave(ctx context.Context, parts []infra) error {
	var pending []*child
	var readies []func(context.Context) error
	for _, p := range parts {
		c, err := s.startOrReuse(ctx, p)
		if err != nil {
			return err
		}
		if c != nil {
			pending = append(pending, c)
			readies = append(readies, p.ready)
		}
	}
	if err := waitAllReady(ctx, pending, readies, infraReadyTimeout); err != nil {
		return err
	}
	for _, p := range parts {
		if err := p.setup(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.info().name, err)
		}
	}
	return nil
}

// startOrReuse answers nil when p already answers, else the child started for it.
func (s *stack) startOrReuse(ctx context.Context, p infra) (*child, error) {
	name := p.info().name
	pctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	probeErr := p.probe(pctx)
	cancel()
	if probeErr == nil {
		s.logger.Info("reusing", "part", name, "addr", p.address())
		s.reused = append(s.reused, name)
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := p.startable(); err != nil {
		return nil, fmt.Errorf("%s: does not answer at %s (%v), and %w", name, p.address(), probeErr, err)
	}
	if tcpAnswers(ctx, p.address()) == nil {
		return nil, fmt.Errorf("%s: something at %s accepts connections but is not a working %s (%v): stop it or change the address",
			name, p.address(), name, probeErr)
	}
	if err := s.refuseLeftover(p.info()); err != nil {
		return nil, err
	}
	c, err := p.start(ctx, s.launcher)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.started = append(s.started, c)
	s.logger.Info("starting", "part", name, "pid", c.pid(), "log", s.layout.rel(c.logPath))
	return c, nil
}

// refuseLeftover fails when a process this tool started earlier for part
// still runs (it does not answer, or it would have been reused); a stale
// pid file is removed.
func (s *stack) refuseLeftover(part partInfo) error {
	path := s.layout.pidFile(part.name)
	pid, err := readPidFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil && runningAs(pid, part.binary) {
		return fmt.Errorf("%s: the %s started earlier (pid %d) runs but does not answer; see %s, or stop it with `localstack down`",
			part.name, part.name, pid, s.layout.rel(s.layout.logFile(part.name)))
	}
	return os.Remove(path)
}

// waitAllReady waits for every pending child at once; the first failure
// stops the wait for the others.
func waitAllReady(ctx context.Context, pending []*child, readies []func(context.Context) error, timeout time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(pending))
	var wg sync.WaitGroup
	for i, c := range pending {
		wg.Go(func() {
			errs[i] = waitReady(ctx, c, readies[i], timeout)
			if errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return errors.Join(failed...)
	}
	return errors.Join(errs...)
}

// app is one of Handoff's own processes, started by `run` after the infrastructure.
type app struct {
	part partInfo
	// listen is the address it serves HTTP on; health is where it says it is ready.
	listen string
	health string
	// env is added to the inherited environment.
	env []string
}

func (s *stack) apps() []app {
	return []app{
		{workerInfo, s.cfg.WorkerMetricsAddr, "http://" + s.cfg.WorkerMetricsAddr + "/healthz",
			slices.Concat(inboxWebhookEnv(os.LookupEnv, s.cfg.WebhookInboxAddr), standInURLEnv(os.LookupEnv, s.cfg.Commerce),
				verificationURLEnv(os.LookupEnv, s.cfg.Verification))},
		{apiInfo, s.cfg.HTTPAddr, "http://" + s.cfg.HTTPAddr + "/readyz", nil},
	}
}

// standInURLEnv answers what to add to the worker's environment so that
// it calls the stand-ins where they listen: PAYMENTS_URL and CARRIER_URL,
// each unless the environment sets it (a real provider, a proxy).
func standInURLEnv(lookup func(string) (string, bool), cfg config.Commerce) []string {
	var env []string
	if _, set := lookup("PAYMENTS_URL"); !set {
		env = append(env, "PAYMENTS_URL=http://"+dialAddr(cfg.PaymentsAddr))
	}
	if _, set := lookup("CARRIER_URL"); !set {
		env = append(env, "CARRIER_URL=http://"+dialAddr(cfg.CarrierAddr))
	}
	return env
}

// checkApps fails early, before any infrastructure starts, when a binary is missing.
func (s *stack) checkApps() error {
	for _, a := range s.apps() {
		bin := s.layout.bin(a.part.binary)
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%s: %s not found: build it with `make build` (or `go build -o %s ./%s`)",
				a.part.name, s.layout.rel(bin), s.layout.rel(bin), a.part.name)
		}
	}
	return nil
}

// upApps starts the worker and the API and waits until both are healthy.
func (s *stack) upApps(ctx context.Context) error {
	var pending []*child
	var readies []func(context.Context) error
	for _, a := range s.apps() {
		if tcpAnswers(ctx, a.listen) == nil {
			return fmt.Errorf("%s: %s is already in use (another `make run`?): stop that first", a.part.name, a.listen)
		}
		c, err := s.launcher.start(command{part: a.part, path: s.layout.bin(a.part.binary), env: a.env})
		if err != nil {
			return fmt.Errorf("%s: %w", a.part.name, err)
		}
		s.started = append(s.started, c)
		s.logger.Info("starting", "part", a.part.name, "pid", c.pid(), "log", s.layout.rel(c.logPath))
		for _, kv := range a.env {
			name, value, _ := strings.Cut(kv, "=")
			s.logger.Info("environment", "part", a.part.name, "var", name, "value", value)
		}
		pending = append(pending, c)
		readies = append(readies, func(ctx context.Context) error { return httpOK(ctx, a.health) })
	}
	return waitAllReady(ctx, pending, readies, appReadyTimeout)
}

// stopStarted stops every child this invocation started, newest first.
func (s *stack) stopStarted() {
	for _, c := range slices.Backward(s.started) {
		if c.exited() {
			_ = c.stop(0)
			continue
		}
		s.logger.Info("stopping", "part", c.part.name, "pid", c.pid())
		if err := c.stop(stopTimeout); err != nil {
			s.logger.Warn("stop", "part", c.part.name, "err", err)
		}
	}
	s.started = nil
}

// supervise waits until ctx ends (Ctrl-C) or a started child exits on its
// own; either way it stops every child, and a child's exit is an error.
func (s *stack) supervise(ctx context.Context) error {
	exited := make(chan *child, len(s.started))
	for _, c := range s.started {
		go func() {
			<-c.done
			exited <- c
		}()
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "\nstopping what this started…")
		s.stopStarted()
		return nil
	case c := <-exited:
		err := c.exitError()
		fmt.Fprintf(os.Stderr, "\n%v\nstopping everything else…\n", err)
		s.stopStarted()
		return fmt.Errorf("%s stopped unexpectedly", c.part.name)
	}
}

// startedNames lists the parts this invocation started.
func (s *stack) startedNames() []string {
	names := make([]string, len(s.started))
	for i, c := range s.started {
		names[i] = c.part.name
	}
	return names
}

// printSummary tells where everything is, what was started and what reused.
func (s *stack) printSummary(w io.Writer, withApps bool) {
	title := "Handoff infrastructure is up."
	if withApps {
		title = "Handoff is up."
	}
	fmt.Fprintf(w, "\n%s\n\n", title)
	// A fixed minimum width keeps both blocks' columns aligned.
	tw := tabwriter.NewWriter(w, 18, 4, 2, ' ', 0)
	if withApps {
		fmt.Fprintf(tw, "  API\thttp://%s\n", s.cfg.HTTPAddr)
		fmt.Fprintf(tw, "  Worker metrics\thttp://%s/metrics\n", s.cfg.WorkerMetricsAddr)
		if s.cfg.Inbound.SMTPAddr != "" {
			fmt.Fprintf(tw, "  Inbound mail\tsmtp://%s (replies to reply+…@%s)\n", s.cfg.Inbound.SMTPAddr, s.cfg.Inbound.Domain)
		}
	}
	for _, p := range s.infra {
		for _, e := range p.endpoints() {
			fmt.Fprintf(tw, "  %s\t%s\n", e[0], e[1])
		}
	}
	if s.cfg.S3.Endpoint == "" {
		fmt.Fprintf(tw, "  S3\tAWS S3, bucket %s (S3_ENDPOINT is empty)\n", s.cfg.S3.Bucket)
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "  started\t%s\n", listOrNone(s.startedNames()))
	fmt.Fprintf(tw, "  reused\t%s\n", listOrNone(s.reused))
	fmt.Fprintf(tw, "  admin API key\t%s (in %s)\n", s.adminKey, s.layout.rel(s.layout.adminKeyFile()))
	fmt.Fprintf(tw, "  logs\t%s%c\n", s.layout.rel(s.layout.logDir()), os.PathSeparator)
	_ = tw.Flush()
	if withApps {
		fmt.Fprintln(w, "\nCtrl-C stops everything this started.")
	} else if len(s.started) > 0 {
		fmt.Fprintln(w, "\n`localstack down` stops what this started.")
	}
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

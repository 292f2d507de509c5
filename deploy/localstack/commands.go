package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"handoff/config"
)

// supervisor names the pid file of a running `localstack run`, so `down`
// in another terminal asks it to stop its children itself.
var supervisor = partInfo{name: "localstack", binary: "localstack", stopSignal: syscall.SIGTERM}

// supervisorStopTimeout covers a supervisor stopping every child in turn.
const supervisorStopTimeout = 2 * time.Minute

// errInterrupted is what a bring-up cut short by Ctrl-C answers.
var errInterrupted = errors.New("interrupted; stopped what this started")

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
}

// cmdRun brings up everything with children tied to this process and
// supervises them until Ctrl-C or until one of them exits.
func cmdRun(cfg config.Config, l layout, logger *slog.Logger) error {
	ctx, stop := signalContext()
	defer stop()
	s, err := newStack(cfg, l, logger, false)
	if err != nil {
		return err
	}
	if err := s.checkApps(); err != nil {
		return err
	}
	release, err := claimSupervisor(l)
	if err != nil {
		return err
	}
	defer release()
	if err := s.upInfra(ctx); err != nil {
		return s.abort(ctx, err)
	}
	if err := s.upApps(ctx); err != nil {
		return s.abort(ctx, err)
	}
	s.printSummary(os.Stdout, true)
	// After the first Ctrl-C a second one ends this process at once;
	// Pdeathsig then takes the children down with it.
	go func() {
		<-ctx.Done()
		stop()
	}()
	return s.supervise(ctx)
}

// cmdUp brings up the infrastructure with detached children and returns.
func cmdUp(cfg config.Config, l layout, logger *slog.Logger, startedFile string) error {
	ctx, stop := signalContext()
	defer stop()
	s, err := newStack(cfg, l, logger, true)
	if err != nil {
		return err
	}
	if err := s.upInfra(ctx); err != nil {
		return s.abort(ctx, err)
	}
	if startedFile != "" {
		if err := writeStartedFile(startedFile, s.startedNames()); err != nil {
			return err
		}
	}
	s.printSummary(os.Stdout, false)
	return nil
}

// abort stops what a failed bring-up started and answers why it failed.
func (s *stack) abort(ctx context.Context, err error) error {
	s.stopStarted()
	if ctx.Err() != nil {
		return errInterrupted
	}
	return err
}

// claimSupervisor writes the supervisor's pid file, refusing when another
// `run` is live, and answers how to remove it.
func claimSupervisor(l layout) (func(), error) {
	path := l.pidFile(supervisor.name)
	if pid, err := readPidFile(path); err == nil && pid != os.Getpid() && runningAs(pid, supervisor.binary) {
		return nil, fmt.Errorf("another `localstack run` (pid %d) is running: stop it first (Ctrl-C there, or `localstack down`)", pid)
	}
	if err := os.MkdirAll(l.dev("run"), 0o755); err != nil {
		return nil, fmt.Errorf("create pid folder: %w", err)
	}
	if err := writePidFile(path, os.Getpid()); err != nil {
		return nil, err
	}
	return func() { _ = os.Remove(path) }, nil
}

// cmdDown stops every part a pid file names (or only those onlyFrom
// lists), API first, Postgres last. A live `run` supervisor is asked to
// stop first, as it would otherwise take its children's exits for crashes.
func cmdDown(l layout, onlyFrom string) error {
	names := make([]string, len(allParts))
	for i, p := range allParts {
		names[i] = p.name
	}
	if onlyFrom != "" {
		var err error
		if names, err = readStartedFile(onlyFrom); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				fmt.Printf("nothing to stop: %s does not exist\n", onlyFrom)
				return nil
			}
			return err
		}
	}
	var errs []error
	did := false
	if onlyFrom == "" {
		pid, outcome, err := stopPidFile(l.pidFile(supervisor.name), supervisor, supervisorStopTimeout)
		if outcome == stopped {
			fmt.Printf("stopped localstack run (pid %d) and what it started\n", pid)
			did = true
		}
		errs = append(errs, err)
	}
	for _, p := range slices.Backward(allParts) {
		if !slices.Contains(names, p.name) {
			continue
		}
		pid, outcome, err := stopPidFile(l.pidFile(p.name), p, stopTimeout)
		switch outcome {
		case stopped:
			fmt.Printf("stopped %s (pid %d)\n", p.name, pid)
			did = true
		case staleRemoved:
			fmt.Printf("removed the stale pid file of %s (pid %d is gone or another program)\n", p.name, pid)
		}
		errs = append(errs, err)
	}
	if !did {
		fmt.Println("nothing to stop")
	}
	return errors.Join(errs...)
}

// cmdStatus probes every part at once and prints a line each.
func cmdStatus(cfg config.Config, l layout, logger *slog.Logger) error {
	s, err := newStack(cfg, l, logger, true)
	if err != nil {
		return err
	}
	type row struct {
		part  partInfo
		where string
		probe func(context.Context) error
		err   error
	}
	var rows []*row
	for _, p := range s.infra {
		var where []string
		for _, e := range p.endpoints() {
			where = append(where, e[0]+" "+e[1])
		}
		rows = append(rows, &row{part: p.info(), where: strings.Join(where, "; "), probe: p.ready})
	}
	for _, a := range s.apps() {
		rows = append(rows, &row{part: a.part, where: a.health, probe: func(ctx context.Context) error { return httpOK(ctx, a.health) }})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range rows {
		wg.Go(func() { r.err = r.probe(ctx) })
	}
	wg.Wait()
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PART\tSTATE\tSTARTED BY LOCALSTACK\tWHERE")
	for _, r := range rows {
		state := "up"
		if r.err != nil {
			state = "down"
		}
		managed := "-"
		if pid, err := readPidFile(l.pidFile(r.part.name)); err == nil && runningAs(pid, r.part.binary) {
			managed = fmt.Sprintf("pid %d", pid)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.part.name, state, managed, r.where)
	}
	return tw.Flush()
}

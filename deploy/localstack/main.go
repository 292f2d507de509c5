// Command localstack supervises Handoff's local development stack: the
// Temporal dev server, Postgres, MinIO and Mailpit on loopback, then the
// worker and the API. A part that already answers at its configured
// address is reused; the rest are started from ./bin (and Debian's
// Postgres) with their state under .dev, so a second start keeps the data.
//
//	localstack run                      everything, in the foreground; Ctrl-C stops what it started
//	localstack up [--started-file F]    the infrastructure only, left running (for tests)
//	localstack down [--only-from F]     stop what run or up started (alias: stop)
//	localstack status                   which parts answer, and where
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"handoff/config"
)

const usage = `usage: localstack <command> [flags]

commands:
  run                    bring up the infrastructure, the worker and the API; stay in the
                         foreground, and stop what was started on Ctrl-C
  up [--started-file F]  bring up the infrastructure only and return; F lists what was started
  down [--only-from F]   stop what run or up started (all, or only the parts F lists); alias: stop
  status                 show which parts answer, and where
`

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := dispatch(os.Args[1:], logger); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "localstack:", err)
		}
		os.Exit(1)
	}
}

// dispatch parses the command line, moves to the repository root (every
// path of the stack is relative to it) and runs the command.
func dispatch(args []string, logger *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("localstack "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var startedFile, onlyFrom string
	switch cmd {
	case "up":
		fs.StringVar(&startedFile, "started-file", "", "write the names of the parts this started to `file`")
	case "down", "stop":
		fs.StringVar(&onlyFrom, "only-from", "", "stop only the parts `file` lists")
	case "run", "status":
	case "help", "-h", "-help", "--help":
		fmt.Print(usage)
		return nil
	default:
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	if err := fs.Parse(rest); err != nil {
		return fmt.Errorf("%w\n\n%s", err, usage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s takes no arguments, got %q", cmd, fs.Args())
	}
	// Flag paths are relative to where the user is, before moving to the root.
	for _, p := range []*string{&startedFile, &onlyFrom} {
		if *p != "" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return err
			}
			*p = abs
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := findRoot(wd)
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	l := layout{root: root}
	if cmd == "down" || cmd == "stop" {
		return cmdDown(l, onlyFrom)
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	switch cmd {
	case "run":
		return cmdRun(cfg, l, logger)
	case "up":
		return cmdUp(cfg, l, logger, startedFile)
	default:
		return cmdStatus(cfg, l, logger)
	}
}

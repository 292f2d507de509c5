// Command starter is Handoff's command-line tool for operators and
// developers: it applies migrations, registers search attributes and
// creates API keys (later also demo scenarios and load runs).
//
//	go run ./starter migrate
//	go run ./starter search-attributes
//	WORKER_DEPLOYMENT_NAME=handoff WORKER_BUILD_ID=abc go run ./starter deployment promote
//	go run ./starter keys create --role admin --name ops
//	go run ./starter case open --category login_failure --priority p1
//	go run ./starter case show C-123
//	go run ./starter accounts seed
//	go run ./starter bench
//	go run ./starter faults -cases 50
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"handoff/config"
	"handoff/store"
	"handoff/telemetry"
	"handoff/workflows/vocab"
)

const usage = `usage: starter <command> [flags]

commands:
  migrate                              apply the Postgres migrations not applied yet
  search-attributes                    register Handoff's search attributes in the namespace (waits a minute after adding any, for the server's caches)
  deployment promote                   make WORKER_BUILD_ID the current version of WORKER_DEPLOYMENT_NAME once its workers poll
  keys create --role ROLE --name NAME  create an API key and print it once
  case open [flags]                    open a demo case (see case open -h)
  case show ID                         print a case as its workflow holds it
  accounts seed [--reset]              put the demo accounts in the Postgres account directory
  seller event --seller ID --kind K    post a signed marketplace seller event to the API (see seller event -h)
  bench [flags]                        measure the running stack beside the bare engine (see bench -h)
  bench chart -out FILE REPORT...      draw bench reports by history shards and worker processes (SVG, and a Markdown table on stdout)
  faults [flags]                       run the fault matrix on a stack of its own and print it (see faults -h)
  seed history [flags]                 COPY months of cases, deliveries, returns, disputes and articles into Postgres (see seed history -h)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "starter:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("bad usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	logger := telemetry.NewLogger(stderr, cfg.LogLevel, "starter")
	switch {
	case args[0] == "migrate":
		return migrate(ctx, cfg, logger)
	case args[0] == "search-attributes":
		return searchAttributes(ctx, cfg, logger, stdout)
	case args[0] == "deployment" && len(args) == 2 && args[1] == "promote":
		return promoteDeployment(ctx, cfg, logger, stdout)
	case args[0] == "keys" && len(args) > 1 && args[1] == "create":
		return createKey(ctx, cfg, args[2:], stdout)
	case args[0] == "case" && len(args) > 1 && args[1] == "open":
		return openCase(ctx, cfg, logger, args[2:], stdout)
	case args[0] == "case" && len(args) == 3 && args[1] == "show":
		return showCase(ctx, cfg, logger, args[2], stdout)
	case args[0] == "bench" && len(args) > 1 && args[1] == "chart":
		return benchChart(args[2:], stdout)
	case args[0] == "bench":
		return runBench(ctx, cfg, logger, args[1:], stdout)
	case args[0] == "faults":
		return runFaults(ctx, cfg, logger, args[1:], stdout)
	case args[0] == "accounts" && len(args) > 1 && args[1] == "seed":
		return seedAccounts(ctx, cfg, logger, args[2:], stdout)
	case args[0] == "seed" && len(args) > 1 && args[1] == "history":
		return seedHistory(ctx, cfg, args[2:], stdout)
	case args[0] == "seller" && len(args) > 1 && args[1] == "event":
		return sendSellerEvent(ctx, cfg, args[2:], stdout)
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
}

func migrate(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Migrate(ctx, logger)
}

func searchAttributes(ctx context.Context, cfg config.Config, logger *slog.Logger, stdout io.Writer) error {
	c, err := dial(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	added, err := vocab.AddMissingSearchAttributes(ctx, c, cfg.Temporal.Namespace)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d search attributes registered in namespace %s, %d of them added now\n",
		len(vocab.SearchAttributes), cfg.Temporal.Namespace, added)
	if added == 0 {
		return nil
	}
	// A server process serves attributes added after its last read once its
	// cache expires: the release goes on, with this Job done, when every
	// process does.
	fmt.Fprintf(stdout, "waiting %s for the server's caches to serve them\n", vocab.SearchAttributeCacheTTL)
	return vocab.AwaitSearchAttributeCaches(ctx)
}

func createKey(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
	roleName := fs.String("role", "", "role of the key: integration, agent, account_manager, security, trust_safety or admin")
	name := fs.String("name", "", "who or what uses the key")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	role, err := store.ParseRole(*roleName)
	if err != nil {
		return fmt.Errorf("--role: %w", err)
	}
	if *name == "" {
		return fmt.Errorf("%w: --name is required", errUsage)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	key, secret, err := db.CreateAPIKey(ctx, *name, role)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created key %d (%s, role %s); it is shown once:\n%s\n", key.ID, key.Name, key.Role, secret)
	return nil
}

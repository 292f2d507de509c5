package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"go.temporal.io/sdk/client"

	"handoff/config"
	"handoff/workflows/vocab"
)

// temporalUIPort is the Web UI's fixed local port.
const temporalUIPort = "8233"

// temporalMetricsPort is where the dev server serves its own Prometheus
// metrics (/metrics), among them `action`, the per-namespace count of
// billable actions; fixed so benchmarks and people find it (the CLI would
// pick a random port).
const temporalMetricsPort = "7235"

// temporalPart is the Temporal dev server: the CLI's `server start-dev`
// with its state in a SQLite file under .dev, so workflows survive restarts.
type temporalPart struct {
	cfg    config.Temporal
	layout layout
	// codecEndpoint is the API's codec, which the Web UI calls to show
	// payloads in clear to an operator signed in to it.
	codecEndpoint string
}

func (t *temporalPart) info() partInfo { return temporalInfo }

func (t *temporalPart) address() string { return t.cfg.Address }

func (t *temporalPart) dial(ctx context.Context) (client.Client, error) {
	// Probes fail often by design; the SDK's own logs would only repeat it.
	opts, err := t.cfg.ClientOptions(slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return nil, err
	}
	return client.DialContext(ctx, opts)
}

func (t *temporalPart) probe(ctx context.Context) error {
	// A refused connection answers at once; the SDK would retry until ctx ends.
	if err := tcpAnswers(ctx, t.cfg.Address); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := t.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("check health: %w", err)
	}
	return nil
}

func (t *temporalPart) ready(ctx context.Context) error { return t.probe(ctx) }

func (t *temporalPart) startable() error {
	if t.cfg.TLS || t.cfg.TLSCertPath != "" || t.cfg.APIKey != "" {
		return fmt.Errorf("TEMPORAL_ADDRESS %s is reached with TLS or an API key, so it is not started here", t.cfg.Address)
	}
	return requireLoopback(t.cfg.Address)
}

func (t *temporalPart) start(_ context.Context, l launcher) (*child, error) {
	bin := t.layout.bin("temporal")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s not found: run `make tools`", t.layout.rel(bin))
	}
	host, port, _ := net.SplitHostPort(t.cfg.Address)
	dir := t.layout.dev("temporal")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create state folder: %w", err)
	}
	return l.start(command{
		part: temporalInfo,
		path: bin,
		args: []string{
			"server", "start-dev",
			"--ip", bindHost(host),
			"--port", port,
			"--ui-port", temporalUIPort,
			"--metrics-port", temporalMetricsPort,
			"--db-filename", t.layout.dev("temporal", "temporal.db"),
			"--namespace", t.cfg.Namespace,
			"--sqlite-pragma", "journal_mode=wal",
			"--sqlite-pragma", "synchronous=normal",
			"--log-level", "warn",
			"--ui-codec-endpoint", t.codecEndpoint,
		},
	})
}

func (t *temporalPart) setup(ctx context.Context) error {
	_, err := t.addSearchAttributes(ctx)
	return err
}

// addSearchAttributes registers Handoff's search attributes the namespace
// lacks and answers how many it added.
func (t *temporalPart) addSearchAttributes(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := t.dial(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return vocab.AddMissingSearchAttributes(ctx, c, t.cfg.Namespace)
}

func (t *temporalPart) endpoints() [][2]string {
	grpc := [2]string{"Temporal gRPC", t.cfg.Address + " (namespace " + t.cfg.Namespace + ")"}
	host, _, _ := net.SplitHostPort(t.cfg.Address)
	if !isLoopback(host) {
		return [][2]string{grpc}
	}
	return [][2]string{
		{"Temporal UI", "http://" + net.JoinHostPort(bindHost(host), temporalUIPort)},
		grpc,
		{"Temporal metrics", "http://" + net.JoinHostPort(bindHost(host), temporalMetricsPort) + "/metrics"},
	}
}

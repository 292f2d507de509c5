package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

// partInfo names a part of the stack and how to recognise and stop its process.
type partInfo struct {
	name string
	// binary is the base name of the part's executable, checked against
	// /proc/<pid>/cmdline before a pid file's process is signalled.
	binary     string
	stopSignal syscall.Signal
}

// The parts, in the order they start; they stop in the reverse order.
var (
	// SIGINT is Postgres's fast shutdown; SIGTERM ("smart") would wait for
	// every client to disconnect.
	postgresInfo = partInfo{"postgres", "postgres", syscall.SIGINT}
	temporalInfo = partInfo{"temporal", "temporal", syscall.SIGTERM}
	// TEMPORAL_MODE=cluster runs Temporal Server instead of the dev server:
	// one process, or one per service (TEMPORAL_SERVICES=split), then the
	// Web UI; temporal-schema names the log of its SQL tool's runs.
	temporalServerInfo   = partInfo{"temporal-server", "temporal-server", syscall.SIGTERM}
	temporalHistoryInfo  = partInfo{"temporal-history", "temporal-server", syscall.SIGTERM}
	temporalMatchingInfo = partInfo{"temporal-matching", "temporal-server", syscall.SIGTERM}
	temporalWorkerInfo   = partInfo{"temporal-worker", "temporal-server", syscall.SIGTERM}
	temporalFrontInfo    = partInfo{"temporal-frontend", "temporal-server", syscall.SIGTERM}
	temporalUIInfo       = partInfo{"temporal-ui", "temporal-ui-server", syscall.SIGTERM}
	temporalSchemaInfo   = partInfo{"temporal-schema", "temporal-sql-tool", syscall.SIGTERM}
	minioInfo            = partInfo{"minio", "minio", syscall.SIGTERM}
	mailpitInfo          = partInfo{"mailpit", "mailpit", syscall.SIGTERM}
	// The inbox starts before the worker and stops after it, so no webhook
	// of a finishing activity finds it gone.
	webhookInboxInfo = partInfo{"webhook-inbox", "handoff-inbox", syscall.SIGTERM}
	// The stand-ins for the payment provider and the carrier start once
	// Postgres is prepared (the payments ledger is in its database) and,
	// like the inbox, stop after the worker that calls them.
	paymentsInfo = partInfo{"payments", "handoff-payments", syscall.SIGTERM}
	carrierInfo  = partInfo{"carrier", "handoff-carrier", syscall.SIGTERM}
	// The identity-verification stand-in needs no Postgres (its checks are
	// in memory) but starts and stops with the other stand-ins.
	verificationInfo = partInfo{"verification", "handoff-verification", syscall.SIGTERM}
	workerInfo       = partInfo{"worker", "handoff-worker", syscall.SIGTERM}
	apiInfo          = partInfo{"api", "handoff-api", syscall.SIGTERM}

	allParts = []partInfo{postgresInfo, temporalInfo, minioInfo, mailpitInfo, webhookInboxInfo,
		temporalServerInfo, temporalHistoryInfo, temporalMatchingInfo, temporalWorkerInfo, temporalFrontInfo, temporalUIInfo,
		paymentsInfo, carrierInfo, verificationInfo, workerInfo, apiInfo}
)

// partByName answers the part called name.
func partByName(name string) (partInfo, bool) {
	for _, p := range allParts {
		if p.name == name {
			return p, true
		}
	}
	return partInfo{}, false
}

// infra is one piece of infrastructure: something that may already answer
// at its configured address, or else is started here.
type infra interface {
	info() partInfo
	// address is the host:port the part answers at.
	address() string
	// probe answers nil when the part answers at its configured address.
	probe(ctx context.Context) error
	// startable answers nil when the part may be started on this machine,
	// else why not (a remote address, TLS, AWS S3).
	startable() error
	// start launches the part; it may first prepare state (initdb, keys).
	start(ctx context.Context, l launcher) (*child, error)
	// ready answers nil once a part this invocation started can be used.
	ready(ctx context.Context) error
	// setup runs once the part answers, started or reused: databases,
	// migrations, buckets, search attributes. It must be idempotent.
	setup(ctx context.Context) error
	// endpoints lists what the summary shows for the part, label and value.
	endpoints() [][2]string
}

// startBinary starts part from its binary in bin/ with env added to the
// inherited environment; a binary not built yet is an error saying how to
// build it from the package at commandPath.
func startBinary(l launcher, lay layout, part partInfo, commandPath string, env []string) (*child, error) {
	bin := lay.bin(part.binary)
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s not found: build it with `make build` (or `go build -o %s %s`)",
			lay.rel(bin), lay.rel(bin), commandPath)
	}
	return l.start(command{part: part, path: bin, env: env})
}

// listenEnv answers name=addr as a started part should listen on it (see bindHost).
func listenEnv(name, addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return name + "=" + net.JoinHostPort(bindHost(host), port)
}

// isLoopback reports whether host names this machine's loopback interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bindHost is the address a started part listens on: localhost becomes
// 127.0.0.1, so a server never binds only ::1 while clients try 127.0.0.1.
func bindHost(host string) string {
	if host == "localhost" {
		return "127.0.0.1"
	}
	return host
}

// requireLoopback answers nil when addr (host:port) is on loopback.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if !isLoopback(host) {
		return fmt.Errorf("%s is not a loopback address, so it is not started here", addr)
	}
	return nil
}

// tcpAnswers reports whether something accepts TCP connections at addr.
func tcpAnswers(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

// httpOK answers nil when GET url answers 200.
func httpOK(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// smtpGreets answers nil when an SMTP server at addr sends its 220 greeting.
func smtpGreets(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read SMTP greeting from %s: %w", addr, err)
	}
	if !strings.HasPrefix(line, "220") {
		return fmt.Errorf("%s greets with %q, not an SMTP 220", addr, strings.TrimSpace(line))
	}
	_, _ = conn.Write([]byte("QUIT\r\n"))
	return nil
}

// waitReady polls ready until it answers nil, the child exits (an error
// with its last output) or timeout passes.
func waitReady(ctx context.Context, c *child, ready func(context.Context) error, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		last = ready(pctx)
		pcancel()
		if last == nil {
			return nil
		}
		select {
		case <-c.done:
			return c.exitError()
		case <-ctx.Done():
			if c.exited() {
				return c.exitError()
			}
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s did not get ready within %s: %v; last lines of %s:\n%s",
					c.part.name, timeout, last, c.logPath, indent(c.tail(20)))
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// hostOnly answers the host of a host:port, or addr itself if it has no port.
func hostOnly(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

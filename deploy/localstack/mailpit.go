package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"handoff/config"
)

// mailpitUIAddr is Mailpit's fixed local address for its web UI and API.
const mailpitUIAddr = "127.0.0.1:8025"

// mailpitPart catches every email Handoff sends: SMTP at SMTP_ADDR, the
// messages browsable in its web UI and readable by tests through its API.
type mailpitPart struct {
	cfg    config.SMTP
	layout layout
}

func (m *mailpitPart) info() partInfo { return mailpitInfo }

func (m *mailpitPart) address() string { return m.cfg.Addr }

func (m *mailpitPart) probe(ctx context.Context) error { return smtpGreets(ctx, m.cfg.Addr) }

// ready also waits for the web UI and API, which tests read mail through.
func (m *mailpitPart) ready(ctx context.Context) error {
	return errors.Join(httpOK(ctx, "http://"+mailpitUIAddr+"/readyz"), m.probe(ctx))
}

func (m *mailpitPart) startable() error {
	if err := requireLoopback(m.cfg.Addr); err != nil {
		return fmt.Errorf("SMTP_ADDR: %w", err)
	}
	if m.cfg.StartTLS {
		return errors.New("SMTP_STARTTLS is on, and the local Mailpit is started without a certificate")
	}
	return nil
}

func (m *mailpitPart) start(_ context.Context, l launcher) (*child, error) {
	bin := m.layout.bin("mailpit")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s not found: run `make tools`", m.layout.rel(bin))
	}
	if err := os.MkdirAll(m.layout.dev("mailpit"), 0o755); err != nil {
		return nil, fmt.Errorf("create state folder: %w", err)
	}
	host, port, _ := net.SplitHostPort(m.cfg.Addr)
	args := []string{
		"--smtp", net.JoinHostPort(bindHost(host), port),
		"--listen", mailpitUIAddr,
		"--database", m.layout.dev("mailpit", "mailpit.db"),
		// No calls home and no reverse DNS for every message: local only.
		"--disable-version-check",
		"--smtp-disable-rdns",
	}
	if m.cfg.Username != "" {
		// Handoff authenticates when SMTP_USERNAME is set; Mailpit has no
		// users of its own, so it takes any, over plain TCP.
		args = append(args, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	}
	return l.start(command{part: mailpitInfo, path: bin, args: args})
}

func (m *mailpitPart) setup(context.Context) error { return nil }

func (m *mailpitPart) endpoints() [][2]string {
	smtp := [2]string{"SMTP", m.cfg.Addr}
	if !isLoopback(hostOnly(m.cfg.Addr)) {
		return [][2]string{smtp}
	}
	return [][2]string{{"Mailpit", "http://" + mailpitUIAddr}, smtp}
}

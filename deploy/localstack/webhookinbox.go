package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"

	"handoff/workflows/vocab"
)

// inboxCommandPath is the package of the inbox's binary, for the hint
// given when it has not been built.
const inboxCommandPath = "./deploy/webhookinbox/cmd/handoff-inbox"

// webhookInboxPart receives every webhook the local worker sends, in place
// of the marketplace backend and the teams' chat channels: it verifies
// their signatures and lists them at /hooks (package webhookinbox).
type webhookInboxPart struct {
	// addr is WEBHOOK_INBOX_ADDR.
	addr   string
	layout layout
}

func (w *webhookInboxPart) info() partInfo { return webhookInboxInfo }

func (w *webhookInboxPart) address() string { return w.addr }

func (w *webhookInboxPart) probe(ctx context.Context) error {
	return httpOK(ctx, "http://"+dialAddr(w.addr)+"/healthz")
}

func (w *webhookInboxPart) ready(ctx context.Context) error { return w.probe(ctx) }

func (w *webhookInboxPart) startable() error {
	if err := requireLoopback(w.addr); err != nil {
		return fmt.Errorf("WEBHOOK_INBOX_ADDR: %w", err)
	}
	return nil
}

func (w *webhookInboxPart) start(_ context.Context, l launcher) (*child, error) {
	bin := w.layout.bin(webhookInboxInfo.binary)
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s not found: build it with `make build` (or `go build -o %s %s`)",
			w.layout.rel(bin), w.layout.rel(bin), inboxCommandPath)
	}
	host, port, _ := net.SplitHostPort(w.addr)
	// The inbox reads the signing secret and the rest from the inherited
	// environment, as the worker does, so both use the same secret.
	return l.start(command{
		part: webhookInboxInfo,
		path: bin,
		env:  []string{"WEBHOOK_INBOX_ADDR=" + net.JoinHostPort(bindHost(host), port)},
	})
}

func (w *webhookInboxPart) setup(context.Context) error { return nil }

func (w *webhookInboxPart) endpoints() [][2]string {
	return [][2]string{{"Webhook inbox", "http://" + dialAddr(w.addr) + "/hooks"}}
}

// dialAddr answers addr with a host a client can connect to: a listen
// address without a host, or with an unspecified one (0.0.0.0, ::),
// becomes 127.0.0.1.
func dialAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// inboxWebhookEnv answers what to add to the worker's environment so that
// its webhooks reach the inbox at addr: the marketplace's at
// /hooks/marketplace and each team's at /hooks/team/<team>. A variable the
// environment already sets, even empty (which turns a channel off), is
// left as it is.
func inboxWebhookEnv(lookup func(string) (string, bool), addr string) []string {
	base := "http://" + dialAddr(addr) + "/hooks/"
	var env []string
	if _, set := lookup("MARKETPLACE_WEBHOOK_URL"); !set {
		env = append(env, "MARKETPLACE_WEBHOOK_URL="+base+"marketplace")
	}
	if _, set := lookup("TEAM_WEBHOOK_URLS"); !set {
		pairs := make([]string, len(vocab.Teams))
		for i, team := range vocab.Teams {
			pairs[i] = string(team) + "=" + base + "team/" + string(team)
		}
		env = append(env, "TEAM_WEBHOOK_URLS="+strings.Join(pairs, ","))
	}
	return env
}

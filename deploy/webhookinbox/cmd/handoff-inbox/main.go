// Command handoff-inbox serves the local stack's webhook inbox
// (package webhookinbox) at WEBHOOK_INBOX_ADDR, verifying signatures with
// WEBHOOK_SIGNING_SECRET, until SIGINT or SIGTERM. `make run` starts it
// and points the worker's webhooks at it; alone:
//
//	go run ./deploy/webhookinbox/cmd/handoff-inbox
//	curl -s localhost:8026/hooks | jq
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"handoff/config"
	"handoff/deploy/webhookinbox"
	"handoff/telemetry"
)

func main() {
	telemetry.Main("webhook-inbox", func(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
		return run(ctx, cfg, logger, nil)
	})
}

// run serves the inbox until ctx ends, then lets in-flight requests finish
// within the shutdown timeout. When ready is not nil it receives the
// listening address once the server accepts connections.
func run(ctx context.Context, cfg config.Config, logger *slog.Logger, ready chan<- string) error {
	inbox, err := webhookinbox.New(cfg.Notify.WebhookSecret, webhookinbox.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("WEBHOOK_SIGNING_SECRET: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.WebhookInboxAddr)
	if err != nil {
		return fmt.Errorf("listen on WEBHOOK_INBOX_ADDR %s: %w", cfg.WebhookInboxAddr, err)
	}
	srv := &http.Server{Handler: inbox, ReadHeaderTimeout: 5 * time.Second}
	return telemetry.Serve(ctx, logger, "webhook inbox", srv, ln, cfg.ShutdownTimeout, func(addr string) {
		logger.Info("webhook inbox started", "addr", addr,
			"hooks", "http://"+addr+"/hooks", "key_id", cfg.Notify.WebhookKeyID)
		if ready != nil {
			ready <- addr
		}
	})
}

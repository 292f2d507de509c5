// Command handoff-carrier serves the local stand-in for the shipping
// carrier (package carriersim) at CARRIER_ADDR until SIGINT or SIGTERM.
// Alone:
//
//	go run ./deploy/carriersim/cmd/handoff-carrier
//	curl -s localhost:8028/labels | jq
//	curl -s -X POST localhost:8028/labels/HC0123456789/events -d '{"kind":"shipped"}'
//
// Settings (the defaults are for local use only):
//
//	CARRIER_ADDR            127.0.0.1:8028
//	CARRIER_KEY_ID          handoff; the X-Handoff-Key-Id Handoff signs with
//	CARRIER_SECRET          the request-signing secret, at least 32 bytes
//	CARRIER_WEBHOOK_URL     http://127.0.0.1:8080/webhooks/carrier
//	CARRIER_WEBHOOK_SECRET  whsec_ and base64 (the first of a comma-separated list): signs the tracking webhooks
//	CARRIER_PUBLIC_URL      base of label URLs (http://CARRIER_ADDR)
package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"handoff/config"
	"handoff/deploy/carriersim"
	"handoff/telemetry"
)

// Local defaults; never use them outside a developer's machine.
const (
	DefaultAddr          = "127.0.0.1:8028"
	DefaultKeyID         = "handoff"
	DefaultSecret        = "handoff-local-dev-carrier-secret-0001"
	DefaultWebhookURL    = "http://127.0.0.1:8080/webhooks/carrier"
	DefaultWebhookSecret = "whsec_aGFuZG9mZi1sb2NhbC1kZXYtY2Fycmllci13ZWJob29r"
)

func main() {
	telemetry.Main("carrier", func(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
		return run(ctx, os.LookupEnv, cfg.ShutdownTimeout, logger, nil)
	})
}

// run serves until ctx ends, then lets in-flight requests finish within
// shutdown. When ready is not nil it receives the listening address.
func run(ctx context.Context, env func(string) (string, bool), shutdown time.Duration, logger *slog.Logger, ready chan<- string) error {
	get := func(name, def string) string {
		v, _ := env(name)
		return cmp.Or(v, def)
	}
	addr := get("CARRIER_ADDR", DefaultAddr)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on CARRIER_ADDR %s: %w", addr, err)
	}
	sim, err := carriersim.New(carriersim.Options{
		KeyID:         get("CARRIER_KEY_ID", DefaultKeyID),
		Secret:        get("CARRIER_SECRET", DefaultSecret),
		WebhookURL:    get("CARRIER_WEBHOOK_URL", DefaultWebhookURL),
		WebhookSecret: get("CARRIER_WEBHOOK_SECRET", DefaultWebhookSecret),
		PublicURL:     get("CARRIER_PUBLIC_URL", "http://"+ln.Addr().String()),
		Logger:        logger,
	})
	if err != nil {
		ln.Close()
		return err
	}
	defer sim.Close()
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	return telemetry.Serve(ctx, logger, "carrier stand-in", srv, ln, cmp.Or(shutdown, 10*time.Second), func(addr string) {
		logger.Info("carrier stand-in started", "addr", addr,
			"webhook_url", get("CARRIER_WEBHOOK_URL", DefaultWebhookURL))
		if ready != nil {
			ready <- addr
		}
	})
}

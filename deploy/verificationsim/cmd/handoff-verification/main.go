// Command handoff-verification serves the local stand-in for the identity
// verification (KYC) provider (package verificationsim, wire format in
// docs/verification.md) at KYC_ADDR until SIGINT or SIGTERM. It
// keeps its checks in memory: a restart forgets them all. Alone:
//
//	go run ./deploy/verificationsim/cmd/handoff-verification
//	curl -s localhost:8029/checks | jq
//	curl -s -X POST localhost:8029/checks/vchk_0123456789abcdef/decide -d '{"status":"passed"}'
//
// Settings (the defaults are for local use only):
//
//	KYC_ADDR            127.0.0.1:8029
//	KYC_KEY_ID          handoff; the X-Handoff-Key-Id Handoff signs with
//	KYC_SECRET          the request-signing secret, at least 32 bytes
//	KYC_WEBHOOK_URL     http://127.0.0.1:8080/webhooks/verification
//	KYC_WEBHOOK_SECRET  whsec_ and base64 (the first of a comma-separated list): signs the decision webhooks
//	KYC_SIM_DELAY       how long a "late" check stays pending (2s)
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
	"handoff/deploy/verificationsim"
	"handoff/telemetry"
)

// Local defaults; never use them outside a developer's machine.
const (
	DefaultAddr          = "127.0.0.1:8029"
	DefaultKeyID         = "handoff"
	DefaultSecret        = "handoff-local-dev-verification-secret-01"
	DefaultWebhookURL    = "http://127.0.0.1:8080/webhooks/verification"
	DefaultWebhookSecret = "whsec_aGFuZG9mZi1sb2NhbC1kZXYtdmVyaWZpY2F0aW9uLXdlYmhvb2s="
)

func main() {
	telemetry.Main("verification", func(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
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
	delay := verificationsim.DefaultDelay
	if v := get("KYC_SIM_DELAY", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("KYC_SIM_DELAY: want a positive duration such as 2s, got %q", v)
		}
		delay = d
	}
	addr := get("KYC_ADDR", DefaultAddr)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on KYC_ADDR %s: %w", addr, err)
	}
	webhookURL := get("KYC_WEBHOOK_URL", DefaultWebhookURL)
	sim, err := verificationsim.New(verificationsim.Options{
		KeyID:         get("KYC_KEY_ID", DefaultKeyID),
		Secret:        get("KYC_SECRET", DefaultSecret),
		WebhookURL:    webhookURL,
		WebhookSecret: get("KYC_WEBHOOK_SECRET", DefaultWebhookSecret),
		Delay:         delay,
		Logger:        logger,
	})
	if err != nil {
		ln.Close()
		return err
	}
	defer sim.Close()
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	return telemetry.Serve(ctx, logger, "verification stand-in", srv, ln, cmp.Or(shutdown, 10*time.Second), func(addr string) {
		logger.Info("verification stand-in started (checks are kept in memory only)", "addr", addr,
			"checks", "http://"+addr+"/checks", "webhook_url", webhookURL, "delay", delay)
		if ready != nil {
			ready <- addr
		}
	})
}

// Command handoff-payments serves the local stack's stand-in for the
// payment provider (package paymentsim, wire format in docs/payments.md)
// until SIGINT or SIGTERM:
//
//	PAYMENTS_ADDR     where to listen (127.0.0.1:8027)
//	PAYMENTS_SECRET   HMAC-SHA256 secret, at least 32 bytes (DefaultSecret, for local use only)
//	PAYMENTS_KEY_ID   the key id the secret goes by (handoff)
//	DATABASE_URL      the Postgres of the ledger, tables paymentsim_* (the stack's)
//
// Alone:
//
//	go run ./deploy/paymentsim/cmd/handoff-payments
//	curl -s 'localhost:8027/ledger?order_id=ord-1' | jq
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"handoff/config"
	"handoff/deploy/paymentsim"
	"handoff/telemetry"
)

// The defaults, for local use only.
const (
	DefaultAddr   = "127.0.0.1:8027"
	DefaultSecret = "handoff-local-payments-secret-0123456789"
	DefaultKeyID  = "handoff"
)

func main() {
	telemetry.Main("payments", func(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
		return run(ctx, settingsFrom(os.Getenv, cfg), logger, nil)
	})
}

type settings struct {
	addr, secret, keyID, databaseURL string
	shutdownTimeout                  time.Duration
}

func settingsFrom(getenv func(string) string, cfg config.Config) settings {
	return settings{
		addr:            cmp.Or(getenv("PAYMENTS_ADDR"), DefaultAddr),
		secret:          cmp.Or(getenv("PAYMENTS_SECRET"), DefaultSecret),
		keyID:           cmp.Or(getenv("PAYMENTS_KEY_ID"), DefaultKeyID),
		databaseURL:     cfg.DatabaseURL,
		shutdownTimeout: cmp.Or(cfg.ShutdownTimeout, 10*time.Second),
	}
}

// run serves until ctx ends, then lets in-flight requests finish within
// the shutdown timeout. When ready is not nil it receives the listening
// address once the server accepts connections.
func run(ctx context.Context, s settings, logger *slog.Logger, ready chan<- string) error {
	pool, err := pgxpool.New(ctx, s.databaseURL)
	if err != nil {
		return errors.New("DATABASE_URL: not a valid Postgres connection string")
	}
	defer pool.Close()
	sim, err := paymentsim.New(ctx, pool, s.secret, paymentsim.Options{KeyID: s.keyID, Logger: logger})
	if err != nil {
		return fmt.Errorf("payments stand-in: %w", err)
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen on PAYMENTS_ADDR %s: %w", s.addr, err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	return telemetry.Serve(ctx, logger, "payments stand-in", srv, ln, s.shutdownTimeout, func(addr string) {
		logger.Info("payments stand-in started", "addr", addr,
			"ledger", "http://"+addr+"/ledger?order_id=", "key_id", s.keyID)
		if ready != nil {
			ready <- addr
		}
	})
}

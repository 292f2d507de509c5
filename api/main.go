// Command api serves Handoff's HTTP API: it starts and drives the case
// workflows on Temporal and reads lists from the Postgres read model.
//
//	go run ./api
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"handoff/accounts"
	"handoff/config"
	"handoff/connect"
	"handoff/evidence"
	"handoff/health"
	"handoff/links"
	"handoff/mailin"
	"handoff/payments"
	"handoff/ratelimit"
	"handoff/telemetry"
	"handoff/workflows/cases"
	"handoff/workflows/sla"
)

// startMailGateway serves the inbound SMTP gateway at cfg.SMTPAddr, when
// set, handing mail to inbox; a serve error goes to failed. It answers nil
// when the gateway is off.
func startMailGateway(cfg config.Inbound, inbox mailin.Inbox, logger *slog.Logger, failed chan<- error) (*mailin.Gateway, error) {
	if cfg.SMTPAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.SMTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on INBOUND_SMTP_ADDR %s: %w", cfg.SMTPAddr, err)
	}
	g := mailin.NewGateway(inbox, mailin.GatewayOptions{
		Domain: cfg.Domain, MaxMessageBytes: cfg.MaxBytes,
		PerSender: cfg.SenderPerHour, PerSenderRate: float64(cfg.SenderPerHour) / 3600,
		Logger: logger.With("part", "smtp-gateway"),
	})
	logger.Info("inbound mail gateway listening", "addr", ln.Addr().String(), "domain", cfg.Domain)
	go func() {
		if err := g.Serve(ln); err != nil {
			failed <- fmt.Errorf("serve SMTP on %s: %w", cfg.SMTPAddr, err)
		}
	}()
	return g, nil
}

func main() {
	telemetry.Main("api", func(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
		return run(ctx, cfg, logger, nil)
	})
}

// run serves the API until ctx ends, then lets in-flight requests finish
// within the shutdown timeout. When ready is not nil it receives the
// listening address once the server accepts connections.
// maxHeaderBytes bounds a request's header block.
const maxHeaderBytes = 32 << 10

func run(ctx context.Context, cfg config.Config, logger *slog.Logger, ready chan<- string) error {
	// Lazy: the API starts, and says so on /readyz, while Temporal is still
	// coming up.
	clients, err := connect.Services(ctx, cfg, logger, true)
	if err != nil {
		return err
	}
	defer clients.Close()
	reg, tc, db, s3c := clients.Registry, clients.Temporal, clients.Store, clients.S3

	book, err := sla.Load(cfg.SLAPolicyFile)
	if err != nil {
		return fmt.Errorf("SLA_POLICY_FILE: %w", err)
	}
	dir, err := accounts.New(cfg.Accounts, db.Pool(), logger)
	if err != nil {
		return err
	}
	signer, err := links.FromConfig(cfg.Notify.LinkKeys)
	if err != nil {
		return fmt.Errorf("LINK_SIGNING_KEYS: %w", err)
	}
	files := evidence.NewStore(s3c, cfg.S3.Bucket, cfg.Evidence)
	receiver := &mailin.Receiver{
		Temporal: tc, Store: db, Evidence: files, Links: signer, Domain: cfg.Inbound.Domain, MaxBytes: cfg.Inbound.MaxBytes,
		Opener: cases.Opener{Temporal: tc, Book: book, TaskQueue: cfg.Temporal.TaskQueue}, Logger: logger.With("part", "inbound-mail"),
	}
	hooks, err := newCommerceWebhooks(tc, cfg.Commerce, logger.With("part", "commerce-webhooks"), nil)
	if err != nil {
		return err
	}
	pay, err := payments.NewHTTP(payments.HTTPConfig{BaseURL: cfg.Commerce.PaymentsURL, KeyID: cfg.Commerce.PaymentsKeyID,
		Secret: cfg.Commerce.PaymentsSecret, Logger: logger})
	if err != nil {
		return fmt.Errorf("PAYMENTS_URL, PAYMENTS_SECRET: %w", err)
	}
	sellerHooks, err := newSellerWebhooks(tc, cfg.SellerEventsSecret, cfg.Verification.WebhookSecret, logger.With("part", "seller-webhooks"), nil)
	if err != nil {
		return err
	}
	cdc, err := cfg.Temporal.Codec()
	if err != nil {
		return err
	}
	var keyLimiter *ratelimit.Limiter
	if cfg.APIRatePerSecond > 0 {
		keyLimiter = ratelimit.New(cfg.APIRateBurst, cfg.APIRatePerSecond)
	}
	srv := &server{
		keyLimiter:  keyLimiter,
		codec:       cdc,
		codecAccess: cfg.Codec,
		namespace:   cfg.Temporal.Namespace,
		logger:      logger,
		registry:    reg,
		checker: health.NewChecker(2*time.Second,
			health.Temporal(tc), health.Postgres(db.Ping), health.S3(s3c, cfg.S3.Bucket)),
		temporal:   tc,
		store:      db,
		book:       book,
		taskQueue:  cfg.Temporal.TaskQueue,
		evidence:   files,
		accounts:   dir,
		codeSecret: cfg.Notify.CodeSecret,
		kbPageURL:  cfg.Notify.KBPageURL,
		links:      signer,
		inbox:      receiver,

		inboxSecrets:  inboundMailSecrets(cfg.Inbound.WebhookSecret),
		inboxMaxBytes: cfg.Inbound.MaxBytes,
		commerce:      hooks,
		sellers:       sellerHooks,
		payments:      pay,
	}
	httpSrv := &http.Server{
		Handler:           srv.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		// Headers are an API key, a request id and a few more: 32 KiB is
		// generous, and Go answers a larger one 431 before any handler.
		MaxHeaderBytes: maxHeaderBytes,
		IdleTimeout:    2 * time.Minute,
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	logger.Info("api listening", "addr", ln.Addr().String())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	serveErr := make(chan error, 2)
	go func() { serveErr <- fmt.Errorf("serve HTTP on %s: %w", cfg.HTTPAddr, httpSrv.Serve(ln)) }()
	gateway, err := startMailGateway(cfg.Inbound, receiver, logger, serveErr)
	if err != nil {
		_ = httpSrv.Close()
		return err
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	logger.Info("api stopping", "shutdown_timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if gateway != nil {
		if err := gateway.Shutdown(shutdownCtx); err != nil {
			logger.Error("stop the inbound mail gateway", "error", err)
		}
	}
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("finish in-flight requests: %w", err)
	}
	logger.Info("api stopped")
	return nil
}

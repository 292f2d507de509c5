package main

import (
	"context"
	"fmt"

	"handoff/config"
)

// paymentsCommandPath is the package of the payments stand-in's binary,
// for the hint given when it has not been built.
const paymentsCommandPath = "./deploy/paymentsim/cmd/handoff-payments"

// paymentsPart is the payment provider's stand-in (package paymentsim):
// it serves the signed API of docs/payments.md that refunds, credits and
// holds go to, with its ledger in the stack's Postgres.
type paymentsPart struct {
	cfg config.Commerce
	// databaseURL is DATABASE_URL: the ledger's tables sit beside the read model's.
	databaseURL string
	layout      layout
}

func (p *paymentsPart) info() partInfo { return paymentsInfo }

func (p *paymentsPart) address() string { return p.cfg.PaymentsAddr }

func (p *paymentsPart) probe(ctx context.Context) error {
	return httpOK(ctx, "http://"+dialAddr(p.cfg.PaymentsAddr)+"/healthz")
}

func (p *paymentsPart) ready(ctx context.Context) error { return p.probe(ctx) }

func (p *paymentsPart) startable() error {
	if err := requireLoopback(p.cfg.PaymentsAddr); err != nil {
		return fmt.Errorf("PAYMENTS_ADDR: %w", err)
	}
	return nil
}

func (p *paymentsPart) start(_ context.Context, l launcher) (*child, error) {
	return startBinary(l, p.layout, paymentsInfo, paymentsCommandPath, p.env())
}

// env hands the stand-in the settings the worker signs its requests with,
// so both agree whatever the environment sets.
func (p *paymentsPart) env() []string {
	return []string{
		listenEnv("PAYMENTS_ADDR", p.cfg.PaymentsAddr),
		"PAYMENTS_KEY_ID=" + p.cfg.PaymentsKeyID,
		"PAYMENTS_SECRET=" + p.cfg.PaymentsSecret,
		"DATABASE_URL=" + p.databaseURL,
	}
}

// setup has nothing to do: the stand-in creates its tables when it starts.
func (p *paymentsPart) setup(context.Context) error { return nil }

func (p *paymentsPart) endpoints() [][2]string {
	return [][2]string{{"Payments ledger", "http://" + dialAddr(p.cfg.PaymentsAddr) + "/ledger?order_id="}}
}

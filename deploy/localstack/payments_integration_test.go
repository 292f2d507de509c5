//go:build integration

package main

import (
	"context"
	"testing"
)

// The part built, started on the stack's Postgres, probed and stopped as
// `run` does, with the binary built from this repository.
func TestPaymentsPartStartsOnTheStacksPostgresAnswersAndStops(t *testing.T) {
	l := layout{root: t.TempDir()}
	buildPart(t, l, paymentsInfo, paymentsCommandPath)
	cfg := defaultConfig(t)
	cfg.Commerce.PaymentsAddr = freeAddr(t)
	part := &paymentsPart{cfg: cfg.Commerce, databaseURL: cfg.DatabaseURL, layout: l}

	c := startPart(t, l, part)
	// The ledger reads the stand-in's tables, so they exist in the stack's database.
	if err := httpOK(context.Background(), part.endpoints()[0][1]+"ord-none"); err != nil {
		t.Errorf("GET %s: %v", part.endpoints()[0][1], err)
	}

	if err := c.stop(stopTimeout); err != nil {
		t.Errorf("stop: %v", err)
	}
	if part.probe(context.Background()) == nil {
		t.Error("the payments stand-in still answers after stop")
	}
}

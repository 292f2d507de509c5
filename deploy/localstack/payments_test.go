package main

import "testing"

func TestPaymentsStandInGetsTheWorkersSettings(t *testing.T) {
	cfg := defaultConfig(t)
	cfg.DatabaseURL = "postgres://postgres@127.0.0.1:5433/handoff?sslmode=disable"
	cfg.Commerce.PaymentsAddr = "localhost:18027"
	cfg.Commerce.PaymentsSecret = "a-payments-secret-set-in-the-environment"
	cfg.Commerce.PaymentsKeyID = "rotated"
	part := &paymentsPart{cfg: cfg.Commerce, databaseURL: cfg.DatabaseURL}

	got := loadWorkerConfig(t, part.env())

	if got.Commerce.PaymentsAddr != "127.0.0.1:18027" {
		t.Errorf("PAYMENTS_ADDR = %q, want the stand-in on 127.0.0.1", got.Commerce.PaymentsAddr)
	}
	if got.Commerce.PaymentsSecret != cfg.Commerce.PaymentsSecret || got.Commerce.PaymentsKeyID != "rotated" {
		t.Errorf("the stand-in would verify with key %q and another secret than the worker signs with", got.Commerce.PaymentsKeyID)
	}
	if got.DatabaseURL != cfg.DatabaseURL {
		t.Errorf("DATABASE_URL = %q, want the stack's %q", got.DatabaseURL, cfg.DatabaseURL)
	}
	if got, want := part.endpoints()[0][1], "http://localhost:18027/ledger?order_id="; got != want {
		t.Errorf("the summary shows %q, want %q", got, want)
	}
}

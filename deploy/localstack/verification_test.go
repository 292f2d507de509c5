package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestVerificationStandInStartsWithTheOtherStandInsAndStopsAfterTheWorker(t *testing.T) {
	s, err := newStack(defaultConfig(t), layout{root: t.TempDir()}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	wave := func(part partInfo) int {
		for i, w := range s.waves {
			if slices.ContainsFunc(w, func(p infra) bool { return p.info() == part }) {
				return i
			}
		}
		t.Fatalf("no wave starts %s", part.name)
		return -1
	}
	if wave(verificationInfo) != wave(carrierInfo) || wave(verificationInfo) <= wave(webhookInboxInfo) {
		t.Errorf("the verification stand-in starts in wave %d, want the carrier's (%d), after the inbox's (%d)",
			wave(verificationInfo), wave(carrierInfo), wave(webhookInboxInfo))
	}
	if i, worker := slices.Index(allParts, verificationInfo), slices.Index(allParts, workerInfo); i < 0 || i > worker {
		t.Errorf("allParts = %v: the verification stand-in must come before the worker, so `down` stops it after", allParts)
	}
	if got, ok := partByName("verification"); !ok || got != verificationInfo {
		t.Errorf("partByName(verification) = %v, %v", got, ok)
	}
}

func TestVerificationStandInGetsTheWorkersSecretsAndPostsToTheAPI(t *testing.T) {
	cfg := defaultConfig(t)
	cfg.HTTPAddr = "0.0.0.0:8181"
	cfg.Verification.Addr = "localhost:18029"
	cfg.Verification.Secret = "a-verification-secret-set-in-the-environment"
	cfg.Verification.KeyID = "rotated"
	part := &verificationPart{cfg: cfg.Verification, httpAddr: cfg.HTTPAddr, lookup: envLookup(nil)}
	env := part.env()

	got := loadWorkerConfig(t, env).Verification
	if got.Addr != "127.0.0.1:18029" {
		t.Errorf("KYC_ADDR = %q, want the stand-in on 127.0.0.1", got.Addr)
	}
	if got.KeyID != "rotated" || got.Secret != cfg.Verification.Secret || got.WebhookSecret != cfg.Verification.WebhookSecret {
		t.Errorf("the stand-in would read %+v, want the settings of %+v", got, cfg.Verification)
	}
	if url, _ := envValue(env, "KYC_WEBHOOK_URL"); url != "http://127.0.0.1:8181/webhooks/verification" {
		t.Errorf("KYC_WEBHOOK_URL = %q, want the API's webhook at HTTP_ADDR", url)
	}
	part.lookup = envLookup(map[string]string{"KYC_WEBHOOK_URL": "http://127.0.0.1:8026/hooks/verification"})
	if url, set := envValue(part.env(), "KYC_WEBHOOK_URL"); set {
		t.Errorf("KYC_WEBHOOK_URL set in the environment is overridden with %q", url)
	}
	if got, want := part.endpoints()[0][1], "http://localhost:18029/checks"; got != want {
		t.Errorf("the summary shows %q, want %q", got, want)
	}
}

func TestWorkerCallsTheVerificationStandInWhereItListens(t *testing.T) {
	cfg := defaultConfig(t).Verification
	cfg.Addr = ":18029"
	if got := loadWorkerConfig(t, verificationURLEnv(envLookup(nil), cfg)).Verification.URL; got != "http://127.0.0.1:18029" {
		t.Errorf("the worker calls %s", got)
	}
	if env := verificationURLEnv(envLookup(map[string]string{"KYC_URL": "https://kyc.example"}), cfg); len(env) != 0 {
		t.Errorf("KYC_URL set in the environment is overridden with %q", env)
	}
	s, err := newStack(defaultConfig(t), layout{root: t.TempDir()}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range s.apps() {
		if a.part == workerInfo {
			_, inherited := os.LookupEnv("KYC_URL")
			if _, set := envValue(a.env, "KYC_URL"); !set && !inherited {
				t.Errorf("the worker's environment %q has no KYC_URL", a.env)
			}
		}
	}
}

func TestSummaryListsTheVerificationStandIn(t *testing.T) {
	s, err := newStack(defaultConfig(t), layout{root: t.TempDir()}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	s.printSummary(&out, false)
	if want := "Seller checks     http://127.0.0.1:8029/checks"; !strings.Contains(out.String(), want) {
		t.Errorf("the summary lacks %q:\n%s", want, out.String())
	}
}

// The part built, started, probed and stopped as `run` does, with the
// binary built from this repository.
func TestVerificationPartStartsAnswersAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the verification stand-in")
	}
	l := layout{root: t.TempDir()}
	buildPart(t, l, verificationInfo, verificationCommandPath)
	cfg := defaultConfig(t)
	cfg.Verification.Addr = freeAddr(t)
	part := &verificationPart{cfg: cfg.Verification, httpAddr: freeAddr(t), lookup: envLookup(nil), layout: l}

	c := startPart(t, l, part)
	if err := httpOK(context.Background(), part.endpoints()[0][1]); err != nil {
		t.Errorf("GET %s: %v", part.endpoints()[0][1], err)
	}
	if err := c.stop(stopTimeout); err != nil {
		t.Errorf("stop: %v", err)
	}
	if part.probe(context.Background()) == nil {
		t.Error("the verification stand-in still answers after stop")
	}
}

func TestMissingVerificationBinarySaysHowToBuildIt(t *testing.T) {
	l := layout{root: t.TempDir()}
	part := &verificationPart{cfg: defaultConfig(t).Verification, lookup: envLookup(nil), layout: l}
	if _, err := part.start(context.Background(), launcher{layout: l}); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("the verification stand-in without its binary: %v", err)
	}
}

package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"handoff/config"
)

// defaultConfig is the configuration with nothing set, as `make run` reads it.
func defaultConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.LoadFrom(envLookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// envValue answers the value env gives name, and whether it gives one.
func envValue(env []string, name string) (string, bool) {
	for _, kv := range slices.Backward(env) {
		if n, v, _ := strings.Cut(kv, "="); n == name {
			return v, true
		}
	}
	return "", false
}

func TestStandInsStartOncePostgresIsPreparedAndStopAfterTheWorker(t *testing.T) {
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
	for _, p := range []partInfo{paymentsInfo, carrierInfo} {
		if wave(p) <= wave(postgresInfo) {
			t.Errorf("%s starts in wave %d, not after Postgres's (%d)", p.name, wave(p), wave(postgresInfo))
		}
		if i, worker := slices.Index(allParts, p), slices.Index(allParts, workerInfo); i < 0 || i > worker {
			t.Errorf("allParts = %v: %s must come before the worker, so `down` stops it after", allParts, p.name)
		}
		if got, ok := partByName(p.name); !ok || got != p {
			t.Errorf("partByName(%s) = %v, %v", p.name, got, ok)
		}
	}
	var flat []infra
	for _, w := range s.waves {
		flat = append(flat, w...)
	}
	if !slices.Equal(flat, s.infra) {
		t.Error("the waves do not hold the parts of infra in order")
	}
}

func TestCarrierStandInGetsTheAPIsSecretAndPostsToTheAPI(t *testing.T) {
	cfg := defaultConfig(t)
	cfg.HTTPAddr = "0.0.0.0:8181"
	cfg.Commerce.CarrierSecret = "a-carrier-secret-set-in-the-environment"
	part := &carrierPart{cfg: cfg.Commerce, httpAddr: cfg.HTTPAddr, lookup: envLookup(nil)}
	env := part.env()

	got := loadWorkerConfig(t, env).Commerce
	if got.CarrierAddr != cfg.Commerce.CarrierAddr || got.CarrierKeyID != cfg.Commerce.CarrierKeyID ||
		got.CarrierSecret != cfg.Commerce.CarrierSecret || got.CarrierWebhookSecret != cfg.Commerce.CarrierWebhookSecret {
		t.Errorf("the stand-in would read %+v, want the settings of %+v", got, cfg.Commerce)
	}
	if url, _ := envValue(env, "CARRIER_WEBHOOK_URL"); url != "http://127.0.0.1:8181/webhooks/carrier" {
		t.Errorf("CARRIER_WEBHOOK_URL = %q, want the API's webhook at HTTP_ADDR", url)
	}

	part.lookup = envLookup(map[string]string{"CARRIER_WEBHOOK_URL": "http://127.0.0.1:8026/hooks/carrier"})
	if url, set := envValue(part.env(), "CARRIER_WEBHOOK_URL"); set {
		t.Errorf("CARRIER_WEBHOOK_URL set in the environment is overridden with %q", url)
	}
}

func TestWorkerCallsTheStandInsWhereTheyListen(t *testing.T) {
	cfg := defaultConfig(t).Commerce
	cfg.PaymentsAddr, cfg.CarrierAddr = "127.0.0.1:18027", ":18028"
	got := loadWorkerConfig(t, standInURLEnv(envLookup(nil), cfg)).Commerce
	if got.PaymentsURL != "http://127.0.0.1:18027" || got.CarrierURL != "http://127.0.0.1:18028" {
		t.Errorf("the worker calls %s and %s", got.PaymentsURL, got.CarrierURL)
	}
	env := standInURLEnv(envLookup(map[string]string{"PAYMENTS_URL": "https://pay.example", "CARRIER_URL": "https://ship.example"}), cfg)
	if len(env) != 0 {
		t.Errorf("URLs set in the environment are overridden with %q", env)
	}
}

func TestSummaryListsTheStandIns(t *testing.T) {
	s, err := newStack(defaultConfig(t), layout{root: t.TempDir()}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	s.printSummary(&out, false)
	for _, want := range []string{"Payments ledger   http://127.0.0.1:8027/ledger?order_id=", "Carrier labels    http://127.0.0.1:8028/labels"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, out.String())
		}
	}
}

// buildPart builds the binary of part from the package at commandPath into l.
func buildPart(t *testing.T, l layout, part partInfo, commandPath string) {
	t.Helper()
	goBin := lookPath(t, "go")
	if err := os.MkdirAll(l.bin(""), 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command(goBin, "build", "-o", l.bin(part.binary), commandPath)
	build.Dir = "../.." // the repository root, from deploy/localstack
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", commandPath, err, out)
	}
}

// freeAddr answers a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPart starts part as `run` does, waits until it is ready and checks
// its pid file; the test kills it at the end if it still runs.
func startPart(t *testing.T, l layout, part infra) *child {
	t.Helper()
	if err := part.startable(); err != nil {
		t.Fatal(err)
	}
	c, err := part.start(context.Background(), launcher{layout: l})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
		<-c.done
	})
	if err := waitReady(context.Background(), c, part.ready, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	info := part.info()
	if pid, err := readPidFile(l.pidFile(info.name)); err != nil || !runningAs(pid, info.binary) {
		t.Errorf("pid file names %d (%v), which is not a running %s", pid, err, info.binary)
	}
	return c
}

// The part built, started, probed and stopped as `run` does, with the
// binary built from this repository.
func TestCarrierPartStartsAnswersAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the carrier stand-in")
	}
	l := layout{root: t.TempDir()}
	buildPart(t, l, carrierInfo, carrierCommandPath)
	cfg := defaultConfig(t)
	cfg.Commerce.CarrierAddr = freeAddr(t)
	part := &carrierPart{cfg: cfg.Commerce, httpAddr: freeAddr(t), lookup: envLookup(nil), layout: l}

	c := startPart(t, l, part)
	if err := httpOK(context.Background(), part.endpoints()[0][1]); err != nil {
		t.Errorf("GET %s: %v", part.endpoints()[0][1], err)
	}

	if err := c.stop(stopTimeout); err != nil {
		t.Errorf("stop: %v", err)
	}
	if part.probe(context.Background()) == nil {
		t.Error("the carrier stand-in still answers after stop")
	}
}

func TestMissingStandInBinarySaysHowToBuildIt(t *testing.T) {
	l := layout{root: t.TempDir()}
	cfg := defaultConfig(t)
	for _, part := range []infra{
		&paymentsPart{cfg: cfg.Commerce, databaseURL: cfg.DatabaseURL, layout: l},
		&carrierPart{cfg: cfg.Commerce, httpAddr: cfg.HTTPAddr, lookup: envLookup(nil), layout: l},
	} {
		_, err := part.start(context.Background(), launcher{layout: l})
		if err == nil || !strings.Contains(err.Error(), "make build") {
			t.Errorf("%s without its binary: %v", part.info().name, err)
		}
	}
}

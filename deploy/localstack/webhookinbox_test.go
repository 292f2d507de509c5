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
	"handoff/workflows/vocab"
)

func envLookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// loadWorkerConfig reads the worker's configuration from env as the worker would.
func loadWorkerConfig(t *testing.T, env []string) config.Config {
	t.Helper()
	vars := map[string]string{}
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		vars[name] = value
	}
	cfg, err := config.LoadFrom(envLookup(vars))
	if err != nil {
		t.Fatalf("the worker would refuse %q: %v", env, err)
	}
	return cfg
}

func TestWorkerWebhooksGoToTheInboxByDefault(t *testing.T) {
	cfg := loadWorkerConfig(t, inboxWebhookEnv(envLookup(nil), "127.0.0.1:8026"))

	if got, want := cfg.Notify.MarketplaceWebhookURL, "http://127.0.0.1:8026/hooks/marketplace"; got != want {
		t.Errorf("MARKETPLACE_WEBHOOK_URL = %q, want %q", got, want)
	}
	if len(cfg.Notify.TeamWebhookURLs) != len(vocab.Teams) {
		t.Errorf("TEAM_WEBHOOK_URLS has %d teams, want every one of %v", len(cfg.Notify.TeamWebhookURLs), vocab.Teams)
	}
	for _, team := range vocab.Teams {
		want := "http://127.0.0.1:8026/hooks/team/" + string(team)
		if got := cfg.Notify.TeamWebhookURLs[string(team)]; got != want {
			t.Errorf("team %s posts to %q, want %q", team, got, want)
		}
	}
}

func TestWorkerWebhooksSetInTheEnvironmentAreLeftAlone(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want []string // the variables inboxWebhookEnv sets
	}{
		"marketplace set":         {map[string]string{"MARKETPLACE_WEBHOOK_URL": "https://shop.example/hooks"}, []string{"TEAM_WEBHOOK_URLS"}},
		"marketplace set empty":   {map[string]string{"MARKETPLACE_WEBHOOK_URL": ""}, []string{"TEAM_WEBHOOK_URLS"}},
		"teams set":               {map[string]string{"TEAM_WEBHOOK_URLS": "security=https://chat.example/x"}, []string{"MARKETPLACE_WEBHOOK_URL"}},
		"both set":                {map[string]string{"MARKETPLACE_WEBHOOK_URL": "", "TEAM_WEBHOOK_URLS": ""}, nil},
		"neither set, other vars": {map[string]string{"HTTP_ADDR": "127.0.0.1:8080"}, []string{"MARKETPLACE_WEBHOOK_URL", "TEAM_WEBHOOK_URLS"}},
	}
	for name, c := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, kv := range inboxWebhookEnv(envLookup(c.env), "127.0.0.1:8026") {
				n, _, _ := strings.Cut(kv, "=")
				got = append(got, n)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("sets %v, want %v", got, c.want)
			}
		})
	}
}

func TestDialAddrConnectsToLoopbackForAnUnspecifiedHost(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8026": "127.0.0.1:8026",
		"localhost:8026": "localhost:8026",
		":8026":          "127.0.0.1:8026",
		"0.0.0.0:8026":   "127.0.0.1:8026",
		"[::]:8026":      "127.0.0.1:8026",
		"[::1]:8026":     "[::1]:8026",
	} {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInboxStartsBeforeTheWorkerAndStopsAfterIt(t *testing.T) {
	inbox, worker := slices.Index(allParts, webhookInboxInfo), slices.Index(allParts, workerInfo)
	if inbox < 0 || inbox > worker {
		t.Errorf("allParts = %v: the inbox must come before the worker", allParts)
	}
	if p, ok := partByName("webhook-inbox"); !ok || p != webhookInboxInfo {
		t.Errorf("partByName(webhook-inbox) = %v, %v", p, ok)
	}
}

// The part built, started, probed and stopped as `run` does, with the
// binary built from this repository.
func TestInboxPartStartsAnswersAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the inbox binary")
	}
	goBin := lookPath(t, "go")
	l := layout{root: t.TempDir()}
	if err := os.MkdirAll(l.bin(""), 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command(goBin, "build", "-o", l.bin(webhookInboxInfo.binary), inboxCommandPath)
	build.Dir = "../.." // the repository root, from deploy/localstack
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", inboxCommandPath, err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	part := &webhookInboxPart{addr: addr, layout: l}
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
	if pid, err := readPidFile(l.pidFile("webhook-inbox")); err != nil || !runningAs(pid, webhookInboxInfo.binary) {
		t.Errorf("pid file names %d (%v), which is not a running %s", pid, err, webhookInboxInfo.binary)
	}
	if err := httpOK(context.Background(), part.endpoints()[0][1]); err != nil {
		t.Errorf("GET %s: %v", part.endpoints()[0][1], err)
	}

	if err := c.stop(stopTimeout); err != nil {
		t.Errorf("stop: %v", err)
	}
	if part.probe(context.Background()) == nil {
		t.Error("the inbox still answers after stop")
	}
}

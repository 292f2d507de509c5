package main

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServesUntilCancelledThenStops(t *testing.T) {
	env := func(name string) (string, bool) {
		if name == "KYC_ADDR" {
			return "127.0.0.1:0", true
		}
		return "", false
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, env, time.Second, slog.New(slog.DiscardHandler), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run ended before serving: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("did not start listening")
	}
	for _, path := range []string{"/healthz", "/checks"} {
		resp, err := http.Get("http://" + addr + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}
}

func TestBadDelayIsRefusedNamingTheVariable(t *testing.T) {
	env := func(name string) (string, bool) {
		if name == "KYC_SIM_DELAY" {
			return "soon", true
		}
		return "", false
	}
	err := run(context.Background(), env, time.Second, slog.New(slog.DiscardHandler), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "KYC_SIM_DELAY")
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/config"
	"handoff/deploy/webhookinbox"
	"handoff/standardwebhooks"
)

func TestInboxServesUntilCancelledThenStops(t *testing.T) {
	cfg, err := config.LoadFrom(func(name string) (string, bool) {
		if name == "WEBHOOK_INBOX_ADDR" {
			return "127.0.0.1:0", true
		}
		return "", false
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run ended before serving: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the inbox did not start listening")
	}

	// Signed with the configured secret, as the worker signs.
	signer, err := standardwebhooks.NewVerifier(cfg.Notify.WebhookSecret, 0, nil)
	require.NoError(t, err)
	body := []byte(`{"text":"SLA breached on C-1"}`)
	ts := time.Now().Unix()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/hooks/team/tier1_support", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(standardwebhooks.HeaderID, "case/C-1/3/team/team_webhook")
	req.Header.Set(standardwebhooks.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(standardwebhooks.HeaderSignature, signer.Sign("case/C-1/3/team/team_webhook", ts, body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	resp, err = http.Get("http://" + addr + "/hooks?channel=team")
	require.NoError(t, err)
	var got []webhookinbox.Delivery
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	resp.Body.Close()
	require.Len(t, got, 1)
	assert.True(t, got[0].Verified)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the inbox did not stop")
	}
}

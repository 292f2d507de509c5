package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"handoff/config"
	"handoff/standardwebhooks"
)

func TestSellerEventIsSignedAsTheAPIVerifiesIt(t *testing.T) {
	cfg, err := config.LoadFrom(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	v, err := standardwebhooks.NewVerifier(cfg.SellerEventsSecret, 5*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		SellerID string `json:"seller_id"`
		Event    struct {
			ID, Kind string
		} `json:"event"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/webhooks/marketplace" {
			http.Error(w, "wrong path "+r.URL.Path, http.StatusNotFound)
			return
		}
		if err := v.Verify(r.Header, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		_ = json.Unmarshal(body, &got)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	var out strings.Builder
	err = sendSellerEvent(context.Background(), cfg, []string{"--seller", "sel-7", "--kind", "listing_published", "--id", "ev-1", "--api", srv.URL}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if got.SellerID != "sel-7" || got.Event.ID != "ev-1" || got.Event.Kind != "listing_published" {
		t.Errorf("the API got %+v", got)
	}
	if !strings.Contains(out.String(), "204") {
		t.Errorf("output %q does not say the API's answer", out.String())
	}
}

func TestSellerEventRefusesAnUnknownKindBeforeSending(t *testing.T) {
	cfg, err := config.LoadFrom(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	err = sendSellerEvent(context.Background(), cfg, []string{"--seller", "sel-7", "--kind", "listing_deleted", "--api", "http://127.0.0.1:1"}, io.Discard)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "listing_published") {
		t.Errorf("err = %v, want a usage error naming the kinds", err)
	}
}

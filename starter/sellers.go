package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"handoff/config"
	"handoff/standardwebhooks"
	"handoff/workflows/sellers"
)

// sendSellerEvent posts one marketplace seller event to the API's
// /webhooks/marketplace, signed with SELLER_EVENTS_WEBHOOK_SECRET the
// Standard Webhooks way, as the marketplace would: a demo's way to tick a
// step of a seller's checklist.
func sendSellerEvent(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seller event", flag.ContinueOnError)
	seller := fs.String("seller", "", "the seller's id (required)")
	kind := fs.String("kind", "", "what happened: "+strings.Join(sellers.EventKinds, ", ")+" (required)")
	id := fs.String("id", "", "the event's id (default: one made from the seller, the kind and the time)")
	detail := fs.String("detail", "", "a note for people")
	api := fs.String("api", "http://"+cfg.HTTPAddr, "the API's base URL")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *seller == "" || !slices.Contains(sellers.EventKinds, *kind) {
		return fmt.Errorf("%w: seller event needs --seller and --kind (one of %s)", errUsage, strings.Join(sellers.EventKinds, ", "))
	}
	now := time.Now().UTC()
	if *id == "" {
		*id = fmt.Sprintf("ev-%s-%s-%d", *seller, *kind, now.UnixNano())
	}
	body, err := json.Marshal(map[string]any{"seller_id": *seller,
		"event": map[string]any{"id": *id, "kind": *kind, "at": now, "detail": *detail}})
	if err != nil {
		return err
	}
	// During a rotation the variable lists several secrets; the first is
	// the current one, which a sender signs with.
	keys, err := standardwebhooks.ParseSecrets(cfg.SellerEventsSecret)
	if err != nil {
		return fmt.Errorf("SELLER_EVENTS_WEBHOOK_SECRET: %w", err)
	}
	key := keys[0]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*api, "/")+"/webhooks/marketplace", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", *id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", standardwebhooks.Sign(key, *id, now.Unix(), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("post the seller event to %s: %w", *api, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("the API answered %s: %s", resp.Status, bytes.TrimSpace(answer))
	}
	fmt.Fprintf(stdout, "%s %s for seller %s: %s\n", *kind, *id, *seller, resp.Status)
	return nil
}

package paymentsim

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"handoff/payments"
	"handoff/signedhttp"
)

// GetLedger asks the stand-in at baseURL for the ledger of an order.
func GetLedger(ctx context.Context, baseURL, orderID string) (Ledger, error) {
	var l Ledger
	err := local(ctx, http.MethodGet, strings.TrimSuffix(baseURL, "/")+"/ledger?order_id="+url.QueryEscape(orderID), nil, &l)
	return l, err
}

// GetSellerLedger asks the stand-in at baseURL for the ledger of a seller:
// its holds, payout holds, releases and payouts, and whether its payouts
// are held now (Ledger.PayoutsHeld).
func GetSellerLedger(ctx context.Context, baseURL, sellerID string) (Ledger, error) {
	var l Ledger
	err := local(ctx, http.MethodGet, strings.TrimSuffix(baseURL, "/")+"/ledger?seller_id="+url.QueryEscape(sellerID), nil, &l)
	return l, err
}

// Payout pays a seller out through the stand-in at cfg.BaseURL (POST
// /payouts, signed with cfg's key id, "handoff" when empty, and secret),
// in one attempt: what the marketplace does, for tests and demos. A
// failure is a *payments.Error; while the seller's payouts are held it is
// payments.ErrRefused with payments.CodePayoutsHeld.
func Payout(ctx context.Context, cfg payments.HTTPConfig, req PayoutRequest) (payments.Movement, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return payments.Movement{}, err
	}
	cfg.KeyID = cmp.Or(cfg.KeyID, "handoff")
	resp, err := signedhttp.New(cfg, "Handoff-Paymentsim/1").Attempt(ctx, http.MethodPost, "/payouts", req.IdempotencyKey, body)
	if err != nil {
		return payments.Movement{}, &payments.Error{Class: payments.ErrTransient, Detail: "no answer", Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var m payments.Movement
		if err := json.Unmarshal(resp.Body, &m); err != nil {
			return payments.Movement{}, &payments.Error{Class: payments.ErrTransient, Status: resp.StatusCode, Detail: "decode answer", Err: err}
		}
		return m, nil
	}
	var p payments.Problem
	_ = json.Unmarshal(resp.Body, &p)
	e := &payments.Error{Class: payments.ErrRefused, Status: resp.StatusCode, Code: p.Code, Detail: cmp.Or(p.Detail, string(bytes.TrimSpace(resp.Body)))}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		e.Class = payments.ErrNotFound
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		e.Class = payments.ErrTransient
	}
	return payments.Movement{}, e
}

// InjectFaults tells the stand-in at baseURL to fail its next requests.
func InjectFaults(ctx context.Context, baseURL string, f Faults) error {
	body, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return local(ctx, http.MethodPost, strings.TrimSuffix(baseURL, "/")+"/faults", body, nil)
}

func local(ctx context.Context, method, u string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

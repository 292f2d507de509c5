package paymentsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// GetLedger asks the stand-in at baseURL for the ledger of an order.
func GetLedger(ctx context.Context, baseURL, orderID string) (Ledger, error) {
	var l Ledger
	err := local(ctx, http.MethodGet, strings.TrimSuffix(baseURL, "/")+"/ledger?order_id="+url.QueryEscape(orderID), nil, &l)
	return l, err
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

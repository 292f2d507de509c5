package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

// call sends one API request as the bench's admin and decodes a 2xx JSON
// answer into out (when not nil); another status is an error with the body.
func (e *Env) call(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.API+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+e.Key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

var caseSeq atomic.Int64

// openBody is a valid new case of category and priority.
func openBody(category vocab.Category, priority vocab.Priority) map[string]any {
	n := strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatInt(caseSeq.Add(1), 36)
	return map[string]any{
		"category": category, "priority": priority,
		"subject":     "Bench case " + n,
		"description": "The code never arrives and the account stays locked.",
		"customer":    map[string]string{"id": "bench-" + n, "email": "bench-" + n + "@example.com", "name": "Bench", "locale": "en"},
		"account_id":  "bench-acct-" + n, "order_id": "bench-order-" + n, "channel": "web",
	}
}

// openCase opens a case through the API.
func (e *Env) openCase(ctx context.Context, category vocab.Category, priority vocab.Priority) (cases.CaseView, error) {
	var v cases.CaseView
	err := e.call(ctx, http.MethodPost, "/v1/cases", openBody(category, priority), &v)
	return v, err
}

// act runs one action on a case through the API.
func (e *Env) act(ctx context.Context, id, action string, body any) error {
	return e.call(ctx, http.MethodPost, "/v1/cases/"+id+"/"+action, body, nil)
}

// step is one API call of a lifecycle.
type step struct {
	action string
	body   any
}

// standardSteps are the actions of the standard lifecycle after the open:
// assign, reply, customer message, reply, resolve, CSAT; the case then
// closes by itself when its reopen window ends.
var standardSteps = []step{
	{"assign", map[string]string{"assignee": "bench-agent"}},
	{"replies", map[string]string{"body": "We are on it."}},
	{"customer-messages", map[string]string{"body": "Still locked."}},
	{"replies", map[string]string{"body": "Unlocked now."}},
	{"resolve", map[string]string{"resolution": "Unlocked."}},
	{"csat", map[string]int{"rating": 5}},
}

// standardLifecycle drives one case through the standard lifecycle and
// answers its id with each call's latency (the open first).
func (e *Env) standardLifecycle(ctx context.Context) (string, []time.Duration, error) {
	start := time.Now()
	v, err := e.openCase(ctx, vocab.CategoryLoginFailure, vocab.P4)
	if err != nil {
		return "", nil, err
	}
	took := []time.Duration{time.Since(start)}
	for _, s := range standardSteps {
		start := time.Now()
		if err := e.act(ctx, v.ID, s.action, s.body); err != nil {
			return v.ID, took, err
		}
		took = append(took, time.Since(start))
	}
	return v.ID, took, nil
}

// awaitWorkflow waits until the workflow workflowID has completed.
func (e *Env) awaitWorkflow(ctx context.Context, workflowID string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	return e.Temporal.GetWorkflow(ctx, workflowID, "").Get(ctx, nil)
}

var deliverySeq atomic.Int64

// deliveryBody is a valid new delivery, as the README's example starts
// one: every handoff field the Starter checks, and no warranty of its own
// (the bench policy's applies, and none of its deadlines falls inside the
// lifecycle).
func deliveryBody() map[string]any {
	n := strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatInt(deliverySeq.Add(1), 36)
	buyer := "bench-buyer-" + n
	return map[string]any{
		"account_id": "bench-acct-" + n, "order_id": "bench-order-" + n, "seller_id": "bench-seller",
		"product": "bench-game", "allowed_use": "personal play, no resale", "region": "EU",
		"buyer": map[string]string{"id": buyer, "email": buyer + "@example.com", "name": "Bench", "locale": "en"},
		"recovery_path": map[string]string{"email": buyer + "@example.com", "reset_by": "buyer",
			"instructions": "Change the password, then add MFA."},
	}
}

// deliveryScreenshotSize is the size of the screenshot a standard delivery
// uploads: small, since a delivery's files are retained (Object Lock) and
// the bench cannot delete them.
const deliveryScreenshotSize = 4 << 10

// deliverySteps are the actions of the standard delivery after its start
// and its screenshot: deliver, the buyer's confirmation, retire.
var deliverySteps = []step{
	{"deliver", map[string]string{"note": "credentials sent"}},
	{"confirm", map[string]string{"note": "the account works"}},
	{"retire", map[string]string{"reason": "bench"}},
}

// deliveryLifecycle drives one delivery through the standard delivery
// lifecycle (start, upload a screenshot, deliver, confirm, retire; the
// retirement ends its workflow) and answers its workflow id and how many
// API calls it made.
func (e *Env) deliveryLifecycle(ctx context.Context) (string, int, error) {
	var v deliveries.DeliveryView
	if err := e.call(ctx, http.MethodPost, "/v1/deliveries", deliveryBody(), &v); err != nil {
		return "", 0, err
	}
	wid := deliveries.DeliveryWorkflowID(v.ID)
	seed := uint64(time.Now().UnixNano()) ^ uint64(deliverySeq.Add(1))<<48
	if _, err := e.upload(ctx, "/v1/deliveries/"+v.ID+"/evidence", "shot.png", deliveryScreenshotSize, seed); err != nil {
		return wid, 1, err
	}
	for i, s := range deliverySteps {
		if err := e.call(ctx, http.MethodPost, "/v1/deliveries/"+v.ID+"/"+s.action, s.body, nil); err != nil {
			return wid, 2 + i, err
		}
	}
	return wid, 2 + len(deliverySteps), nil
}

// upload posts a generated PNG of size bytes, named filename, as a
// delivery_screenshot to path (a case's or a delivery's evidence) as the
// bench's admin, and answers how long it took, from sending the request to
// reading the 201.
func (e *Env) upload(ctx context.Context, path, filename string, size int64, seed uint64) (time.Duration, error) {
	body, length, contentType, err := evidenceForm(filename, seed, size)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.API+path, body)
	if err != nil {
		return 0, fmt.Errorf("upload request: %w", err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+e.Key)
	start := time.Now()
	resp, err := e.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("upload %s to %s: %w", sizeLabel(size), path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("upload %s to %s: %w", sizeLabel(size), path, err)
	}
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("upload %s to %s: %s: %.500s", sizeLabel(size), path, resp.Status, data)
	}
	var out struct {
		Evidence  vocab.Evidence `json:"evidence"`
		Duplicate bool           `json:"duplicate"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return 0, fmt.Errorf("upload %s to %s: decode: %w", sizeLabel(size), path, err)
	}
	if out.Evidence.Size != size || out.Duplicate {
		return 0, fmt.Errorf("upload %s to %s: stored %d bytes, duplicate %t", sizeLabel(size), path,
			out.Evidence.Size, out.Duplicate)
	}
	return took, nil
}

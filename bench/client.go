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

// awaitClosed waits until a case's workflow has completed.
func (e *Env) awaitClosed(ctx context.Context, id string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	return e.Temporal.GetWorkflow(ctx, cases.CaseWorkflowID(id), "").Get(ctx, nil)
}

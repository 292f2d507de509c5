package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"handoff/workflows/cases"
)

// breachAfter is the first-response target of the p1 cases of a run: each
// such case waits breachWait before its first action, so it is warned at
// half the target and breaches once.
const (
	breachAfter = 4 * time.Second
	breachWait  = 5 * time.Second
)

// callPatience is how long one API call is retried (same Idempotency-Key)
// before its lifecycle gives up: longer than any fault lasts.
const callPatience = 5 * time.Minute

// api drives the API under test as its admin and counts what it answers.
type api struct {
	base, key string
	http      *http.Client
	stats     *apiStats
}

// apiStats counts the API's 5xx answers: 503s naming the dependency that
// is down, and every other 5xx, by its detail.
type apiStats struct {
	mu      sync.Mutex
	named   map[string]int
	unnamed map[string]int
}

func newStats() *apiStats { return &apiStats{named: map[string]int{}, unnamed: map[string]int{}} }

// dependencies are the names a 503 counts as named by.
var dependencies = []string{"postgres", "s3", "temporal", "smtp"}

func (s *apiStats) add(status int, method, path, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	label := fmt.Sprintf("%d to %s %s: %s", status, method, route(path), detail)
	if status == http.StatusServiceUnavailable {
		low := strings.ToLower(detail)
		for _, d := range dependencies {
			if strings.Contains(low, d) {
				s.named[label]++
				return
			}
		}
	}
	s.unnamed[label]++
}

func (s *apiStats) counts() (named, unnamed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.named {
		named += n
	}
	for _, n := range s.unnamed {
		unnamed += n
	}
	return named, unnamed
}

// route answers path without its query and with a case id as {id}.
func route(path string) string {
	path, _, _ = strings.Cut(path, "?")
	parts := strings.Split(path, "/")
	if len(parts) > 3 && parts[1] == "v1" && parts[2] == "cases" {
		parts[3] = "{id}"
	}
	return strings.Join(parts, "/")
}

// errRefused is a 4xx: retrying the same request cannot help.
var errRefused = errors.New("refused")

// once sends one request; a 5xx is counted and answered as an error to retry.
func (a *api) once(ctx context.Context, method, path, key, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode >= 500:
		var p struct {
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(data, &p)
		a.stats.add(resp.StatusCode, method, path, p.Detail)
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, p.Detail)
	case resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("%w: %s %s: %s: %.300s", errRefused, method, path, resp.Status, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// call sends a request until it is answered 2xx or refused, for at most
// callPatience: a fault makes it wait, never act twice (the
// Idempotency-Key, or the file's checksum for an upload, makes a retry
// answer the first result).
func (a *api) call(ctx context.Context, method, path, key, contentType string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, callPatience)
	defer cancel()
	for {
		err := a.once(ctx, method, path, key, contentType, body, out)
		if err == nil || errors.Is(err, errRefused) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up after %s: %w", callPatience, err)
		case <-time.After(time.Second):
		}
	}
}

func (a *api) post(ctx context.Context, path, key string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return a.call(ctx, http.MethodPost, path, key, "application/json", data, out)
}

// lifecycle is one case the load drove, and what the API acknowledged.
type lifecycle struct {
	n      int
	ID     string
	Breach bool
	// Acked counts the timeline kinds of the actions answered 2xx.
	Acked map[string]int
	// Evidence lists the ids of the files whose upload was answered 201.
	Evidence []string
	// Err is why the lifecycle stopped before its end.
	Err error
}

// load drives n case lifecycles through the API, their starts spread
// evenly over window; every other case is p1 and breaches its first
// response, the rest are p4 and breach nothing. With evidence each case
// also uploads a file.
func load(ctx context.Context, a *api, run string, n int, window time.Duration, evidence bool) []*lifecycle {
	out := make([]*lifecycle, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		lc := &lifecycle{n: i, Breach: i%2 == 0, Acked: map[string]int{}}
		out[i] = lc
		at := start.Add(time.Duration(i) * window / time.Duration(n))
		wg.Go(func() {
			select {
			case <-ctx.Done():
				lc.Err = ctx.Err()
				return
			case <-time.After(time.Until(at)):
			}
			lc.Err = lc.drive(ctx, a, run, evidence)
		})
	}
	wg.Wait()
	return out
}

// drive runs the lifecycle: open, (wait past the breach), assign, reply,
// (upload), resolve, close.
func (lc *lifecycle) drive(ctx context.Context, a *api, run string, evidence bool) error {
	key := func(step string) string { return fmt.Sprintf("faults-%s-%d-%s", run, lc.n, step) }
	priority := "p4"
	if lc.Breach {
		priority = "p1"
	}
	who := fmt.Sprintf("faults-%s-%d", run, lc.n)
	var v cases.CaseView
	err := a.post(ctx, "/v1/cases", key("open"), map[string]any{
		"category": "login_failure", "priority": priority,
		"subject": "Fault matrix case " + who, "description": "The code never arrives.",
		"customer":   map[string]string{"id": who, "email": who + "@example.com", "name": "Faults", "locale": "en"},
		"account_id": "acct-" + who, "channel": "web",
	}, &v)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	lc.ID = v.ID
	lc.Acked[cases.EventOpened]++
	opened := time.Now()
	if lc.Breach {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(opened.Add(breachWait))):
		}
	}
	steps := []struct {
		action, kind string
		body         any
	}{
		{"assign", cases.EventAssigned, map[string]string{"assignee": "faults-agent"}},
		{"replies", cases.EventAgentReply, map[string]string{"body": "We are on it."}},
		{"evidence", cases.EventEvidenceAdded, nil},
		{"resolve", cases.EventResolved, map[string]string{"resolution": "Sent a new code."}},
		{"close", cases.EventClosed, map[string]string{"reason": "done"}},
	}
	for _, s := range steps {
		if s.action == "evidence" {
			if !evidence {
				continue
			}
			id, err := lc.upload(ctx, a, who)
			if err != nil {
				return fmt.Errorf("upload: %w", err)
			}
			lc.Evidence = append(lc.Evidence, id)
			lc.Acked[s.kind]++
			continue
		}
		if err := a.post(ctx, "/v1/cases/"+lc.ID+"/"+s.action, key(s.action), s.body, nil); err != nil {
			return fmt.Errorf("%s: %w", s.action, err)
		}
		lc.Acked[s.kind]++
	}
	return nil
}

// pngHeader makes a file sniffed as image/png; the rest of the file is
// the case's own text, so every case's bytes differ.
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

// upload attaches a small PNG to the case and answers its evidence id.
func (lc *lifecycle) upload(ctx context.Context, a *api, who string) (string, error) {
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	if err := mw.WriteField("kind", "other"); err != nil {
		return "", err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="screen.png"`)
	h.Set("Content-Type", "image/png")
	part, err := mw.CreatePart(h)
	if err != nil {
		return "", err
	}
	_, _ = part.Write(pngHeader)
	_, _ = part.Write(bytes.Repeat([]byte(who), 64))
	if err := mw.Close(); err != nil {
		return "", err
	}
	var out struct {
		Evidence struct {
			ID string `json:"id"`
		} `json:"evidence"`
	}
	if err := a.call(ctx, http.MethodPost, "/v1/cases/"+lc.ID+"/evidence", "", mw.FormDataContentType(), form.Bytes(), &out); err != nil {
		return "", err
	}
	return out.Evidence.ID, nil
}

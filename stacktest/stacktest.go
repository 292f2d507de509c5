// Package stacktest connects integration tests to the running local stack
// (`make run`, or the one `make test` starts) through the same
// configuration the processes read. A part that does not answer fails the
// test with its address and how to start it; nothing is skipped.
package stacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"handoff/config"
	"handoff/store"
)

const hint = "start the stack with `make run` (or run the tests with `make test`)"

// Config answers the stack's configuration, failing t when it is malformed.
// Relative file paths (the defaults name files from the repository's root)
// are made absolute, since tests run in their package's folder.
func Config(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load()
	if err != nil {
		t.Fatalf("stack configuration: %v", err)
	}
	root := RepoRoot(t)
	for _, path := range []*string{&cfg.SLAPolicyFile, &cfg.Notify.RoutesFile, &cfg.Temporal.PayloadKeysFile} {
		if !filepath.IsAbs(*path) {
			*path = filepath.Join(root, *path)
		}
	}
	return cfg
}

// RepoRoot answers the folder holding go.mod, above the test's folder.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// Logger answers a logger that writes through t, so output shows with the failing test.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// Store answers a migrated store on the stack's Postgres, closed when t ends.
func Store(t testing.TB) *store.Store {
	t.Helper()
	cfg := Config(t)
	ctx := Context(t)
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(db.Close)
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("postgres is not reachable: %v; %s", err, hint)
	}
	if err := db.Migrate(ctx, Logger(t)); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	return db
}

// Temporal answers a client of the stack's Temporal, closed when t ends.
func Temporal(t testing.TB) client.Client {
	t.Helper()
	cfg := Config(t)
	opts, err := cfg.Temporal.ClientOptions(Logger(t), nil)
	if err != nil {
		t.Fatalf("temporal: %v", err)
	}
	c, err := client.DialContext(Context(t), opts)
	if err != nil {
		t.Fatalf("temporal at %s is not reachable: %v; %s", cfg.Temporal.Address, err, hint)
	}
	t.Cleanup(c.Close)
	return c
}

// S3 answers a client of the stack's S3 endpoint after checking the
// evidence bucket answers.
func S3(t testing.TB) *s3.Client {
	t.Helper()
	cfg := Config(t)
	c, err := cfg.S3.NewClient(Context(t))
	if err != nil {
		t.Fatalf("s3: %v", err)
	}
	if _, err := c.HeadBucket(Context(t), &s3.HeadBucketInput{Bucket: &cfg.S3.Bucket}); err != nil {
		t.Fatalf("s3 bucket %s at %s is not reachable: %v; %s", cfg.S3.Bucket, cfg.S3.Endpoint, err, hint)
	}
	return c
}

// Context answers a context that ends with t or after two minutes.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// MailpitURL is the base URL of Mailpit's API: MAILPIT_URL, else the local stack's.
func MailpitURL() string {
	if u := os.Getenv("MAILPIT_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:8025"
}

// MailpitMessage is the part of a Mailpit message summary tests look at.
type MailpitMessage struct {
	ID        string `json:"ID"`
	MessageID string `json:"MessageID"`
	Subject   string `json:"Subject"`
	To        []struct {
		Address string `json:"Address"`
	} `json:"To"`
}

// MailpitSearch answers the messages Mailpit holds that match query
// (Mailpit's search syntax, such as "to:someone@example.com").
func MailpitSearch(ctx context.Context, query string) ([]MailpitMessage, error) {
	u := MailpitURL() + "/api/v1/search?query=" + url.QueryEscape(query)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mailpit at %s is not reachable: %w; %s", MailpitURL(), err, hint)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("mailpit search %q: %s: %s", query, resp.Status, body)
	}
	var out struct {
		Messages []MailpitMessage `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode mailpit search: %w", err)
	}
	return out.Messages, nil
}

// MailpitText answers the plain-text body of the Mailpit message with id.
func MailpitText(ctx context.Context, id string) (string, error) {
	var out struct {
		Text string `json:"Text"`
	}
	err := mailpitGet(ctx, "/api/v1/message/"+url.PathEscape(id), &out)
	return out.Text, err
}

// MailpitHeaders answers the headers of the Mailpit message with id, each
// name with its values as sent.
func MailpitHeaders(ctx context.Context, id string) (map[string][]string, error) {
	var out map[string][]string
	err := mailpitGet(ctx, "/api/v1/message/"+url.PathEscape(id)+"/headers", &out)
	return out, err
}

// mailpitGet decodes the JSON answer of Mailpit's API at path into out.
func mailpitGet(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, MailpitURL()+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit at %s is not reachable: %w; %s", MailpitURL(), err, hint)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode mailpit %s: %w", path, err)
	}
	return nil
}

// OpenPayloads opens, in place, every payload of msg (a history or one of
// its events) that the stack's payload codec sealed, so a test reads what
// the payloads carry.
func OpenPayloads(t testing.TB, msg proto.Message) {
	t.Helper()
	c, err := Config(t).Temporal.Codec()
	if err != nil {
		t.Fatalf("payload codec: %v", err)
	}
	if err := c.OpenAll(Context(t), msg); err != nil {
		t.Fatalf("open payloads: %v", err)
	}
}

// WriteHistory writes the history of workflowID's run runID (the latest
// when empty) to path as the JSON the replay tests read.
func WriteHistory(t testing.TB, c client.Client, workflowID, runID, path string) {
	t.Helper()
	iter := c.GetWorkflowHistory(Context(t), workflowID, runID, false, 0)
	hist := &historypb.History{}
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatalf("read the history of %s: %v", workflowID, err)
		}
		hist.Events = append(hist.Events, e)
	}
	// Written with its payloads open: the replay tests of every machine
	// read it, whatever keys that machine's stack sealed its runs with.
	OpenPayloads(t, hist)
	data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
	if err != nil {
		t.Fatalf("encode the history of %s: %v", workflowID, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatalf("write the history of %s: %v", workflowID, err)
	}
}

// LedgerMovement is one movement of the payments stand-in's ledger.
type LedgerMovement struct {
	ID             string `json:"id"`
	Kind           string `json:"kind"`
	Status         string `json:"status"`
	IdempotencyKey string `json:"idempotency_key"`
	Amount         struct {
		Minor    int64  `json:"minor"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

// PaymentsLedger answers the movements of orderID in the local payments
// stand-in's ledger (PAYMENTS_URL's GET /ledger), oldest first.
func PaymentsLedger(ctx context.Context, cfg config.Config, orderID string) ([]LedgerMovement, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Commerce.PaymentsURL+"/ledger?order_id="+url.QueryEscape(orderID), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the payments stand-in at %s is not reachable: %w; %s", cfg.Commerce.PaymentsURL, err, hint)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ledger of %s: %s", orderID, resp.Status)
	}
	var out struct {
		Movements []LedgerMovement `json:"movements"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode the ledger of %s: %w", orderID, err)
	}
	return out.Movements, nil
}

// SellerLedger answers the movements of sellerID in the local payments
// stand-in's ledger (PAYMENTS_URL's GET /ledger?seller_id=), oldest first,
// and whether the seller's payouts are held now (a payout hold not released).
func SellerLedger(ctx context.Context, cfg config.Config, sellerID string) ([]LedgerMovement, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Commerce.PaymentsURL+"/ledger?seller_id="+url.QueryEscape(sellerID), nil)
	if err != nil {
		return nil, false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("the payments stand-in at %s is not reachable: %w; %s", cfg.Commerce.PaymentsURL, err, hint)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("ledger of seller %s: %s", sellerID, resp.Status)
	}
	var out struct {
		Movements   []LedgerMovement `json:"movements"`
		PayoutsHeld bool             `json:"payouts_held"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, false, fmt.Errorf("decode the ledger of seller %s: %w", sellerID, err)
	}
	return out.Movements, out.PayoutsHeld, nil
}

package faults

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"handoff/codec"
	"handoff/config"
	"handoff/deploy/webhookinbox"
	"handoff/store"
	"handoff/workflows/vocab"
)

// database is the faults command's own database on the machine's
// Postgres, made again at every run.
const database = "handoff_faults"

// Stack is everything one faults run acts on, apart from any `make run`
// stack: a Temporal dev server, a MinIO, a Mailpit and a webhook inbox of
// its own, its own database on the machine's Postgres, and its own worker
// and API between which and Postgres, MinIO and SMTP stand fault proxies.
// Stopping or restarting any of these disturbs no one else.
type Stack struct {
	root, dir string
	logger    *slog.Logger
	cfg       config.Config

	temporal, minio, mailpit *proc
	worker, api              *proc
	inbox                    atomic.Pointer[webhookinbox.Inbox]
	inboxServer              *http.Server

	// TemporalAddr, MailpitAPI and InboxURL reach the stack's servers
	// directly; APIURL is the API under test and Key an admin key for it.
	TemporalAddr, MailpitAPI, InboxURL, APIURL string
	Key                                        string
	// PG, S3 and SMTP are the proxies the worker and the API reach their
	// servers through.
	PG, S3, SMTP *Proxy

	// Temporal, DB and S3Client read the ground truth, around the proxies.
	Temporal client.Client
	DB       *pgxpool.Pool
	S3Client *s3.Client
	Bucket   string
	// TaskQueue is where the worker under test polls.
	TaskQueue string
}

// Up starts the whole stack under root/.dev/faults and answers it ready;
// Down ends it. cfg is the configuration of the environment: its
// Postgres, credentials and secrets, the rest replaced.
func Up(ctx context.Context, root string, cfg config.Config, logger *slog.Logger) (*Stack, error) {
	dir := filepath.Join(root, ".dev", "faults")
	// Every run starts empty: the previous run's state is only evidence.
	for _, sub := range []string{"temporal", "minio", "mailpit", "logs"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	s := &Stack{root: root, dir: dir, logger: logger, cfg: cfg, Bucket: cfg.S3.Bucket,
		TaskQueue: "handoff-faults-" + time.Now().UTC().Format("150405")}
	ok := false
	defer func() {
		if !ok {
			s.Down()
		}
	}()
	addrs, err := freeAddrs(10)
	if err != nil {
		return nil, err
	}
	s.TemporalAddr = addrs[0]
	minioAddr, mailSMTP, mailAPI, inboxAddr := addrs[3], addrs[5], addrs[6], addrs[7]
	apiAddr, workerAddr := addrs[8], addrs[9]

	if err := s.startTemporal(ctx, addrs[1], addrs[2]); err != nil {
		return nil, err
	}
	if err := s.startMinIO(ctx, minioAddr, addrs[4]); err != nil {
		return nil, err
	}
	s.MailpitAPI = "http://" + mailAPI
	s.mailpit = &proc{name: "mailpit", bin: s.bin("mailpit"), log: s.logPath("mailpit"),
		args: []string{"--smtp", mailSMTP, "--listen", mailAPI, "--database", filepath.Join(dir, "mailpit", "mailpit.db"),
			"--max", "0", "--disable-version-check", "--smtp-disable-rdns"},
		ready: httpReady(s.MailpitAPI + "/readyz")}
	if err := s.mailpit.start(ctx); err != nil {
		return nil, err
	}
	if err := s.startInbox(inboxAddr); err != nil {
		return nil, err
	}
	dbURL, err := s.freshDatabase(ctx)
	if err != nil {
		return nil, err
	}

	pgTarget, err := hostOf(dbURL)
	if err != nil {
		return nil, err
	}
	if s.PG, err = StartProxy("Postgres", pgTarget); err != nil {
		return nil, err
	}
	if s.S3, err = StartProxy("S3", minioAddr); err != nil {
		return nil, err
	}
	if s.SMTP, err = StartProxy("SMTP", mailSMTP); err != nil {
		return nil, err
	}
	proxiedDB, err := withHost(dbURL, s.PG.Addr())
	if err != nil {
		return nil, err
	}
	keys, err := codec.NewKeyLine("faults-" + time.Now().UTC().Format("20060102T150405"))
	if err != nil {
		return nil, err
	}
	if err := s.dial(ctx, dbURL, keys); err != nil {
		return nil, err
	}
	policy, err := writePolicy(dir, filepath.Join(root, "deploy", "sla", "default.yaml"))
	if err != nil {
		return nil, err
	}
	teams := make([]string, len(vocab.Teams))
	for i, team := range vocab.Teams {
		teams[i] = string(team) + "=" + s.InboxURL + "/hooks/team/" + string(team)
	}
	env := []string{
		"TEMPORAL_ADDRESS=" + s.TemporalAddr, "HANDOFF_TASK_QUEUE=" + s.TaskQueue,
		"PAYLOAD_KEYS=" + keys, "DATABASE_URL=" + proxiedDB,
		"S3_ENDPOINT=http://" + s.S3.Addr(), "SMTP_ADDR=" + s.SMTP.Addr(),
		"MARKETPLACE_WEBHOOK_URL=" + s.InboxURL + "/hooks/marketplace", "TEAM_WEBHOOK_URLS=" + strings.Join(teams, ","),
		"SLA_POLICY_FILE=" + policy, "HTTP_ADDR=" + apiAddr, "WORKER_METRICS_ADDR=" + workerAddr,
		// The API takes no inbound mail (a `make run` beside it owns the
		// port) and no key is slowed: the faults are what is measured.
		"INBOUND_SMTP_ADDR=", "API_RATE_PER_SECOND=0", "LOG_LEVEL=warn", "SHUTDOWN_TIMEOUT=5s",
	}
	s.APIURL = "http://" + apiAddr
	s.worker = &proc{name: "worker", bin: s.bin("handoff-worker"), env: env, log: s.logPath("worker"),
		ready: httpReady("http://" + workerAddr + "/readyz")}
	s.api = &proc{name: "api", bin: s.bin("handoff-api"), env: env, log: s.logPath("api"),
		ready: httpReady(s.APIURL + "/readyz")}
	if err := s.worker.start(ctx); err != nil {
		return nil, err
	}
	if err := s.api.start(ctx); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// Down stops everything the stack started.
func (s *Stack) Down() {
	for _, p := range []*proc{s.api, s.worker} {
		if p != nil {
			p.stop(10 * time.Second)
		}
	}
	for _, p := range []*Proxy{s.PG, s.S3, s.SMTP} {
		if p != nil {
			p.Close()
		}
	}
	if s.Temporal != nil {
		s.Temporal.Close()
	}
	if s.DB != nil {
		s.DB.Close()
	}
	if s.inboxServer != nil {
		_ = s.inboxServer.Close()
	}
	for _, p := range []*proc{s.mailpit, s.minio, s.temporal} {
		if p != nil {
			p.stop(10 * time.Second)
		}
	}
}

// LogDir is where the processes' logs are.
func (s *Stack) LogDir() string { return filepath.Join(s.dir, "logs") }

func (s *Stack) bin(name string) string { return filepath.Join(s.root, "bin", name) }

func (s *Stack) logPath(name string) string { return filepath.Join(s.dir, "logs", name+".log") }

func (s *Stack) startTemporal(ctx context.Context, httpAddr, metricsAddr string) error {
	host, port, _ := net.SplitHostPort(s.TemporalAddr)
	_, httpPort, _ := net.SplitHostPort(httpAddr)
	_, metricsPort, _ := net.SplitHostPort(metricsAddr)
	s.temporal = &proc{name: "temporal", bin: s.bin("temporal"), log: s.logPath("temporal"),
		args: []string{"server", "start-dev", "--headless", "--ip", host, "--port", port,
			"--http-port", httpPort, "--metrics-port", metricsPort,
			"--db-filename", filepath.Join(s.dir, "temporal", "temporal.db"),
			"--namespace", s.cfg.Temporal.Namespace,
			"--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
			"--log-level", "warn"},
		ready: func(ctx context.Context) error {
			c, err := net.DialTimeout("tcp", s.TemporalAddr, time.Second)
			if err != nil {
				return err
			}
			c.Close()
			return nil
		}}
	return s.temporal.start(ctx)
}

// RestartTemporal stops the dev server (SIGTERM), leaves it down for
// down, and starts it again on the same SQLite file.
func (s *Stack) RestartTemporal(ctx context.Context, down time.Duration) error {
	s.temporal.stop(30 * time.Second)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	return s.temporal.start(ctx)
}

func (s *Stack) startMinIO(ctx context.Context, addr, consoleAddr string) error {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	base := "http://" + addr
	s.minio = &proc{name: "minio", bin: s.bin("minio"), log: s.logPath("minio"),
		args: []string{"server", filepath.Join(s.dir, "minio", "data"), "--address", addr,
			"--console-address", consoleAddr, "--certs-dir", filepath.Join(s.dir, "minio", "certs")},
		env: []string{"MINIO_ROOT_USER=" + s.cfg.S3.AccessKeyID, "MINIO_ROOT_PASSWORD=" + s.cfg.S3.SecretAccessKey,
			"MINIO_KMS_SECRET_KEY=handoff-key:" + base64.StdEncoding.EncodeToString(raw), "MINIO_BROWSER=off"},
		ready: httpReady(base + "/minio/health/live")}
	if err := s.minio.start(ctx); err != nil {
		return err
	}
	s3cfg := s.cfg.S3
	s3cfg.Endpoint = base
	c, err := s3cfg.NewClient(ctx)
	if err != nil {
		return err
	}
	s.S3Client = c
	// Object Lock, as the evidence of retained categories needs.
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket), ObjectLockEnabledForBucket: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", s.Bucket, err)
	}
	return nil
}

func (s *Stack) startInbox(addr string) error {
	in, err := s.newInbox()
	if err != nil {
		return err
	}
	s.inbox.Store(in)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.InboxURL = "http://" + addr
	s.inboxServer = &http.Server{ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.inbox.Load().ServeHTTP(w, r) })}
	go func() { _ = s.inboxServer.Serve(ln) }()
	return nil
}

// newInbox is the webhook inbox of package webhookinbox, keeping every
// delivery of a run (the stack's own keeps the last 500).
func (s *Stack) newInbox() (*webhookinbox.Inbox, error) {
	return webhookinbox.New(s.cfg.Notify.WebhookSecret, webhookinbox.Options{
		Capacity: 1 << 20, Logger: slog.New(slog.DiscardHandler)})
}

// Deliveries answers every webhook the inbox received since the last reset.
func (s *Stack) Deliveries() []webhookinbox.Delivery { return s.inbox.Load().Deliveries("") }

// ResetReceivers empties the inbox and Mailpit between rows.
func (s *Stack) ResetReceivers(ctx context.Context) error {
	in, err := s.newInbox()
	if err != nil {
		return err
	}
	s.inbox.Store(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.MailpitAPI+"/api/v1/messages", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("empty Mailpit: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("empty Mailpit: %s", resp.Status)
	}
	return nil
}

// freshDatabase drops and makes the faults database on the Postgres of
// cfg, applies the migrations and answers its URL.
func (s *Stack) freshDatabase(ctx context.Context) (string, error) {
	conn, err := pgx.Connect(ctx, s.cfg.DatabaseURL)
	if err != nil {
		return "", fmt.Errorf("connect to Postgres (DATABASE_URL): %w", err)
	}
	defer conn.Close(ctx)
	name := pgx.Identifier{database}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("drop database %s: %w", database, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", database, err)
	}
	u, err := url.Parse(s.cfg.DatabaseURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + database
	db, err := store.Open(ctx, u.String())
	if err != nil {
		return "", err
	}
	defer db.Close()
	if err := db.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		return "", err
	}
	_, secret, err := db.CreateAPIKey(ctx, "faults", store.RoleAdmin)
	if err != nil {
		return "", err
	}
	s.Key = secret
	return u.String(), nil
}

// dial opens the ground-truth clients: Temporal with the run's payload
// key, Postgres around its proxy.
func (s *Stack) dial(ctx context.Context, dbURL, keys string) error {
	t := s.cfg.Temporal
	t.Address, t.PayloadKeys = s.TemporalAddr, keys
	opts, err := t.ClientOptions(slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return err
	}
	if s.Temporal, err = client.DialContext(ctx, opts); err != nil {
		return fmt.Errorf("dial Temporal %s: %w", s.TemporalAddr, err)
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := vocab.RegisterSearchAttributes(rctx, s.Temporal, t.Namespace); err != nil {
		return err
	}
	if s.DB, err = pgxpool.New(ctx, dbURL); err != nil {
		return err
	}
	return nil
}

// KillWorker ends the worker with SIGKILL and starts it again.
func (s *Stack) KillWorker(ctx context.Context) error {
	s.worker.kill()
	return s.worker.start(ctx)
}

func hostOf(dbURL string) (string, error) {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return "", errors.New("DATABASE_URL: not a Postgres URL")
	}
	return net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), nil
}

func withHost(dbURL, hostPort string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil || u.Scheme == "" {
		return "", errors.New("DATABASE_URL: write it as a postgres:// URL for the faults command")
	}
	u.Host = hostPort
	return u.String(), nil
}

// writePolicy writes the run's SLA policy: p1 cases warn after 2 s and
// breach after 4 s of first response; p4 cases never come near a target;
// a closed case's survey ends 2 s after its resolution, which ends its
// workflow. The categories (teams and default priorities) are the shipped
// policy's, read from shipped.
func writePolicy(dir, shipped string) (string, error) {
	data, err := os.ReadFile(shipped)
	if err != nil {
		return "", fmt.Errorf("shipped SLA policy: %w", err)
	}
	var doc struct {
		Categories map[string]any `yaml:"categories"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "", fmt.Errorf("shipped SLA policy %s: %w", shipped, err)
	}
	categories, err := yaml.Marshal(map[string]any{"categories": doc.Categories})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "policy.yaml")
	content := `warning_threshold: 0.5
lifecycle:
  auto_close_after_waiting: 24h
  reopen_window: 24h
  csat_window: 2s
calendars:
  24x7: {time_zone: UTC, always_open: true}
policies:
  - {priority: p1, calendar: 24x7, first_response: ` + breachAfter.String() + `, next_response: 24h, resolution: 24h}
  - {priority: p2, calendar: 24x7, first_response: 24h, next_response: 24h, resolution: 48h}
  - {priority: p3, calendar: 24x7, first_response: 24h, next_response: 24h, resolution: 48h}
  - {priority: p4, calendar: 24x7, first_response: 24h, next_response: 24h, resolution: 48h}
` + string(categories)
	return path, os.WriteFile(path, []byte(content), 0o644)
}

// Package config reads Handoff's settings from environment variables.
//
// Every variable has a default that serves the local stack started by
// `make run`, so a newcomer sets nothing; production overrides what differs.
// Load reports every missing or malformed value at once, each error naming
// its variable, so a process fails at start instead of half-working.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Config holds every setting of the worker, the API and the command-line tool.
type Config struct {
	Temporal Temporal
	// DatabaseURL is the Postgres connection string of the read model.
	DatabaseURL string
	S3          S3
	SMTP        SMTP
	Notify      Notify
	Evidence    Evidence
	Accounts    Accounts
	Inbound     Inbound
	Commerce    Commerce
	// Verification is the seller identity-verification (KYC) provider.
	Verification Verification
	// SellerEventsSecret verifies the marketplace's seller events posted to
	// POST /webhooks/marketplace: "whsec_" then the base64 of the key
	// (Standard Webhooks), or several such secrets separated by commas
	// during a rotation, any of which verifies.
	SellerEventsSecret string
	// Codec is who may read payloads in clear through the API.
	Codec Codec
	// SLAPolicyFile is the YAML file with SLA policies and business calendars.
	SLAPolicyFile string
	// HTTPAddr is where the API listens.
	HTTPAddr string
	// APIRate limits the /v1 requests of each API key: a burst of
	// APIRateBurst, refilled at APIRatePerSecond; 0 turns it off.
	APIRateBurst     int
	APIRatePerSecond float64
	// WorkerMetricsAddr is where the worker serves /metrics, /healthz and /readyz.
	WorkerMetricsAddr string
	// WebhookInboxAddr is where the local stack's webhook inbox
	// (deploy/webhookinbox) listens; only the local stack uses it.
	WebhookInboxAddr string
	// LocalTemporal is which Temporal the local stack runs when nothing
	// answers at TEMPORAL_ADDRESS; only the local stack uses it.
	LocalTemporal LocalTemporal
	// LogLevel is the minimum level of the structured logs.
	LogLevel slog.Level
	// ShutdownTimeout bounds how long a process waits for in-flight work when stopping.
	ShutdownTimeout time.Duration
	// WorkflowPollers and ActivityPollers are how many long polls the
	// worker keeps open for each kind of task; WorkflowTaskSlots bounds the
	// workflow tasks it runs at once.
	WorkflowPollers, ActivityPollers, WorkflowTaskSlots int
	// StickyCacheSize is how many workflow executions the worker process
	// keeps in memory between their tasks (the SDK's sticky cache), so a
	// task of a cached case needs no replay of its history.
	StickyCacheSize int
	// WorkerDeployment and WorkerBuildID turn on Worker Deployment
	// Versioning: the worker polls as that version of that deployment.
	// Both empty (the default) runs an unversioned worker.
	WorkerDeployment, WorkerBuildID string
}

// Temporal holds how to reach the Temporal service.
type Temporal struct {
	// Address is the frontend's host:port.
	Address string
	// Namespace is the Temporal namespace of every Handoff workflow.
	Namespace string
	// TaskQueue is the queue Handoff's worker polls.
	TaskQueue string
	// TLS turns on TLS towards the frontend (implied by a client certificate or an API key).
	TLS bool
	// TLSServerName overrides the server name checked in the frontend's certificate.
	TLSServerName string
	// TLSCertPath and TLSKeyPath name a client certificate for mTLS.
	TLSCertPath string
	TLSKeyPath  string
	// APIKey authenticates to Temporal Cloud with an API key.
	APIKey string
	// PayloadKeys are the AES-256 keys that seal every payload (package
	// codec), inline as id:base64 entries separated by commas or lines,
	// the first sealing; when empty they are read from PayloadKeysFile.
	PayloadKeys     string
	PayloadKeysFile string
}

// Codec holds who may use the API's codec endpoints (/codec/encode and
// /codec/decode), which the Temporal Web UI and CLI call to show payloads
// in clear.
type Codec struct {
	// Roles are the API key roles allowed to decode and encode.
	Roles []string
	// Origins are the browser origins (the Web UI's) allowed by CORS.
	Origins []string
}

// S3 holds how to reach the evidence store.
type S3 struct {
	// Endpoint is the S3 endpoint URL; empty means AWS S3 itself.
	Endpoint string
	// Bucket holds every evidence object.
	Bucket string
	// Region is the bucket's region.
	Region string
	// AccessKeyID and SecretAccessKey are static credentials; both empty
	// means the AWS default credential chain (environment, profile, IAM role).
	AccessKeyID     string
	SecretAccessKey string
	// UsePathStyle addresses buckets as a path, which MinIO needs.
	UsePathStyle bool
}

// SMTP holds how email leaves Handoff.
type SMTP struct {
	// Addr is the SMTP server's host:port.
	Addr string
	// From is the sender of every email, as an RFC 5322 address.
	From string
	// Username and Password authenticate with PLAIN auth when set.
	Username string
	Password string
	// StartTLS requires STARTTLS before any mail is sent.
	StartTLS bool
	// StaffDomain is the mail domain of agents and team channels: team
	// alerts go to team-<team>@StaffDomain, an assignee without a domain
	// to <assignee>@StaffDomain.
	StaffDomain string
}

// Notify holds who hears about what and how webhooks are signed.
type Notify struct {
	// RoutesFile is the YAML file mapping each event and audience to channels.
	RoutesFile string
	// MarketplaceWebhookURL receives customer events as signed webhooks; empty turns the channel off.
	MarketplaceWebhookURL string
	// TeamWebhookURLs maps a team to its incoming-webhook URL (Slack-compatible);
	// it overrides the routes file's team_webhooks, so the secret URLs can stay out of it.
	TeamWebhookURLs map[string]string
	// WebhookSecret signs every webhook: "whsec_" then the base64 of the key,
	// as the Standard Webhooks specification writes it, or several such
	// secrets separated by commas during a rotation, the first current:
	// every webhook then carries one signature per secret.
	WebhookSecret string
	// WebhookKeyID names the first (current) signing key in the
	// webhook-key-id header, so receivers can pick the secret while keys
	// rotate.
	WebhookKeyID string
	// SurveyURL is the base of the CSAT survey link; the case id is appended as a path segment.
	SurveyURL string
	// DeliveryPageURL is the base of an account delivery's page, where the
	// buyer confirms it or reports a problem; the delivery id is appended
	// as a path segment.
	DeliveryPageURL string
	// KBPageURL is the base of the public knowledge-base pages; a reply
	// that inserts an article links to it with the article id appended.
	KBPageURL string
	// LinkKeys sign the links customers follow from their emails (survey,
	// delivery page): the first signs, every one verifies.
	LinkKeys []LinkKey
	// CodeSecret keys the one-time codes of recoveries and contact changes:
	// the worker derives a code from it and the API checks one with it, so
	// no code is ever stored or written to a workflow history.
	CodeSecret string
}

// Inbound holds how customers' email replies come back into their cases.
type Inbound struct {
	// Domain is the mail domain of the reply addresses customer emails
	// carry (reply+<token>@Domain): its MX must reach the inbound gateway.
	Domain string
	// SMTPAddr is where the API's inbound SMTP gateway listens; empty turns
	// it off (a mail provider posting to the webhook instead).
	SMTPAddr string
	// MaxBytes is the largest message taken, attachments included.
	MaxBytes int64
	// ReplyAddressTTL is how long a reply address takes mail after the
	// email that carried it was sent.
	ReplyAddressTTL time.Duration
	// SenderPerHour is how many messages one sender address may send in an
	// hour (a burst of as many, regained evenly).
	SenderPerHour int
	// WebhookSecret signs the mail provider's POST /webhooks/inbound-mail
	// (HMAC-SHA256), or several secrets separated by commas during a
	// rotation, any of which verifies; empty turns the endpoint off.
	WebhookSecret string
}

// Commerce says how Handoff reaches the payment provider (docs/payments.md)
// and the shipping carrier (docs/carrier.md), and how their webhooks to
// the API are signed. The defaults are the local stand-ins' own
// (deploy/paymentsim, deploy/carriersim), so `make run` needs none set.
type Commerce struct {
	// PaymentsURL is the payment provider's base URL.
	PaymentsURL string
	// PaymentsKeyID names PaymentsSecret in every request (X-Handoff-Key-Id).
	PaymentsKeyID string
	// PaymentsSecret signs every request to the provider (HMAC-SHA256, at least 32 bytes).
	PaymentsSecret string
	// PaymentsWebhookSecret verifies the provider's POST /webhooks/payments,
	// signed as signedhttp signs (HMAC-SHA256, at least 32 bytes), or
	// several secrets separated by commas during a rotation, any of which
	// verifies.
	PaymentsWebhookSecret string
	// CarrierURL is the carrier's base URL.
	CarrierURL string
	// CarrierKeyID names CarrierSecret in every request (X-Handoff-Key-Id).
	CarrierKeyID string
	// CarrierSecret signs every request to the carrier (HMAC-SHA256, at least 32 bytes).
	CarrierSecret string
	// CarrierWebhookSecret verifies the carrier's tracking webhooks at POST
	// /webhooks/carrier: "whsec_" then the base64 of the key (Standard
	// Webhooks), or several such secrets separated by commas during a
	// rotation, any of which verifies.
	CarrierWebhookSecret string
	// PaymentsAddr and CarrierAddr are where the local stack's stand-ins
	// listen; only the local stack uses them.
	PaymentsAddr string
	CarrierAddr  string
}

// Verification says how Handoff reaches the seller identity-verification
// (KYC) provider (docs/verification.md) and how its decision webhooks are
// signed. The defaults are the local stand-in's own (deploy/verificationsim),
// so `make run` needs none set.
type Verification struct {
	// URL is the provider's base URL.
	URL string
	// KeyID names Secret in every request (X-Handoff-Key-Id).
	KeyID string
	// Secret signs every request to the provider (HMAC-SHA256, at least 32 bytes).
	Secret string
	// WebhookSecret verifies the provider's decision webhooks: "whsec_"
	// then the base64 of the key (Standard Webhooks), or several such
	// secrets separated by commas during a rotation, any of which verifies.
	WebhookSecret string
	// Addr is where the local stack's stand-in listens; only the local stack uses it.
	Addr string
}

// LinkKey is one key signing customer links, named by the id the links carry.
type LinkKey struct {
	ID     string
	Secret string
}

// Evidence holds what the API accepts as evidence files and how long S3 keeps them locked.
type Evidence struct {
	// MaxBytes bounds one uploaded file; a larger one is refused with 413.
	MaxBytes int64
	// ContentTypes lists the types a file may be, as sniffed from its first
	// bytes (http.DetectContentType), never as the client names it.
	ContentTypes []string
	// RetentionDays is how long S3 Object Lock keeps the evidence of
	// disputes, security alerts and fraud reports from change or deletion.
	RetentionDays int
	// LinkTTL is how long a presigned download URL of an evidence file (or
	// a delivery's file) works: from 10s to 1h, so a link cannot be
	// configured to live for SigV4's seven days.
	LinkTTL time.Duration
}

// Accounts says which directory of marketplace accounts the activities act on.
type Accounts struct {
	// Directory is "postgres" (Handoff's own tables: the local stack and
	// demos) or "http" (the marketplace's account service).
	Directory string
	// ServiceURL is the account service's base URL; required with http.
	ServiceURL string
	// ServiceKeyID names ServiceSecret in every request, so the service
	// can tell which secret signed while secrets rotate.
	ServiceKeyID string
	// ServiceSecret signs every request with HMAC-SHA256; required with http.
	ServiceSecret string
}

// Var documents one environment variable: its name, its default and what it sets.
type Var struct {
	Name    string
	Default string
	Doc     string
}

// Vars lists every variable Load reads, in the order the README's table shows them.
var Vars = []Var{
	{"TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend host:port (a Temporal Cloud endpoint in production)."},
	{"TEMPORAL_NAMESPACE", "default", "Temporal namespace of every Handoff workflow."},
	{"HANDOFF_TASK_QUEUE", "handoff", "Task queue the worker polls and the API starts workflows on."},
	{"TEMPORAL_TLS", "false", "Use TLS towards Temporal; implied by a client certificate or an API key."},
	{"TEMPORAL_TLS_SERVER_NAME", "", "Server name expected in Temporal's certificate, when it differs from the address."},
	{"TEMPORAL_TLS_CLIENT_CERT_PATH", "", "Client certificate (PEM) for mTLS; needs TEMPORAL_TLS_CLIENT_KEY_PATH."},
	{"TEMPORAL_TLS_CLIENT_KEY_PATH", "", "Client key (PEM) for mTLS; needs TEMPORAL_TLS_CLIENT_CERT_PATH."},
	{"TEMPORAL_API_KEY", "", "Temporal Cloud API key."},
	{"PAYLOAD_KEYS", "", "AES-256 keys that seal every Temporal payload, as id:base64-of-32-bytes entries separated by commas, the first sealing (rotate by putting a new key first); when empty, PAYLOAD_KEYS_FILE is read."},
	{"PAYLOAD_KEYS_FILE", ".dev/payload-keys", "File of payload keys, one id:base64 line each, the first sealing; make run writes one for the local stack."},
	{"CODEC_ROLES", "admin,security", "API key roles that may read payloads in clear through /codec/decode (the Temporal Web UI and CLI)."},
	{"CODEC_CORS_ORIGINS", "http://localhost:8233,http://127.0.0.1:8233", "Browser origins (the Temporal Web UI's) allowed to call /codec."},
	{"DATABASE_URL", "postgres://postgres@127.0.0.1:5432/handoff?sslmode=disable", "Postgres connection string of the read model; each process keeps up to 8 connections unless it sets pool_max_conns."},
	{"S3_ENDPOINT", "http://127.0.0.1:9000", "S3 endpoint URL; set it empty to use AWS S3 itself."},
	{"S3_BUCKET", "handoff-evidence", "Bucket that holds evidence."},
	{"S3_REGION", "us-east-1", "Region of the bucket."},
	{"S3_ACCESS_KEY_ID", "handoff", "Static S3 access key; set it and the secret empty to use the AWS default credential chain."},
	{"S3_SECRET_ACCESS_KEY", "handoff-local-secret", "Static S3 secret key (the local MinIO's root password)."},
	{"S3_USE_PATH_STYLE", "true", "Address buckets by path (MinIO); false for virtual-hosted AWS style."},
	{"SMTP_ADDR", "127.0.0.1:1025", "SMTP server host:port (Mailpit locally)."},
	{"SMTP_FROM", "Handoff Support <support@handoff.localhost>", "Sender of every email."},
	{"SMTP_USERNAME", "", "SMTP user for PLAIN auth; empty sends without auth."},
	{"SMTP_PASSWORD", "", "SMTP password for PLAIN auth."},
	{"SMTP_STARTTLS", "false", "Require STARTTLS before sending."},
	{"STAFF_EMAIL_DOMAIN", "staff.handoff.localhost", "Mail domain of agents and team channels (team-<team>@domain)."},
	{"NOTIFY_ROUTES_FILE", "deploy/notifications.yaml", "YAML file naming, per event and audience, the channels a notification goes to."},
	{"MARKETPLACE_WEBHOOK_URL", "", "URL the marketplace backend receives signed webhooks at; empty sends none."},
	{"TEAM_WEBHOOK_URLS", "", "Team incoming-webhook URLs (Slack-compatible) as team=url,team=url; override the routes file's team_webhooks."},
	{"WEBHOOK_SIGNING_SECRET", "whsec_aGFuZG9mZi1sb2NhbC1kZXYtd2ViaG9vay1zZWNyZXQ=", "Standard Webhooks signing secret (whsec_ then base64 of 24 to 64 bytes); during a rotation several separated by commas, the new one first: every webhook then carries one v1 signature per secret, so a receiver holding either verifies; the default is for local use only."},
	{"WEBHOOK_KEY_ID", "local", "Id of the signing secret (the first of WEBHOOK_SIGNING_SECRET), sent in the webhook-key-id header so receivers can rotate keys."},
	{"SURVEY_URL", "http://127.0.0.1:8080/survey", "Base URL of the CSAT survey; a resolved case's email links to it with the case id appended as a path segment and a signed token (?t=), plus one link per rating (&rating=1 to 5)."},
	{"KB_PAGE_URL", "http://127.0.0.1:8080/kb", "Base URL of the public knowledge-base pages (GET /kb/{id}); a reply that inserts an article links to it with the article id appended as a path segment."},
	{"DELIVERY_PAGE_URL", "http://127.0.0.1:8080/deliveries", "Base URL of an account delivery's page, where the buyer confirms it or reports a problem; the delivered and reminder emails link to it with the delivery id appended as a path segment and a signed token (?t=)."},
	{"LINK_SIGNING_KEYS", "local=handoff-local-dev-customer-link-signing-key", "Keys signing the links customers follow from emails (survey, delivery page), as id=secret pairs separated by commas, each secret at least 32 bytes; the first signs and all verify, so a new key goes first and an old one stays until its links have expired; the default is for local use only."},
	{"VERIFICATION_CODE_SECRET", "handoff-local-dev-verification-code-secret", "Secret (at least 32 bytes) keying one-time codes: the worker derives each code from it, the API checks typed codes with it; the default is for local use only."},
	{"EVIDENCE_MAX_BYTES", "1073741824", "Largest evidence file the API accepts, in bytes (at most 5 GiB); larger uploads answer 413."},
	{"EVIDENCE_CONTENT_TYPES", "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain; charset=utf-8,application/zip", "Comma-separated types an evidence file may be, as sniffed from its first 512 bytes; others answer 415."},
	{"EVIDENCE_RETENTION_DAYS", "365", "Days S3 Object Lock (governance mode) keeps the evidence of dispute, security_alert and fraud_report cases."},
	{"EVIDENCE_LINK_TTL", "5m", "How long a presigned download link of an evidence file (or a delivery's file) works, from 10s to 1h."},
	{"ACCOUNT_DIRECTORY", "postgres", "Where account actions (locks, recoveries, profile changes, merges) go: postgres (Handoff's own tables, for the local stack and demos) or http (the marketplace's account service)."},
	{"ACCOUNT_SERVICE_URL", "", "Base URL of the marketplace's account service (docs/account-service.md); required when ACCOUNT_DIRECTORY is http."},
	{"ACCOUNT_SERVICE_KEY_ID", "handoff", "Id of the account service secret, sent in the X-Handoff-Key-Id header so the service can rotate secrets."},
	{"ACCOUNT_SERVICE_SECRET", "", "HMAC-SHA256 secret (at least 32 bytes) signing every request to the account service; required when ACCOUNT_DIRECTORY is http."},
	{"INBOUND_MAIL_DOMAIN", "reply.handoff.localhost", "Mail domain of the reply addresses (reply+<signed token>@domain) every customer email carries; its MX must reach the inbound gateway."},
	{"INBOUND_SMTP_ADDR", "127.0.0.1:2525", "Where the API's inbound SMTP gateway takes customers' replies; empty turns it off (a mail provider posting to /webhooks/inbound-mail instead)."},
	{"INBOUND_MAX_BYTES", "26214400", "Largest inbound message, attachments included, in bytes; larger ones are refused (SMTP 552, HTTP 413)."},
	{"REPLY_ADDRESS_TTL", "2160h", "How long a reply address takes mail after the email carrying it was sent; later mail is refused with a hint to write to support."},
	{"INBOUND_SENDER_PER_HOUR", "60", "Messages one sender address may send to the gateway in an hour; more are deferred (SMTP 450)."},
	{"INBOUND_WEBHOOK_SECRET", "handoff-local-dev-inbound-mail-webhook-secret", "HMAC-SHA256 secret (at least 32 bytes; during a rotation several separated by commas, the new one first, any of which verifies) of the mail provider's signed POST /webhooks/inbound-mail; empty turns the endpoint off; the default is for local use only."},
	{"PAYMENTS_URL", "http://127.0.0.1:8027", "Base URL of the payment provider's signed API (docs/payments.md) that refunds, credits and holds go to; the default is the local stand-in (deploy/paymentsim)."},
	{"PAYMENTS_KEY_ID", "handoff", "Id of the payments secret, sent in the X-Handoff-Key-Id header so the provider can rotate secrets."},
	{"PAYMENTS_SECRET", "handoff-local-payments-secret-0123456789", "HMAC-SHA256 secret (at least 32 bytes) signing every request to the payment provider; the default is the local stand-in's, for local use only."},
	{"PAYMENTS_WEBHOOK_SECRET", "handoff-local-dev-payments-webhook-secret", "HMAC-SHA256 secret (at least 32 bytes; during a rotation several separated by commas, the new one first, any of which verifies) of the payment provider's signed POST /webhooks/payments, which settles a pending movement; the default is for local use only."},
	{"CARRIER_URL", "http://127.0.0.1:8028", "Base URL of the shipping carrier's signed API (docs/carrier.md) that return labels and tracking come from; the default is the local stand-in (deploy/carriersim)."},
	{"CARRIER_KEY_ID", "handoff", "Id of the carrier secret, sent in the X-Handoff-Key-Id header so the carrier can rotate secrets."},
	{"CARRIER_SECRET", "handoff-local-dev-carrier-secret-0001", "HMAC-SHA256 secret (at least 32 bytes) signing every request to the carrier; the default is the local stand-in's, for local use only."},
	{"CARRIER_WEBHOOK_SECRET", "whsec_aGFuZG9mZi1sb2NhbC1kZXYtY2Fycmllci13ZWJob29r", "Standard Webhooks secret (whsec_ then base64 of 24 to 64 bytes; during a rotation several separated by commas, the new one first, any of which verifies) of the carrier's tracking webhooks to POST /webhooks/carrier; the default is the local stand-in's, for local use only."},
	{"KYC_URL", "http://127.0.0.1:8029", "Base URL of the seller identity-verification (KYC) provider's signed API (docs/verification.md) that seller checks go to; the default is the local stand-in (deploy/verificationsim)."},
	{"KYC_KEY_ID", "handoff", "Id of the verification secret, sent in the X-Handoff-Key-Id header so the provider can rotate secrets."},
	{"KYC_SECRET", "handoff-local-dev-verification-secret-01", "HMAC-SHA256 secret (at least 32 bytes) signing every request to the verification provider; the default is the local stand-in's, for local use only."},
	{"KYC_WEBHOOK_SECRET", "whsec_aGFuZG9mZi1sb2NhbC1kZXYtdmVyaWZpY2F0aW9uLXdlYmhvb2s=", "Standard Webhooks secret (whsec_ then base64 of 24 to 64 bytes; during a rotation several separated by commas, the new one first, any of which verifies) of the verification provider's decision webhooks to POST /webhooks/verification; the default is the local stand-in's, for local use only."},
	{"SLA_POLICY_FILE", "deploy/sla/default.yaml", "YAML file with SLA policies and business calendars."},
	{"HTTP_ADDR", "127.0.0.1:8080", "Where the API listens."},
	{"API_RATE_BURST", "200", "Requests an API key may send at once to /v1 before it is slowed down."},
	{"API_RATE_PER_SECOND", "50", "Requests a second each API key regains after its burst; beyond them /v1 answers 429 with Retry-After. 0 turns the limit off."},
	{"WORKER_METRICS_ADDR", "127.0.0.1:9090", "Where the worker serves /metrics, /healthz and /readyz."},
	{"WORKER_WORKFLOW_POLLERS", "2", "Long polls the worker keeps open for workflow tasks (bench/README.md has the measurements behind the default)."},
	{"WORKER_ACTIVITY_POLLERS", "2", "Long polls the worker keeps open for activity tasks."},
	{"WORKER_WORKFLOW_TASK_SLOTS", "1000", "Workflow tasks the worker runs at once."},
	{"WORKER_STICKY_CACHE_SIZE", "5000", "Workflow executions the worker process keeps in memory between their tasks (the SDK's sticky cache; an evicted case replays its history at its next task). Each cached case holds some 85 KiB (six goroutines' stacks and its state), about 130 KiB of RSS with Go's default GC: 5000 keeps a worker near 700 MiB with every slot full (bench/README.md, held)."},
	{"WORKER_DEPLOYMENT_NAME", "", "Worker Deployment the worker belongs to (Worker Deployment Versioning, docs/production.md); needs WORKER_BUILD_ID. Empty: an unversioned worker."},
	{"WORKER_BUILD_ID", "", "This worker's version within WORKER_DEPLOYMENT_NAME, e.g. the image digest or the commit; needs WORKER_DEPLOYMENT_NAME."},
	{"TEMPORAL_MODE", "dev", "Which Temporal `make run`, `make test` and `make bench` start when none answers: dev (the CLI's dev server, SQLite, one history shard) or cluster (Temporal Server on the stack's Postgres with the Web UI)."},
	{"TEMPORAL_SERVICES", "single", "With TEMPORAL_MODE=cluster: single (frontend, history, matching and worker services in one process) or split (one process each, as deployed)."},
	{"TEMPORAL_SHARDS", "16", "With TEMPORAL_MODE=cluster: history shards of the cluster. 16 keeps its state in the databases `temporal` and `temporal_visibility`; another count in databases of its own (`temporal_4shards`, `temporal_visibility_4shards`), since a cluster's shard count is fixed once created."},
	{"WEBHOOK_INBOX_ADDR", "127.0.0.1:8026", "Where the local stack's webhook inbox listens; `make run` sends the worker's webhooks there unless MARKETPLACE_WEBHOOK_URL or TEAM_WEBHOOK_URLS says otherwise."},
	{"PAYMENTS_ADDR", "127.0.0.1:8027", "Where the local stack's payment provider stand-in (bin/handoff-payments) listens; `make run` points the worker's PAYMENTS_URL there unless it is set."},
	{"CARRIER_ADDR", "127.0.0.1:8028", "Where the local stack's carrier stand-in (bin/handoff-carrier) listens; `make run` points the worker's CARRIER_URL there unless it is set, and has the stand-in post its tracking webhooks to the API at HTTP_ADDR."},
	{"SELLER_EVENTS_WEBHOOK_SECRET", "whsec_aGFuZG9mZi1sb2NhbC1kZXYtc2VsbGVyLWV2ZW50cy13ZWJob29r", "Standard Webhooks secret (whsec_ then base64 of 24 to 64 bytes; during a rotation several separated by commas, the new one first, any of which verifies) of the marketplace's seller events (a listing published, payout details verified...) to POST /webhooks/marketplace, which complete the steps of a seller's onboarding; the default is for local use only."},
	{"KYC_ADDR", "127.0.0.1:8029", "Where the local stack's verification stand-in (bin/handoff-verification) listens; `make run` points the worker's KYC_URL there unless it is set, and has the stand-in post its decision webhooks to the API at HTTP_ADDR."},
	{"LOG_LEVEL", "info", "Minimum log level: debug, info, warn or error."},
	{"SHUTDOWN_TIMEOUT", "30s", "How long a stopping process waits for in-flight requests and activities."},
}

// Load reads the configuration from the process environment.
func Load() (Config, error) {
	return LoadFrom(os.LookupEnv)
}

// LoadFrom reads the configuration through lookup, which answers like
// os.LookupEnv; tests pass a map's lookup instead of changing the process.
func LoadFrom(lookup func(string) (string, bool)) (Config, error) {
	r := reader{lookup: lookup}
	cfg := Config{
		Temporal: Temporal{
			Address:         r.hostPort("TEMPORAL_ADDRESS"),
			Namespace:       r.nonEmpty("TEMPORAL_NAMESPACE"),
			TaskQueue:       r.nonEmpty("HANDOFF_TASK_QUEUE"),
			TLS:             r.bool("TEMPORAL_TLS"),
			TLSServerName:   r.string("TEMPORAL_TLS_SERVER_NAME"),
			TLSCertPath:     r.file("TEMPORAL_TLS_CLIENT_CERT_PATH"),
			TLSKeyPath:      r.file("TEMPORAL_TLS_CLIENT_KEY_PATH"),
			APIKey:          r.string("TEMPORAL_API_KEY"),
			PayloadKeys:     r.string("PAYLOAD_KEYS"),
			PayloadKeysFile: r.string("PAYLOAD_KEYS_FILE"),
		},
		Codec:       Codec{Roles: r.list("CODEC_ROLES"), Origins: r.list("CODEC_CORS_ORIGINS")},
		DatabaseURL: r.databaseURL("DATABASE_URL"),
		S3: S3{
			Endpoint:        r.optionalURL("S3_ENDPOINT"),
			Bucket:          r.nonEmpty("S3_BUCKET"),
			Region:          r.nonEmpty("S3_REGION"),
			AccessKeyID:     r.string("S3_ACCESS_KEY_ID"),
			SecretAccessKey: r.string("S3_SECRET_ACCESS_KEY"),
			UsePathStyle:    r.bool("S3_USE_PATH_STYLE"),
		},
		SMTP: SMTP{
			Addr:        r.hostPort("SMTP_ADDR"),
			From:        r.nonEmpty("SMTP_FROM"),
			Username:    r.string("SMTP_USERNAME"),
			Password:    r.string("SMTP_PASSWORD"),
			StartTLS:    r.bool("SMTP_STARTTLS"),
			StaffDomain: r.nonEmpty("STAFF_EMAIL_DOMAIN"),
		},
		Notify: Notify{
			RoutesFile:            r.nonEmpty("NOTIFY_ROUTES_FILE"),
			MarketplaceWebhookURL: r.optionalURL("MARKETPLACE_WEBHOOK_URL"),
			TeamWebhookURLs:       r.urlMap("TEAM_WEBHOOK_URLS"),
			WebhookSecret:         r.webhookSecrets("WEBHOOK_SIGNING_SECRET"),
			WebhookKeyID:          r.token("WEBHOOK_KEY_ID"),
			SurveyURL:             r.requiredURL("SURVEY_URL"),
			DeliveryPageURL:       r.requiredURL("DELIVERY_PAGE_URL"),
			KBPageURL:             r.requiredURL("KB_PAGE_URL"),
			CodeSecret:            r.requiredSecret("VERIFICATION_CODE_SECRET"),
			LinkKeys:              r.linkKeys("LINK_SIGNING_KEYS"),
		},
		Evidence: Evidence{
			MaxBytes:      r.sizeUpTo("EVIDENCE_MAX_BYTES", 5<<30),
			ContentTypes:  r.mediaTypes("EVIDENCE_CONTENT_TYPES"),
			RetentionDays: r.positiveInt("EVIDENCE_RETENTION_DAYS"),
			LinkTTL:       r.durationBetween("EVIDENCE_LINK_TTL", 10*time.Second, time.Hour),
		},
		Accounts: Accounts{
			Directory:     r.oneOf("ACCOUNT_DIRECTORY", "postgres", "http"),
			ServiceURL:    r.optionalURL("ACCOUNT_SERVICE_URL"),
			ServiceKeyID:  r.token("ACCOUNT_SERVICE_KEY_ID"),
			ServiceSecret: r.hmacSecret("ACCOUNT_SERVICE_SECRET"),
		},
		Inbound: Inbound{
			Domain:          r.nonEmpty("INBOUND_MAIL_DOMAIN"),
			SMTPAddr:        r.optionalHostPort("INBOUND_SMTP_ADDR"),
			MaxBytes:        r.sizeUpTo("INBOUND_MAX_BYTES", 1<<30),
			ReplyAddressTTL: r.positiveDuration("REPLY_ADDRESS_TTL"),
			SenderPerHour:   r.positiveInt("INBOUND_SENDER_PER_HOUR"),
			WebhookSecret:   r.hmacSecrets("INBOUND_WEBHOOK_SECRET", false),
		},
		Commerce: Commerce{
			PaymentsURL:           r.baseURL("PAYMENTS_URL"),
			PaymentsKeyID:         r.token("PAYMENTS_KEY_ID"),
			PaymentsSecret:        r.requiredSecret("PAYMENTS_SECRET"),
			PaymentsWebhookSecret: r.hmacSecrets("PAYMENTS_WEBHOOK_SECRET", true),
			CarrierURL:            r.baseURL("CARRIER_URL"),
			CarrierKeyID:          r.token("CARRIER_KEY_ID"),
			CarrierSecret:         r.requiredSecret("CARRIER_SECRET"),
			CarrierWebhookSecret:  r.webhookSecrets("CARRIER_WEBHOOK_SECRET"),
			PaymentsAddr:          r.hostPort("PAYMENTS_ADDR"),
			CarrierAddr:           r.hostPort("CARRIER_ADDR"),
		},
		Verification: Verification{
			URL:           r.baseURL("KYC_URL"),
			KeyID:         r.token("KYC_KEY_ID"),
			Secret:        r.requiredSecret("KYC_SECRET"),
			WebhookSecret: r.webhookSecrets("KYC_WEBHOOK_SECRET"),
			Addr:          r.hostPort("KYC_ADDR"),
		},
		SellerEventsSecret: r.webhookSecrets("SELLER_EVENTS_WEBHOOK_SECRET"),
		SLAPolicyFile:      r.nonEmpty("SLA_POLICY_FILE"),
		HTTPAddr:           r.hostPort("HTTP_ADDR"),
		APIRateBurst:       r.positiveInt("API_RATE_BURST"),
		APIRatePerSecond:   r.nonNegativeFloat("API_RATE_PER_SECOND"),
		WorkerMetricsAddr:  r.hostPort("WORKER_METRICS_ADDR"),
		WebhookInboxAddr:   r.hostPort("WEBHOOK_INBOX_ADDR"),
		LocalTemporal: LocalTemporal{
			Mode:     r.oneOf("TEMPORAL_MODE", TemporalDev, TemporalCluster),
			Services: r.oneOf("TEMPORAL_SERVICES", ServicesSingle, ServicesSplit),
			Shards:   r.positiveInt("TEMPORAL_SHARDS"),
		},
		LogLevel:          r.logLevel("LOG_LEVEL"),
		ShutdownTimeout:   r.positiveDuration("SHUTDOWN_TIMEOUT"),
		WorkflowPollers:   r.positiveInt("WORKER_WORKFLOW_POLLERS"),
		ActivityPollers:   r.positiveInt("WORKER_ACTIVITY_POLLERS"),
		WorkflowTaskSlots: r.positiveInt("WORKER_WORKFLOW_TASK_SLOTS"),
		StickyCacheSize:   r.positiveInt("WORKER_STICKY_CACHE_SIZE"),
		WorkerDeployment:  r.string("WORKER_DEPLOYMENT_NAME"),
		WorkerBuildID:     r.string("WORKER_BUILD_ID"),
	}
	r.pair("TEMPORAL_TLS_CLIENT_CERT_PATH", cfg.Temporal.TLSCertPath, "TEMPORAL_TLS_CLIENT_KEY_PATH", cfg.Temporal.TLSKeyPath)
	r.pair("S3_ACCESS_KEY_ID", cfg.S3.AccessKeyID, "S3_SECRET_ACCESS_KEY", cfg.S3.SecretAccessKey)
	r.pair("SMTP_USERNAME", cfg.SMTP.Username, "SMTP_PASSWORD", cfg.SMTP.Password)
	r.pair("WORKER_DEPLOYMENT_NAME", cfg.WorkerDeployment, "WORKER_BUILD_ID", cfg.WorkerBuildID)
	if strings.Contains(cfg.WorkerDeployment, ".") {
		// Temporal joins the deployment and the build with a dot.
		r.fail("WORKER_DEPLOYMENT_NAME", "must not contain '.', got %q", cfg.WorkerDeployment)
	}
	if cfg.Accounts.Directory == "http" {
		r.requiredWhen("ACCOUNT_SERVICE_URL", cfg.Accounts.ServiceURL, "ACCOUNT_DIRECTORY is http")
		r.requiredWhen("ACCOUNT_SERVICE_SECRET", cfg.Accounts.ServiceSecret, "ACCOUNT_DIRECTORY is http")
	}
	if len(r.errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %w", errors.Join(r.errs...))
	}
	return cfg, nil
}

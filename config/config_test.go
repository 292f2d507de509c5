package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func TestDefaultsServeTheLocalStack(t *testing.T) {
	cfg, err := LoadFrom(lookupFrom(nil))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:7233", cfg.Temporal.Address)
	assert.Equal(t, "default", cfg.Temporal.Namespace)
	assert.Equal(t, "handoff", cfg.Temporal.TaskQueue)
	assert.Equal(t, "postgres://postgres@127.0.0.1:5432/handoff?sslmode=disable", cfg.DatabaseURL)
	assert.Equal(t, "http://127.0.0.1:9000", cfg.S3.Endpoint)
	assert.Equal(t, "handoff-evidence", cfg.S3.Bucket)
	assert.True(t, cfg.S3.UsePathStyle)
	assert.Equal(t, "127.0.0.1:1025", cfg.SMTP.Addr)
	assert.Equal(t, "127.0.0.1:8080", cfg.HTTPAddr)
	assert.Equal(t, "127.0.0.1:9090", cfg.WorkerMetricsAddr)
	assert.Equal(t, slog.LevelInfo, cfg.LogLevel)
	assert.Equal(t, 30*time.Second, cfg.ShutdownTimeout)
	assert.Equal(t, "http://127.0.0.1:8080/survey", cfg.Notify.SurveyURL)
	assert.Equal(t, "http://127.0.0.1:8080/deliveries", cfg.Notify.DeliveryPageURL)
	assert.Equal(t, Commerce{
		PaymentsURL:           "http://127.0.0.1:8027",
		PaymentsKeyID:         "handoff",
		PaymentsSecret:        "handoff-local-payments-secret-0123456789",
		PaymentsWebhookSecret: "handoff-local-dev-payments-webhook-secret",
		CarrierURL:            "http://127.0.0.1:8028",
		CarrierKeyID:          "handoff",
		CarrierSecret:         "handoff-local-dev-carrier-secret-0001",
		CarrierWebhookSecret:  "whsec_aGFuZG9mZi1sb2NhbC1kZXYtY2Fycmllci13ZWJob29r",
		PaymentsAddr:          "127.0.0.1:8027",
		CarrierAddr:           "127.0.0.1:8028",
	}, cfg.Commerce)
	assert.Equal(t, Verification{
		URL:           "http://127.0.0.1:8029",
		KeyID:         "handoff",
		Secret:        "handoff-local-dev-verification-secret-01",
		WebhookSecret: "whsec_aGFuZG9mZi1sb2NhbC1kZXYtdmVyaWZpY2F0aW9uLXdlYmhvb2s=",
		Addr:          "127.0.0.1:8029",
	}, cfg.Verification)
}

// The stand-ins read their own variables with their own defaults
// (deploy/paymentsim, deploy/carriersim and deploy/verificationsim, package
// main, which no test can import); `make run` works with nothing set only
// while both agree.
func TestCommerceDefaultsAreTheStandInsDefaults(t *testing.T) {
	for file, want := range map[string]map[string]string{
		"../deploy/paymentsim/cmd/handoff-payments/main.go": {
			"DefaultAddr": "PAYMENTS_ADDR", "DefaultSecret": "PAYMENTS_SECRET", "DefaultKeyID": "PAYMENTS_KEY_ID",
		},
		"../deploy/carriersim/cmd/handoff-carrier/main.go": {
			"DefaultAddr": "CARRIER_ADDR", "DefaultKeyID": "CARRIER_KEY_ID", "DefaultSecret": "CARRIER_SECRET",
			"DefaultWebhookSecret": "CARRIER_WEBHOOK_SECRET",
		},
		"../deploy/verificationsim/cmd/handoff-verification/main.go": {
			"DefaultAddr": "KYC_ADDR", "DefaultKeyID": "KYC_KEY_ID", "DefaultSecret": "KYC_SECRET",
			"DefaultWebhookSecret": "KYC_WEBHOOK_SECRET",
		},
	} {
		consts := stringConstants(t, file)
		for constant, variable := range want {
			got, ok := consts[constant]
			if !assert.True(t, ok, "%s declares no constant %s", file, constant) {
				continue
			}
			assert.Equal(t, defaultOf(t, variable), got, "%s of %s and the default of %s", constant, file, variable)
		}
	}
	// The stand-ins' own URLs are where they listen by default.
	assert.Equal(t, "http://"+defaultOf(t, "PAYMENTS_ADDR"), defaultOf(t, "PAYMENTS_URL"))
	assert.Equal(t, "http://"+defaultOf(t, "CARRIER_ADDR"), defaultOf(t, "CARRIER_URL"))
	assert.Equal(t, "http://"+defaultOf(t, "KYC_ADDR"), defaultOf(t, "KYC_URL"))
}

// stringConstants answers the string constants a Go file declares.
func stringConstants(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	require.NoError(t, err)
	out := map[string]string{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					out[name.Name] = v
				}
			}
		}
	}
	return out
}

func defaultOf(t *testing.T, name string) string {
	t.Helper()
	for _, v := range Vars {
		if v.Name == name {
			return v.Default
		}
	}
	t.Fatalf("%s is not in Vars", name)
	return ""
}

func TestOverridesAreRead(t *testing.T) {
	cfg, err := LoadFrom(lookupFrom(map[string]string{
		"TEMPORAL_ADDRESS":  "handoff.a1b2c.tmprl.cloud:7233",
		"TEMPORAL_API_KEY":  "secret",
		"S3_ENDPOINT":       "",
		"LOG_LEVEL":         "debug",
		"SHUTDOWN_TIMEOUT":  "2m",
		"SMTP_STARTTLS":     "true",
		"S3_USE_PATH_STYLE": "false",
	}))
	require.NoError(t, err)
	assert.Equal(t, "handoff.a1b2c.tmprl.cloud:7233", cfg.Temporal.Address)
	assert.Equal(t, "", cfg.S3.Endpoint, "an empty S3_ENDPOINT means AWS S3")
	assert.Equal(t, slog.LevelDebug, cfg.LogLevel)
	assert.Equal(t, 2*time.Minute, cfg.ShutdownTimeout)
	assert.True(t, cfg.SMTP.StartTLS)
	assert.False(t, cfg.S3.UsePathStyle)
}

func TestMalformedValuesFailNamingTheVariable(t *testing.T) {
	cases := map[string]string{
		"TEMPORAL_ADDRESS":              "no-port",
		"TEMPORAL_NAMESPACE":            "",
		"HANDOFF_TASK_QUEUE":            "  ",
		"TEMPORAL_TLS":                  "maybe",
		"TEMPORAL_TLS_CLIENT_CERT_PATH": "/nonexistent/cert.pem",
		"DATABASE_URL":                  "postgres://user:hunter2@[::1/db",
		"S3_ENDPOINT":                   "ftp://minio:9000",
		"S3_BUCKET":                     "",
		"S3_USE_PATH_STYLE":             "yes please",
		"SMTP_ADDR":                     "mail:smtp",
		"SMTP_FROM":                     "",
		"SMTP_STARTTLS":                 "2",
		"SLA_POLICY_FILE":               "",
		"HTTP_ADDR":                     "8080",
		"WORKER_METRICS_ADDR":           "127.0.0.1:99999",
		"LOG_LEVEL":                     "verbose",
		"SHUTDOWN_TIMEOUT":              "-5s",
		"DELIVERY_PAGE_URL":             "deliveries.example/page",
		"PAYMENTS_URL":                  "https://pay.example/api?v=1",
		"PAYMENTS_KEY_ID":               "key id",
		"PAYMENTS_SECRET":               "short",
		"PAYMENTS_WEBHOOK_SECRET":       "",
		"CARRIER_URL":                   "",
		"CARRIER_KEY_ID":                "",
		"CARRIER_SECRET":                "0123456789",
		"CARRIER_WEBHOOK_SECRET":        "aGFuZG9mZi1sb2NhbC1kZXYtY2Fycmllci13ZWJob29r",
		"PAYMENTS_ADDR":                 "8027",
		"CARRIER_ADDR":                  "127.0.0.1:port",
		"KYC_URL":                       "kyc.example",
		"KYC_KEY_ID":                    "key/1",
		"KYC_SECRET":                    "too-short",
		"KYC_WEBHOOK_SECRET":            "whsec_c2hvcnQ=",
		"KYC_ADDR":                      "",
		"TEMPORAL_MODE":                 "prod",
		"TEMPORAL_SERVICES":             "four",
		"TEMPORAL_SHARDS":               "0",
		"WORKER_STICKY_CACHE_SIZE":      "0",
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := LoadFrom(lookupFrom(map[string]string{name: value}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), name+":")
		})
	}
}

func TestCommerceSecretsAreNeverQuoted(t *testing.T) {
	_, err := LoadFrom(lookupFrom(map[string]string{
		"PAYMENTS_SECRET":         "hunter2-payments",
		"PAYMENTS_WEBHOOK_SECRET": "hunter2-webhook",
		"CARRIER_SECRET":          "hunter2-carrier",
		"CARRIER_WEBHOOK_SECRET":  "whsec_aHVudGVyMg==",
		"KYC_SECRET":              "hunter2-verification",
		"KYC_WEBHOOK_SECRET":      "whsec_aHVudGVyMg==",
	}))
	require.Error(t, err)
	for _, name := range []string{"PAYMENTS_SECRET", "PAYMENTS_WEBHOOK_SECRET", "CARRIER_SECRET", "CARRIER_WEBHOOK_SECRET",
		"KYC_SECRET", "KYC_WEBHOOK_SECRET"} {
		assert.Contains(t, err.Error(), name+":")
	}
	assert.NotContains(t, err.Error(), "hunter2")
	assert.NotContains(t, err.Error(), "aHVudGVyMg")
}

func TestDatabaseURLErrorHidesThePassword(t *testing.T) {
	_, err := LoadFrom(lookupFrom(map[string]string{"DATABASE_URL": "postgres://user:hunter2@[::1/db"}))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestEveryBadVariableIsReportedAtOnce(t *testing.T) {
	_, err := LoadFrom(lookupFrom(map[string]string{"LOG_LEVEL": "loud", "HTTP_ADDR": "x", "TEMPORAL_TLS": "?"}))
	require.Error(t, err)
	for _, name := range []string{"LOG_LEVEL", "HTTP_ADDR", "TEMPORAL_TLS"} {
		assert.Contains(t, err.Error(), name)
	}
}

func TestPairedVariablesMustBeSetTogether(t *testing.T) {
	cert := t.TempDir() + "/cert.pem"
	require.NoError(t, os.WriteFile(cert, []byte("x"), 0o600))
	for _, env := range []map[string]string{
		{"TEMPORAL_TLS_CLIENT_CERT_PATH": cert},
		{"S3_ACCESS_KEY_ID": ""},
		{"SMTP_USERNAME": "mailer"},
		{"WORKER_DEPLOYMENT_NAME": "handoff"},
		{"WORKER_BUILD_ID": "abc123"},
	} {
		_, err := LoadFrom(lookupFrom(env))
		require.Error(t, err, "%v", env)
		assert.Contains(t, err.Error(), "must be set together")
	}
}

// The README's configuration table is the only documentation of the
// variables; this keeps it listing every one with its default.
func TestWorkerDeploymentNameHasNoDot(t *testing.T) {
	_, err := LoadFrom(lookupFrom(map[string]string{"WORKER_DEPLOYMENT_NAME": "handoff.eu", "WORKER_BUILD_ID": "abc"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WORKER_DEPLOYMENT_NAME: must not contain '.'")
	cfg, err := LoadFrom(lookupFrom(map[string]string{"WORKER_DEPLOYMENT_NAME": "handoff", "WORKER_BUILD_ID": "abc"}))
	require.NoError(t, err)
	assert.Equal(t, "handoff", cfg.WorkerDeployment)
	assert.Equal(t, "abc", cfg.WorkerBuildID)
}

func TestReadmeDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	for _, v := range Vars {
		row := "| `" + v.Name + "` | "
		if v.Default == "" {
			row += "(empty)"
		} else {
			row += "`" + v.Default + "`"
		}
		assert.True(t, strings.Contains(string(readme), row), "README.md lacks the row starting %q", row)
	}
}

func TestLinkKeysAreIDSecretPairsOfLongSecrets(t *testing.T) {
	env := func(v string) func(string) (string, bool) {
		return func(name string) (string, bool) {
			if name == "LINK_SIGNING_KEYS" {
				return v, true
			}
			return "", false
		}
	}
	cfg, err := LoadFrom(env("k2=" + strings.Repeat("b", 32) + ", k1=" + strings.Repeat("a", 40)))
	require.NoError(t, err)
	assert.Equal(t, []LinkKey{{ID: "k2", Secret: strings.Repeat("b", 32)}, {ID: "k1", Secret: strings.Repeat("a", 40)}}, cfg.Notify.LinkKeys)
	for _, bad := range []string{"", "k1", "k1=short", "k.1=" + strings.Repeat("a", 32), "k1=" + strings.Repeat("a", 32) + ",k1=" + strings.Repeat("b", 32)} {
		_, err := LoadFrom(env(bad))
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "LINK_SIGNING_KEYS")
		assert.NotContains(t, err.Error(), strings.Repeat("a", 32), "secrets are never quoted")
	}
}

// Two Standard Webhooks secrets of a rotation and two HMAC secrets, all
// long enough.
const (
	rotatedWebhookSecret = "whsec_aGFuZG9mZi10ZXN0LXJvdGF0ZWQtd2ViaG9vay1zZWNyZXQ="
	currentWebhookSecret = "whsec_aGFuZG9mZi10ZXN0LWN1cnJlbnQtd2ViaG9vay1zZWNyZXQ="
	rotatedHMACSecret    = "handoff-test-rotated-hmac-webhook-secret"
	currentHMACSecret    = "handoff-test-current-hmac-webhook-secret"
)

func TestWebhookSecretsTakeACommaSeparatedListFirstCurrent(t *testing.T) {
	cfg, err := LoadFrom(lookupFrom(map[string]string{
		"WEBHOOK_SIGNING_SECRET":       currentWebhookSecret + " , " + rotatedWebhookSecret,
		"CARRIER_WEBHOOK_SECRET":       currentWebhookSecret + "," + rotatedWebhookSecret,
		"KYC_WEBHOOK_SECRET":           currentWebhookSecret + "," + rotatedWebhookSecret,
		"SELLER_EVENTS_WEBHOOK_SECRET": currentWebhookSecret + "," + rotatedWebhookSecret,
		"PAYMENTS_WEBHOOK_SECRET":      currentHMACSecret + ", " + rotatedHMACSecret,
		"INBOUND_WEBHOOK_SECRET":       currentHMACSecret + "," + rotatedHMACSecret,
	}))
	require.NoError(t, err)
	list := currentWebhookSecret + "," + rotatedWebhookSecret
	assert.Equal(t, list, cfg.Notify.WebhookSecret, "entries are trimmed, in order")
	assert.Equal(t, list, cfg.Commerce.CarrierWebhookSecret)
	assert.Equal(t, list, cfg.Verification.WebhookSecret)
	assert.Equal(t, list, cfg.SellerEventsSecret)
	assert.Equal(t, currentHMACSecret+","+rotatedHMACSecret, cfg.Commerce.PaymentsWebhookSecret)
	assert.Equal(t, currentHMACSecret+","+rotatedHMACSecret, cfg.Inbound.WebhookSecret)

	// A single value reads exactly as before lists.
	cfg, err = LoadFrom(lookupFrom(nil))
	require.NoError(t, err)
	assert.Equal(t, "whsec_aGFuZG9mZi1sb2NhbC1kZXYtd2ViaG9vay1zZWNyZXQ=", cfg.Notify.WebhookSecret)
	assert.Equal(t, "handoff-local-dev-payments-webhook-secret", cfg.Commerce.PaymentsWebhookSecret)
}

func TestAMalformedWebhookSecretEntryIsRefusedByVariableAndPosition(t *testing.T) {
	cases := []struct{ name, value, want string }{
		{"WEBHOOK_SIGNING_SECRET", currentWebhookSecret + ",hunter2-not-whsec", `WEBHOOK_SIGNING_SECRET: entry 2 of 2: want "whsec_" followed by base64`},
		{"CARRIER_WEBHOOK_SECRET", "whsec_aHVudGVyMg==," + currentWebhookSecret, "CARRIER_WEBHOOK_SECRET: entry 1 of 2: want a key of 24 to 64 bytes, got 7"},
		{"KYC_WEBHOOK_SECRET", currentWebhookSecret + ",," + rotatedWebhookSecret, "KYC_WEBHOOK_SECRET: entry 2 of 3: is empty"},
		{"SELLER_EVENTS_WEBHOOK_SECRET", currentWebhookSecret + ",whsec_hunter2!", `SELLER_EVENTS_WEBHOOK_SECRET: entry 2 of 2: the part after "whsec_" is not valid base64`},
		{"PAYMENTS_WEBHOOK_SECRET", currentHMACSecret + ",hunter2", "PAYMENTS_WEBHOOK_SECRET: entry 2 of 2: want a secret of at least 32 bytes, got 7"},
		{"INBOUND_WEBHOOK_SECRET", currentHMACSecret + ",", "INBOUND_WEBHOOK_SECRET: entry 2 of 2: want a secret of at least 32 bytes, got 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadFrom(lookupFrom(map[string]string{c.name: c.value}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), "hunter2")
			assert.NotContains(t, err.Error(), "aHVudGVyMg")
		})
	}
}

func TestEvidenceLinkTTLIsFromTenSecondsToAnHour(t *testing.T) {
	cfg, err := LoadFrom(lookupFrom(nil))
	require.NoError(t, err)
	assert.Equal(t, 5*time.Minute, cfg.Evidence.LinkTTL, "the default")
	for value, want := range map[string]time.Duration{"10s": 10 * time.Second, "1h": time.Hour, "90s": 90 * time.Second} {
		cfg, err := LoadFrom(lookupFrom(map[string]string{"EVIDENCE_LINK_TTL": value}))
		require.NoError(t, err, value)
		assert.Equal(t, want, cfg.Evidence.LinkTTL, value)
	}
	for _, value := range []string{"9s", "61m", "168h", "0", "-5m", "five minutes", ""} {
		_, err := LoadFrom(lookupFrom(map[string]string{"EVIDENCE_LINK_TTL": value}))
		require.Error(t, err, "%q", value)
		assert.Contains(t, err.Error(), "EVIDENCE_LINK_TTL: want a duration from 10s to 1h, ", "%q", value)
	}
}

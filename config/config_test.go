package config

import (
	"log/slog"
	"os"
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
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := LoadFrom(lookupFrom(map[string]string{name: value}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), name+":")
		})
	}
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
	} {
		_, err := LoadFrom(lookupFrom(env))
		require.Error(t, err, "%v", env)
		assert.Contains(t, err.Error(), "must be set together")
	}
}

// The README's configuration table is the only documentation of the
// variables; this keeps it listing every one with its default.
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

package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/config"
	"handoff/evidence"
	"handoff/store"
	"handoff/workflows/deliveries"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// linkServer is deliveryServer with EVIDENCE_LINK_TTL set to ttl, read
// through config as an operator sets it.
func linkServer(t *testing.T, ttl string, tc *queryTemporal) http.Handler {
	t.Helper()
	cfg, err := config.LoadFrom(func(name string) (string, bool) { return ttl, name == "EVIDENCE_LINK_TTL" })
	require.NoError(t, err)
	book, err := sla.Load(filepath.Join("..", "deploy", "sla", "default.yaml"))
	require.NoError(t, err)
	s := &server{registry: prometheus.NewRegistry(), lookupKey: fakeKeys, logger: quiet, book: book, temporal: tc,
		evidence: evidence.NewStore(s3.New(s3.Options{Region: "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider("test-key", "test-secret", "")}), "unused", cfg.Evidence)}
	return s.routes()
}

func TestADownloadLinkWorksForEvidenceLinkTTL(t *testing.T) {
	e := vocab.Evidence{ID: "E-1", Key: evidence.DeliveryKey("D-1", "E-1"), Kind: "delivery_screenshot",
		SHA256: strings.Repeat("a", 64), Size: 2048, ContentType: "image/png", Retained: true}
	for ttl, want := range map[string]string{"30s": "30", "5m": "300", "1h": "3600"} {
		t.Run(ttl, func(t *testing.T) {
			h := linkServer(t, ttl, &queryTemporal{view: deliveries.DeliveryView{ID: "D-1", Evidence: []vocab.Evidence{e}}})
			get := func(path string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header.Set("Authorization", "Bearer key-"+string(store.RoleAgent))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			expiresOf := func(raw string) string {
				u, err := url.Parse(raw)
				require.NoError(t, err)
				return u.Query().Get("X-Amz-Expires")
			}

			rec := get("/v1/deliveries/D-1/evidence/E-1")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			var got deliveryDownloadBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
			assert.Equal(t, want, expiresOf(got.URL))
			d, err := time.ParseDuration(ttl)
			require.NoError(t, err)
			assert.WithinDuration(t, time.Now().Add(d), got.ExpiresAt, 5*time.Second, "expires_at says the same")

			rec = get("/v1/deliveries/D-1/evidence/E-1?redirect=true")
			require.Equal(t, http.StatusFound, rec.Code, rec.Body.String())
			assert.Equal(t, want, expiresOf(rec.Header().Get("Location")))
		})
	}
}

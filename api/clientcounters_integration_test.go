//go:build integration

package main

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
)

// seriesValue answers the value of series (name{labels} as exported) in the
// Prometheus text exposition text, -1 when it is missing.
func seriesValue(text, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

func TestMetricsCountTheTemporalCallsSQLStatementsAndS3RequestsTheAPISends(t *testing.T) {
	base := startAPI(t, stacktest.Config(t))
	key := newAPIKey(t, stacktest.Store(t), store.RoleAgent)

	resp, body := get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	_, body = get(t, base+"/metrics")
	text := string(body)
	assert.Equal(t, 1.0, seriesValue(text, `handoff_s3_requests_total{operation="HeadBucket"}`), "one readiness check")
	assert.Equal(t, 1.0, seriesValue(text, `handoff_temporal_calls_total{operation="Check"}`), "one readiness check")
	assert.Equal(t, 0.0, seriesValue(text, "handoff_sql_statements_total"), "a ping is no statement")

	r, err := sendRequest(stacktest.Context(t), base, key.Secret, http.MethodGet, "/v1/cases?limit=1", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status, r.String())
	_, body = get(t, base+"/metrics")
	assert.Greater(t, seriesValue(string(body), "handoff_sql_statements_total"), 0.0, "the key lookup and the list")
}

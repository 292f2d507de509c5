//go:build integration

package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/stacktest"
	"handoff/store"
)

func TestOversizedHeadersAndBodiesAreRefusedBeforeAnyHandler(t *testing.T) {
	s := newCaseStack(t)
	req, err := http.NewRequestWithContext(stacktest.Context(t), http.MethodGet, s.base+"/v1/cases", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+s.keys[store.RoleAdmin].Secret)
	req.Header.Set("X-Padding", strings.Repeat("x", 2*maxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)

	// A JSON body over huma's 1 MiB is a 413 problem, and opens nothing.
	body := `{"category":"login_failure","subject":"` + strings.Repeat("x", 2<<20) + `"}`
	problemOf(t, s.as(t, store.RoleAdmin, http.MethodPost, "/v1/cases", body), http.StatusRequestEntityTooLarge)
}

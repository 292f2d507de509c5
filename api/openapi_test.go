package main

import (
	"flag"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/links"
)

var update = flag.Bool("update", false, "rewrite api/openapi.yaml from the registered operations")

// bareServer builds the router without dependencies: enough to register
// operations and build the OpenAPI document.
func bareServer() (*server, http.Handler) {
	signer, err := links.NewSigner([]links.Key{{ID: "test", Secret: []byte("a-test-link-signing-secret-of-32-bytes")}})
	if err != nil {
		panic(err)
	}
	s := &server{registry: prometheus.NewRegistry(), logger: slog.New(slog.DiscardHandler), links: signer}
	return s, s.routes()
}

// TestOpenAPIDocumentIsCurrent keeps api/openapi.yaml, the document in the
// repo, equal to what the API serves; `go test ./api -run OpenAPI -update`
// rewrites it after a change.
func TestOpenAPIDocumentIsCurrent(t *testing.T) {
	s, _ := bareServer()
	got, err := s.openapi.YAML()
	require.NoError(t, err)
	if *update {
		require.NoError(t, os.WriteFile("openapi.yaml", got, 0o644))
	}
	want, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "api/openapi.yaml is stale: run go test ./api -run OpenAPI -update")
	assert.Contains(t, string(got), "openapi: 3.1.0")
}

// TestEveryRouteIsDocumented checks the router and the document list the
// same operations, both ways: the keyed /v1 API and the customer pages
// (only the probes, the metrics and the document itself are left out).
func TestEveryRouteIsDocumented(t *testing.T) {
	s, h := bareServer()
	var routed []string
	require.NoError(t, chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		switch route {
		case "/healthz", "/readyz", "/metrics", "/openapi.yaml":
		default:
			routed = append(routed, method+" "+strings.TrimSuffix(route, "/"))
		}
		return nil
	}))
	var documented []string
	for path, item := range s.openapi.Paths {
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op != nil {
				documented = append(documented, method+" "+path)
			}
		}
	}
	sort.Strings(routed)
	sort.Strings(documented)
	assert.Equal(t, documented, routed)
	assert.Len(t, routed, 89)
}

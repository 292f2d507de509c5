//go:build integration

package workflows_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/operatorservice/v1"

	"handoff/stacktest"
	"handoff/workflows"
)

func TestSearchAttributesAreRegisteredWithTheirTypes(t *testing.T) {
	c := stacktest.Temporal(t)
	ctx := stacktest.Context(t)
	ns := stacktest.Config(t).Temporal.Namespace
	// Registering again must be harmless: deployments call it at every start.
	require.NoError(t, workflows.RegisterSearchAttributes(ctx, c, ns))
	require.NoError(t, workflows.RegisterSearchAttributes(ctx, c, ns))

	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	require.NoError(t, err)
	for _, sa := range workflows.SearchAttributes {
		assert.Equal(t, sa.Type, resp.GetCustomAttributes()[sa.Name], sa.Name)
	}
}

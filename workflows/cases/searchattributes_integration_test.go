//go:build integration

package cases_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/operatorservice/v1"

	"handoff/stacktest"
	"handoff/workflows/cases"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

func TestSearchAttributesAreRegisteredWithTheirTypes(t *testing.T) {
	c := stacktest.Temporal(t)
	ctx := stacktest.Context(t)
	ns := stacktest.Config(t).Temporal.Namespace
	// Registering again must be harmless: deployments call it at every start.
	require.NoError(t, vocab.RegisterSearchAttributes(ctx, c, ns))
	require.NoError(t, vocab.RegisterSearchAttributes(ctx, c, ns))

	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	require.NoError(t, err)
	for _, sa := range vocab.SearchAttributes {
		assert.Equal(t, sa.Type, resp.GetCustomAttributes()[sa.Name], sa.Name)
	}
}

func TestACaseOfTheCurrentRevisionStartsWithEveryAttributeAndNoVersionMarker(t *testing.T) {
	c, queue := startWorker(t)
	ctx := stacktest.Context(t)
	in := newCase(t)
	in.OrderID = "ord-" + in.ID
	for i := range in.Policies {
		in.Policies[i].Targets = sla.Targets{FirstResponse: time.Hour, NextResponse: time.Hour, Resolution: 8 * time.Hour}
	}
	in.Revision = cases.CaseRevision
	in.OpenedAt = time.Now().UTC()
	run, err := c.ExecuteWorkflow(ctx, cases.CaseStartOptions(in, queue), cases.SupportCase, in)
	require.NoError(t, err)
	update(t, c, in.ID, "assign-1", cases.UpdateAssign, cases.AssignInput{Actor: "agent:bo", Assignee: "bo"})

	var kinds []enumspb.EventType
	var upserts []*historypb.HistoryEvent
	iter := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(t, err)
		kinds = append(kinds, e.GetEventType())
		if e.GetEventType() == enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES {
			upserts = append(upserts, e)
		}
		if m := e.GetMarkerRecordedEventAttributes(); m != nil {
			assert.NotEqual(t, "Version", m.GetMarkerName(), "no GetVersion marker in a case of the current revision")
		}
	}
	require.Len(t, upserts, 1, "only the assignment upserts: %v", kinds)
	fields := upserts[0].GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()
	assert.ElementsMatch(t, []string{"CaseStatus", "CaseAssignee"}, slices.Collect(maps.Keys(fields)))

	// What the start set is what the workflow would have upserted.
	desc, err := c.DescribeWorkflow(ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	sa := desc.TypedSearchAttributes
	account, _ := sa.GetKeyword(vocab.AccountIDKey)
	order, _ := sa.GetKeyword(vocab.OrderIDKey)
	due, _ := sa.GetTime(vocab.SLADueAtKey)
	assert.Equal(t, in.AccountID, account)
	assert.Equal(t, in.OrderID, order)
	assert.Equal(t, in.OpenedAt.Add(time.Hour).Truncate(time.Second), due.UTC(), "the first response is due in an hour")
}

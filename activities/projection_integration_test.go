//go:build integration

package activities_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"handoff/activities"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/deliveries"
	"handoff/workflows/vocab"
)

func TestProjectCaseActivityWritesThroughToPostgres(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(activities.NewProjection(db))

	now := time.Now().UTC().Truncate(time.Millisecond)
	due := now.Add(time.Hour)
	id := fmt.Sprintf("C-projection-%d", time.Now().UnixNano())
	view := cases.CaseView{
		ID: id, Category: vocab.CategoryOrderIssue, Priority: vocab.P2, Subject: "Where is my order?",
		Customer: vocab.Customer{ID: "cus-" + id, Email: "c@example.com", Name: "C", Locale: "en"},
		OrderID:  "ord-" + id, Team: vocab.TeamTrustSafety, Status: cases.StatusNew,
		SLA:       cases.SLAView{FirstResponseDue: &due, Breaches: []cases.Breach{}},
		CreatedAt: now, UpdatedAt: now, LastSeq: 1,
	}
	events := []vocab.Event{{Seq: 1, Actor: "integration", Kind: cases.EventOpened, At: now}}
	in := cases.ProjectionInput{Case: view, Events: events}

	// Twice, as a retry would: the second run changes nothing.
	for range 2 {
		_, err := env.ExecuteActivity(cases.ActivityProjectCase, in)
		require.NoError(t, err)
	}

	got, err := db.GetCase(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, view, got)
	timeline, err := db.Timeline(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, events, timeline)
	page, err := db.ListCases(ctx, store.CaseFilter{OrderID: "ord-" + id})
	require.NoError(t, err)
	assert.Equal(t, []cases.CaseView{view}, page.Cases)
}

func TestProjectCaseActivityRefusesACaseWithoutIDWithoutRetry(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(activities.NewProjection(stacktest.Store(t)))

	_, err := env.ExecuteActivity(cases.ActivityProjectCase, cases.ProjectionInput{})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.True(t, appErr.NonRetryable())
	assert.Equal(t, activities.ErrTypeInvalidProjection, appErr.Type())
}

func TestProjectDeliveryActivityWritesThroughToPostgres(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(activities.NewProjection(db))

	now := time.Now().UTC().Truncate(time.Millisecond)
	ends := now.Add(30 * 24 * time.Hour)
	id := fmt.Sprintf("D-projection-%d", time.Now().UnixNano())
	view := deliveries.DeliveryView{
		ID: id, Status: deliveries.StatusDelivered,
		Handoff: deliveries.HandoffRecord{AccountID: "acc-" + id, OrderID: "ord-" + id, DeliveredAt: &now,
			RecoveryPath: deliveries.RecoveryPath{ResetBy: "buyer"}, AllowedUse: "personal", Missing: []string{}},
		Buyer:    vocab.Customer{ID: "buy-" + id, Email: "b@example.com", Name: "B", Locale: "en"},
		SellerID: "sel-" + id, Product: "game", Region: "eu", WarrantyEndsAt: &ends,
		Evidence: []vocab.Evidence{}, LinkedCases: []deliveries.LinkedCase{},
		CreatedAt: now, UpdatedAt: now, LastSeq: 2,
	}
	events := []vocab.Event{
		{Seq: 1, Actor: "integration:shop", Kind: deliveries.EventStarted, At: now},
		{Seq: 2, Actor: "integration:shop", Kind: deliveries.EventDelivered, At: now},
	}
	in := deliveries.ProjectionInput{Delivery: view, Events: events}

	// Twice, as a retry would: the second run changes nothing.
	for range 2 {
		_, err := env.ExecuteActivity(deliveries.ActivityProjectDelivery, in)
		require.NoError(t, err)
	}

	got, err := db.GetDelivery(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, view, got)
	timeline, err := db.DeliveryTimeline(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, events, timeline)
	views, _, err := db.ListDeliveries(ctx, store.DeliveryFilter{OrderID: "ord-" + id})
	require.NoError(t, err)
	assert.Equal(t, []deliveries.DeliveryView{view}, views)
}

func TestProjectDeliveryActivityRefusesADeliveryWithoutIDWithoutRetry(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(activities.NewProjection(stacktest.Store(t)))

	_, err := env.ExecuteActivity(deliveries.ActivityProjectDelivery, deliveries.ProjectionInput{})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.True(t, appErr.NonRetryable())
	assert.Equal(t, activities.ErrTypeInvalidProjection, appErr.Type())
}

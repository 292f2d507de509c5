//go:build integration

package cases_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"handoff/accounts"
	"handoff/stacktest"
	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// TestSecurityCaseRunsItsIncidentOnTheRealServer opens a security case on a
// real account, decides its incident as a false alarm and ends the case;
// HANDOFF_RECORD_HISTORY=<name> keeps both histories for the replay test.
func TestSecurityCaseRunsItsIncidentOnTheRealServer(t *testing.T) {
	c, queue := startWorker(t)
	ctx := stacktest.Context(t)
	in := newCase(t)
	in.Category, in.Team = vocab.CategorySecurityAlert, vocab.TeamSecurity
	_, err := accounts.NewPostgres(stacktest.Store(t).Pool()).Create(ctx, accounts.Account{
		ID: in.AccountID, Status: accounts.StatusActive, Email: in.Customer.Email, ActiveSessions: 1, CredentialVersion: 1})
	require.NoError(t, err)
	run, err := c.ExecuteWorkflow(ctx, cases.CaseStartOptions(in, queue), cases.SupportCase, in)
	require.NoError(t, err)

	incident := accountflows.IncidentWorkflowID(in.ID, 1)
	require.Eventually(t, func() bool {
		v := query(t, c, in.ID)
		return v.Incident != nil && count(v.Timeline, accountflows.EventAccountLocked) == 1
	}, 20*time.Second, 100*time.Millisecond, "the account was never locked")
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: incident, UpdateID: "decide-1", UpdateName: accountflows.UpdateSecurityDecision,
		Args:         []any{accountflows.DecisionInput{Actor: "security:sam", Decision: accountflows.DecisionFalseAlarm}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	var decided accountflows.IncidentView
	require.NoError(t, h.Get(ctx, &decided))
	assert.Equal(t, accountflows.DecisionFalseAlarm, decided.Decision)

	update(t, c, in.ID, "resolve-1", cases.UpdateResolve, cases.ResolveInput{Actor: "security:sam", Resolution: "False alarm"})
	update(t, c, in.ID, "csat-1", cases.UpdateCSAT, cases.CSATInput{Actor: "customer", Rating: 5})
	var final cases.CaseView
	require.NoError(t, run.Get(ctx, &final))
	assert.Equal(t, accountflows.DecisionFalseAlarm, final.Incident.Outcome)
	assert.Equal(t, 1, count(final.Timeline, accountflows.EventSecurityDecision))

	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		recordHistory(t, c, run, "supportcase-security-"+name+".json")
		recordHistory(t, c, c.GetWorkflow(ctx, incident, ""), "securityincident-"+name+".json")
	}
}

func count(events []cases.Event, kind string) int {
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

//go:build integration

package cases_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"handoff/accounts"
	"handoff/codes"
	"handoff/stacktest"
	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/sla"
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
		recordHistory(t, c, c.GetWorkflow(ctx, incident, ""), accountFlowHistories+"securityincident-"+name+".json")
	}
}

// accountFlowHistories is where the account flows keep their recorded
// histories, relative to this package's testdata.
const accountFlowHistories = "../../accountflows/testdata/"

func count(events []vocab.Event, kind string) int {
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// TestRecoveryProfileChangesAndSignalsRunOnTheRealServer runs every account
// flow a case has no security incident for: a recovery (one wrong code,
// then the right one), an email change through its cool-down, a merge
// approved by account management, and a burst of signals that opens one
// security case. HANDOFF_RECORD_HISTORY=<name> keeps each history for the
// replay tests.
func TestRecoveryProfileChangesAndSignalsRunOnTheRealServer(t *testing.T) {
	c, queue := startWorker(t)
	ctx := stacktest.Context(t)
	secret := []byte(stacktest.Config(t).Notify.CodeSecret)
	dir := accounts.NewPostgres(stacktest.Store(t).Pool())
	in := newCase(t)
	in.Lifecycle.ReopenWindow = time.Second
	in.Accounts = sla.AccountPolicy{CodeValidFor: time.Minute, CodeAttempts: 3, ContactCoolDown: 2 * time.Second}
	into := "into-" + in.AccountID
	for _, id := range []string{in.AccountID, into} {
		_, err := dir.Create(ctx, accounts.Account{ID: id, Status: accounts.StatusActive, Email: id + "@example.com",
			ActiveSessions: 2, CredentialVersion: 1, MFAEnabled: true})
		require.NoError(t, err)
	}
	run, err := c.ExecuteWorkflow(ctx, cases.CaseStartOptions(in, queue), cases.SupportCase, in)
	require.NoError(t, err)

	// A recovery: a wrong code counts, the right one resets the account.
	v := update(t, c, in.ID, "recover-1", cases.UpdateStartRecovery, cases.RecoveryRequest{Actor: "account_manager:al"})
	require.NotNil(t, v.Recovery)
	recovery := v.Recovery.WorkflowID
	awaitFlow(t, c, recovery, accountflows.QueryRecovery, accountflows.RecoveryAwaitingCode)
	wrong := verifyCode(t, c, recovery, "verify-1", codes.Digest(secret, accountflows.CodeID(recovery), "000000"))
	if codes.Code(secret, accountflows.CodeID(recovery)) != "000000" {
		assert.False(t, wrong.Verified)
	}
	right := verifyCode(t, c, recovery, "verify-2", codes.Digest(secret, accountflows.CodeID(recovery), codes.Code(secret, accountflows.CodeID(recovery))))
	assert.True(t, right.Verified)
	var recovered accountflows.RecoveryView
	require.NoError(t, c.GetWorkflow(ctx, recovery, "").Get(ctx, &recovered))
	assert.Equal(t, accountflows.RecoveryCompleted, recovered.Status)

	// An email change: the code to the new address, then the cool-down.
	v = update(t, c, in.ID, "profile-1", cases.UpdateRequestProfileChange, cases.ProfileChangeRequest{
		Actor: "account_manager:al", Kind: accountflows.ProfileChangeEmail, Value: "new-" + in.AccountID + "@example.com"})
	email := v.ProfileChange.WorkflowID
	awaitFlow(t, c, email, accountflows.QueryProfileChange, accountflows.ProfileAwaitingCode)
	verifyCode(t, c, email, "verify-1", codes.Digest(secret, accountflows.CodeID(email), codes.Code(secret, accountflows.CodeID(email))))
	var changed accountflows.ProfileChangeView
	require.NoError(t, c.GetWorkflow(ctx, email, "").Get(ctx, &changed))
	assert.Equal(t, accountflows.ProfileApplied, changed.Status)

	// The case hears the change has ended in a workflow task of its own.
	require.Eventually(t, func() bool {
		pc := query(t, c, in.ID).ProfileChange
		return pc != nil && !pc.Running
	}, 20*time.Second, 100*time.Millisecond, "the case never saw its email change end")

	// A merge, applied once account management approves it.
	v = update(t, c, in.ID, "profile-2", cases.UpdateRequestProfileChange, cases.ProfileChangeRequest{
		Actor: "account_manager:al", Kind: accountflows.ProfileChangeMerge, IntoID: into})
	merge := v.ProfileChange.WorkflowID
	awaitFlow(t, c, merge, accountflows.QueryProfileChange, accountflows.ProfileAwaitingApproval)
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: merge, UpdateID: "approve-1",
		UpdateName: accountflows.UpdateApproveMerge, Args: []any{accountflows.ApproveInput{Actor: "account_manager:al"}},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	var merged accountflows.ProfileChangeView
	require.NoError(t, h.Get(ctx, &merged))
	require.NoError(t, c.GetWorkflow(ctx, merge, "").Get(ctx, &merged))
	assert.Equal(t, accountflows.ProfileApplied, merged.Status)

	update(t, c, in.ID, "resolve-1", cases.UpdateResolve, cases.ResolveInput{Actor: "account_manager:al", Resolution: "Recovered"})
	update(t, c, in.ID, "csat-1", cases.UpdateCSAT, cases.CSATInput{Actor: "customer", Rating: 5})
	var final cases.CaseView
	require.NoError(t, run.Get(ctx, &final))
	assert.Equal(t, accountflows.RecoveryCompleted, final.Recovery.Outcome)
	assert.Equal(t, accountflows.ProfileApplied, final.ProfileChange.Outcome)

	// A burst of signals on the merged account: two open a case, the third joins it.
	watch := accountflows.SignalsWorkflowID(into)
	for i, kind := range []string{accountflows.SignalFailedLogin, accountflows.SignalFailedLogin, accountflows.SignalNewDevice} {
		_, err := c.SignalWithStartWorkflow(ctx, watch, accountflows.SignalAccountSignal,
			accountflows.AccountSignal{Kind: kind, Detail: "attempt " + string(rune('1'+i)), ReportedBy: "integration:shop"},
			client.StartWorkflowOptions{ID: watch, TaskQueue: queue, StaticSummary: "Signals of account " + into,
				WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING},
			accountflows.AccountSignals, accountflows.SignalsInput{AccountID: into, Threshold: 2, Window: 3 * time.Second})
		require.NoError(t, err)
	}
	signals := c.GetWorkflow(ctx, watch, "")
	var watched accountflows.SignalsView
	require.NoError(t, signals.Get(ctx, &watched))
	require.NotEmpty(t, watched.CaseID, "the burst opened no case")
	// The security case waits for a decision nobody here takes.
	t.Cleanup(func() {
		_ = c.TerminateWorkflow(ctx, cases.CaseWorkflowID(watched.CaseID), "", "test over")
		_ = c.TerminateWorkflow(ctx, accountflows.IncidentWorkflowID(watched.CaseID, 1), "", "test over")
	})

	if name := os.Getenv("HANDOFF_RECORD_HISTORY"); name != "" {
		recordHistory(t, c, run, "supportcase-recovery-profile-"+name+".json")
		recordHistory(t, c, c.GetWorkflow(ctx, recovery, ""), accountFlowHistories+"accountrecovery-"+name+".json")
		recordHistory(t, c, c.GetWorkflow(ctx, email, ""), accountFlowHistories+"profilechange-email-"+name+".json")
		recordHistory(t, c, c.GetWorkflow(ctx, merge, ""), accountFlowHistories+"profilechange-merge-"+name+".json")
		recordHistory(t, c, signals, accountFlowHistories+"accountsignals-"+name+".json")
	}
}

// awaitFlow waits until the account workflow id answers status to query.
func awaitFlow(t *testing.T, c client.Client, id, query, status string) {
	t.Helper()
	require.Eventually(t, func() bool {
		res, err := c.QueryWorkflow(stacktest.Context(t), id, "", query)
		if err != nil {
			return false
		}
		var v struct {
			Status string `json:"status"`
		}
		return res.Get(&v) == nil && v.Status == status
	}, 20*time.Second, 100*time.Millisecond, "%s never reached %s", id, status)
}

// verifyCode sends a code's digest to an account workflow.
func verifyCode(t *testing.T, c client.Client, id, updateID, digest string) accountflows.VerifyResult {
	t.Helper()
	h, err := c.UpdateWorkflow(stacktest.Context(t), client.UpdateWorkflowOptions{WorkflowID: id, UpdateID: updateID,
		UpdateName: accountflows.UpdateVerifyCode, Args: []any{accountflows.VerifyInput{Actor: "integration:shop", Digest: digest}},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	var r accountflows.VerifyResult
	require.NoError(t, h.Get(stacktest.Context(t), &r))
	return r
}

package cases

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"handoff/workflows/accountflows"
	"handoff/workflows/sla"
	"handoff/workflows/vocab"
)

// fakeDirectory is the account directory of the account flow tests.
type fakeDirectory struct {
	mu       sync.Mutex
	acct     accountflows.AccountState
	calls    []string
	resetKey map[string]bool
	opened   []vocab.OpenCaseRequest
}

func newFakeDirectory() *fakeDirectory {
	return &fakeDirectory{
		acct:     accountflows.AccountState{ID: "acc-1", Status: accountflows.AccountActive, Email: "ada@example.com", ActiveSessions: 3, CredentialVersion: 1, MFAEnabled: true},
		resetKey: map[string]bool{},
	}
}

func (d *fakeDirectory) record(call string) {
	d.calls = append(d.calls, call)
}

// register puts the fake account activities on env; the code sent is
// always "123456", whose digest is "digest:123456".
func (d *fakeDirectory) register(env *testsuite.TestWorkflowEnvironment) {
	reg := func(name string, fn any) {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	reg(accountflows.ActivityGetAccount, func(ctx context.Context, id string) (accountflows.AccountState, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.acct, nil
	})
	reg(accountflows.ActivityLockAccount, func(ctx context.Context, r accountflows.AccountRequest) (accountflows.LockResult, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.record("lock")
		n := d.acct.ActiveSessions
		d.acct.Status, d.acct.LockReason, d.acct.ActiveSessions = accountflows.AccountLocked, r.Reason, 0
		return accountflows.LockResult{Account: d.acct, SessionsRevoked: n}, nil
	})
	reg(accountflows.ActivityUnlockAccount, func(ctx context.Context, r accountflows.AccountRequest) (accountflows.AccountState, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.record("unlock")
		d.acct.Status, d.acct.LockReason = accountflows.AccountActive, ""
		return d.acct, nil
	})
	reg(accountflows.ActivityResetCredentials, func(ctx context.Context, r accountflows.AccountRequest) (accountflows.AccountState, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.record("reset")
		if !d.resetKey[r.Key] {
			d.resetKey[r.Key] = true
			d.acct.CredentialVersion++
			if r.ResetMFA {
				d.acct.MFAEnabled = false
			}
		}
		return d.acct, nil
	})
	reg(accountflows.ActivityRecordCheck, func(ctx context.Context, r accountflows.CheckRecord) (vocab.Evidence, error) {
		return vocab.Evidence{ID: "E-CHECK", Kind: "login_note", Key: "cases/" + r.CaseID + "/E-CHECK",
			SHA256: "0000000000000000000000000000000000000000000000000000000000000001", ContentType: "application/json"}, nil
	})
	reg(accountflows.ActivitySendCode, func(ctx context.Context, r accountflows.CodeRequest) (accountflows.CodeSent, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.record("code to " + r.To)
		return accountflows.CodeSent{Digest: "digest:123456"}, nil
	})
	reg(vocab.ActivityOpenCase, func(ctx context.Context, r vocab.OpenCaseRequest) (vocab.OpenCaseResult, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.opened = append(d.opened, r)
		return vocab.OpenCaseResult{CaseID: "C-SEC"}, nil
	})
}

func (d *fakeDirectory) state() (accountflows.AccountState, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.acct, slices.Clone(d.calls)
}

// securityCase is a security_alert case on acc-1 with short account windows.
func securityCase() CaseInput {
	in := testInput(vocab.P1)
	in.Category, in.Team = vocab.CategorySecurityAlert, vocab.TeamSecurity
	for i := range in.Policies {
		in.Policies[i].Category = string(vocab.CategorySecurityAlert)
	}
	in.Accounts = sla.AccountPolicy{SecurityReview: time.Hour, CodeValidFor: 15 * time.Minute, CodeAttempts: 3}
	return in
}

func newAccountTest(t *testing.T) (*caseTest, *fakeDirectory) {
	ct := newCaseTest(t)
	ct.env.RegisterWorkflow(accountflows.SecurityIncident)
	ct.env.RegisterWorkflow(accountflows.AccountRecovery)
	d := newFakeDirectory()
	d.register(ct.env)
	// Children signal their case by its workflow id.
	ct.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: CaseWorkflowID("C-1")})
	return ct, d
}

// decide sends the security decision to the case's incident.
func (ct *caseTest) decide(workflowID string, d accountflows.DecisionInput, check func(accountflows.IncidentView, error)) {
	ct.steps++
	require.NoError(ct.t, ct.env.UpdateWorkflowByID(workflowID, accountflows.UpdateSecurityDecision, "decide-"+d.Decision,
		&testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { check(accountflows.IncidentView{}, err) },
			OnComplete: func(v any, err error) {
				iv, _ := v.(accountflows.IncidentView)
				check(iv, err)
			},
		}, d))
}

func (ct *caseTest) verify(id, digest string, check func(accountflows.VerifyResult, error)) {
	ct.steps++
	err := ct.env.UpdateWorkflowByID(accountflows.RecoveryWorkflowID(id), accountflows.UpdateVerifyCode, fmt.Sprintf("verify-%d", ct.steps),
		&testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { check(accountflows.VerifyResult{}, err) },
			OnComplete: func(v any, err error) {
				r, _ := v.(accountflows.VerifyResult)
				check(r, err)
			},
		}, accountflows.VerifyInput{Actor: "integration:shop", Digest: digest})
	if err != nil { // the recovery has ended
		check(accountflows.VerifyResult{}, err)
	}
}

func (ct *caseTest) closeAt(d time.Duration) {
	ct.at(d, func() {
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "security:sam", Resolution: "done"})
		ct.mustUpdate(UpdateClose, ReasonInput{Actor: "security:sam", Reason: "done"})
	})
}

func TestSecurityCaseLocksTheAccountAtOnceAndAFalseAlarmUnlocksIt(t *testing.T) {
	ct, d := newAccountTest(t)
	incident := accountflows.IncidentWorkflowID("C-1", 1)
	ct.at(time.Minute, func() {
		acct, calls := d.state()
		assert.Equal(t, accountflows.AccountLocked, acct.Status, "locked within the first minute")
		assert.Equal(t, 0, acct.ActiveSessions, "sessions revoked")
		assert.Equal(t, []string{"lock"}, calls)
		v := ct.view()
		assert.Contains(t, kinds(v.Timeline), accountflows.EventAccountLocked)
		require.NotNil(t, v.Incident)
		assert.True(t, v.Incident.Running)
		assert.Equal(t, 1, ct.notified(accountflows.NoticeSecurityLock, vocab.AudienceCustomer), "NoticeSecurityLock to vocab.AudienceCustomer")
		assert.Equal(t, 1, ct.notified(accountflows.EventAccountLocked, vocab.AudienceTeam), "EventAccountLocked to vocab.AudienceTeam")
	})
	ct.at(10*time.Minute, func() {
		ct.decide(incident, accountflows.DecisionInput{Actor: "security:sam", Decision: "maybe"}, func(_ accountflows.IncidentView, err error) {
			assert.ErrorContains(t, err, "decision: want confirmed or false_alarm")
		})
		ct.decide(incident, accountflows.DecisionInput{Actor: "security:sam", Decision: accountflows.DecisionFalseAlarm, Note: "it was the customer"},
			func(v accountflows.IncidentView, err error) {
				require.NoError(t, err)
				assert.Equal(t, accountflows.DecisionFalseAlarm, v.Decision)
				assert.Equal(t, "security:sam", v.DecidedBy)
				assert.False(t, v.Overdue)
			})
	})
	ct.at(11*time.Minute, func() {
		acct, calls := d.state()
		assert.Equal(t, accountflows.AccountActive, acct.Status)
		assert.Equal(t, []string{"lock", "unlock"}, calls)
		v := ct.view()
		assert.Contains(t, kinds(v.Timeline), accountflows.EventSecurityDecision)
		assert.NotContains(t, kinds(v.Timeline), accountflows.EventSecurityReviewOverdue)
		assert.False(t, v.Incident.Running)
		assert.Equal(t, accountflows.DecisionFalseAlarm, v.Incident.Outcome)
		assert.Nil(t, v.Recovery, "a false alarm starts no recovery")
		assert.Equal(t, 1, ct.notified(accountflows.EventAccountUnlocked, vocab.AudienceCustomer), "EventAccountUnlocked to vocab.AudienceCustomer")
	})
	ct.closeAt(2 * time.Hour)
	ct.env.ExecuteWorkflow(SupportCase, securityCase())
	require.NoError(t, ct.env.GetWorkflowError())
}

func TestSecurityReviewPastItsTargetEscalatesOnce(t *testing.T) {
	ct, _ := newAccountTest(t)
	ct.at(3*time.Hour, func() {
		v := ct.view()
		assert.Equal(t, 1, count(v.Timeline, accountflows.EventSecurityReviewOverdue), "the review target escalates once, however long it waits")
		assert.Equal(t, StatusEscalated, v.Status)
		reviewEscalations := slices.DeleteFunc(slices.Clone(v.Timeline), func(e vocab.Event) bool {
			return e.Kind != EventEscalated || !strings.Contains(e.Payload["reason"], "security review")
		})
		require.Len(t, reviewEscalations, 1)
		assert.Equal(t, string(vocab.TeamSecurity), reviewEscalations[0].Payload["to_team"], "security already owns the case: one level up")
		ct.decide(accountflows.IncidentWorkflowID("C-1", 1), accountflows.DecisionInput{Actor: "security:sam", Decision: accountflows.DecisionFalseAlarm},
			func(v accountflows.IncidentView, err error) {
				require.NoError(t, err)
				assert.True(t, v.Overdue)
			})
	})
	ct.closeAt(4 * time.Hour)
	ct.env.ExecuteWorkflow(SupportCase, securityCase())
	require.NoError(t, ct.env.GetWorkflowError())
}

func TestConfirmedIncidentStartsARecoveryThatTheRightCodeCompletes(t *testing.T) {
	ct, d := newAccountTest(t)
	ct.at(5*time.Minute, func() {
		ct.decide(accountflows.IncidentWorkflowID("C-1", 1), accountflows.DecisionInput{Actor: "security:sam", Decision: accountflows.DecisionConfirmed},
			func(v accountflows.IncidentView, err error) { require.NoError(t, err) })
	})
	ct.at(6*time.Minute, func() {
		acct, calls := d.state()
		assert.Equal(t, accountflows.AccountLocked, acct.Status, "a confirmed takeover stays locked")
		assert.Contains(t, calls, "code to ada@example.com")
		v := ct.view()
		require.NotNil(t, v.Recovery)
		assert.True(t, v.Recovery.Running)
		assert.Contains(t, kinds(v.Timeline), accountflows.EventRecoveryStarted)
		require.Len(t, v.Evidence, 1, "the identity check's facts are evidence")
		assert.Equal(t, "E-CHECK", v.Evidence[0].ID)
		ct.verify(v.Recovery.ID, "digest:000000", func(r accountflows.VerifyResult, err error) {
			require.NoError(t, err)
			assert.False(t, r.Verified)
			assert.Equal(t, 2, r.AttemptsLeft)
		})
		ct.verify(v.Recovery.ID, "digest:123456", func(r accountflows.VerifyResult, err error) {
			require.NoError(t, err)
			assert.True(t, r.Verified)
		})
	})
	ct.at(7*time.Minute, func() {
		acct, calls := d.state()
		assert.Equal(t, accountflows.AccountActive, acct.Status)
		assert.Equal(t, 2, acct.CredentialVersion)
		assert.False(t, acct.MFAEnabled, "a recovery after a takeover resets MFA")
		assert.Equal(t, []string{"lock", "code to ada@example.com", "reset", "unlock"}, calls)
		v := ct.view()
		assert.Equal(t, accountflows.RecoveryCompleted, v.Recovery.Outcome)
		assert.Contains(t, kinds(v.Timeline), accountflows.EventRecoveryCodeRejected)
		assert.Contains(t, kinds(v.Timeline), accountflows.EventRecoveryCompleted)
		assert.Equal(t, 1, ct.notified(accountflows.NoticeRecoverySteps, vocab.AudienceCustomer), "NoticeRecoverySteps to vocab.AudienceCustomer")
	})
	ct.closeAt(time.Hour)
	ct.env.ExecuteWorkflow(SupportCase, securityCase())
	require.NoError(t, ct.env.GetWorkflowError())
}

func TestRecoveryWrongCodesRunOutAndEscalateToAccountManagement(t *testing.T) {
	ct, d := newAccountTest(t)
	in := testInput(vocab.P2)
	in.Accounts = sla.AccountPolicy{CodeAttempts: 3, CodeValidFor: 15 * time.Minute}
	ct.at(time.Minute, func() {
		ct.update(UpdateStartRecovery, RecoveryRequest{Actor: "account_manager:al"}, func(v CaseView, err error) {
			require.NoError(t, err)
			require.NotNil(t, v.Recovery)
		})
		ct.update(UpdateStartRecovery, RecoveryRequest{Actor: "account_manager:al"}, func(_ CaseView, err error) {
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr))
			assert.Equal(t, vocab.ErrInvalidTransition, appErr.Type(), "one recovery at a time")
		})
	})
	ct.at(2*time.Minute, func() {
		id := ct.view().Recovery.ID
		for i := range 3 {
			ct.verify(id, "digest:wrong", func(r accountflows.VerifyResult, err error) {
				require.NoError(t, err)
				assert.Equal(t, 2-i, r.AttemptsLeft)
			})
		}
	})
	ct.at(3*time.Minute, func() {
		v := ct.view()
		ct.verify(v.Recovery.ID, "digest:123456", func(_ accountflows.VerifyResult, err error) {
			assert.Error(t, err, "even the right code is refused once locked")
		})
		assert.Equal(t, accountflows.RecoveryLocked, v.Recovery.Outcome)
		assert.Contains(t, kinds(v.Timeline), accountflows.EventRecoveryLocked)
		assert.Equal(t, vocab.TeamAccountManagement, v.Team)
		assert.Equal(t, StatusEscalated, v.Status)
		acct, calls := d.state()
		assert.Equal(t, 1, acct.CredentialVersion, "nothing was reset")
		assert.NotContains(t, calls, "reset")
	})
	ct.at(time.Hour, func() {
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "account_manager:al", Resolution: "done"})
		ct.mustUpdate(UpdateClose, ReasonInput{Actor: "account_manager:al", Reason: "done"})
	})
	ct.env.ExecuteWorkflow(SupportCase, in)
	require.NoError(t, ct.env.GetWorkflowError())
}

func TestRecoveryCodeLeftUnusedExpiresAndTellsTheCustomer(t *testing.T) {
	ct, d := newAccountTest(t)
	in := testInput(vocab.P2)
	in.Accounts = sla.AccountPolicy{CodeAttempts: 3, CodeValidFor: 15 * time.Minute}
	ct.at(time.Minute, func() {
		ct.mustUpdate(UpdateStartRecovery, RecoveryRequest{Actor: "account_manager:al"})
	})
	ct.at(30*time.Minute, func() {
		v := ct.view()
		assert.Equal(t, accountflows.RecoveryExpired, v.Recovery.Outcome)
		assert.Contains(t, kinds(v.Timeline), accountflows.EventRecoveryExpired)
		assert.Equal(t, 1, ct.notified(accountflows.EventRecoveryExpired, vocab.AudienceCustomer), "EventRecoveryExpired to vocab.AudienceCustomer")
		ct.verify(v.Recovery.ID, "digest:123456", func(_ accountflows.VerifyResult, err error) {
			assert.Error(t, err, "an expired recovery takes no code")
		})
		_, calls := d.state()
		assert.NotContains(t, calls, "reset")
	})
	ct.at(time.Hour, func() {
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "account_manager:al", Resolution: "done"})
		ct.mustUpdate(UpdateClose, ReasonInput{Actor: "account_manager:al", Reason: "done"})
	})
	ct.env.ExecuteWorkflow(SupportCase, in)
	require.NoError(t, ct.env.GetWorkflowError())
}

func TestCaseWithoutAnAccountCannotLockOrRecover(t *testing.T) {
	ct, d := newAccountTest(t)
	in := testInput(vocab.P2)
	in.AccountID = ""
	ct.at(time.Minute, func() {
		ct.update(UpdateLockAccount, LockInput{Actor: "security:sam", Reason: "odd"}, func(_ CaseView, err error) {
			assert.ErrorContains(t, err, "account_id")
		})
		ct.update(UpdateStartRecovery, RecoveryRequest{Actor: "security:sam"}, func(_ CaseView, err error) {
			assert.ErrorContains(t, err, "account_id")
		})
		_, calls := d.state()
		assert.Empty(t, calls)
	})
	ct.at(time.Hour, func() {
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
		ct.mustUpdate(UpdateClose, ReasonInput{Actor: "agent:bo", Reason: "done"})
	})
	ct.env.ExecuteWorkflow(SupportCase, in)
	require.NoError(t, ct.env.GetWorkflowError())
}

// registerProfileFakes adds what profile changes call on top of the fake directory.
func registerProfileFakes(ct *caseTest, d *fakeDirectory) {
	ct.env.RegisterWorkflow(accountflows.ProfileChange)
	ct.env.RegisterActivityWithOptions(func(ctx context.Context, r accountflows.AccountRequest) (accountflows.AccountState, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.record("change " + r.Contact)
		if r.Contact == accountflows.ProfileChangeEmail {
			d.acct.Email = r.Value
		}
		return d.acct, nil
	}, activity.RegisterOptions{Name: accountflows.ActivityChangeContact})
	ct.env.RegisterActivityWithOptions(func(ctx context.Context, r accountflows.AccountRequest) error {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.record("merge into " + r.IntoID)
		return nil
	}, activity.RegisterOptions{Name: accountflows.ActivityMergeAccounts})
}

func profileCase() CaseInput {
	in := testInput(vocab.P3)
	in.Accounts = sla.AccountPolicy{CodeAttempts: 3, CodeValidFor: 15 * time.Minute, ContactCoolDown: 24 * time.Hour}
	return in
}

func (ct *caseTest) profileUpdate(id, name string, arg any, check func(any, error)) {
	ct.steps++
	err := ct.env.UpdateWorkflowByID(accountflows.ProfileChangeWorkflowID(id), name, fmt.Sprintf("%s-%d", name, ct.steps),
		&testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { check(nil, err) },
			OnComplete: func(v any, err error) { check(v, err) }}, arg)
	if err != nil {
		check(nil, err)
	}
}

func TestEmailChangeAppliesOnlyAfterTheCoolDown(t *testing.T) {
	ct, d := newAccountTest(t)
	registerProfileFakes(ct, d)
	ct.at(time.Minute, func() {
		ct.update(UpdateRequestProfileChange, ProfileChangeRequest{Actor: "account_manager:al", Kind: "email", Value: "nope"},
			func(_ CaseView, err error) { assert.ErrorContains(t, err, "value: want the new email address") })
		ct.mustUpdate(UpdateRequestProfileChange, ProfileChangeRequest{Actor: "account_manager:al", Kind: accountflows.ProfileChangeEmail, Value: "new@example.com"})
	})
	ct.at(2*time.Minute, func() {
		_, calls := d.state()
		assert.Contains(t, calls, "code to new@example.com", "the code goes to the new address")
		ct.profileUpdate(ct.view().ProfileChange.ID, accountflows.UpdateVerifyCode, accountflows.VerifyInput{Actor: "integration:shop", Digest: "digest:123456"},
			func(r any, err error) {
				require.NoError(t, err)
				assert.True(t, r.(accountflows.VerifyResult).Verified)
			})
	})
	ct.at(3*time.Minute, func() {
		assert.Equal(t, 1, ct.notified(accountflows.NoticeContactChangeRequested, vocab.AudienceCustomer), "the old address is told")
		ct.mu.Lock()
		for _, n := range ct.sent {
			if n.Event == accountflows.NoticeContactChangeRequested {
				assert.Equal(t, "ada@example.com", n.To, "to the old address")
			}
		}
		ct.mu.Unlock()
	})
	ct.at(23*time.Hour, func() {
		acct, calls := d.state()
		assert.Equal(t, "ada@example.com", acct.Email, "nothing changes during the cool-down")
		assert.NotContains(t, calls, "change email")
	})
	ct.at(25*time.Hour, func() {
		acct, _ := d.state()
		assert.Equal(t, "new@example.com", acct.Email)
		v := ct.view()
		assert.Equal(t, accountflows.ProfileApplied, v.ProfileChange.Outcome)
		assert.Contains(t, kinds(v.Timeline), accountflows.EventProfileChangeApplied)
		assert.Equal(t, 1, ct.notified(accountflows.NoticeContactChanged, vocab.AudienceCustomer))
	})
	ct.at(26*time.Hour, func() {
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
		ct.mustUpdate(UpdateClose, ReasonInput{Actor: "agent:bo", Reason: "done"})
	})
	ct.env.ExecuteWorkflow(SupportCase, profileCase())
	require.NoError(t, ct.env.GetWorkflowError())
}

func TestCancelDuringTheCoolDownStopsTheChangeAndOpensASecurityCase(t *testing.T) {
	ct, d := newAccountTest(t)
	registerProfileFakes(ct, d)
	ct.at(time.Minute, func() {
		ct.mustUpdate(UpdateRequestProfileChange, ProfileChangeRequest{Actor: "account_manager:al", Kind: accountflows.ProfileChangePhone, Value: "+33612345678"})
	})
	ct.at(2*time.Minute, func() {
		ct.profileUpdate(ct.view().ProfileChange.ID, accountflows.UpdateVerifyCode, accountflows.VerifyInput{Actor: "integration:shop", Digest: "digest:123456"},
			func(_ any, err error) { require.NoError(t, err) })
	})
	ct.at(5*time.Hour, func() {
		ct.profileUpdate(ct.view().ProfileChange.ID, accountflows.UpdateCancelProfileChange,
			accountflows.CancelInput{Actor: "integration:shop", Reason: "the owner did not ask for it"}, func(v any, err error) {
				require.NoError(t, err)
				pv, _ := v.(accountflows.ProfileChangeView)
				assert.Equal(t, accountflows.ProfileCancelled, pv.Status)
				assert.Equal(t, "C-SEC", pv.SecurityCaseID)
			})
	})
	ct.at(30*time.Hour, func() {
		_, calls := d.state()
		assert.NotContains(t, calls, "change phone", "a cancelled change never applies")
		require.Len(t, d.opened, 1)
		assert.Equal(t, vocab.CategorySecurityAlert, d.opened[0].Category)
		v := ct.view()
		assert.Equal(t, accountflows.ProfileCancelled, v.ProfileChange.Outcome)
		assert.Contains(t, kinds(v.Timeline), accountflows.EventProfileChangeCancelled)
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
		ct.mustUpdate(UpdateClose, ReasonInput{Actor: "agent:bo", Reason: "done"})
	})
	ct.env.ExecuteWorkflow(SupportCase, profileCase())
	require.NoError(t, ct.env.GetWorkflowError())
}

func TestMergeNeedsAnApprovalAndAppliesOnce(t *testing.T) {
	ct, d := newAccountTest(t)
	registerProfileFakes(ct, d)
	ct.at(time.Minute, func() {
		ct.mustUpdate(UpdateRequestProfileChange, ProfileChangeRequest{Actor: "agent:bo", Kind: accountflows.ProfileChangeMerge, IntoID: "acc-2"})
	})
	ct.at(time.Hour, func() {
		_, calls := d.state()
		assert.Empty(t, calls, "nothing merges before the approval")
		id := ct.view().ProfileChange.ID
		ct.profileUpdate(id, accountflows.UpdateApproveMerge, accountflows.ApproveInput{Actor: "account_manager:al"}, func(v any, err error) {
			require.NoError(t, err)
			assert.Equal(t, accountflows.ProfileApplied, v.(accountflows.ProfileChangeView).Status)
		})
		ct.profileUpdate(id, accountflows.UpdateApproveMerge, accountflows.ApproveInput{Actor: "account_manager:al"}, func(_ any, err error) {
			assert.Error(t, err, "a merge is approved once")
		})
	})
	ct.at(2*time.Hour, func() {
		_, calls := d.state()
		assert.Equal(t, []string{"merge into acc-2"}, calls)
		assert.Contains(t, kinds(ct.view().Timeline), accountflows.EventProfileChangeApplied)
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "agent:bo", Resolution: "done"})
		ct.mustUpdate(UpdateClose, ReasonInput{Actor: "agent:bo", Reason: "done"})
	})
	ct.env.ExecuteWorkflow(SupportCase, profileCase())
	require.NoError(t, ct.env.GetWorkflowError())
}

func TestALinkedCaseTellsItsDeliveryThatTheAccountWasRecoveredThenThatItIsResolved(t *testing.T) {
	ct, _ := newAccountTest(t)
	in := testInput(vocab.P2)
	in.Category, in.DeliveryID = vocab.CategoryAccountDeliveryIssue, "D-1"
	in.Accounts = sla.AccountPolicy{CodeAttempts: 3, CodeValidFor: 15 * time.Minute}
	var mu sync.Mutex
	var told []vocab.LinkedCaseOutcome
	ct.env.OnSignalExternalWorkflow(mock.Anything, vocab.DeliveryWorkflowID("D-1"), "", vocab.SignalLinkedCase, mock.Anything).
		Return(func(_, _, _ string, _ string, arg any) error {
			mu.Lock()
			defer mu.Unlock()
			told = append(told, arg.(vocab.LinkedCaseOutcome))
			return nil
		})
	ct.at(time.Minute, func() {
		ct.mustUpdate(UpdateStartRecovery, RecoveryRequest{Actor: "account_manager:al"})
	})
	ct.at(2*time.Minute, func() {
		ct.verify(ct.view().Recovery.ID, "digest:123456", func(r accountflows.VerifyResult, err error) {
			require.NoError(t, err)
			assert.True(t, r.Verified)
		})
	})
	ct.at(time.Hour, func() {
		assert.Equal(t, "D-1", ct.view().DeliveryID)
		ct.mustUpdate(UpdateResolve, ResolveInput{Actor: "account_manager:al", Resolution: "account given back"})
		ct.mustUpdate(UpdateClose, ReasonInput{Actor: "account_manager:al", Reason: "done"})
	})
	ct.env.ExecuteWorkflow(SupportCase, in)
	require.NoError(t, ct.env.GetWorkflowError())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, told, 2)
	assert.Equal(t, vocab.OutcomeRecovered, told[0].Outcome)
	assert.Equal(t, vocab.OutcomeResolved, told[1].Outcome)
	assert.Equal(t, "account given back", told[1].Detail)
	assert.Equal(t, "C-1", told[1].CaseID)
}

func TestACaseWithoutADeliveryTellsNoDelivery(t *testing.T) {
	ct, _ := newAccountTest(t)
	var mu sync.Mutex
	told := 0
	ct.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", vocab.SignalLinkedCase, mock.Anything).
		Return(func(_, _, _ string, _ string, _ any) error {
			mu.Lock()
			defer mu.Unlock()
			told++
			return nil
		})
	ct.closeAt(time.Hour)
	ct.env.ExecuteWorkflow(SupportCase, testInput(vocab.P2))
	require.NoError(t, ct.env.GetWorkflowError())
	mu.Lock()
	defer mu.Unlock()
	assert.Zero(t, told, "a case opened without a delivery signals none")
}

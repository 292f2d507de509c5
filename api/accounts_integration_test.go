//go:build integration

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"handoff/accounts"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/accountflows"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// seedAccount puts a fresh active account with two sessions in the
// Postgres directory and answers it.
func (s *caseStack) seedAccount(t *testing.T) accounts.Account {
	t.Helper()
	id := "acct-test-" + strings.ToLower(unique())
	a, err := accounts.NewPostgres(s.db.Pool()).Create(stacktest.Context(t), accounts.Account{
		ID: id, Status: accounts.StatusActive, Email: id + "@example.com", ActiveSessions: 2,
		CredentialVersion: 1, MFAEnabled: true,
	})
	require.NoError(t, err)
	return a
}

func (s *caseStack) account(t *testing.T, id string) accounts.Account {
	t.Helper()
	a, err := accounts.NewPostgres(s.db.Pool()).Get(stacktest.Context(t), id)
	require.NoError(t, err)
	return a
}

// awaitAccount polls the directory until ok holds, and answers how long it took.
func (s *caseStack) awaitAccount(t *testing.T, id string, ok func(accounts.Account) bool) time.Duration {
	t.Helper()
	start := time.Now()
	require.Eventually(t, func() bool { return ok(s.account(t, id)) }, 30*time.Second, 20*time.Millisecond,
		"account %s never reached the expected state", id)
	return time.Since(start)
}

// awaitMail answers the newest Mailpit message to address whose subject holds want.
func awaitMail(t *testing.T, address, want string) stacktest.MailpitMessage {
	t.Helper()
	var found stacktest.MailpitMessage
	require.Eventually(t, func() bool {
		msgs, err := stacktest.MailpitSearch(stacktest.Context(t), "to:"+address)
		require.NoError(t, err)
		for _, m := range msgs {
			if strings.Contains(m.Subject, want) {
				found = m
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "no mail to %s about %q", address, want)
	return found
}

// codeLine is the line of a code email that holds the code alone.
var codeLine = regexp.MustCompile(`(?m)^\s+([0-9]{6})\s*$`)

func TestSecurityAlertLocksTheAccountAndAFalseAlarmUnlocksIt(t *testing.T) {
	s := newCaseStack(t)
	acct := s.seedAccount(t)
	body := newCaseBody(vocab.CategorySecurityAlert)
	body.AccountID = acct.ID
	sent := time.Now()
	c := s.open(t, store.RoleIntegration, body)
	answered := time.Since(sent)
	wait := s.awaitAccount(t, acct.ID, func(a accounts.Account) bool { return a.Status == accounts.StatusLocked })
	t.Logf("account %s locked %s after POST /v1/cases was sent (the open answered in %s, the lock landed %s later)",
		acct.ID, answered+wait, answered, wait)
	locked := s.account(t, acct.ID)
	assert.Zero(t, locked.ActiveSessions, "sessions revoked")
	assert.Contains(t, locked.LockReason, c.ID)

	awaitMail(t, body.Customer.Email, "locked your account")
	var kinds []string
	require.Eventually(t, func() bool {
		kinds = kinds[:0]
		for _, e := range s.timeline(t, c.ID) {
			kinds = append(kinds, e.Kind)
		}
		return strings.Contains(strings.Join(kinds, " "), accountflows.EventAccountLocked)
	}, 10*time.Second, 50*time.Millisecond)

	// Only security decides; an agent is refused before anything happens.
	problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+c.ID+"/unlock", map[string]string{}), http.StatusForbidden)
	assert.Equal(t, accounts.StatusLocked, s.account(t, acct.ID).Status)

	r := s.as(t, store.RoleSecurity, http.MethodPost, "/v1/cases/"+c.ID+"/unlock", map[string]string{"note": "it was the customer"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r)
	var iv accountflows.IncidentView
	require.NoError(t, json.Unmarshal(r.Body, &iv))
	assert.Equal(t, accountflows.DecisionFalseAlarm, iv.Decision)
	assert.Equal(t, accounts.StatusActive, s.account(t, acct.ID).Status, "unlocked by the time the decision answers")

	again := s.as(t, store.RoleSecurity, http.MethodPost, "/v1/cases/"+c.ID+"/unlock", map[string]string{})
	problemOf(t, again, http.StatusConflict)
	awaitMail(t, body.Customer.Email, "unlocked")
}

func TestRecoveryCodeArrivesByEmailAndTheRightOneResetsTheAccount(t *testing.T) {
	s := newCaseStack(t)
	acct := s.seedAccount(t)
	body := newCaseBody(vocab.CategoryLockedAccount)
	body.AccountID = acct.ID
	c := s.open(t, store.RoleIntegration, body)

	// Tier 1 cannot start a recovery; account management can.
	problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/recoveries", map[string]any{"case_id": c.ID}), http.StatusForbidden)
	r := s.as(t, store.RoleAccountManager, http.MethodPost, "/v1/recoveries", map[string]any{"case_id": c.ID, "reset_mfa": true})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r)
	var started recoveryStartBody
	require.NoError(t, json.Unmarshal(r.Body, &started))
	rid := started.Recovery.ID
	assert.Equal(t, "/v1/recoveries/"+rid, r.Header.Get("Location"))

	mail := awaitMail(t, acct.Email, "code")
	text, err := stacktest.MailpitText(stacktest.Context(t), mail.ID)
	require.NoError(t, err)
	m := codeLine.FindStringSubmatch(text)
	require.Len(t, m, 2, "the email carries a six-digit code on a line of its own: %s", text)
	code := m[1]

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	r = s.as(t, store.RoleIntegration, http.MethodPost, "/v1/recoveries/"+rid+"/verify", map[string]string{"code": wrong})
	require.Equal(t, http.StatusOK, r.Status, "%s", r)
	var res accountflows.VerifyResult
	require.NoError(t, json.Unmarshal(r.Body, &res))
	assert.False(t, res.Verified)
	assert.Equal(t, 4, res.AttemptsLeft)
	assert.Equal(t, 1, s.account(t, acct.ID).CredentialVersion, "a wrong code changes nothing")

	r = s.as(t, store.RoleIntegration, http.MethodPost, "/v1/recoveries/"+rid+"/verify", map[string]string{"code": code[:3] + " " + code[3:]})
	require.Equal(t, http.StatusOK, r.Status, "%s", r)
	require.NoError(t, json.Unmarshal(r.Body, &res))
	assert.True(t, res.Verified)

	s.awaitAccount(t, acct.ID, func(a accounts.Account) bool { return a.CredentialVersion == 2 })
	after := s.account(t, acct.ID)
	assert.Equal(t, accounts.StatusActive, after.Status)
	assert.False(t, after.MFAEnabled, "MFA reset as asked")
	assert.Zero(t, after.ActiveSessions)
	awaitMail(t, body.Customer.Email, "account back")

	var view accountflows.RecoveryView
	require.Eventually(t, func() bool {
		r := s.as(t, store.RoleAccountManager, http.MethodGet, "/v1/recoveries/"+rid, nil)
		return r.Status == http.StatusOK && json.Unmarshal(r.Body, &view) == nil && view.Status == accountflows.RecoveryCompleted
	}, 10*time.Second, 50*time.Millisecond)
	assert.NotContains(t, view.SentTo, acct.Email, "the address is masked")
	late := s.as(t, store.RoleIntegration, http.MethodPost, "/v1/recoveries/"+rid+"/verify", map[string]string{"code": code})
	assert.Contains(t, problemOf(t, late, http.StatusConflict).Detail, "has ended")
	problemOf(t, s.as(t, store.RoleIntegration, http.MethodPost, "/v1/recoveries/R-NONE/verify", map[string]string{"code": code}), http.StatusNotFound)

	// The history holds digests, never the code.
	assert.NotContains(t, s.historyText(t, accountflows.RecoveryWorkflowID(rid)), code)
}

func TestSignalsPastTheThresholdOpenOneSecurityCase(t *testing.T) {
	s := newCaseStack(t)
	base := s.withPolicy(t, filepath.Join(stacktest.RepoRoot(t), "deploy/sla/demo.yaml")) // threshold 3 in 5 minutes
	acct := s.seedAccount(t)
	for range 6 {
		r, err := sendRequest(stacktest.Context(t), base, s.keys[store.RoleIntegration].Secret, http.MethodPost,
			"/v1/accounts/"+acct.ID+"/signals", map[string]string{"kind": "failed_login", "detail": "wrong password from 203.0.113.9"})
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, r.Status, "%s", r)
	}
	t.Cleanup(func() {
		_ = s.tc.TerminateWorkflow(context.Background(), accountflows.SignalsWorkflowID(acct.ID), "", "test over")
	})
	s.awaitAccount(t, acct.ID, func(a accounts.Account) bool { return a.Status == accounts.StatusLocked })

	var opened []cases.CaseView
	require.Eventually(t, func() bool {
		r := s.as(t, store.RoleSecurity, http.MethodGet, "/v1/accounts/"+acct.ID, nil)
		var out accountBody
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &out) != nil {
			return false
		}
		opened = out.Cases
		return len(opened) > 0 && out.Account.Status == string(accounts.StatusLocked)
	}, 20*time.Second, 100*time.Millisecond)
	time.Sleep(time.Second) // a second case, if any, would be projected by now
	r := s.as(t, store.RoleSecurity, http.MethodGet, "/v1/accounts/"+acct.ID, nil)
	var out accountBody
	require.NoError(t, json.Unmarshal(r.Body, &out))
	require.Len(t, out.Cases, 1, "six signals in a burst open one case")
	assert.Equal(t, vocab.CategorySecurityAlert, out.Cases[0].Category)
	for _, c := range out.Cases {
		s.terminateAtEnd(t, c.ID)
	}
	problemOf(t, s.as(t, store.RoleSecurity, http.MethodGet, "/v1/accounts/acct-missing-"+unique(), nil), http.StatusNotFound)
}

// payloadData finds the payloads in a history event as protojson writes them.
var payloadData = regexp.MustCompile(`"data":"([A-Za-z0-9+/=]+)"`)

// historyText answers a workflow's whole history as JSON text, with every
// payload decoded so a search sees what it carries.
func (s *caseStack) historyText(t *testing.T, workflowID string) string {
	t.Helper()
	var b strings.Builder
	it := s.tc.GetWorkflowHistory(stacktest.Context(t), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		stacktest.OpenPayloads(t, e)
		data, err := protojson.Marshal(e)
		require.NoError(t, err)
		b.Write(data)
		for _, m := range payloadData.FindAllSubmatch(data, -1) {
			decoded, err := base64.StdEncoding.DecodeString(string(m[1]))
			require.NoError(t, err)
			b.Write(decoded)
		}
	}
	return b.String()
}

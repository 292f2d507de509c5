//go:build integration

package main

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// teamBound are the roles whose actions the case workflow checks against
// the case's team (caller.team); integration and admin are bound to none.
var teamBound = []store.Role{store.RoleAgent, store.RoleAccountManager, store.RoleSecurity, store.RoleTrustSafety}

// A key of a team-bound role may not drive a case of another team: every
// action that changes who owns the case, what it says to the customer or
// where it stands answers 403 naming the owning team, and leaves the case
// as it was. Only notes cross teams (TestTier1AgentCannotActOnASecurityCaseButMayNote).
func TestEveryTeamBoundRoleIsRefusedEveryActionOnAnotherTeamsCase(t *testing.T) {
	s := newCaseStack(t)
	body := newCaseBody(vocab.CategorySecurityAlert)
	body.AccountID = "acc-" + unique()
	open := s.open(t, store.RoleIntegration, body)
	require.Equal(t, vocab.TeamSecurity, open.Team)

	// A second security case, resolved by security, for reopen and close.
	body.AccountID = "acc-" + unique()
	done := s.open(t, store.RoleIntegration, body)
	done = s.act(t, store.RoleSecurity, done.ID, "resolve", map[string]string{"resolution": "False alarm."})
	require.Equal(t, cases.StatusResolved, done.Status)

	onOpen := map[string]any{
		"assign":           map[string]string{"assignee": "bo"},
		"replies":          map[string]string{"body": "Let me help"},
		"wait-on-customer": map[string]string{"reason": "Which email?"},
		"escalate":         map[string]string{"team": "tier1_support", "reason": "mine now"},
		"priority":         map[string]string{"priority": "p4"},
		"resolve":          map[string]string{"resolution": "done"},
	}
	onResolved := map[string]any{
		"reopen": map[string]string{"reason": "not done"},
		"close":  nil,
	}
	for _, role := range teamBound {
		if role == store.RoleSecurity {
			continue
		}
		for target, actions := range map[*cases.CaseView]map[string]any{&open: onOpen, &done: onResolved} {
			for action, b := range actions {
				p := problemOf(t, s.as(t, role, http.MethodPost, "/v1/cases/"+target.ID+"/"+action, b), http.StatusForbidden)
				assert.Contains(t, p.Detail, "the case belongs to security", "%s %s", role, action)
				s.requireUnchanged(t, *target)
			}
		}
	}

	// The owning team and an admin (bound to no team) may.
	v := s.act(t, store.RoleSecurity, open.ID, "assign", map[string]string{"assignee": "sec-1"})
	assert.Equal(t, "sec-1", v.Assignee)
	v = s.act(t, store.RoleAdmin, done.ID, "close", nil)
	assert.Equal(t, cases.StatusClosed, v.Status)
}

// Reading is not team-bound: every staff role reads any team's case and
// its timeline (and, by the role matrix, its evidence: the product's rule,
// see docs/security.md);
// the marketplace's integration key opens and reads cases but not their
// timelines, and an unknown case is 404 to everyone, never 403, so ids
// cannot be probed by status code.
func TestEveryStaffRoleReadsAnotherTeamsCaseAndOutsidersAreRefused(t *testing.T) {
	s := newCaseStack(t)
	body := newCaseBody(vocab.CategorySecurityAlert)
	body.AccountID = "acc-" + unique()
	c := s.open(t, store.RoleIntegration, body)
	require.Equal(t, vocab.TeamSecurity, c.Team)

	for _, role := range teamBound {
		caseOf(t, s.as(t, role, http.MethodGet, "/v1/cases/"+c.ID, nil), http.StatusOK)
		r := s.as(t, role, http.MethodGet, "/v1/cases/"+c.ID+"/timeline", nil)
		assert.Equal(t, http.StatusOK, r.Status, "%s: %s", role, r)
	}
	caseOf(t, s.as(t, store.RoleIntegration, http.MethodGet, "/v1/cases/"+c.ID, nil), http.StatusOK)
	problemOf(t, s.as(t, store.RoleIntegration, http.MethodGet, "/v1/cases/"+c.ID+"/timeline", nil), http.StatusForbidden)
	problemOf(t, s.as(t, store.RoleIntegration, http.MethodGet, "/v1/cases/"+c.ID+"/evidence", nil), http.StatusForbidden)

	missing := "C-AAAAAAAAAAAAAAAA"
	for _, role := range append([]store.Role{store.RoleAdmin}, teamBound...) {
		problemOf(t, s.as(t, role, http.MethodGet, "/v1/cases/"+missing, nil), http.StatusNotFound)
	}
}

// A presigned evidence URL, answered as JSON or as a 302, is signed for
// presignTTL and no longer, and presignTTL is minutes, not hours.
func TestEvidenceDownloadURLIsSignedForFiveMinutesAtMost(t *testing.T) {
	require.LessOrEqual(t, presignTTL, 5*time.Minute, "download links stay short-lived")
	s := newCaseStack(t)
	base := s.evidenceAPI(t, nil)
	c := s.open(t, store.RoleIntegration, newCaseBody(vocab.CategoryLoginFailure))
	got := evidenceOf(t, s.sendUpload(t, base, store.RoleIntegration, c.ID,
		upload{kind: "delivery_screenshot", claimed: "image/png", body: bytes.NewReader(pngBytes(t, 2_000)), sized: true}), http.StatusCreated)

	expiresOf := func(raw string) time.Duration {
		t.Helper()
		u, err := url.Parse(raw)
		require.NoError(t, err)
		secs, err := strconv.Atoi(u.Query().Get("X-Amz-Expires"))
		require.NoError(t, err, "a SigV4 presigned URL: %s", raw)
		return time.Duration(secs) * time.Second
	}
	dl := s.download(t, store.RoleAgent, got.Evidence.ID)
	assert.Equal(t, presignTTL, expiresOf(dl.URL))
	assert.WithinDuration(t, time.Now().Add(presignTTL), dl.ExpiresAt, 10*time.Second)
	assert.Equal(t, presignTTL, expiresOf(s.redirected(t, store.RoleAgent, "/v1/evidence/"+got.Evidence.ID+"?redirect=true")))
}

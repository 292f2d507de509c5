//go:build integration

package store_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/kb"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// recurringFixture writes, through the case projection, cases in two weeks
// of the past no other test writes to (a random Monday between 1930 and
// 1954; the other report tests take 1960 to 2014), and removes them
// afterwards:
//
//	login_failure   5 "Cannot log in after password reset", 4 "cannot login after password reset!",
//	                3 "Can't log in after the password reset" (one issue of 12), 3 "Two-factor code never arrives"
//	locked_account  11 "Compte bloqué après plusieurs tentatives"
func recurringFixture(t *testing.T, db *store.Store) (string, store.ReportFilter) {
	t.Helper()
	ctx := stacktest.Context(t)
	tag := newTag(t)
	monday := time.Date(1930, 1, 6, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*rand.IntN(1300))
	t.Cleanup(func() {
		_, err := db.Pool().Exec(context.Background(), `DELETE FROM cases WHERE id LIKE $1`, "C-"+tag+"-%")
		assert.NoError(t, err)
	})
	n := 0
	add := func(category vocab.Category, subject string, count int) {
		for range count {
			n++
			c := newCase(tag, string(rune('a'+n/26))+string(rune('a'+n%26)))
			c.Category, c.Subject = category, subject
			// Alternate weeks, an hour apart, so the newest is the last written.
			c.CreatedAt = monday.AddDate(0, 0, 7*(n%2)).Add(time.Duration(n) * time.Hour)
			c.UpdatedAt = c.CreatedAt
			require.NoError(t, db.ProjectCase(ctx, cases.ProjectionInput{Case: c,
				Events: []vocab.Event{{Seq: 1, Actor: "system", Kind: cases.EventOpened, At: c.CreatedAt}}}))
		}
	}
	add(vocab.CategoryLoginFailure, "Cannot log in after password reset", 5)
	add(vocab.CategoryLoginFailure, "cannot login after password reset!", 4)
	add(vocab.CategoryLoginFailure, "Can't log in after the password reset", 3)
	add(vocab.CategoryLoginFailure, "Two-factor code never arrives", 3)
	add(vocab.CategoryLockedAccount, "Compte bloqué après plusieurs tentatives", 11)
	return tag, store.ReportFilter{From: monday, To: monday.AddDate(0, 0, 14)}
}

// issueOf answers the issue of category whose wording is subject.
func issueOf(t *testing.T, issues []store.RecurringIssue, category vocab.Category, subject string) store.RecurringIssue {
	t.Helper()
	for _, i := range issues {
		if i.Category == string(category) && i.Subject == subject {
			return i
		}
	}
	require.Failf(t, "no such issue", "%s %q in %+v", category, subject, issues)
	return store.RecurringIssue{}
}

func TestNearIdenticalSubjectsAreOneRecurringIssueAndACueWithoutAnArticle(t *testing.T) {
	db := stacktest.Store(t)
	tag, f := recurringFixture(t, db)
	issues, err := db.RecurringIssues(stacktest.Context(t), f, store.RecurringDefaultLimit)
	require.NoError(t, err)
	require.Len(t, issues, 3, "the login wordings are one issue, the two-factor one another, the French one a third")

	login := issues[0]
	assert.Equal(t, "login_failure", login.Category)
	assert.Equal(t, "Cannot log in after password reset", login.Subject, "the most common wording")
	assert.Equal(t, 12, login.Cases)
	assert.True(t, login.Cue, "12 similar cases and no article")
	assert.Nil(t, login.Article)
	sum := 0
	for _, w := range login.Weeks {
		assert.Equal(t, time.Monday, w.Week.Weekday())
		sum += w.Cases
	}
	assert.Equal(t, login.Cases, sum, "the weeks sum to the issue")
	assert.Equal(t, []store.RecurringWeek{{Week: f.From, Cases: 6}, {Week: f.From.AddDate(0, 0, 7), Cases: 6}}, login.Weeks)
	// Cases 1 to 12 are the login issue, case n opened n hours after its
	// Monday, the odd ones in the second week.
	assert.Equal(t, []string{"C-" + tag + "-al", "C-" + tag + "-aj", "C-" + tag + "-ah", "C-" + tag + "-af", "C-" + tag + "-ad"},
		login.ExampleCaseIDs, "the five newest, newest first")

	twoFactor := issueOf(t, issues, vocab.CategoryLoginFailure, "Two-factor code never arrives")
	assert.Equal(t, 3, twoFactor.Cases, "an unrelated subject of the category stays apart")
	assert.False(t, twoFactor.Cue, "too few to be a cue")

	french := issueOf(t, issues, vocab.CategoryLockedAccount, "Compte bloqué après plusieurs tentatives")
	assert.Equal(t, 11, french.Cases)
	assert.Equal(t, french.Article == nil, french.Cue, "11 cases are a cue unless an article answers them")

	locked := f
	locked.Category = "locked_account"
	issues, err = db.RecurringIssues(stacktest.Context(t), locked, 1)
	require.NoError(t, err)
	require.Len(t, issues, 1)
	assert.Equal(t, 11, issues[0].Cases)
}

func TestAPublishedArticleOfTheCategoryAnswersARecurringIssue(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	_, f := recurringFixture(t, db)
	a, err := db.CreateArticle(ctx, store.NewArticle{Locale: kb.LocaleEN, Category: vocab.CategoryLoginFailure,
		Title: "Logging in after a password reset", BodyMD: "Sign out everywhere, then sign in with the new password.", Author: "agent:kb"})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := db.Pool().Exec(context.Background(), `DELETE FROM kb_articles WHERE id = $1`, a.ID)
		assert.NoError(t, err)
	})

	cues, err := db.RecurringCues(ctx, f, store.RecurringDefaultLimit)
	require.NoError(t, err)
	assert.Contains(t, subjects(cues), "Cannot log in after password reset", "a draft answers no one")

	_, err = db.SetArticleStatus(ctx, a.ID, kb.StatusPublished)
	require.NoError(t, err)
	issues, err := db.RecurringIssues(ctx, f, store.RecurringDefaultLimit)
	require.NoError(t, err)
	login := issueOf(t, issues, vocab.CategoryLoginFailure, "Cannot log in after password reset")
	require.NotNil(t, login.Article)
	assert.Equal(t, store.RecurringArticle{ID: a.ID, Title: "Logging in after a password reset", Locale: "en"}, *login.Article)
	assert.False(t, login.Cue, "the FAQ exists")

	cues, err = db.RecurringCues(ctx, f, store.RecurringDefaultLimit)
	require.NoError(t, err)
	assert.NotContains(t, subjects(cues), "Cannot log in after password reset")
	for _, c := range cues {
		assert.True(t, c.Cue, c.Subject)
	}
}

func TestRecurringIssuesRefuseALimitOutOfRange(t *testing.T) {
	db := stacktest.Store(t)
	for _, limit := range []int{0, store.RecurringMaxLimit + 1} {
		_, err := db.RecurringIssues(stacktest.Context(t), store.ReportFilter{}, limit)
		var bad *store.ReportFilterError
		require.ErrorAs(t, err, &bad, limit)
		assert.Equal(t, "limit", bad.Field)
	}
}

func subjects(issues []store.RecurringIssue) []string {
	out := make([]string, len(issues))
	for i, is := range issues {
		out[i] = is.Subject
	}
	return out
}

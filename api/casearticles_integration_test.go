//go:build integration

package main

import (
	"context"
	"encoding/json"
	"net/http"
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

// A case suggests the published articles of its category that match its
// text; an agent's reply inserts one, which the customer's message links
// and the case and the article both remember.
func TestACaseSuggestsArticlesAndAReplyRecordsTheOneItUsed(t *testing.T) {
	s := newCaseStack(t)
	ctx := stacktest.Context(t)
	word := "zq" + unique()
	publish := func(title string, status kb.Status) store.Article {
		a, err := s.db.CreateArticle(ctx, store.NewArticle{Locale: kb.LocaleEN, Category: vocab.CategoryLoginFailure,
			Title: title, BodyMD: "1. Open the login page.\n2. Choose *forgot password* (" + word + ").", Author: "agent:kb"})
		require.NoError(t, err)
		if status != kb.StatusDraft {
			a, err = s.db.SetArticleStatus(ctx, a.ID, status)
			require.NoError(t, err)
		}
		t.Cleanup(func() { _, _ = s.db.Pool().Exec(context.Background(), `DELETE FROM kb_articles WHERE id = $1`, a.ID) })
		return a
	}
	good := publish("Cannot use my account "+word+" after a password reset", kb.StatusPublished)
	draft := publish("Cannot use my account "+word+" (draft)", kb.StatusDraft)

	body := newCaseBody(vocab.CategoryLoginFailure)
	body.Subject = "Cannot use my account " + word
	c := s.open(t, store.RoleIntegration, body)

	var read struct {
		cases.CaseView
		Suggested []store.ArticleHit `json:"suggested_articles"`
	}
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		r := s.as(t, store.RoleAgent, http.MethodGet, "/v1/cases/"+c.ID, nil)
		require.Equal(ct, http.StatusOK, r.Status)
		require.NoError(ct, json.Unmarshal(r.Body, &read))
		require.NotEmpty(ct, read.Suggested)
	}, 10*time.Second, 100*time.Millisecond)
	assert.LessOrEqual(t, len(read.Suggested), maxSuggestions)
	assert.Equal(t, good.ID, read.Suggested[0].ID, "the published article of the case's category comes first")
	for _, h := range read.Suggested {
		assert.NotEqual(t, draft.ID, h.ID, "a draft is never suggested")
	}

	p := problemOf(t, s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+c.ID+"/replies",
		map[string]string{"body": "Here is how:", "article_id": draft.ID}), http.StatusUnprocessableEntity)
	assert.Equal(t, "article_id", p.Errors[0].Field)
	r := s.as(t, store.RoleAgent, http.MethodPost, "/v1/cases/"+c.ID+"/replies",
		map[string]string{"body": "Here is how:", "article_id": good.ID})
	v := caseOf(t, r, http.StatusOK)
	assert.Equal(t, cases.StatusOpen, v.Status)

	tl := s.as(t, store.RoleAgent, http.MethodGet, "/v1/cases/"+c.ID+"/timeline", nil)
	require.Equal(t, http.StatusOK, tl.Status, "%s", tl)
	var timeline struct {
		Events []vocab.Event `json:"events"`
	}
	require.NoError(t, json.Unmarshal(tl.Body, &timeline))
	var reply *vocab.Event
	for i, e := range timeline.Events {
		if e.Kind == cases.EventAgentReply {
			reply = &timeline.Events[i]
		}
	}
	require.NotNil(t, reply, "%s", tl)
	assert.Equal(t, good.ID, reply.Payload["article_id"])
	assert.Contains(t, reply.Payload["body"], good.Title+": ", "the article's title and link are in the reply")
	assert.Contains(t, reply.Payload["body"], "/kb/"+good.ID)

	uses, err := s.db.ArticleCases(ctx, good.ID)
	require.NoError(t, err)
	require.Len(t, uses, 1)
	assert.Equal(t, c.ID, uses[0].CaseID)
}

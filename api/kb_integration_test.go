//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/kb"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/vocab"
)

// kbStack is the knowledge base's routes on the stack's Postgres, served
// as routes() will serve them: the public part outside, the keyed routes
// behind the real key lookup and the access table.
type kbStack struct {
	base  string
	db    *store.Store
	admin apiKey
	word  string
}

func newKBStack(t *testing.T) *kbStack {
	t.Helper()
	db := stacktest.Store(t)
	s := &server{registry: prometheus.NewRegistry(), logger: stacktest.Logger(t), store: db}
	r := chi.NewRouter()
	s.mountKB(r)
	r.Group(func(r chi.Router) {
		r.Use(authenticate(db.LookupAPIKey))
		api := humachi.New(r, humaConfig())
		api.UseMiddleware(authorize(api), requireCleanText(api))
		s.registerKB(api, func(id, method, path, summary string, status int) huma.Operation {
			return huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, DefaultStatus: status}
		})
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	// A word only this test's articles hold: every search names it.
	word := "kbt" + strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return 'a' + r - '0'
		}
		return r
	}, unique())
	return &kbStack{base: srv.URL, db: db, admin: newAPIKey(t, db, store.RoleAdmin), word: word}
}

// do sends method path with body (JSON when not nil) with the admin's key
// when keyed, and headers as name, value pairs; it answers the status,
// the headers and the body.
func (s *kbStack) do(t *testing.T, keyed bool, method, path string, body any, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(stacktest.Context(t), method, s.base+path, r)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if keyed {
		req.Header.Set("Authorization", "Bearer "+s.admin.Secret)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, out
}

func (s *kbStack) create(t *testing.T, locale kb.Locale, category vocab.Category, title, body string) articleView {
	t.Helper()
	status, _, out := s.do(t, true, http.MethodPost, "/v1/kb/articles",
		map[string]string{"locale": string(locale), "category": string(category), "title": title, "body_md": body})
	require.Equal(t, http.StatusCreated, status, string(out))
	var v articleView
	require.NoError(t, json.Unmarshal(out, &v))
	t.Cleanup(func() {
		_, _ = s.db.Pool().Exec(context.Background(), `DELETE FROM kb_articles WHERE id = $1`, v.ID)
	})
	return v
}

func (s *kbStack) publish(t *testing.T, id string) {
	t.Helper()
	status, _, out := s.do(t, true, http.MethodPost, "/v1/kb/articles/"+id+"/publish", nil)
	require.Equal(t, http.StatusOK, status, string(out))
}

func TestAnArticleIsWrittenEditedPublishedFoundAndArchived(t *testing.T) {
	s := newKBStack(t)
	w := s.word
	a := s.create(t, kb.LocaleFR, vocab.CategoryLockedAccount, "Compte bloqué "+w,
		"Après cinq essais nous pouvons **bloquer** le compte.\n\n<script>alert(1)</script>")
	assert.Equal(t, 1, a.Version)
	assert.Equal(t, "admin:"+s.admin.Name, a.Author)
	assert.NotContains(t, a.BodyHTML, "<script")

	// Two edits on version 1: the second is stale.
	edit := map[string]any{"version": 1, "category": "locked_account", "title": "Compte bloqué " + w,
		"body_md": "Après cinq essais nous pouvons **bloquer** le compte une heure. " + w}
	status, _, out := s.do(t, true, http.MethodPut, "/v1/kb/articles/"+a.ID, edit)
	require.Equal(t, http.StatusOK, status, string(out))
	edit["body_md"] = "Une autre version. " + w
	status, _, out = s.do(t, true, http.MethodPut, "/v1/kb/articles/"+a.ID, edit)
	require.Equal(t, http.StatusConflict, status, string(out))
	assert.Contains(t, string(out), "is at version 2, not 1")

	// A draft is not public, nor in the public search.
	status, _, _ = s.do(t, false, http.MethodGet, "/kb/"+a.ID, nil)
	assert.Equal(t, http.StatusNotFound, status)
	status, _, out = s.do(t, false, http.MethodGet, "/kb?locale=fr&q="+url.QueryEscape("bloqué "+w), nil)
	require.Equal(t, http.StatusOK, status)
	assert.NotContains(t, string(out), a.ID)
	// Staff find it when asked for drafts.
	status, _, out = s.do(t, true, http.MethodGet, "/v1/kb/search?locale=fr&status=draft&q="+url.QueryEscape("bloqué "+w), nil)
	require.Equal(t, http.StatusOK, status, string(out))
	assert.Contains(t, string(out), a.ID)

	s.publish(t, a.ID)
	status, h, out := s.do(t, false, http.MethodGet, "/kb/"+a.ID, nil)
	require.Equal(t, http.StatusOK, status, string(out))
	assert.Contains(t, string(out), "<strong>bloquer</strong>")
	assert.Equal(t, "public, max-age=300", h.Get("Cache-Control"))
	tag := h.Get("ETag")
	status, _, _ = s.do(t, false, http.MethodGet, "/kb/"+a.ID, nil, "If-None-Match", tag)
	assert.Equal(t, http.StatusNotModified, status)

	// French stemming on the public search page: bloqué finds bloquer.
	status, _, out = s.do(t, false, http.MethodGet, "/kb?locale=fr&q="+url.QueryEscape("bloqué "+w), nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(out), `href="kb/`+a.ID+`"`)
	assert.Contains(t, string(out), "<mark>bloqu")

	// And a typo through the staff search.
	status, _, out = s.do(t, true, http.MethodGet, "/v1/kb/search?locale=fr&q="+url.QueryEscape("compt bloqé "+w), nil)
	require.Equal(t, http.StatusOK, status, string(out))
	var found searchArticlesOutput
	require.NoError(t, json.Unmarshal(out, &found.Body))
	require.NotEmpty(t, found.Body.Hits)
	assert.Equal(t, a.ID, found.Body.Hits[0].ID)
	assert.Equal(t, store.MatchedTrigram, found.Body.Hits[0].MatchedBy)

	status, _, out = s.do(t, false, http.MethodGet, "/kb/articles/"+a.ID+".json", nil)
	require.Equal(t, http.StatusOK, status, string(out))
	assert.Contains(t, string(out), `"version":2`)

	// Versions and their diff.
	status, _, out = s.do(t, true, http.MethodGet, "/v1/kb/articles/"+a.ID+"/versions", nil)
	require.Equal(t, http.StatusOK, status, string(out))
	var versions listVersionsOutput
	require.NoError(t, json.Unmarshal(out, &versions.Body))
	require.Len(t, versions.Body.Versions, 2)
	status, _, out = s.do(t, true, http.MethodGet, "/v1/kb/articles/"+a.ID+"/diff?from=1&to=2", nil)
	require.Equal(t, http.StatusOK, status, string(out))
	var diff diffArticleOutput
	require.NoError(t, json.Unmarshal(out, &diff.Body))
	assert.Contains(t, diff.Body.Diff, "+Après cinq essais nous pouvons **bloquer** le compte une heure. "+w+"\n")
	assert.Contains(t, diff.Body.Diff, "-<script>alert(1)</script>\n")

	status, _, _ = s.do(t, true, http.MethodPost, "/v1/kb/articles/"+a.ID+"/archive", nil)
	require.Equal(t, http.StatusOK, status)
	status, h, out = s.do(t, false, http.MethodGet, "/kb/"+a.ID, nil, "If-None-Match", tag)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	assert.Contains(t, string(out), kbTexts[kb.LocaleEN].NotFoundTitle)
}

func TestTheKeyedRoutesNeedAKeyAndThePublicOnesDoNot(t *testing.T) {
	s := newKBStack(t)
	status, _, _ := s.do(t, false, http.MethodGet, "/v1/kb/search?q=x", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _, _ = s.do(t, false, http.MethodGet, "/kb?q=x", nil)
	assert.Equal(t, http.StatusOK, status)
	status, _, out := s.do(t, true, http.MethodGet, "/v1/kb/articles?category=billing", nil)
	assert.Equal(t, http.StatusUnprocessableEntity, status, string(out))
	status, _, out = s.do(t, true, http.MethodGet, "/v1/kb/articles/KB-NONE", nil)
	assert.Equal(t, http.StatusNotFound, status, string(out))
}

// TestSearchFindsAmongHundredsOfArticles loads 500 published articles and
// searches them through the API, full-text and typo alike: every query
// finds its topic. How fast is measured by make bench, not here.
func TestSearchFindsAmongHundredsOfArticles(t *testing.T) {
	s := newKBStack(t)
	ctx := stacktest.Context(t)
	topics := []string{"account locked after failed logins", "reset your password", "parcel delivery delay",
		"refund of a defective item", "seller payout schedule", "dispute with a seller", "merge two accounts"}
	articles := make([]store.Article, 500)
	ids := make([]string, len(articles))
	for i := range articles {
		ids[i] = store.NewArticleID()
		topic := topics[i%len(topics)]
		locale := kb.LocaleEN
		if i%3 == 0 {
			locale = kb.LocaleFR
		}
		articles[i] = store.Article{ArticleSummary: store.ArticleSummary{ID: ids[i], Locale: locale,
			Category: vocab.Categories[i%len(vocab.Categories)], Title: fmt.Sprintf("%s %d %s", topic, i, s.word),
			Status: kb.StatusPublished, Author: "seed"},
			BodyMD: strings.Repeat(fmt.Sprintf("When your %s, follow these steps. %s\n\n", topic, s.word), 20)}
	}
	t.Cleanup(func() {
		_, _ = s.db.Pool().Exec(context.Background(), `DELETE FROM kb_articles WHERE id = ANY ($1)`, ids)
	})
	_, err := s.db.CopyArticles(ctx, articles)
	require.NoError(t, err)
	_, err = s.db.Pool().Exec(ctx, `ANALYZE kb_articles`)
	require.NoError(t, err)

	for _, q := range []string{"locked account", "password", "acount locked", "payout " + s.word, "delivery delay"} {
		status, _, out := s.do(t, true, http.MethodGet, "/v1/kb/search?locale=en&q="+url.QueryEscape(q), nil)
		require.Equal(t, http.StatusOK, status, string(out))
		var res struct {
			Hits []struct {
				ID string `json:"id"`
			} `json:"hits"`
		}
		require.NoError(t, json.Unmarshal(out, &res), string(out))
		assert.NotEmpty(t, res.Hits, "%q finds its topic among %d articles", q, len(articles))
	}
}

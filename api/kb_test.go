package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/kb"
	"handoff/store"
	"handoff/workflows/vocab"
)

// fakeKB stands for the store behind the knowledge base: articles and
// their versions in memory, with the store's refusals; search answers
// hits and keeps the search it was asked; broken answers every call.
type fakeKB struct {
	mu       sync.Mutex
	articles map[string]store.Article
	versions map[string][]store.ArticleVersion
	hits     []store.ArticleHit
	searched []store.ArticleSearch
	broken   error
}

func newFakeKB() *fakeKB {
	return &fakeKB{articles: map[string]store.Article{}, versions: map[string][]store.ArticleVersion{}}
}

var kbTime = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// put stores a as it is, with one version per version number up to its own.
func (f *fakeKB) put(a store.Article) store.Article {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.articles[a.ID] = a
	for n := len(f.versions[a.ID]) + 1; n <= a.Version; n++ {
		f.versions[a.ID] = append(f.versions[a.ID], store.ArticleVersion{ArticleID: a.ID, Version: n, Title: a.Title,
			Category: a.Category, Author: a.Author, CreatedAt: a.UpdatedAt, BodyMD: a.BodyMD})
	}
	return a
}

func kbArticle(id string, status kb.Status, body string) store.Article {
	return store.Article{ArticleSummary: store.ArticleSummary{ID: id, Locale: kb.LocaleEN, Category: vocab.CategoryLockedAccount,
		Title: "Account locked", Status: status, Author: "agent:alice", Version: 1, CreatedAt: kbTime, UpdatedAt: kbTime},
		BodyMD: body}
}

func (f *fakeKB) CreateArticle(_ context.Context, in store.NewArticle) (store.Article, error) {
	if f.broken != nil {
		return store.Article{}, f.broken
	}
	a := store.Article{ArticleSummary: store.ArticleSummary{ID: "KB-NEW", Locale: in.Locale, Category: in.Category, Title: in.Title,
		Status: kb.StatusDraft, Author: in.Author, Version: 1, CreatedAt: kbTime, UpdatedAt: kbTime}, BodyMD: in.BodyMD}
	return f.put(a), nil
}

func (f *fakeKB) UpdateArticle(_ context.Context, id string, expected int, e store.ArticleEdit) (store.Article, error) {
	a, err := f.GetArticle(context.Background(), id)
	if err != nil {
		return a, err
	}
	if a.Version != expected {
		return store.Article{}, &store.StaleVersionError{ID: id, Expected: expected, Current: a.Version}
	}
	a.Version++
	a.Title, a.BodyMD, a.Category = e.Title, e.BodyMD, e.Category
	return f.put(a), nil
}

func (f *fakeKB) SetArticleStatus(_ context.Context, id string, status kb.Status) (store.Article, error) {
	a, err := f.GetArticle(context.Background(), id)
	if err != nil {
		return a, err
	}
	a.Status = status
	return f.put(a), nil
}

func (f *fakeKB) GetArticle(_ context.Context, id string) (store.Article, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken != nil {
		return store.Article{}, f.broken
	}
	a, ok := f.articles[id]
	if !ok {
		return store.Article{}, store.ErrNotFound
	}
	return a, nil
}

func (f *fakeKB) ListArticles(_ context.Context, fl store.ArticleFilter) ([]store.ArticleSummary, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl.Cursor != "" {
		return nil, "", store.ErrBadCursor
	}
	var out []store.ArticleSummary
	for _, a := range f.articles {
		if fl.Status == "" || a.Status == fl.Status {
			out = append(out, a.ArticleSummary)
		}
	}
	return out, "", nil
}

func (f *fakeKB) ArticleVersions(_ context.Context, id string) ([]store.ArticleVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs, ok := f.versions[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	out := make([]store.ArticleVersion, len(vs))
	for i, v := range vs {
		v.BodyMD = ""
		out[len(vs)-1-i] = v
	}
	return out, nil
}

func (f *fakeKB) ArticleVersion(_ context.Context, id string, n int) (store.ArticleVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.versions[id]
	if n < 1 || n > len(vs) {
		return store.ArticleVersion{}, store.ErrNotFound
	}
	return vs[n-1], nil
}

func (f *fakeKB) Search(_ context.Context, s store.ArticleSearch) ([]store.ArticleHit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken != nil {
		return nil, f.broken
	}
	f.searched = append(f.searched, s)
	return f.hits, nil
}

// kbServer is the knowledge base alone over articles: its public part,
// and its keyed routes behind the API's own authentication and
// authorization (the access table decides; until its entries are in it,
// admins only).
func kbServer(articles knowledgeBase) http.Handler {
	r := chi.NewRouter()
	newKBPages(articles, quiet).mount(r)
	r.Group(func(r chi.Router) {
		r.Use(authenticate(fakeKeys))
		api := humachi.New(r, humaConfig())
		api.UseMiddleware(authorize(api), requireCleanText(api))
		(&kbRoutes{articles: articles, logger: quiet}).register(api, func(id, method, path, summary string, status int) huma.Operation {
			return huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, DefaultStatus: status}
		})
	})
	return r
}

// kbDo sends method path with body (JSON, none when empty) as role (no
// key when empty) and headers as name, value pairs.
func kbDo(h http.Handler, role store.Role, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, path, nil)
	} else {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer key-"+string(role))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func kbProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) problem {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	return p
}

func TestCreatingAnArticleAnswersItsSanitizedHTMLAndWhereItIs(t *testing.T) {
	f := newFakeKB()
	rec := kbDo(kbServer(f), store.RoleAdmin, http.MethodPost, "/v1/kb/articles",
		`{"locale":"en","category":"locked_account","title":"Account locked","body_md":"## Why\n\n<script>alert(1)</script>We lock after [five](javascript:alert(2)) tries."}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Equal(t, "/v1/kb/articles/KB-NEW", rec.Header().Get("Location"))
	var v articleView
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v))
	assert.Equal(t, "admin:test", v.Author)
	assert.Equal(t, kb.StatusDraft, v.Status)
	assert.Contains(t, v.BodyHTML, "<h2>Why</h2>")
	assert.NotContains(t, v.BodyHTML, "script")
	assert.NotContains(t, v.BodyHTML, "javascript")
	assert.Contains(t, v.BodyMD, "<script>", "the Markdown is kept as written")
}

func TestAnInvalidArticleNamesEveryWrongField(t *testing.T) {
	h := kbServer(newFakeKB())
	p := kbProblem(t, kbDo(h, store.RoleAdmin, http.MethodPost, "/v1/kb/articles",
		`{"locale":"de","category":"billing","title":"x","body_md":""}`), http.StatusUnprocessableEntity)
	assert.ElementsMatch(t, []string{"locale", "category", "title", "body_md"}, fieldsNamed(p))

	p = kbProblem(t, kbDo(h, store.RoleAdmin, http.MethodPost, "/v1/kb/articles",
		`{"locale":"en","category":"general_question","title":"Two\nlines","body_md":"`+strings.Repeat("é", kb.MaxBodyBytes/2+1)+`"}`),
		http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"title", "body_md"}, fieldsNamed(p))

	p = kbProblem(t, kbDo(h, store.RoleAdmin, http.MethodPost, "/v1/kb/articles",
		`{"locale":"en","category":"general_question","title":"A title","body_md":"x","author":"me"}`), http.StatusBadRequest)
	assert.Equal(t, []string{"author"}, fieldsNamed(p))
}

func TestAnEditOnAStaleVersionIs409NamingTheCurrentOne(t *testing.T) {
	f := newFakeKB()
	a := kbArticle("KB-1", kb.StatusPublished, "Wait an hour.")
	a.Version = 3
	f.put(a)
	h := kbServer(f)
	edit := `{"version":2,"category":"locked_account","title":"Account locked","body_md":"Wait two hours."}`
	p := kbProblem(t, kbDo(h, store.RoleAdmin, http.MethodPut, "/v1/kb/articles/KB-1", edit), http.StatusConflict)
	assert.Equal(t, []string{"version"}, fieldsNamed(p))
	assert.Contains(t, p.Detail, "article KB-1 is at version 3, not 2")

	rec := kbDo(h, store.RoleAdmin, http.MethodPut, "/v1/kb/articles/KB-1", strings.Replace(edit, `"version":2`, `"version":3`, 1))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var v articleView
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v))
	assert.Equal(t, 4, v.Version)
	assert.Equal(t, "<p>Wait two hours.</p>\n", v.BodyHTML)

	kbProblem(t, kbDo(h, store.RoleAdmin, http.MethodPut, "/v1/kb/articles/KB-NONE", edit), http.StatusNotFound)
}

func TestTheDiffIsUnifiedBetweenTheVersionsAsked(t *testing.T) {
	f := newFakeKB()
	a := f.put(kbArticle("KB-1", kb.StatusDraft, "Wait an hour."))
	for _, body := range []string{"Wait an hour.\nThen sign in.", "Wait two hours.\nThen sign in."} {
		a.Version++
		a.BodyMD = body
		f.put(a)
	}
	h := kbServer(f)
	rec := kbDo(h, store.RoleAdmin, http.MethodGet, "/v1/kb/articles/KB-1/diff?from=1&to=3", "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var out diffArticleOutput
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out.Body))
	assert.Equal(t, "--- KB-1 v1\n+++ KB-1 v3\n@@ -1,3 +1,4 @@\n Account locked\n \n-Wait an hour.\n+Wait two hours.\n+Then sign in.\n", out.Body.Diff)
	assert.Equal(t, 1, out.Body.From.Version)
	assert.Empty(t, out.Body.To.BodyMD)

	// Without versions: the newest against the one before.
	rec = kbDo(h, store.RoleAdmin, http.MethodGet, "/v1/kb/articles/KB-1/diff", "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out.Body))
	assert.Equal(t, []int{2, 3}, []int{out.Body.From.Version, out.Body.To.Version})

	p := kbProblem(t, kbDo(h, store.RoleAdmin, http.MethodGet, "/v1/kb/articles/KB-1/diff?from=1&to=9", ""), http.StatusNotFound)
	assert.Equal(t, []string{"to"}, fieldsNamed(p))
	p = kbProblem(t, kbDo(h, store.RoleAdmin, http.MethodGet, "/v1/kb/articles/KB-1/diff?from=-1", ""), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"from"}, fieldsNamed(p))
}

func TestStaffSearchKeepsPublishedArticlesUnlessAskedForOthers(t *testing.T) {
	f := newFakeKB()
	f.hits = []store.ArticleHit{{ArticleSummary: kbArticle("KB-1", kb.StatusPublished, "").ArticleSummary, Rank: 0.6,
		Snippet: "<mark>locked</mark>", MatchedBy: store.MatchedFTS}}
	h := kbServer(f)
	for _, status := range []string{"", "any", "draft"} {
		rec := kbDo(h, store.RoleAdmin, http.MethodGet, "/v1/kb/search?q=locked+account&locale=fr&status="+status, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Contains(t, rec.Body.String(), `"matched_by":"fts"`)
	}
	assert.Equal(t, []store.ArticleSearch{
		{Query: "locked account", Locale: kb.LocaleFR, Status: kb.StatusPublished, Limit: 10},
		{Query: "locked account", Locale: kb.LocaleFR, Status: "", Limit: 10},
		{Query: "locked account", Locale: kb.LocaleFR, Status: kb.StatusDraft, Limit: 10},
	}, f.searched)

	p := kbProblem(t, kbDo(h, store.RoleAdmin, http.MethodGet, "/v1/kb/search?locale=xx&status=deleted&limit=99", ""), http.StatusUnprocessableEntity)
	assert.ElementsMatch(t, []string{"q", "locale", "status", "limit"}, fieldsNamed(p))
}

func TestAListWithAForeignCursorNamesTheCursor(t *testing.T) {
	p := kbProblem(t, kbDo(kbServer(newFakeKB()), store.RoleAdmin, http.MethodGet, "/v1/kb/articles?cursor=abc", ""), http.StatusUnprocessableEntity)
	assert.Equal(t, []string{"cursor"}, fieldsNamed(p))
}

func TestAnUnreachableStoreIs503NeverA500(t *testing.T) {
	f := newFakeKB()
	f.broken = errors.New("connection refused")
	h := kbServer(f)
	kbProblem(t, kbDo(h, store.RoleAdmin, http.MethodGet, "/v1/kb/articles/KB-1", ""), http.StatusServiceUnavailable)
	kbProblem(t, kbDo(h, store.RoleAdmin, http.MethodGet, "/v1/kb/search?q=x", ""), http.StatusServiceUnavailable)
	kbProblem(t, kbDo(h, "", http.MethodGet, "/kb/articles/KB-1.json", ""), http.StatusServiceUnavailable)
	rec := kbDo(h, "", http.MethodGet, "/kb/KB-1", "")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Contains(t, rec.Body.String(), kbTexts[kb.LocaleEN].UnavailableTitle)
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
}

func TestTheIntegrationRoleNeitherWritesNorReadsArticles(t *testing.T) {
	h := kbServer(newFakeKB())
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, "/v1/kb/articles", `{}`},
		{http.MethodPut, "/v1/kb/articles/KB-1", `{}`},
		{http.MethodPost, "/v1/kb/articles/KB-1/publish", ""},
		{http.MethodGet, "/v1/kb/search?q=x", ""},
	} {
		p := kbProblem(t, kbDo(h, store.RoleIntegration, c.method, c.path, c.body), http.StatusForbidden)
		assert.Contains(t, p.Detail, "the integration role may not", c.path)
	}
}

// TestAgentsWriteAndEveryStaffRoleSearches runs once the knowledge base's
// entries are in the access table (auth.go).
func TestAgentsWriteAndEveryStaffRoleSearches(t *testing.T) {
	if _, wired := access["create-kb-article"]; !wired {
		t.Skip("the knowledge base's operations are not in the access table yet")
	}
	f := newFakeKB()
	h := kbServer(f)
	rec := kbDo(h, store.RoleAgent, http.MethodPost, "/v1/kb/articles",
		`{"locale":"en","category":"locked_account","title":"Account locked","body_md":"Wait."}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	for _, role := range staff {
		assert.Equal(t, http.StatusOK, kbDo(h, role, http.MethodGet, "/v1/kb/search?q=x", "").Code, role)
	}
	for _, role := range []store.Role{store.RoleAccountManager, store.RoleSecurity, store.RoleTrustSafety} {
		kbProblem(t, kbDo(h, role, http.MethodPost, "/v1/kb/articles/KB-NEW/publish", ""), http.StatusForbidden)
	}
}

func TestAPublishedArticlePageIsCacheableAndRevalidates(t *testing.T) {
	f := newFakeKB()
	f.put(kbArticle("KB-1", kb.StatusPublished, "## Steps\n\n1. Wait\n2. <b onmouseover=x()>Retry</b>"))
	h := kbServer(f)
	rec := kbDo(h, "", http.MethodGet, "/kb/KB-1", "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, "public, max-age=300", rec.Header().Get("Cache-Control"))
	assert.Equal(t, kbCSP, rec.Header().Get("Content-Security-Policy"))
	tag := rec.Header().Get("ETag")
	assert.Equal(t, `"KB-1-v1-`+itoa(kbTime.Unix())+`-h1"`, tag)
	body := rec.Body.String()
	assert.Contains(t, body, `<html lang="en">`)
	assert.Contains(t, body, "<h1>Account locked</h1>")
	assert.Contains(t, body, "<h2>Steps</h2>")
	assert.Contains(t, body, "Updated 2 March 2026")
	assert.Contains(t, body, `href="../pages/style.css"`)
	assert.NotContains(t, body, "onmouseover")

	rec = kbDo(h, "", http.MethodGet, "/kb/KB-1", "", "If-None-Match", `"other", W/`+tag)
	assert.Equal(t, http.StatusNotModified, rec.Code)
	assert.Empty(t, rec.Body.String())
	assert.Equal(t, tag, rec.Header().Get("ETag"))

	// An edit is a new version: the kept page is stale.
	a := kbArticle("KB-1", kb.StatusPublished, "Changed.")
	a.Version = 2
	f.put(a)
	assert.Equal(t, http.StatusOK, kbDo(h, "", http.MethodGet, "/kb/KB-1", "", "If-None-Match", tag).Code)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestAFrenchArticleIsAFrenchPage(t *testing.T) {
	f := newFakeKB()
	a := kbArticle("KB-FR", kb.StatusPublished, "Attendez une heure.")
	a.Locale, a.Title = kb.LocaleFR, "Compte bloqué"
	f.put(a)
	rec := kbDo(kbServer(f), "", http.MethodGet, "/kb/KB-FR", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `<html lang="fr">`)
	assert.Contains(t, rec.Body.String(), "Mis à jour le 2 mars 2026")
}

func TestADraftOrUnknownArticleIsAPlain404(t *testing.T) {
	f := newFakeKB()
	f.put(kbArticle("KB-DRAFT", kb.StatusDraft, "Not yet."))
	f.put(kbArticle("KB-OLD", kb.StatusArchived, "No more."))
	h := kbServer(f)
	for _, path := range []string{"/kb/KB-DRAFT", "/kb/KB-OLD", "/kb/KB-NONE", "/kb/" + strings.Repeat("x", 65), "/kb/a/b"} {
		rec := kbDo(h, "", http.MethodGet, path, "", "Accept-Language", "fr-FR,fr;q=0.9")
		require.Equal(t, http.StatusNotFound, rec.Code, path)
		assert.Contains(t, rec.Body.String(), kbTexts[kb.LocaleFR].NotFoundTitle, path)
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"), path)
		assert.NotContains(t, rec.Body.String(), "Not yet", path)
	}
	for _, path := range []string{"/kb/articles/KB-DRAFT.json", "/kb/articles/KB-NONE.json"} {
		p := kbProblem(t, kbDo(h, "", http.MethodGet, path, ""), http.StatusNotFound)
		assert.Contains(t, p.Detail, "no published article")
	}
	rec := kbDo(h, "", http.MethodPost, "/kb/KB-DRAFT", "")
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

func TestThePublicJSONOfAnArticleLeavesOutItsAuthor(t *testing.T) {
	f := newFakeKB()
	f.put(kbArticle("KB-1", kb.StatusPublished, "**Wait** an hour."))
	h := kbServer(f)
	rec := kbDo(h, "", http.MethodGet, "/kb/articles/KB-1.json", "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "public, max-age=300", rec.Header().Get("Cache-Control"))
	var got map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, "<p><strong>Wait</strong> an hour.</p>\n", got["body_html"])
	assert.NotContains(t, got, "author")
	assert.NotContains(t, got, "status")
	tag := rec.Header().Get("ETag")
	assert.Equal(t, http.StatusNotModified, kbDo(h, "", http.MethodGet, "/kb/articles/KB-1.json", "", "If-None-Match", tag).Code)
	assert.NotEqual(t, tag, kbDo(h, "", http.MethodGet, "/kb/KB-1", "").Header().Get("ETag"), "the page and the JSON differ")
}

func TestTheSearchPageEscapesTheQueryAndKeepsTheMarks(t *testing.T) {
	f := newFakeKB()
	f.hits = []store.ArticleHit{{ArticleSummary: kbArticle("KB-1", kb.StatusPublished, "").ArticleSummary,
		Snippet: "an &lt;b&gt; <mark>locked</mark> account", MatchedBy: store.MatchedFTS}}
	h := kbServer(f)
	rec := kbDo(h, "", http.MethodGet, "/kb?q=%3Cscript%3Elocked&locale=fr", "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := rec.Body.String()
	assert.NotContains(t, body, "<script>")
	assert.Contains(t, body, "Articles sur « &lt;script&gt;locked »")
	assert.Contains(t, body, `value="&lt;script&gt;locked"`)
	assert.Contains(t, body, `<a href="kb/KB-1">Account locked</a><p>an &lt;b&gt; <mark>locked</mark> account</p>`)
	assert.Equal(t, []store.ArticleSearch{{Query: "<script>locked", Locale: kb.LocaleFR, Status: kb.StatusPublished, Limit: kbPageHits}}, f.searched)
	assert.Equal(t, "public, max-age=300", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "Accept-Language", rec.Header().Get("Vary"))
	tag := rec.Header().Get("ETag")
	require.NotEmpty(t, tag)
	assert.Equal(t, http.StatusNotModified, kbDo(h, "", http.MethodGet, "/kb?q=%3Cscript%3Elocked&locale=fr", "", "If-None-Match", tag).Code)
}

func TestTheSearchPageWithoutAQueryListsTheLatestPublishedArticles(t *testing.T) {
	f := newFakeKB()
	f.put(kbArticle("KB-1", kb.StatusPublished, "x"))
	f.put(kbArticle("KB-2", kb.StatusDraft, "x"))
	rec := kbDo(kbServer(f), "", http.MethodGet, "/kb", "", "Accept-Language", "en-GB")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "Latest articles")
	assert.Contains(t, rec.Body.String(), `href="kb/KB-1"`)
	assert.NotContains(t, rec.Body.String(), "KB-2")
}

func TestATooLongSearchIsA400Page(t *testing.T) {
	rec := kbDo(kbServer(newFakeKB()), "", http.MethodGet, "/kb?q="+strings.Repeat("a", kbMaxQueryRunes+1), "")
	require.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), kbTexts[kb.LocaleEN].BadQueryTitle)
	rec = kbDo(kbServer(newFakeKB()), "", http.MethodGet, "/kb?q=%ff", "")
	assert.Equal(t, http.StatusBadRequest, rec.Code)
}

func TestTheKnowledgeBaseStylesheetIsServed(t *testing.T) {
	rec := kbDo(kbServer(newFakeKB()), "", http.MethodGet, "/kb/style.css", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/css; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Contains(t, rec.Body.String(), "mark {")
}

func TestEtagMatchesListsWeakTagsAndTheWildcard(t *testing.T) {
	assert.True(t, etagMatches(`"a", W/"b"`, `"b"`))
	assert.True(t, etagMatches(`*`, `"b"`))
	assert.False(t, etagMatches(`"a"`, `"b"`))
	assert.False(t, etagMatches(``, `"b"`))
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"handoff/kb"
	"handoff/store"
	"handoff/workflows/vocab"
)

// The knowledge base, for staff: agents and admins write articles (every
// edit a new version, made on the version it names, else 409), publish
// and archive them; every staff role reads, diffs and searches them. The
// articles live in Postgres only: no workflow runs behind them. The public
// part (published articles, a search page) is kbpages.go.

// knowledgeBase is what the knowledge base routes need of the store.
type knowledgeBase interface {
	CreateArticle(ctx context.Context, in store.NewArticle) (store.Article, error)
	UpdateArticle(ctx context.Context, id string, expected int, e store.ArticleEdit) (store.Article, error)
	SetArticleStatus(ctx context.Context, id string, status kb.Status) (store.Article, error)
	GetArticle(ctx context.Context, id string) (store.Article, error)
	ListArticles(ctx context.Context, f store.ArticleFilter) ([]store.ArticleSummary, string, error)
	ArticleVersions(ctx context.Context, id string) ([]store.ArticleVersion, error)
	ArticleVersion(ctx context.Context, id string, n int) (store.ArticleVersion, error)
	Search(ctx context.Context, f store.ArticleSearch) ([]store.ArticleHit, error)
}

// kbRoutes serves the knowledge base's routes, keyed and public.
type kbRoutes struct {
	articles knowledgeBase
	logger   *slog.Logger
}

// kbTags is the OpenAPI tag of the keyed routes.
var kbTags = []string{"knowledge base"}

// registerKB adds the /v1/kb operations, and documents the public pages
// mountKB serves (the document is built here, not where they mount).
func (s *server) registerKB(api huma.API, op func(id, method, path, summary string, status int) huma.Operation) {
	(&kbRoutes{articles: s.store, logger: s.logger}).register(api, op)
	for _, o := range kbPageOperations() {
		api.OpenAPI().AddOperation(o)
	}
}

func (k *kbRoutes) register(api huma.API, op func(id, method, path, summary string, status int) huma.Operation) {
	tagged := func(o huma.Operation) huma.Operation {
		o.Tags = kbTags
		return o
	}
	huma.Register(api, tagged(op("create-kb-article", http.MethodPost, "/v1/kb/articles", "Write a new article (a draft, version 1)", 201)), k.createArticle)
	huma.Register(api, tagged(op("list-kb-articles", http.MethodGet, "/v1/kb/articles", "List articles, the latest edited first", 200)), k.listArticles)
	huma.Register(api, tagged(op("get-kb-article", http.MethodGet, "/v1/kb/articles/{id}", "Read an article, its Markdown rendered", 200)), k.getArticle)
	huma.Register(api, tagged(op("update-kb-article", http.MethodPut, "/v1/kb/articles/{id}", "Edit an article: its next version", 200)), k.updateArticle)
	huma.Register(api, tagged(op("publish-kb-article", http.MethodPost, "/v1/kb/articles/{id}/publish", "Publish an article: public, and suggested on cases", 200)), k.publishArticle)
	huma.Register(api, tagged(op("archive-kb-article", http.MethodPost, "/v1/kb/articles/{id}/archive", "Archive an article: no longer public nor suggested", 200)), k.archiveArticle)
	huma.Register(api, tagged(op("list-kb-article-versions", http.MethodGet, "/v1/kb/articles/{id}/versions", "List an article's versions, newest first", 200)), k.listVersions)
	huma.Register(api, tagged(op("diff-kb-article", http.MethodGet, "/v1/kb/articles/{id}/diff", "Diff two versions of an article (unified diff)", 200)), k.diffArticle)
	huma.Register(api, tagged(op("search-kb-articles", http.MethodGet, "/v1/kb/search", "Search articles in English and French, typos and all", 200)), k.searchArticles)
}

type (
	// kbLocaleName is an article's language.
	kbLocaleName string
	// kbStatusName is an article's status.
	kbStatusName string
	// kbSearchStatus is the status a staff search keeps: published unless
	// asked, "any" for every status.
	kbSearchStatus string
)

// Schema lists every locale.
func (kbLocaleName) Schema(huma.Registry) *huma.Schema { return enumSchema(kb.Locales) }

// Schema lists every status.
func (kbStatusName) Schema(huma.Registry) *huma.Schema { return enumSchema(kb.Statuses) }

// Schema lists every status and "any".
func (kbSearchStatus) Schema(huma.Registry) *huma.Schema {
	return enumSchema(append([]string{"any"}, statusNames()...))
}

func statusNames() []string {
	out := make([]string, len(kb.Statuses))
	for i, s := range kb.Statuses {
		out[i] = string(s)
	}
	return out
}

// KBArticleIDParam is an article id in a path.
type KBArticleIDParam struct {
	ID string `path:"id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_-]+$" doc:"The article id (KB-...)."`
}

// articleView is an article as staff read it: its Markdown and its HTML.
type articleView struct {
	store.Article
	BodyHTML string `json:"body_html" doc:"body_md rendered and sanitized: no raw HTML, no script, links rel=nofollow."`
}

func viewOf(a store.Article) articleView {
	return articleView{Article: a, BodyHTML: string(kb.Render(a.BodyMD))}
}

type articleOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     articleView
}

func answerArticle(status int, a store.Article) *articleOutput {
	return &articleOutput{Status: status, Location: "/v1/kb/articles/" + a.ID, Body: viewOf(a)}
}

type createArticleInput struct {
	Body struct {
		Locale   kbLocaleName `json:"locale"`
		Category categoryName `json:"category" doc:"The case category the article answers: cases of it are suggested it first."`
		Title    string       `json:"title" minLength:"3" maxLength:"200"`
		BodyMD   string       `json:"body_md" minLength:"1" maxLength:"102400" doc:"Markdown (GitHub tables, strikethrough, bare links), at most 100 KB; raw HTML is dropped."`
	}
}

// createArticle stores a new draft by the caller.
func (k *kbRoutes) createArticle(ctx context.Context, in *createArticleInput) (*articleOutput, error) {
	b := in.Body
	if err := checkArticle(b, string(b.Locale), string(b.Category), b.Title, b.BodyMD); err != nil {
		return nil, err
	}
	a, err := k.articles.CreateArticle(ctx, store.NewArticle{Locale: kb.Locale(b.Locale), Category: vocab.Category(b.Category),
		Title: b.Title, BodyMD: b.BodyMD, Author: callerFrom(ctx).actor()})
	if err != nil {
		return nil, k.kbError(ctx, "", err)
	}
	return answerArticle(http.StatusCreated, a), nil
}

// checkArticle refuses (422) a body holding text Postgres cannot store, or
// an article kb.Check refuses, naming each field.
func checkArticle(body any, locale, category, title, md string) error {
	if err := checkBodyText(body); err != nil {
		return err
	}
	if err := kb.Check(locale, category, title, md); err != nil {
		return invalidArticle(err)
	}
	return nil
}

// invalidArticle answers the 422 of a *kb.InvalidError, else nil.
func invalidArticle(err error) error {
	var inv *kb.InvalidError
	if !errors.As(err, &inv) {
		return nil
	}
	fields := make([]fieldProblem, len(inv.Fields))
	for i, f := range inv.Fields {
		fields[i] = fieldProblem{Field: f.Field, Message: f.Message}
	}
	return newProblem(http.StatusUnprocessableEntity, "some fields are missing or invalid", fields...)
}

type listArticlesInput struct {
	Locale   kbLocaleName `query:"locale"`
	Status   kbStatusName `query:"status"`
	Category categoryName `query:"category"`
	Limit    int          `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Cursor   string       `query:"cursor" maxLength:"500" doc:"next_cursor of the previous page."`
}

type listArticlesOutput struct {
	Body struct {
		Articles   []store.ArticleSummary `json:"articles" doc:"Without their bodies, the latest edited first."`
		NextCursor string                 `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last."`
	}
}

func (k *kbRoutes) listArticles(ctx context.Context, in *listArticlesInput) (*listArticlesOutput, error) {
	page, next, err := k.articles.ListArticles(ctx, store.ArticleFilter{Locale: kb.Locale(in.Locale), Status: kb.Status(in.Status),
		Category: vocab.Category(in.Category), Limit: in.Limit, Cursor: in.Cursor})
	if err != nil {
		return nil, k.kbError(ctx, "", err)
	}
	out := &listArticlesOutput{}
	out.Body.Articles, out.Body.NextCursor = page, next
	if out.Body.Articles == nil {
		out.Body.Articles = []store.ArticleSummary{}
	}
	return out, nil
}

func (k *kbRoutes) getArticle(ctx context.Context, in *KBArticleIDParam) (*articleOutput, error) {
	a, err := k.articles.GetArticle(ctx, in.ID)
	if err != nil {
		return nil, k.kbError(ctx, in.ID, err)
	}
	return answerArticle(http.StatusOK, a), nil
}

type updateArticleInput struct {
	KBArticleIDParam
	Body struct {
		Version  int          `json:"version" minimum:"1" doc:"The version this edit was made on: the article's newest, else 409."`
		Category categoryName `json:"category"`
		Title    string       `json:"title" minLength:"3" maxLength:"200"`
		BodyMD   string       `json:"body_md" minLength:"1" maxLength:"102400"`
	}
}

// updateArticle stores the caller's edit as the article's next version.
func (k *kbRoutes) updateArticle(ctx context.Context, in *updateArticleInput) (*articleOutput, error) {
	b := in.Body
	if err := checkArticle(b, "", string(b.Category), b.Title, b.BodyMD); err != nil {
		return nil, err
	}
	a, err := k.articles.UpdateArticle(ctx, in.ID, b.Version, store.ArticleEdit{Category: vocab.Category(b.Category),
		Title: b.Title, BodyMD: b.BodyMD, Author: callerFrom(ctx).actor()})
	if err != nil {
		return nil, k.kbError(ctx, in.ID, err)
	}
	return answerArticle(http.StatusOK, a), nil
}

func (k *kbRoutes) publishArticle(ctx context.Context, in *KBArticleIDParam) (*articleOutput, error) {
	return k.setStatus(ctx, in.ID, kb.StatusPublished)
}

func (k *kbRoutes) archiveArticle(ctx context.Context, in *KBArticleIDParam) (*articleOutput, error) {
	return k.setStatus(ctx, in.ID, kb.StatusArchived)
}

func (k *kbRoutes) setStatus(ctx context.Context, id string, status kb.Status) (*articleOutput, error) {
	a, err := k.articles.SetArticleStatus(ctx, id, status)
	if err != nil {
		return nil, k.kbError(ctx, id, err)
	}
	return answerArticle(http.StatusOK, a), nil
}

type listVersionsOutput struct {
	Body struct {
		Versions []store.ArticleVersion `json:"versions" doc:"Newest first, without their bodies."`
	}
}

func (k *kbRoutes) listVersions(ctx context.Context, in *KBArticleIDParam) (*listVersionsOutput, error) {
	versions, err := k.articles.ArticleVersions(ctx, in.ID)
	if err != nil {
		return nil, k.kbError(ctx, in.ID, err)
	}
	out := &listVersionsOutput{}
	out.Body.Versions = versions
	return out, nil
}

type diffArticleInput struct {
	KBArticleIDParam
	From int `query:"from" minimum:"0" doc:"The older version; absent or 0 for the one before to."`
	To   int `query:"to" minimum:"0" doc:"The newer version; absent or 0 for the newest."`
}

type diffArticleOutput struct {
	Body struct {
		ArticleID string               `json:"article_id"`
		From      store.ArticleVersion `json:"from" doc:"The older version, without its body."`
		To        store.ArticleVersion `json:"to" doc:"The newer version, without its body."`
		Diff      string               `json:"diff" doc:"The unified diff of the title line, a blank line and the Markdown; empty when they are the same."`
	}
}

// diffArticle answers the unified diff between two versions of an article.
func (k *kbRoutes) diffArticle(ctx context.Context, in *diffArticleInput) (*diffArticleOutput, error) {
	to := in.To
	if to == 0 {
		a, err := k.articles.GetArticle(ctx, in.ID)
		if err != nil {
			return nil, k.kbError(ctx, in.ID, err)
		}
		to = a.Version
	}
	from := in.From
	if from == 0 {
		from = max(to-1, 1)
	}
	older, err := k.version(ctx, in.ID, from, "from")
	if err != nil {
		return nil, err
	}
	newer, err := k.version(ctx, in.ID, to, "to")
	if err != nil {
		return nil, err
	}
	out := &diffArticleOutput{}
	out.Body.ArticleID = in.ID
	out.Body.Diff = kb.Unified(fmt.Sprintf("%s v%d", in.ID, from), fmt.Sprintf("%s v%d", in.ID, to),
		kb.Document(older.Title, older.BodyMD), kb.Document(newer.Title, newer.BodyMD))
	older.BodyMD, newer.BodyMD = "", ""
	out.Body.From, out.Body.To = older, newer
	return out, nil
}

// version answers version n of article id, or the 404 naming param.
func (k *kbRoutes) version(ctx context.Context, id string, n int, param string) (store.ArticleVersion, error) {
	v, err := k.articles.ArticleVersion(ctx, id, n)
	if errors.Is(err, store.ErrNotFound) {
		return v, newProblem(http.StatusNotFound, fmt.Sprintf("article %s has no version %d", id, n),
			fieldProblem{Field: param, Message: "no such version of this article"})
	}
	if err != nil {
		return v, k.kbError(ctx, id, err)
	}
	return v, nil
}

type searchArticlesInput struct {
	Q      string         `query:"q" required:"true" minLength:"1" maxLength:"200" doc:"Words to find, as typed: \"a phrase\", or, -word work; typos are forgiven on titles."`
	Locale kbLocaleName   `query:"locale" doc:"Search one language; absent searches both, each stemmed in its own."`
	Status kbSearchStatus `query:"status" doc:"Absent keeps published articles only; a status keeps that one, any keeps all."`
	Limit  int            `query:"limit" minimum:"1" maximum:"50" default:"10"`
}

type searchArticlesOutput struct {
	Body struct {
		Hits []store.ArticleHit `json:"hits" doc:"Full-text hits by rank, then typo-tolerant title hits."`
	}
}

func (k *kbRoutes) searchArticles(ctx context.Context, in *searchArticlesInput) (*searchArticlesOutput, error) {
	status := kb.StatusPublished
	switch in.Status {
	case "any":
		status = ""
	case "":
	default:
		status = kb.Status(in.Status)
	}
	hits, err := k.articles.Search(ctx, store.ArticleSearch{Query: in.Q, Locale: kb.Locale(in.Locale), Status: status, Limit: in.Limit})
	if err != nil {
		return nil, k.kbError(ctx, "", err)
	}
	out := &searchArticlesOutput{}
	out.Body.Hits = hits
	if out.Body.Hits == nil {
		out.Body.Hits = []store.ArticleHit{}
	}
	return out, nil
}

// kbError maps what the store answered about article id to a problem: an
// unknown article 404, a stale edit 409, a refused article, cursor or
// limit 422; anything else is logged and answered 503, Postgres being the
// one dependency.
func (k *kbRoutes) kbError(ctx context.Context, id string, err error) error {
	var stale *store.StaleVersionError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return newProblem(http.StatusNotFound, "no article "+id)
	case errors.As(err, &stale):
		return newProblem(http.StatusConflict, fmt.Sprintf(
			"article %s is at version %d, not %d: someone edited it meanwhile; read it again and make the edit on version %d",
			stale.ID, stale.Current, stale.Expected, stale.Current),
			fieldProblem{Field: "version", Message: fmt.Sprintf("is %d, the article is at %d", stale.Expected, stale.Current)})
	case errors.Is(err, store.ErrBadCursor):
		return newProblem(http.StatusUnprocessableEntity, "the cursor is not one this API gave",
			fieldProblem{Field: "cursor", Message: "not a cursor from next_cursor"})
	case errors.Is(err, store.ErrBadLimit):
		return newProblem(http.StatusUnprocessableEntity, "limit is out of range", fieldProblem{Field: "limit", Message: err.Error()})
	}
	if p := invalidArticle(err); p != nil {
		return p
	}
	k.logger.ErrorContext(ctx, "knowledge base failed", "article", id, "error", err)
	return newProblem(http.StatusServiceUnavailable, "the knowledge base cannot be reached: postgres unreachable; try again")
}

// kbPageOperations documents the public part of the knowledge base for
// the OpenAPI document: no key (security: []), and not huma operations
// (the router serves them, as it does the customer pages).
func kbPageOperations() []*huma.Operation {
	content := func(desc, mediaType string, schema *huma.Schema) *huma.Response {
		return &huma.Response{Description: desc, Content: map[string]*huma.MediaType{mediaType: {Schema: schema}}}
	}
	page := func(desc string) *huma.Response { return content(desc, "text/html", &huma.Schema{Type: "string"}) }
	cached := func(desc string) *huma.Response {
		r := page(desc)
		r.Headers = map[string]*huma.Param{
			"Cache-Control": {Description: "public, max-age=300", Schema: &huma.Schema{Type: "string"}},
			"ETag":          {Description: "Send it back as If-None-Match: an unchanged answer is a 304.", Schema: &huma.Schema{Type: "string"}},
		}
		return r
	}
	id := &huma.Param{Name: "id", In: "path", Required: true, Description: "The article id.",
		Schema: &huma.Schema{Type: "string", Pattern: "^[A-Za-z0-9_-]+$", MaxLength: pagePtr(64)}}
	ifNoneMatch := &huma.Param{Name: "If-None-Match", In: "header", Description: "The ETag of a kept answer.",
		Schema: &huma.Schema{Type: "string"}}
	refusals := map[string]*huma.Response{
		"429": page("Too many requests from this address; Retry-After says when to come back."),
		"503": page("Postgres is unreachable; try again."),
	}
	with := func(extra map[string]*huma.Response) map[string]*huma.Response {
		out := map[string]*huma.Response{"304": {Description: "Not modified: the If-None-Match tag is current."}}
		for k, v := range refusals {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	str := &huma.Schema{Type: "string"}
	article := &huma.Schema{Type: "object", Properties: map[string]*huma.Schema{
		"id": str, "locale": {Type: "string", Enum: []any{"en", "fr"}}, "category": str, "title": str,
		"body_md": str, "body_html": {Type: "string", Description: "body_md rendered and sanitized."},
		"version": {Type: "integer"}, "published_at": {Type: "string", Format: "date-time"},
		"updated_at": {Type: "string", Format: "date-time"},
	}}
	noKey := []map[string][]string{}
	tags := []string{"knowledge base pages"}
	return []*huma.Operation{
		{OperationID: "kb-search-page", Method: http.MethodGet, Path: "/kb", Tags: tags, Security: noKey,
			Summary: "Search the published articles (HTML)",
			Description: "The search form and, with q, the published articles matching it in the page's language " +
				"(locale, else the browser's Accept-Language), with highlighted snippets; without q, the latest published articles.",
			Parameters: []*huma.Param{
				{Name: "q", In: "query", Description: "Words to find.", Schema: &huma.Schema{Type: "string", MaxLength: pagePtr(kbMaxQueryRunes)}},
				{Name: "locale", In: "query", Description: "en or fr.", Schema: &huma.Schema{Type: "string", Enum: []any{"en", "fr"}}},
				ifNoneMatch,
			},
			Responses: with(map[string]*huma.Response{
				"200": cached("The search page."),
				"400": page("The query is too long or not text."),
			})},
		{OperationID: "kb-article-page", Method: http.MethodGet, Path: "/kb/{id}", Tags: tags, Security: noKey,
			Summary: "A published article (HTML)", Description: "In its own language; a draft or archived article is a 404 as an unknown one.",
			Parameters: []*huma.Param{id, ifNoneMatch},
			Responses: with(map[string]*huma.Response{
				"200": cached("The article's page."),
				"404": page("No such published article."),
			})},
		{OperationID: "kb-article-json", Method: http.MethodGet, Path: "/kb/articles/{id}.json", Tags: tags, Security: noKey,
			Summary:    "A published article (JSON)",
			Parameters: []*huma.Param{id, ifNoneMatch},
			Responses: with(map[string]*huma.Response{
				"200": content("The article, Cache-Control public, max-age=300, with an ETag.", "application/json", article),
				"404": content("No such published article.", "application/problem+json", &huma.Schema{Type: "object"}),
				"503": content("Postgres is unreachable; try again.", "application/problem+json", &huma.Schema{Type: "object"}),
			})},
		{OperationID: "kb-stylesheet", Method: http.MethodGet, Path: "/kb/style.css", Tags: tags, Security: noKey,
			Summary:   "The knowledge base pages' stylesheet",
			Responses: map[string]*huma.Response{"200": content("The stylesheet.", "text/css", &huma.Schema{Type: "string"})}},
	}
}

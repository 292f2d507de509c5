package main

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"handoff/kb"
	"handoff/ratelimit"
	"handoff/store"
)

// The public part of the knowledge base: published articles as pages and
// as JSON, and a search page over them, for anyone without a key. Like
// the customer pages they are server-rendered (html/template, no
// JavaScript) and every refusal is a page with its status; unlike them
// they hold nothing private, so caches may keep them: Cache-Control
// public for five minutes, an ETag, and If-None-Match answered 304.

//go:embed kbtemplates
var kbFiles embed.FS

// kbCSP lets a page load the API's stylesheets and the images of an
// article (from any https site), send its search form to the API, and
// nothing else: no script, no frame.
const kbCSP = "default-src 'none'; style-src 'self'; img-src 'self' https:; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// kbCacheControl is how long a cache may keep a public answer.
const kbCacheControl = "public, max-age=300"

// kbPageRevision changes the ETag of every page when the templates change
// what an unchanged article looks like.
const kbPageRevision = "1"

// Limits of the public part: each client address has a bucket of
// kbAddrBurst requests refilled at kbAddrRate a second (a reader opens a
// page every few seconds; a scraper runs dry and is answered 429), and a
// query has at most kbMaxQueryRunes characters.
const (
	kbAddrBurst     = 120
	kbAddrRate      = 2.0
	kbMaxQueryRunes = 200
	kbPageHits      = 20
)

// kbText is the wording of the public pages in one language.
type kbText struct {
	Lang, Brand, Footer                      string
	SearchTitle, SearchLabel, SearchButton   string
	ResultsFor, Latest, NoResults, NoArticle string
	// Updated writes the date of an article's last change.
	Updated                           string
	Months                            [12]string
	Back                              string
	NotFoundTitle, NotFoundBody       string
	BadQueryTitle, BadQueryBody       string
	TooManyTitle, TooManyBody         string
	MethodTitle, MethodBody           string
	UnavailableTitle, UnavailableBody string
	ErrorTitle, ErrorBody             string
}

var kbTexts = map[kb.Locale]*kbText{
	kb.LocaleEN: {
		Lang: "en", Brand: "Help center", Footer: "Answers from our support team.",
		SearchTitle: "How can we help?", SearchLabel: "Search the help center", SearchButton: "Search",
		ResultsFor: "Articles about “%s”", Latest: "Latest articles",
		NoResults: "No article matches. Try other words, or fewer.", NoArticle: "No article yet.",
		Updated: "Updated %[1]d %[2]s %[3]d",
		Months: [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September",
			"October", "November", "December"},
		Back:          "All articles",
		NotFoundTitle: "Article not found", NotFoundBody: "This article does not exist or is no longer published.",
		BadQueryTitle: "We could not read this search", BadQueryBody: "Search with up to 200 characters of text.",
		TooManyTitle: "Too many requests", TooManyBody: "Please wait a moment, then try again.",
		MethodTitle: "This page cannot do that", MethodBody: "Open the page from a link instead.",
		UnavailableTitle: "The help center is unavailable", UnavailableBody: "Please try again in a few minutes.",
		ErrorTitle: "Something went wrong", ErrorBody: "Please try again in a few minutes.",
	},
	kb.LocaleFR: {
		Lang: "fr", Brand: "Centre d’aide", Footer: "Les réponses de notre équipe support.",
		SearchTitle: "Comment pouvons-nous vous aider ?", SearchLabel: "Rechercher dans le centre d’aide", SearchButton: "Rechercher",
		ResultsFor: "Articles sur « %s »", Latest: "Derniers articles",
		NoResults: "Aucun article ne correspond. Essayez d’autres mots, ou moins de mots.", NoArticle: "Aucun article pour l’instant.",
		Updated: "Mis à jour le %[1]d %[2]s %[3]d",
		Months: [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
			"octobre", "novembre", "décembre"},
		Back:          "Tous les articles",
		NotFoundTitle: "Article introuvable", NotFoundBody: "Cet article n’existe pas ou n’est plus publié.",
		BadQueryTitle: "Nous n’avons pas pu lire cette recherche", BadQueryBody: "Recherchez avec 200 caractères de texte au plus.",
		TooManyTitle: "Trop de requêtes", TooManyBody: "Patientez un instant, puis réessayez.",
		MethodTitle: "Cette page ne peut pas faire cela", MethodBody: "Ouvrez plutôt la page depuis un lien.",
		UnavailableTitle: "Le centre d’aide est indisponible", UnavailableBody: "Réessayez dans quelques minutes.",
		ErrorTitle: "Une erreur est survenue", ErrorBody: "Réessayez dans quelques minutes.",
	},
}

// refusal answers the title and message of the refusal page of status.
func (t *kbText) refusal(status int) (string, string) {
	switch status {
	case http.StatusNotFound:
		return t.NotFoundTitle, t.NotFoundBody
	case http.StatusBadRequest:
		return t.BadQueryTitle, t.BadQueryBody
	case http.StatusTooManyRequests:
		return t.TooManyTitle, t.TooManyBody
	case http.StatusMethodNotAllowed:
		return t.MethodTitle, t.MethodBody
	case http.StatusServiceUnavailable:
		return t.UnavailableTitle, t.UnavailableBody
	}
	return t.ErrorTitle, t.ErrorBody
}

func (t *kbText) updated(at time.Time) string {
	at = at.UTC()
	return fmt.Sprintf(t.Updated, at.Day(), t.Months[at.Month()-1], at.Year())
}

// kbBrowserText answers the wording the browser prefers (the customer
// pages' choice: fr when preferred, else en).
func kbBrowserText(r *http.Request) *kbText {
	langs := pageTexts{en: &pageText{Lang: "en"}, fr: &pageText{Lang: "fr"}}
	return kbTexts[kb.Locale(langs.accepted(r.Header.Get("Accept-Language")).Lang)]
}

// kbPageData is what a public page template renders.
type kbPageData struct {
	Lang string
	T    *kbText
	// Root leads from the page's address back to the API's root.
	Root    string
	Title   string
	Message string
	Article *kbArticlePage
	Search  *kbSearchPage
}

type kbArticlePage struct {
	Updated string
	Body    template.HTML
}

type kbSearchPage struct {
	Query, Heading, Empty string
	Hits                  []kbPageHit
}

type kbPageHit struct {
	ID, Title string
	// Snippet is kb.MarkSnippet's HTML: escaped text and <mark>.
	Snippet template.HTML
}

// kbPages serves the public part of the knowledge base.
type kbPages struct {
	articles knowledgeBase
	logger   *slog.Logger
	now      func() time.Time
	byAddr   *ratelimit.Limiter
	// article renders an article, search the search page, message every other page.
	article, search, message *template.Template
}

func newKBPages(articles knowledgeBase, logger *slog.Logger) *kbPages {
	parse := func(name string) *template.Template {
		return template.Must(template.New(name).ParseFS(kbFiles, "kbtemplates/layout.html", "kbtemplates/"+name))
	}
	return &kbPages{articles: articles, logger: logger, now: time.Now, byAddr: ratelimit.New(kbAddrBurst, kbAddrRate),
		article: parse("article.html"), search: parse("search.html"), message: parse("message.html")}
}

// mountKB adds the public part of the knowledge base to r, outside the
// keyed /v1 API: no key, published articles only.
func (s *server) mountKB(r chi.Router) {
	newKBPages(s.store, s.logger).mount(r)
}

func (p *kbPages) mount(r chi.Router) {
	r.Route("/kb", func(r chi.Router) {
		r.Use(p.headers, p.limitAddr)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			p.refuse(w, r, http.StatusNotFound, kbBrowserText(r))
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET")
			p.refuse(w, r, http.StatusMethodNotAllowed, kbBrowserText(r))
		})
		r.Get("/", p.searchPage)
		r.Get("/style.css", p.style)
		r.Get("/articles/{id}.json", p.articleJSON)
		r.Get("/{id}", p.articlePage)
	})
}

// headers sets the security headers of every public answer, and turns a
// panic into a 500 page instead of a dropped connection. Refusals are not
// kept; a page that renders says otherwise.
func (p *kbPages) headers(next http.Handler) http.Handler {
	return guardPage(next, func(h http.Header) {
		h.Set("Content-Security-Policy", kbCSP)
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	}, func(w http.ResponseWriter, r *http.Request, v any) {
		p.logger.ErrorContext(r.Context(), "knowledge base page panicked", "path", r.URL.Path, "panic", fmt.Sprint(v))
		p.refuse(w, r, http.StatusInternalServerError, kbBrowserText(r))
	})
}

// limitAddr answers 429 to a client address that has run out of requests.
func (p *kbPages) limitAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait, ok := p.byAddr.Allow(clientAddr(r), p.now()); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			p.refuse(w, r, http.StatusTooManyRequests, kbBrowserText(r))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// style serves the knowledge base's stylesheet, over the customer pages' one.
func (p *kbPages) style(w http.ResponseWriter, _ *http.Request) {
	css, err := kbFiles.ReadFile("kbtemplates/style.css")
	if err != nil {
		http.Error(w, "no stylesheet", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(css)
}

// published answers the published article id, or writes its refusal (a
// page, or a problem when asJSON) and answers false: an unknown, draft or
// archived article is the same 404, so nothing tells a draft exists.
func (p *kbPages) published(w http.ResponseWriter, r *http.Request, id string, asJSON bool) (store.Article, bool) {
	refuse := func(status int, detail string) {
		if asJSON {
			writeProblem(w, newProblem(status, detail))
			return
		}
		p.refuse(w, r, status, kbBrowserText(r))
	}
	if !pageID.MatchString(id) {
		refuse(http.StatusNotFound, "no published article "+id)
		return store.Article{}, false
	}
	a, err := p.articles.GetArticle(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && a.Status != kb.StatusPublished):
		refuse(http.StatusNotFound, "no published article "+id)
		return store.Article{}, false
	case err != nil:
		p.logger.ErrorContext(r.Context(), "knowledge base page failed", "article", id, "error", err)
		refuse(http.StatusServiceUnavailable, "the knowledge base cannot be reached; try again")
		return store.Article{}, false
	}
	return a, true
}

// articleTag is the ETag of a published article's answer of kind (h for
// the page, j for the JSON): its id and version name its content, its
// last change the date it shows.
func articleTag(a store.Article, kind string) string {
	return fmt.Sprintf(`"%s-v%d-%d-%s%s"`, a.ID, a.Version, a.UpdatedAt.Unix(), kind, kbPageRevision)
}

// fresh sets the caching headers of an answer whose ETag is tag and
// answers true, having written 304, when the request's If-None-Match has it.
func fresh(w http.ResponseWriter, r *http.Request, tag string) bool {
	w.Header().Set("Cache-Control", kbCacheControl)
	w.Header().Set("ETag", tag)
	if !etagMatches(r.Header.Get("If-None-Match"), tag) {
		return false
	}
	w.WriteHeader(http.StatusNotModified)
	return true
}

// etagMatches reports that an If-None-Match header names tag: "*", or
// tag among its comma-separated tags, weak or not (RFC 9110 compares them
// weakly for If-None-Match).
func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == tag {
			return true
		}
	}
	return false
}

// articlePage serves a published article as a page in its own language.
func (p *kbPages) articlePage(w http.ResponseWriter, r *http.Request) {
	a, ok := p.published(w, r, chi.URLParam(r, "id"), false)
	if !ok || fresh(w, r, articleTag(a, "h")) {
		return
	}
	t := kbTexts[a.Locale]
	p.render(w, r, http.StatusOK, p.article, kbPageData{T: t, Title: a.Title,
		Article: &kbArticlePage{Updated: t.updated(a.UpdatedAt), Body: kb.Render(a.BodyMD)}})
}

// publicArticle is a published article as anyone reads it: no author,
// no status (it is published).
type publicArticle struct {
	ID          string     `json:"id"`
	Locale      kb.Locale  `json:"locale"`
	Category    string     `json:"category"`
	Title       string     `json:"title"`
	BodyMD      string     `json:"body_md"`
	BodyHTML    string     `json:"body_html"`
	Version     int        `json:"version"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// articleJSON serves a published article as JSON.
func (p *kbPages) articleJSON(w http.ResponseWriter, r *http.Request) {
	a, ok := p.published(w, r, chi.URLParam(r, "id"), true)
	if !ok || fresh(w, r, articleTag(a, "j")) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(publicArticle{ID: a.ID, Locale: a.Locale, Category: string(a.Category), Title: a.Title,
		BodyMD: a.BodyMD, BodyHTML: string(kb.Render(a.BodyMD)), Version: a.Version, PublishedAt: a.PublishedAt,
		UpdatedAt: a.UpdatedAt})
}

// searchPage serves the search form and, with q, the published articles
// matching it in the page's language (the locale parameter, else the
// browser's); without q, the latest published articles.
func (p *kbPages) searchPage(w http.ResponseWriter, r *http.Request) {
	t := kbBrowserText(r)
	if l := r.URL.Query().Get("locale"); kb.CheckLocale(l) == "" {
		t = kbTexts[kb.Locale(l)]
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if cleanText(q) != "" || utf8.RuneCountInString(q) > kbMaxQueryRunes {
		p.refuse(w, r, http.StatusBadRequest, t)
		return
	}
	hits, err := p.find(r.Context(), q, kb.Locale(t.Lang))
	if err != nil {
		p.logger.ErrorContext(r.Context(), "knowledge base search failed", "error", err)
		p.refuse(w, r, http.StatusServiceUnavailable, t)
		return
	}
	page := &kbSearchPage{Query: q, Heading: t.Latest, Empty: t.NoArticle, Hits: hits}
	if q != "" {
		page.Heading, page.Empty = fmt.Sprintf(t.ResultsFor, q), t.NoResults
	}
	html, ok := p.renderPage(w, r, p.search, kbPageData{T: t, Title: t.SearchTitle, Search: page})
	if !ok {
		return
	}
	// The page depends on the browser's language when the address names none.
	w.Header().Set("Vary", "Accept-Language")
	sum := sha256.Sum256([]byte(html))
	if fresh(w, r, `"s-`+hex.EncodeToString(sum[:12])+`"`) {
		return
	}
	writeHTML(w, http.StatusOK, html)
}

// find answers the hits of the search page: q's, or the latest articles.
func (p *kbPages) find(ctx context.Context, q string, locale kb.Locale) ([]kbPageHit, error) {
	if q == "" {
		latest, _, err := p.articles.ListArticles(ctx, store.ArticleFilter{Locale: locale, Status: kb.StatusPublished, Limit: kbPageHits})
		out := make([]kbPageHit, len(latest))
		for i, a := range latest {
			out[i] = kbPageHit{ID: a.ID, Title: a.Title}
		}
		return out, err
	}
	found, err := p.articles.Search(ctx, store.ArticleSearch{Query: q, Locale: locale, Status: kb.StatusPublished, Limit: kbPageHits})
	out := make([]kbPageHit, len(found))
	for i, h := range found {
		out[i] = kbPageHit{ID: h.ID, Title: h.Title, Snippet: template.HTML(h.Snippet)} //nolint:gosec // kb.MarkSnippet escaped it
	}
	return out, err
}

// renderPage answers the HTML of tmpl with data, or writes a 500 page
// and answers false.
func (p *kbPages) renderPage(w http.ResponseWriter, r *http.Request, tmpl *template.Template, data kbPageData) (string, bool) {
	data.Lang = data.T.Lang
	data.Root = strings.Repeat("../", max(strings.Count(r.URL.Path, "/")-1, 0))
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, "layout", data); err != nil {
		p.logger.ErrorContext(r.Context(), "knowledge base page did not render", "path", r.URL.Path, "error", err)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(data.T.ErrorTitle))
		return "", false
	}
	return b.String(), true
}

// render writes the page tmpl of data with status.
func (p *kbPages) render(w http.ResponseWriter, r *http.Request, status int, tmpl *template.Template, data kbPageData) {
	if html, ok := p.renderPage(w, r, tmpl, data); ok {
		writeHTML(w, status, html)
	}
}

func writeHTML(w http.ResponseWriter, status int, html string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(html))
}

// refuse writes the refusal page of status, never kept by a cache.
func (p *kbPages) refuse(w http.ResponseWriter, r *http.Request, status int, t *kbText) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Del("ETag")
	title, message := t.refusal(status)
	p.render(w, r, status, p.message, kbPageData{T: t, Title: title, Message: message})
}

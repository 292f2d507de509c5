package store

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"handoff/kb"
	"handoff/workflows/vocab"
)

// Matched ways of an ArticleHit.
const (
	MatchedFTS      = "fts"      // the full-text search document matched
	MatchedTrigram  = "trigram"  // the query matched once a misspelt word was corrected by trigram similarity
	MatchedCategory = "category" // a suggestion of the case's category, whatever its words
)

// ArticleHit is an article a search or a suggestion found.
type ArticleHit struct {
	ArticleSummary
	Rank float64 `json:"rank" doc:"Higher is better; full-text hits come before trigram ones."`
	// Snippet is HTML: the article's text escaped, its matched words in <mark>.
	Snippet   string `json:"snippet" doc:"HTML: escaped text of the body around the matches, each matched word in <mark>."`
	MatchedBy string `json:"matched_by" enum:"fts,trigram,category"`
}

// ArticleSearch is a search of the knowledge base.
type ArticleSearch struct {
	// Query is what a person typed: websearch syntax ("quoted phrase",
	// or, -word).
	Query string
	// Locale searches one language; empty searches both, each in its own.
	Locale kb.Locale
	// Status keeps articles of one status; empty keeps all.
	Status kb.Status
	// Limit is the most hits, 1 to MaxSearchLimit.
	Limit int
}

// SearchArticles answers at most limit articles matching q in locale
// (both when empty), only published ones when onlyPublished: see Search.
func (s *Store) SearchArticles(ctx context.Context, q string, locale kb.Locale, onlyPublished bool, limit int) ([]ArticleHit, error) {
	f := ArticleSearch{Query: q, Locale: locale, Limit: limit}
	if onlyPublished {
		f.Status = kb.StatusPublished
	}
	return s.Search(ctx, f)
}

// Search answers the articles matching f, best first: full-text hits
// (websearch_to_tsquery in the article's language, ranked with the title
// above the body), then, when they are fewer than the limit and a word of
// the query is in no article, the full-text hits of the query with each
// such word corrected to the most similar word the articles hold
// (pg_trgm similarity over its default threshold, 0.3), so "acount
// locked" still finds "Account locked". Each hit has a snippet of its body.
func (s *Store) Search(ctx context.Context, f ArticleSearch) ([]ArticleHit, error) {
	if f.Limit < 1 || f.Limit > MaxSearchLimit {
		return nil, fmt.Errorf("%w: want 1 to %d, got %d", ErrBadLimit, MaxSearchLimit, f.Limit)
	}
	hits, err := s.collectHits(ctx, searchFTSSQL, MatchedFTS, f.Query, string(f.Locale), string(f.Status), f.Limit,
		kb.HeadlineOptions, []string{})
	if err != nil || len(hits) >= f.Limit {
		return hits, err
	}
	corrected, err := s.correctQuery(ctx, f.Query, f.Locale)
	if err != nil || corrected == f.Query {
		return hits, err
	}
	found := make([]string, len(hits))
	for i, h := range hits {
		found[i] = h.ID
	}
	more, err := s.collectHits(ctx, searchFTSSQL, MatchedTrigram, corrected, string(f.Locale), string(f.Status),
		f.Limit-len(hits), kb.HeadlineOptions, found)
	return append(hits, more...), err
}

// searchFTSSQL ranks the articles matching $1 ($2 the locale, empty for
// both; $3 the status, empty for any; none of $6) and makes the snippets
// of the $4 best only. The GIN index answers @@; ts_rank weighs the title
// (A) 1.0 and the body (B) 0.4.
const searchFTSSQL = `
WITH q AS (
    SELECT l.locale, l.cfg, websearch_to_tsquery(l.cfg, $1) AS query
    FROM (VALUES ('en', 'english'::regconfig), ('fr', 'french'::regconfig)) AS l (locale, cfg)
    WHERE $2 = '' OR l.locale = $2
), best AS (
    SELECT a.id, q.cfg, q.query, ts_rank(a.search, q.query) AS rank
    FROM kb_articles a JOIN q ON a.locale = q.locale
    WHERE a.search @@ q.query AND ($3 = '' OR a.status = $3) AND a.id <> ALL ($6::text[])
    ORDER BY rank DESC, a.id
    LIMIT $4
)
SELECT ` + articleColumnsOf + `, b.rank, ts_headline(b.cfg, a.body_md, b.query, $5)
FROM best b JOIN kb_articles a ON a.id = b.id
ORDER BY b.rank DESC, a.id`

// queryWord is a word of a query that may be misspelt: letters only, as
// kb_words holds them (migration 00015).
var queryWord = regexp.MustCompile(`\pL{3,40}`)

// correctSQL answers, for each of the words $1 that no article of the
// locales $2 holds, the most similar word one does hold, when one is
// similar enough (%, over pg_trgm.similarity_threshold). The trigram index
// of kb_words answers %.
const correctSQL = `
SELECT q.word, c.word
FROM unnest($1::text[]) q (word)
CROSS JOIN LATERAL (
    SELECT w.word FROM kb_words w
    WHERE w.word % q.word AND w.locale = ANY ($2::text[])
    ORDER BY similarity(w.word, q.word) DESC, w.word
    LIMIT 1) c
WHERE NOT EXISTS (SELECT 1 FROM kb_words k WHERE k.locale = ANY ($2::text[]) AND k.word = q.word)`

// correctQuery answers q with each word no article of locale (any when
// empty) holds replaced by its correction, q itself when none has one.
// The query's syntax (quotes, or, -) stays as it was.
func (s *Store) correctQuery(ctx context.Context, q string, locale kb.Locale) (string, error) {
	var words []string
	for _, w := range queryWord.FindAllString(q, -1) {
		if w = strings.ToLower(w); w != "or" && !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return q, nil
	}
	locales := []string{string(locale)}
	if locale == "" {
		locales = []string{string(kb.LocaleEN), string(kb.LocaleFR)}
	}
	rows, err := s.pool.Query(ctx, correctSQL, words, locales)
	if err != nil {
		return "", fmt.Errorf("correct the search query: %w", err)
	}
	fixes := map[string]string{}
	var word, fix string
	if _, err := pgx.ForEachRow(rows, []any{&word, &fix}, func() error { fixes[word] = fix; return nil }); err != nil {
		return "", fmt.Errorf("correct the search query: %w", err)
	}
	if len(fixes) == 0 {
		return q, nil
	}
	return queryWord.ReplaceAllStringFunc(q, func(w string) string {
		if fix, ok := fixes[strings.ToLower(w)]; ok {
			return fix
		}
		return w
	}), nil
}

// collectHits runs a hit query and answers its rows as hits matched by how.
func (s *Store) collectHits(ctx context.Context, sql, how string, args ...any) ([]ArticleHit, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("search articles (%s): %w", how, err)
	}
	hits, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ArticleHit, error) {
		h := ArticleHit{MatchedBy: how}
		var raw string
		if err := scanSummary(row, &h.ArticleSummary, &h.Rank, &raw); err != nil {
			return h, err
		}
		h.Snippet = kb.MarkSnippet(raw)
		return h, nil
	})
	if err != nil {
		return nil, fmt.Errorf("search articles (%s): %w", how, err)
	}
	return hits, nil
}

// SuggestArticles answers at most limit published articles of locale for
// a case of category whose subject and description are text: those
// sharing any word with text (stemmed in the locale), ranked as Search
// ranks, an article of the case's category counting double; then the
// category's other articles, the latest edited first.
func (s *Store) SuggestArticles(ctx context.Context, category vocab.Category, locale kb.Locale, text string, limit int) ([]ArticleHit, error) {
	if limit < 1 || limit > MaxSearchLimit {
		return nil, fmt.Errorf("%w: want 1 to %d, got %d", ErrBadLimit, MaxSearchLimit, limit)
	}
	if why := kb.CheckLocale(string(locale)); why != "" {
		return nil, &kb.InvalidError{Fields: []kb.FieldError{{Field: "locale", Message: why}}}
	}
	rows, err := s.pool.Query(ctx, suggestSQL, locale.SearchConfig(), kb.AnyWordQuery(text), locale, category, limit,
		kb.HeadlineOptions)
	if err != nil {
		return nil, fmt.Errorf("suggest articles: %w", err)
	}
	hits, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ArticleHit, error) {
		var h ArticleHit
		var raw string
		var byText bool
		if err := scanSummary(row, &h.ArticleSummary, &h.Rank, &byText, &raw); err != nil {
			return h, err
		}
		h.MatchedBy, h.Snippet = MatchedCategory, kb.MarkSnippet(raw)
		if byText {
			h.MatchedBy = MatchedFTS
		}
		return h, nil
	})
	if err != nil {
		return nil, fmt.Errorf("suggest articles: %w", err)
	}
	return hits, nil
}

// suggestSQL: $1 the locale's config, $2 the any-word query, $3 the
// locale, $4 the category, $5 the limit, $6 the headline options. The
// search index and the list index (locale, status, category) answer the
// two halves of the OR.
const suggestSQL = `
WITH q AS (SELECT $1::regconfig AS cfg, websearch_to_tsquery($1::regconfig, $2) AS query),
best AS (
    SELECT a.id, a.search @@ q.query AS by_text,
        ts_rank(a.search, q.query) * CASE WHEN a.category = $4 THEN 2 ELSE 1 END AS rank
    FROM kb_articles a, q
    WHERE a.locale = $3 AND a.status = 'published' AND (a.search @@ q.query OR a.category = $4)
    ORDER BY by_text DESC, rank DESC, a.updated_at DESC, a.id
    LIMIT $5
)
SELECT ` + articleColumnsOf + `, b.rank, b.by_text, ts_headline(q.cfg, a.body_md, q.query, $6)
FROM best b JOIN kb_articles a ON a.id = b.id, q
ORDER BY b.by_text DESC, b.rank DESC, a.updated_at DESC, a.id`

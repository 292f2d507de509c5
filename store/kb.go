package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"handoff/kb"
	"handoff/workflows/vocab"
)

// The knowledge base: articles agents write, versioned on every edit,
// searched in their own language. Unlike the read models, these rows are
// the source of truth, written by the API.

// Page sizes of ListArticles, and the most hits a search answers.
const (
	DefaultArticleLimit = 50
	MaxArticleLimit     = 200
	MaxSearchLimit      = 50
)

// ArticleSummary is an article without its body: what lists answer.
type ArticleSummary struct {
	ID       string         `json:"id" doc:"KB- and 13 letters and digits."`
	Locale   kb.Locale      `json:"locale" doc:"en or fr: the language its words are stemmed in."`
	Category vocab.Category `json:"category" doc:"The case category it answers."`
	Title    string         `json:"title"`
	Status   kb.Status      `json:"status" doc:"draft, published or archived; only published articles are public."`
	Author   string         `json:"author" doc:"Who created it (role:key name)."`
	Version  int            `json:"version" doc:"Its newest version, which an edit must name."`
	// UpdatedAt is the last edit or status change.
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	PublishedAt *time.Time `json:"published_at,omitempty" doc:"When it was first published."`
}

// Article is an article with its Markdown body.
type Article struct {
	ArticleSummary
	BodyMD string `json:"body_md" doc:"The body, in Markdown."`
}

// NewArticle is what CreateArticle stores as version 1 of a draft.
type NewArticle struct {
	Locale   kb.Locale
	Category vocab.Category
	Title    string
	BodyMD   string
	Author   string
}

// ArticleEdit is a new version of an article's content; the locale never
// changes (a translation is an article of its own).
type ArticleEdit struct {
	Category vocab.Category
	Title    string
	BodyMD   string
	// Author is who writes this version.
	Author string
}

// ArticleVersion is one kept version of an article.
type ArticleVersion struct {
	ArticleID string         `json:"article_id"`
	Version   int            `json:"version"`
	Title     string         `json:"title"`
	Category  vocab.Category `json:"category"`
	Author    string         `json:"author" doc:"Who wrote this version."`
	CreatedAt time.Time      `json:"created_at"`
	// BodyMD is left empty by ArticleVersions.
	BodyMD string `json:"body_md,omitempty" doc:"Absent from lists of versions."`
}

// StaleVersionError refuses an edit made on a version that is no longer
// the article's newest: someone else edited it meanwhile.
type StaleVersionError struct {
	ID                string
	Expected, Current int
}

func (e *StaleVersionError) Error() string {
	return fmt.Sprintf("article %s is at version %d, not %d", e.ID, e.Current, e.Expected)
}

// NewArticleID answers a fresh article id: "KB-" and 13 random letters and digits.
func NewArticleID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "KB-" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}

// kbNow is the time of a write, to the microsecond Postgres keeps.
func kbNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

const articleColumns = `id, locale, category, title, status, author, version, created_at, updated_at, published_at`

// articleColumnsOf is articleColumns of the table aliased a.
const articleColumnsOf = `a.id, a.locale, a.category, a.title, a.status, a.author, a.version,
    a.created_at, a.updated_at, a.published_at`

func scanSummary(row pgx.Row, a *ArticleSummary, extra ...any) error {
	dest := append([]any{&a.ID, &a.Locale, &a.Category, &a.Title, &a.Status, &a.Author, &a.Version,
		&a.CreatedAt, &a.UpdatedAt, &a.PublishedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt, a.PublishedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC(), inUTC(a.PublishedAt)
	return nil
}

// CreateArticle stores a new draft as version 1, its version row in the
// same transaction, or answers a *kb.InvalidError naming its wrong fields.
func (s *Store) CreateArticle(ctx context.Context, in NewArticle) (Article, error) {
	if err := kb.Check(string(in.Locale), string(in.Category), in.Title, in.BodyMD); err != nil {
		return Article{}, err
	}
	now := kbNow()
	a := Article{ArticleSummary: ArticleSummary{ID: NewArticleID(), Locale: in.Locale, Category: in.Category,
		Title: in.Title, Status: kb.StatusDraft, Author: in.Author, Version: 1, CreatedAt: now, UpdatedAt: now},
		BodyMD: in.BodyMD}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
INSERT INTO kb_articles (id, locale, category, title, body_md, status, author, version, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)`,
			a.ID, a.Locale, a.Category, a.Title, a.BodyMD, a.Status, a.Author, now); err != nil {
			return err
		}
		return insertVersion(ctx, tx, a.ID, 1, ArticleEdit{Category: a.Category, Title: a.Title, BodyMD: a.BodyMD, Author: a.Author}, now)
	})
	if err != nil {
		return Article{}, fmt.Errorf("create article: %w", err)
	}
	return a, nil
}

func insertVersion(ctx context.Context, tx pgx.Tx, id string, version int, e ArticleEdit, at time.Time) error {
	_, err := tx.Exec(ctx, `
INSERT INTO kb_article_versions (article_id, version, title, body_md, category, author, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, version, e.Title, e.BodyMD, e.Category, e.Author, at)
	return err
}

// UpdateArticle stores e as the next version of article id, if expected
// is still its newest version, and answers the article as it now is. An
// article edited meanwhile answers a *StaleVersionError, unless its
// newest version already is e (a retried edit), answered as it is; an
// edit changing nothing makes no version. Unknown ids answer ErrNotFound,
// wrong fields a *kb.InvalidError.
func (s *Store) UpdateArticle(ctx context.Context, id string, expected int, e ArticleEdit) (Article, error) {
	if err := kb.Check("", string(e.Category), e.Title, e.BodyMD); err != nil {
		return Article{}, err
	}
	var a Article
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Locking the row orders concurrent edits: the second reads the
		// version the first wrote and is stale.
		err := scanSummary(tx.QueryRow(ctx, `SELECT `+articleColumns+`, body_md FROM kb_articles WHERE id = $1 FOR UPDATE`, id),
			&a.ArticleSummary, &a.BodyMD)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		same := a.Title == e.Title && a.BodyMD == e.BodyMD && a.Category == e.Category
		switch {
		case same:
			return nil
		case a.Version != expected:
			return &StaleVersionError{ID: id, Expected: expected, Current: a.Version}
		}
		now := kbNow()
		a.Version++
		a.Title, a.BodyMD, a.Category, a.UpdatedAt = e.Title, e.BodyMD, e.Category, now
		if _, err := tx.Exec(ctx, `
UPDATE kb_articles SET title = $2, body_md = $3, category = $4, version = $5, updated_at = $6 WHERE id = $1`,
			id, a.Title, a.BodyMD, a.Category, a.Version, now); err != nil {
			return err
		}
		return insertVersion(ctx, tx, id, a.Version, e, now)
	})
	var stale *StaleVersionError
	switch {
	case errors.Is(err, ErrNotFound), errors.As(err, &stale):
		return Article{}, err
	case err != nil:
		return Article{}, fmt.Errorf("update article %s: %w", id, err)
	}
	return a, nil
}

// SetArticleStatus moves article id to status and answers it: publishing
// sets published_at the first time only, archiving takes it from the
// public part and from suggestions. Its version does not change: the
// versions are of its content. Unknown ids answer ErrNotFound.
func (s *Store) SetArticleStatus(ctx context.Context, id string, status kb.Status) (Article, error) {
	if why := kb.CheckStatus(string(status)); why != "" {
		return Article{}, &kb.InvalidError{Fields: []kb.FieldError{{Field: "status", Message: why}}}
	}
	var a Article
	err := scanSummary(s.pool.QueryRow(ctx, `
UPDATE kb_articles SET status = $2, updated_at = $3,
    published_at = coalesce(published_at, CASE WHEN $2 = 'published' THEN $3::timestamptz END)
WHERE id = $1
RETURNING `+articleColumns+`, body_md`, id, status, kbNow()), &a.ArticleSummary, &a.BodyMD)
	if errors.Is(err, pgx.ErrNoRows) {
		return Article{}, ErrNotFound
	}
	if err != nil {
		return Article{}, fmt.Errorf("set article %s %s: %w", id, status, err)
	}
	return a, nil
}

// GetArticle answers article id, or ErrNotFound.
func (s *Store) GetArticle(ctx context.Context, id string) (Article, error) {
	var a Article
	err := scanSummary(s.pool.QueryRow(ctx, `SELECT `+articleColumns+`, body_md FROM kb_articles WHERE id = $1`, id),
		&a.ArticleSummary, &a.BodyMD)
	if errors.Is(err, pgx.ErrNoRows) {
		return Article{}, ErrNotFound
	}
	if err != nil {
		return Article{}, fmt.Errorf("read article %s: %w", id, err)
	}
	return a, nil
}

// ArticleFilter selects articles for ListArticles; empty fields do not filter.
type ArticleFilter struct {
	Locale   kb.Locale
	Status   kb.Status
	Category vocab.Category
	// Limit is the page size: 0 for DefaultArticleLimit, at most MaxArticleLimit.
	Limit int
	// Cursor is the next cursor of the previous page; empty for the first.
	Cursor string
}

// articleCursor is where the next page of articles starts: after the
// last row's (updated_at, id). Its keys are no other list's.
type articleCursor struct {
	UpdatedAt time.Time `json:"ku"`
	ID        string    `json:"ki"`
}

func decodeArticleCursor(s string) (articleCursor, error) {
	var c articleCursor
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, ErrBadCursor
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.ID == "" || c.UpdatedAt.IsZero() {
		return articleCursor{}, ErrBadCursor
	}
	return c, nil
}

func (c articleCursor) encode() string {
	raw, _ := json.Marshal(c) // a time and a string always marshal
	return base64.RawURLEncoding.EncodeToString(raw)
}

// ListArticles answers the articles f selects, the latest edited first,
// and the cursor of the next page (empty on the last one), keyset
// paginated on (updated_at, id) descending.
func (s *Store) ListArticles(ctx context.Context, f ArticleFilter) ([]ArticleSummary, string, error) {
	limit := f.Limit
	if limit == 0 {
		limit = DefaultArticleLimit
	}
	if limit < 1 || limit > MaxArticleLimit {
		return nil, "", fmt.Errorf("%w: want 1 to %d, got %d", ErrBadLimit, MaxArticleLimit, f.Limit)
	}
	var q listQuery // column names are constants; values go through param
	q.equal("locale", string(f.Locale))
	q.equal("status", string(f.Status))
	q.equal("category", string(f.Category))
	if f.Cursor != "" {
		c, err := decodeArticleCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q.where = append(q.where, fmt.Sprintf("(updated_at, id) < (%s, %s)", q.param(c.UpdatedAt), q.param(c.ID)))
	}
	sql := `SELECT ` + articleColumns + ` FROM kb_articles`
	if len(q.where) > 0 {
		sql += " WHERE " + strings.Join(q.where, " AND ")
	}
	sql += fmt.Sprintf(" ORDER BY updated_at DESC, id DESC LIMIT %d", limit+1)
	rows, err := s.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, "", fmt.Errorf("list articles: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ArticleSummary, error) {
		var a ArticleSummary
		return a, scanSummary(row, &a)
	})
	if err != nil {
		return nil, "", fmt.Errorf("list articles: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = articleCursor{UpdatedAt: last.UpdatedAt, ID: last.ID}.encode()
	}
	return out, next, nil
}

// ArticleVersions answers every version of article id, newest first,
// without their bodies; ErrNotFound when there is no such article.
func (s *Store) ArticleVersions(ctx context.Context, id string) ([]ArticleVersion, error) {
	rows, err := s.pool.Query(ctx, `
SELECT article_id, version, title, category, author, created_at
FROM kb_article_versions WHERE article_id = $1 ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("list versions of article %s: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ArticleVersion, error) {
		var v ArticleVersion
		err := row.Scan(&v.ArticleID, &v.Version, &v.Title, &v.Category, &v.Author, &v.CreatedAt)
		v.CreatedAt = v.CreatedAt.UTC()
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("list versions of article %s: %w", id, err)
	}
	if len(out) == 0 { // every article has its version 1
		return nil, ErrNotFound
	}
	return out, nil
}

// ArticleVersion answers version n of article id with its body, or ErrNotFound.
func (s *Store) ArticleVersion(ctx context.Context, id string, n int) (ArticleVersion, error) {
	var v ArticleVersion
	err := s.pool.QueryRow(ctx, `
SELECT article_id, version, title, category, author, created_at, body_md
FROM kb_article_versions WHERE article_id = $1 AND version = $2`, id, n).
		Scan(&v.ArticleID, &v.Version, &v.Title, &v.Category, &v.Author, &v.CreatedAt, &v.BodyMD)
	if errors.Is(err, pgx.ErrNoRows) {
		return ArticleVersion{}, ErrNotFound
	}
	if err != nil {
		return ArticleVersion{}, fmt.Errorf("read version %d of article %s: %w", n, id, err)
	}
	v.CreatedAt = v.CreatedAt.UTC()
	return v, nil
}

// ArticleUse is a case an article answered.
type ArticleUse struct {
	ArticleID string    `json:"article_id"`
	CaseID    string    `json:"case_id"`
	Actor     string    `json:"actor" doc:"Who used it in a reply."`
	UsedAt    time.Time `json:"used_at"`
}

// RecordArticleUse records that actor's reply on case caseID used article
// articleID at usedAt. A case records an article once, at its first use,
// so a retry changes nothing; an unknown article answers ErrNotFound.
func (s *Store) RecordArticleUse(ctx context.Context, articleID, caseID, actor string, usedAt time.Time) error {
	_, err := s.pool.Exec(ctx, `
INSERT INTO kb_article_cases (article_id, case_id, actor, used_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (article_id, case_id) DO NOTHING`, articleID, caseID, actor, usedAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" { // foreign_key_violation: no such article
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("record use of article %s on case %s: %w", articleID, caseID, err)
	}
	return nil
}

// ArticleCases answers the cases article id answered, the latest first.
func (s *Store) ArticleCases(ctx context.Context, id string) ([]ArticleUse, error) {
	rows, err := s.pool.Query(ctx, `
SELECT article_id, case_id, actor, used_at FROM kb_article_cases
WHERE article_id = $1 ORDER BY used_at DESC, case_id`, id)
	if err != nil {
		return nil, fmt.Errorf("list cases of article %s: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ArticleUse, error) {
		var u ArticleUse
		err := row.Scan(&u.ArticleID, &u.CaseID, &u.Actor, &u.UsedAt)
		u.UsedAt = u.UsedAt.UTC()
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("list cases of article %s: %w", id, err)
	}
	return out, nil
}

// CopyArticles loads articles in bulk (the seed's thousands) with COPY, in
// one transaction, and answers how many it stored. Each is checked as
// CreateArticle checks one; empty fields take defaults: a fresh id,
// status draft, version 1, now for the times, the creation time for
// published_at of a published article. Each article's current content
// becomes its one version row, numbered by its version.
func (s *Store) CopyArticles(ctx context.Context, articles []Article) (int64, error) {
	now := kbNow()
	rows := make([][]any, len(articles))
	versions := make([][]any, len(articles))
	for i, a := range articles {
		if err := kb.Check(string(a.Locale), string(a.Category), a.Title, a.BodyMD); err != nil {
			return 0, fmt.Errorf("article %d (%s): %w", i, a.ID, err)
		}
		if a.ID == "" {
			a.ID = NewArticleID()
		}
		if a.Status == "" {
			a.Status = kb.StatusDraft
		}
		if why := kb.CheckStatus(string(a.Status)); why != "" {
			return 0, fmt.Errorf("article %d (%s): status %s", i, a.ID, why)
		}
		a.Version = max(a.Version, 1)
		if a.CreatedAt.IsZero() {
			a.CreatedAt = now
		}
		if a.UpdatedAt.IsZero() {
			a.UpdatedAt = a.CreatedAt
		}
		if a.Status == kb.StatusPublished && a.PublishedAt == nil {
			a.PublishedAt = &a.CreatedAt
		}
		rows[i] = []any{a.ID, string(a.Locale), string(a.Category), a.Title, a.BodyMD, string(a.Status), a.Author,
			a.Version, a.CreatedAt, a.UpdatedAt, a.PublishedAt}
		versions[i] = []any{a.ID, a.Version, a.Title, a.BodyMD, string(a.Category), a.Author, a.UpdatedAt}
	}
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		n, err = tx.CopyFrom(ctx, pgx.Identifier{"kb_articles"},
			[]string{"id", "locale", "category", "title", "body_md", "status", "author", "version",
				"created_at", "updated_at", "published_at"}, pgx.CopyFromRows(rows))
		if err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"kb_article_versions"},
			[]string{"article_id", "version", "title", "body_md", "category", "author", "created_at"}, pgx.CopyFromRows(versions))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("copy %d articles: %w", len(articles), err)
	}
	return n, nil
}

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The recurring-issues report: the cases of a period grouped into issues
// that keep coming back, so the team sees which FAQ to write next. A case
// belongs to an issue by its category and its subject_key (migration
// 00013: the subject lower-cased, unaccented, without punctuation and ids);
// keys of one category whose trigrams are near-identical ("cannot log in
// after password reset", "can t log in after the password reset") are
// merged into the most frequent of them. All of it is one statement: an
// index-only aggregate of the period, then work on its few distinct keys.

// ReportRecurringIssues is the recurring-issues report's name.
const ReportRecurringIssues = "recurring-issues"

const (
	// RecurringCueCases is how many similar cases without an article make a
	// cue to write one: Zendesk's content cues start at 11 similar tickets,
	// the point where a recurring question costs more than its article.
	RecurringCueCases = 11
	// RecurringDefaultLimit and RecurringMaxLimit bound how many issues
	// the report answers.
	RecurringDefaultLimit = 20
	RecurringMaxLimit     = 100
	// RecurringExamples is how many of an issue's cases it names.
	RecurringExamples = 5
)

// The tuning of the clustering, in the query as constants.
const (
	// recurringMergeSimilarity is the trigram similarity at which two keys
	// are one wording: typos, "log in"/"login", an extra "the" pass (0.65
	// to 0.9), a different problem of the same words does not ("cannot log
	// in after the app update" against "... password reset": 0.41).
	recurringMergeSimilarity = 0.6
	// recurringMergeCandidates is how many of each category's most
	// frequent keys are compared pairwise: the pairs grow as its square,
	// and a key below them is too rare to change the top of the report.
	recurringMergeCandidates = 40
	// recurringTitleCoverage is the share of the wording's lexemes an
	// article's title must hold, each in the article's language, to answer
	// the issue ("Cannot log in after password reset" has cannot, log,
	// password and reset; "Logging in after a password reset" holds 3 of 4).
	recurringTitleCoverage = 0.6
)

// RecurringIssue is one issue: similar cases of one category.
type RecurringIssue struct {
	Category string `json:"category"`
	Subject  string `json:"subject" doc:"The issue's most common wording as customers wrote it, any word holding a digit (an id, an order number) shown as #."`
	Cases    int    `json:"cases" doc:"Cases of the issue opened in the period."`
	// Weeks holds the weeks with a case, in order; their counts sum to Cases.
	Weeks []RecurringWeek `json:"weeks" doc:"Cases per week opened (Monday, UTC); weeks without one are left out."`
	// ExampleCaseIDs are the newest cases, newest first.
	ExampleCaseIDs []string `json:"example_case_ids" doc:"Up to 5 of the issue's cases, newest first."`
	// Article is nil when no published article of the category answers it.
	Article *RecurringArticle `json:"article" doc:"The published article of the category that best answers the issue; null when none."`
	Cue     bool              `json:"cue" doc:"11 or more cases and no article: the next FAQ to write."`
}

// RecurringWeek counts an issue's cases opened in one week.
type RecurringWeek struct {
	Week  time.Time `json:"week"`
	Cases int       `json:"cases"`
}

// RecurringArticle names the article that answers an issue.
type RecurringArticle struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Locale string `json:"locale"`
}

// recurringIssues takes f.rollupArgs, $8 the limit and $9 true for cues only.
// keyed is the one pass over the period's cases (an index-only scan of
// cases_recurring_idx); every later step works on its distinct keys, and
// only the issues answered go back to the cases, through
// cases_subject_key_idx, for their newest examples. With $9 every issue
// large enough to be a cue is matched to the articles before the limit, so
// a cue below the top issues is not lost.
var recurringIssues = `
WITH keyed AS (
    SELECT category, key, wording, week, sum(n)::int AS n
    FROM (SELECT r.category, r.subject_key AS key, r.wording, r.week, r.n
          FROM report_subject_weeks r
          WHERE ` + wholeWeeksSQL + ` AND r.n <> 0 AND ` + rollupFilterSQL + `
          UNION ALL
          ` + partialWeeksSQL(`c.category, c.subject_key AS key, report_wording(c.subject) AS wording, `+weekSQL("c.created_at")+` AS week, 1 AS n`,
	"cases c", "c.created_at", caseFilterSQL+` AND c.subject_key <> ''`) + `) k
    GROUP BY 1, 2, 3, 4
    HAVING sum(n) > 0
), keys AS (
    SELECT category, key, sum(n)::int AS n FROM keyed GROUP BY 1, 2
), candidates AS (
    SELECT category, key, n
    FROM (SELECT k.*, row_number() OVER (PARTITION BY category ORDER BY n DESC, key) AS rank FROM keys k) k
    WHERE rank <= ` + fmt.Sprint(recurringMergeCandidates) + `
), parents AS (
    -- Each candidate's most frequent near-identical candidate, itself when
    -- none is more frequent; ties go to the first key, so two keys of one
    -- count agree on which of them leads.
    SELECT DISTINCT ON (a.category, a.key) a.category, a.key, b.key AS parent
    FROM candidates a JOIN candidates b ON b.category = a.category
         AND (b.key = a.key OR (b.n >= a.n AND similarity(a.key, b.key) >= ` + fmt.Sprint(recurringMergeSimilarity) + `))
    ORDER BY a.category, a.key, b.n DESC, b.key
), members AS (
    -- A parent may lead to a more frequent key still: follow one more step.
    SELECT k.category, k.key, k.n, coalesce(pp.parent, k.key) AS root
    FROM keys k
    LEFT JOIN parents p ON p.category = k.category AND p.key = k.key
    LEFT JOIN parents pp ON pp.category = p.category AND pp.key = p.parent
), ranked AS MATERIALIZED (
    SELECT category, root, sum(n)::int AS cases
    FROM members
    GROUP BY 1, 2
    HAVING NOT $9 OR sum(n) >= ` + fmt.Sprint(RecurringCueCases) + `
    ORDER BY cases DESC, category, root
    LIMIT CASE WHEN $9 THEN NULL ELSE $8::int END
), worded AS MATERIALIZED (
    -- The most common wording (its ids masked: a subject naming an order
    -- is its key's wording, not one of its own), and its lexemes in each
    -- language of the knowledge base.
    SELECT w.category, w.root, w.cases, w.wording,
           tsvector_to_array(to_tsvector('english', w.wording)) AS lexemes_en,
           tsvector_to_array(to_tsvector('french', w.wording)) AS lexemes_fr
    FROM (SELECT DISTINCT ON (r.category, r.root) r.category, r.root, r.cases,
                 k.wording
          FROM ranked r
          JOIN members m ON m.category = r.category AND m.root = r.root
          JOIN keyed k ON k.category = m.category AND k.key = m.key
          GROUP BY r.category, r.root, r.cases, k.wording
          ORDER BY r.category, r.root, sum(k.n) DESC, k.wording) w
), articles AS MATERIALIZED (
    -- The published articles that may answer them, each with its title's
    -- lexemes in its language (migration 00015).
    SELECT a.id, a.title, a.locale, a.category, a.published_at, lower(a.title) AS lower_title,
           a.title_lexemes AS lexemes
    FROM kb_articles a
    WHERE a.status = 'published' AND a.category IN (SELECT category FROM worded)
), answered AS MATERIALIZED (
    -- The best article of the issue's category: the one whose title holds
    -- the largest share of the wording's lexemes, in the article's language
    -- (stemmed: "Logging in" holds "log in"); only titles sharing one are
    -- counted. The issues come
    -- largest first and the limit stops the join, so a cue report matches
    -- only as many issues as it takes to find its cues.
    SELECT w.category, w.root, w.cases, w.wording, art.id AS article_id, art.title AS article_title, art.locale AS article_locale
    FROM (SELECT * FROM worded ORDER BY cases DESC, category, root) w
    LEFT JOIN LATERAL (
        SELECT m.id, m.title, m.locale
        FROM (SELECT a.id, a.title, a.locale, a.published_at, c.coverage AS score
              FROM articles a
              CROSS JOIN LATERAL (SELECT CASE WHEN a.locale = 'fr' THEN w.lexemes_fr ELSE w.lexemes_en END AS lexemes) l
              CROSS JOIN LATERAL (SELECT avg((x = ANY (a.lexemes))::int)::float8 AS coverage FROM unnest(l.lexemes) x) c
              WHERE a.category = w.category AND a.lexemes && l.lexemes
                AND c.coverage >= ` + fmt.Sprint(recurringTitleCoverage) + `) m
        ORDER BY m.score DESC, m.published_at DESC NULLS LAST, m.id
        LIMIT 1
    ) art ON true
    WHERE NOT $9 OR art.id IS NULL
    LIMIT $8::int
), weeks AS (
    SELECT category, root, array_agg(week ORDER BY week) AS weeks, array_agg(n ORDER BY week) AS counts
    FROM (SELECT a.category, a.root, k.week, sum(k.n)::int AS n
          FROM answered a
          JOIN members m ON m.category = a.category AND m.root = a.root
          JOIN keyed k ON k.category = m.category AND k.key = m.key
          GROUP BY 1, 2, 3) w
    GROUP BY 1, 2
)
SELECT a.category, a.wording, a.cases, w.weeks, w.counts,
       (SELECT array_agg(e.id ORDER BY e.created_at DESC, e.id DESC) FROM (
            SELECT e.id, e.created_at
            FROM members m
            CROSS JOIN LATERAL (
                SELECT c.id, c.created_at FROM cases c
                WHERE c.category = m.category AND c.subject_key = m.key
                  AND c.created_at >= $4 AND c.created_at < $5 AND ` + caseFilterSQL + `
                ORDER BY c.created_at DESC, c.id DESC
                LIMIT ` + fmt.Sprint(RecurringExamples) + `) e
            WHERE m.category = a.category AND m.root = a.root
            ORDER BY e.created_at DESC, e.id DESC
            LIMIT ` + fmt.Sprint(RecurringExamples) + `) e) AS examples,
       a.article_id, a.article_title, a.article_locale
FROM answered a JOIN weeks w ON w.category = a.category AND w.root = a.root
ORDER BY a.cases DESC, a.category, a.root`

// recurringArgs answers the query's arguments (rollupArgs: planned for
// their values on every run).
func recurringArgs(f ReportFilter, limit int, cuesOnly bool) []any {
	return f.rollupArgs(limit, cuesOnly)
}

// RecurringIssues answers the limit largest issues of the cases opened in
// f's period, the largest first, each with its weekly counts, its newest
// cases and the published article that answers it, if any.
func (s *Store) RecurringIssues(ctx context.Context, f ReportFilter, limit int) ([]RecurringIssue, error) {
	return s.recurring(ctx, f, limit, false)
}

// RecurringCues answers the limit largest issues that are cues (see
// RecurringIssue.Cue): among every issue of the period, not only the top.
func (s *Store) RecurringCues(ctx context.Context, f ReportFilter, limit int) ([]RecurringIssue, error) {
	return s.recurring(ctx, f, limit, true)
}

func (s *Store) recurring(ctx context.Context, f ReportFilter, limit int, cuesOnly bool) ([]RecurringIssue, error) {
	if limit < 1 || limit > RecurringMaxLimit {
		return nil, &ReportFilterError{Field: "limit", Reason: fmt.Sprintf("must be 1 to %d", RecurringMaxLimit)}
	}
	return reportRows(ctx, s, ReportRecurringIssues, f, recurringIssues, recurringArgs(f, limit, cuesOnly), func(row pgx.CollectableRow) (RecurringIssue, error) {
		var r RecurringIssue
		var weeks []time.Time
		var counts []int
		var articleID, articleTitle, articleLocale *string
		if err := row.Scan(&r.Category, &r.Subject, &r.Cases, &weeks, &counts, &r.ExampleCaseIDs,
			&articleID, &articleTitle, &articleLocale); err != nil {
			return r, err
		}
		r.Weeks = make([]RecurringWeek, len(weeks))
		for i, w := range weeks {
			r.Weeks[i] = RecurringWeek{Week: w.UTC(), Cases: counts[i]}
		}
		if r.ExampleCaseIDs == nil {
			r.ExampleCaseIDs = []string{}
		}
		if articleID != nil {
			r.Article = &RecurringArticle{ID: *articleID, Title: *articleTitle, Locale: *articleLocale}
		}
		r.Cue = r.Cases >= RecurringCueCases && r.Article == nil
		return r, nil
	})
}

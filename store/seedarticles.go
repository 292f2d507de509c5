package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"handoff/kb"
	"handoff/workflows/vocab"
)

// Seeding the knowledge base: articles in English and French (about two
// in three English) over every case category, written the way agents
// write them. First come the articles on the recurring issues of the case
// seed (seedphrases.go), published in both languages, with an archived
// predecessor or a draft rewrite now and then, but for the issues of
// seedUncoveredIssues, left without any; the rest are filler topics of
// seedarticlephrases.go. Each article has one version: CopyArticles
// writes an article's current content as its one version row.

// seedArticleIDPrefix answers the LIKE pattern of tag's articles:
// "KB-SEED-000001" and on.
func seedArticleIDPrefix(tag string) string { return "KB-" + tag + "-%" }

// SeedArticles writes n knowledge-base articles created over opts.Months
// before opts.Now, reproducibly for opts.Seed, under ids "KB-<tag>-000001"
// and on. opts.Reset first deletes the articles seeded earlier under the
// tag, their versions and case links, and the links of the tag's seeded
// cases; n 0 with Reset only deletes. Without Reset it refuses to write
// when the tag's articles exist. The delete and the copy are two
// transactions: a failed copy leaves no seeded articles behind, but not
// the old ones either.
func (s *Store) SeedArticles(ctx context.Context, n int, opts SeedOptions) (SeedResult, error) {
	started := time.Now()
	if n < 0 || (n > 0 && opts.Months < 1) {
		return SeedResult{}, fmt.Errorf("seed articles: want at least 1 month and 0 or more articles, got %d months, %d articles", opts.Months, n)
	}
	g := newArticleGen(opts)
	res := SeedResult{Rows: map[string]int{}, Deleted: map[string]int{}}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if opts.Reset {
			var err error
			res.Deleted, err = deleteSeededArticles(ctx, tx, g.tag)
			return err
		}
		if n == 0 {
			return nil
		}
		return refuseSeededArticles(ctx, tx, g.tag)
	})
	if err != nil {
		return SeedResult{}, fmt.Errorf("seed articles: %w", err)
	}
	if n > 0 {
		copied, err := s.CopyArticles(ctx, g.articles(n))
		if err != nil {
			return SeedResult{}, fmt.Errorf("seed articles: %w", err)
		}
		res.Rows["kb_articles"], res.Rows["kb_article_versions"] = int(copied), int(copied)
	}
	res.Elapsed = time.Since(started)
	return res, nil
}

// deleteSeededArticles deletes tag's articles, their versions and the
// cases they answered, and the links of tag's seeded cases to any article:
// kb_article_cases holds no foreign key to the cases a reset deletes.
func deleteSeededArticles(ctx context.Context, tx pgx.Tx, tag string) (map[string]int, error) {
	prefix := seedArticleIDPrefix(tag)
	deleted := map[string]int{}
	for _, d := range []struct {
		table, sql string
		args       []any
	}{
		{"kb_article_cases", `DELETE FROM kb_article_cases WHERE article_id LIKE $1 OR case_id LIKE $2`, []any{prefix, seedPrefixes(tag)["cases"]}},
		// Versions and articles are deleted apart so that each is counted.
		{"kb_article_versions", `DELETE FROM kb_article_versions WHERE article_id LIKE $1`, []any{prefix}},
		{"kb_articles", `DELETE FROM kb_articles WHERE id LIKE $1`, []any{prefix}},
	} {
		done, err := tx.Exec(ctx, d.sql, d.args...)
		if err != nil {
			return nil, fmt.Errorf("reset %s: %w", d.table, err)
		}
		deleted[d.table] = int(done.RowsAffected())
	}
	return deleted, nil
}

// refuseSeededArticles answers errSeeded when tag's articles exist.
func refuseSeededArticles(ctx context.Context, tx pgx.Tx, tag string) error {
	var found bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM kb_articles WHERE id LIKE $1)`, seedArticleIDPrefix(tag)).Scan(&found)
	if err != nil {
		return fmt.Errorf("look for seeded articles: %w", err)
	}
	if found {
		return fmt.Errorf("%w (articles of tag %s)", errSeeded, tag)
	}
	return nil
}

// articleGen generates the articles of a seed.
type articleGen struct {
	tag       string
	rng       *rand.Rand
	now, from time.Time
	out       []Article
}

func newArticleGen(opts SeedOptions) *articleGen {
	g := &articleGen{tag: opts.Tag, now: opts.Now.UTC().Truncate(time.Second),
		// A source of its own, so that the articles do not change with
		// the number of cases seeded beside them.
		rng: rand.New(rand.NewPCG(uint64(opts.Seed), uint64(opts.Seed)^0x6b62))}
	if g.tag == "" {
		g.tag = SeedTag
	}
	if opts.Now.IsZero() {
		g.now = time.Now().UTC().Truncate(time.Second)
	}
	g.from = g.now.AddDate(0, -opts.Months, 0)
	return g
}

// articles answers n articles: the recurring issues' first (cut at n),
// then filler up to n, so that about two in three are English overall.
func (g *articleGen) articles(n int) []Article {
	g.out = make([]Article, 0, n)
	g.coveredIssues(n)
	en := 0
	for _, a := range g.out {
		if a.Locale == kb.LocaleEN {
			en++
		}
	}
	pEN := 2.0 / 3
	if rest := n - len(g.out); rest > 0 {
		pEN = min(1, max(0, (2*float64(n)/3-float64(en))/float64(rest)))
	}
	weights := make([]int, len(seedCategories))
	for i, c := range seedCategories {
		weights[i] = c.weight + 20 // small categories still get a few articles
	}
	for len(g.out) < n {
		cat := pickWeighted(g.rng, seedCategories, weights).category
		locale := kb.LocaleFR
		if g.rng.Float64() < pEN {
			locale = kb.LocaleEN
		}
		g.filler(cat, locale)
	}
	return g.out
}

// coveredIssues adds, for every recurring issue but the uncovered ones, a
// published article in each locale, sometimes an archived article it
// replaced and a draft rewrite, until there are n articles.
func (g *articleGen) coveredIssues(n int) {
	for _, c := range seedCategories {
		for i, is := range c.issues {
			if slices.Contains(seedUncoveredIssues[c.category], i) {
				continue
			}
			for _, locale := range kb.Locales {
				if len(g.out) >= n {
					return
				}
				// Written when the KB was set up, in the first fifth of the months.
				created := g.at(0, 0.2)
				g.add(c.category, locale, g.coveredTitle(is, locale), g.coveredBody(c.category, is, locale), kb.StatusPublished, created)
				switch r := g.rng.Float64(); {
				case r < 0.3 && len(g.out) < n:
					g.add(c.category, locale, g.coveredTitle(is, locale)+g.say(locale, " (old procedure)", " (ancienne procédure)"),
						g.coveredBody(c.category, is, locale), kb.StatusArchived, g.at(0, 0.1))
				case r < 0.5 && len(g.out) < n:
					g.add(c.category, locale, g.coveredTitle(is, locale), g.coveredBody(c.category, is, locale), kb.StatusDraft, g.at(0.5, 1))
				}
			}
		}
	}
}

// filler adds an article of category in locale on one of its topics.
func (g *articleGen) filler(category vocab.Category, locale kb.Locale) {
	topic := pick(g.rng, seedArticleTopics[category])
	pattern, qualifier := pick(g.rng, seedTitlePatterns), pick(g.rng, seedTitleQualifiers)
	title := capitalize(fmt.Sprintf(g.say(locale, pattern.en, pattern.fr), g.say(locale, topic.en, topic.fr)) +
		g.say(locale, qualifier.en, qualifier.fr))
	in := pick(g.rng, seedIntros)
	intro := fmt.Sprintf(g.say(locale, in.en, in.fr), g.say(locale, topic.en, topic.fr))
	status := pickWeighted(g.rng, kb.Statuses, []int{15, 75, 10})
	g.add(category, locale, title, g.body(category, locale, intro, ""), status, g.at(0, 1))
}

// add appends an article with the times of its status: created at
// created, published within three days (not after now), archived later.
// Its one version is its creation, so updated_at is its last status change.
func (g *articleGen) add(category vocab.Category, locale kb.Locale, title, body string, status kb.Status, created time.Time) {
	id := fmt.Sprintf("KB-%s-%06d", g.tag, len(g.out)+1)
	team := vocab.Team(shippedDefaults[category].Team)
	author := "agent:" + pick(g.rng, seedAgents[team])
	if g.rng.Float64() < 0.2 {
		author = "agent:" + pick(g.rng, seedAgents[vocab.TeamTier1Support])
	}
	a := Article{ArticleSummary: ArticleSummary{ID: id, Locale: locale, Category: category, Title: title, Status: status,
		Author: author, Version: 1, CreatedAt: created, UpdatedAt: created},
		BodyMD: body + fmt.Sprintf("\n---\n\n%s %s\n", seedArticleLabels[string(locale)].ref, id)}
	if status != kb.StatusDraft {
		published := g.between(created, created.Add(72*time.Hour))
		a.PublishedAt, a.UpdatedAt = &published, published
		if status == kb.StatusArchived {
			a.UpdatedAt = g.between(published, g.now)
		}
	}
	g.out = append(g.out, a)
}

// coveredTitle is the title of an article on a recurring issue: the
// customers' own words and what the article gives.
func (g *articleGen) coveredTitle(is seedIssue, locale kb.Locale) string {
	if locale == kb.LocaleFR {
		return is.subjectFR[0] + pick(g.rng, []string{" : que faire", " : la marche à suivre", " : procédure agent"})
	}
	return is.subjectEN[0] + pick(g.rng, []string{": what to do", ": how to fix it", " (agent procedure)"})
}

// coveredBody is the body of an article on a recurring issue: the
// subjects customers give it, then the category's procedure.
func (g *articleGen) coveredBody(category vocab.Category, is seedIssue, locale kb.Locale) string {
	// The subjects only: a description may share its words with another
	// issue ("je ne reçois plus les codes" of a new phone number), which
	// would make it look covered.
	subjects := is.subjectEN
	if locale == kb.LocaleFR {
		subjects = is.subjectFR
	}
	var b strings.Builder
	b.WriteString("## " + seedArticleLabels[string(locale)].customersWrite + "\n\n")
	for _, s := range subjects {
		b.WriteString("- \u201c" + s + "\u201d\n")
	}
	in := pick(g.rng, seedCoveredIntros)
	intro := g.say(locale, in.en, in.fr)
	return g.body(category, locale, intro, b.String())
}

// body writes an article's Markdown: the intro, what customers write
// (extra, for a recurring issue), checks, numbered steps, a service-level
// table or a case note now and then, and when to escalate.
func (g *articleGen) body(category vocab.Category, locale kb.Locale, intro, extra string) string {
	l, loc := seedArticleLabels[string(locale)], string(locale)
	text := func(t seedText) string { return g.say(locale, t.en, t.fr) }
	var b strings.Builder
	b.WriteString(intro + "\n\n")
	if extra != "" {
		b.WriteString(extra + "\n")
	}
	b.WriteString("## " + l.beforeYouStart + "\n\n")
	for _, i := range g.subset(len(seedBeforeYouStart), 2, 3) {
		b.WriteString("- " + text(seedBeforeYouStart[i]) + "\n")
	}
	steps := seedArticleSteps[category]
	b.WriteString("\n## " + l.steps + "\n\n")
	for n, i := range g.subset(len(steps), min(3, len(steps)), len(steps)) {
		fmt.Fprintf(&b, "%d. %s\n", n+1, text(steps[i]))
	}
	def := shippedDefaults[category]
	switch r := g.rng.Float64(); {
	case r < 0.3:
		fmt.Fprintf(&b, "\n## %s\n\n| %s | %s | %s |\n|---|---|---|\n", l.reference, l.priority, l.firstContact, l.resolution)
		for _, p := range vocab.Priorities {
			t := shippedPolicy(category, p).Targets
			fmt.Fprintf(&b, "| %s | %s | %s |\n", p, seedHours(t.FirstResponse, loc), seedHours(t.Resolution, loc))
		}
	case r < 0.5:
		fmt.Fprintf(&b, "\n## %s\n\n```text\ncategory: %s\npriority: %s\n%s: %s\n", l.caseNote, category, def.Priority, strings.ToLower(l.team), def.Team)
		b.WriteString(g.say(locale, "checked: <what you checked>\nnext step: <who does what>\n", "vérifié : <ce que vous avez vérifié>\nétape suivante : <qui fait quoi>\n") + "```\n")
	}
	// Tier 1 escalates account problems to account management, commerce
	// ones to trust and safety; the other teams keep their cases.
	team := seedTeamNames[vocab.Team(def.Team)]
	if vocab.Team(def.Team) == vocab.TeamTier1Support {
		team = seedTeamNames[vocab.TeamTrustSafety]
		if slices.Contains(seedAccountCategories, category) {
			team = seedTeamNames[vocab.TeamAccountManagement]
		}
	}
	fmt.Fprintf(&b, "\n## %s\n\n"+l.escalateTo+"\n", l.escalate, text(team), text(pick(g.rng, seedEscalateWhen)))
	return b.String()
}

// seedHours writes d in hours ("0.5 h", "24 h"), the decimal comma in French.
func seedHours(d time.Duration, locale string) string {
	s := fmt.Sprintf("%g h", math.Round(d.Hours()*100)/100)
	if locale == string(kb.LocaleFR) {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// subset answers lo to hi distinct indexes of [0, n), in order.
func (g *articleGen) subset(n, lo, hi int) []int {
	k := lo + g.rng.IntN(hi-lo+1)
	idx := g.rng.Perm(n)[:k]
	slices.Sort(idx)
	return idx
}

// at answers a time in the [lo, hi) fraction of the seeded months.
func (g *articleGen) at(lo, hi float64) time.Time {
	span := float64(g.now.Sub(g.from))
	return g.from.Add(time.Duration((lo + (hi-lo)*g.rng.Float64()) * span)).Truncate(time.Second)
}

// between answers a time in [from, to), not after now.
func (g *articleGen) between(from, to time.Time) time.Time {
	to = minTime(to, g.now)
	if !to.After(from) {
		return from
	}
	return from.Add(time.Duration(g.rng.Int64N(int64(to.Sub(from))))).Truncate(time.Second)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// say answers en or fr by locale.
func (g *articleGen) say(locale kb.Locale, en, fr string) string {
	if locale == kb.LocaleFR {
		return fr
	}
	return en
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

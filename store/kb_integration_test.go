//go:build integration

package store_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/kb"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/vocab"
)

// Searches run over every article of the shared database (a seed may have
// loaded thousands): each article made here carries a made-up word only
// this test uses, every query names it, and the articles are deleted when
// the test ends.

// kbWord answers a word of letters no other test run uses: "kbt" and ten
// random letters, one token to every text search parser and stemmer.
func kbWord(t *testing.T) string {
	t.Helper()
	b := make([]byte, 10)
	_, err := rand.Read(b)
	require.NoError(t, err)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return "kbt" + string(b)
}

// newArticle creates an article, deleted when t ends.
func newArticle(t *testing.T, db *store.Store, locale kb.Locale, category vocab.Category, title, body string) store.Article {
	t.Helper()
	a, err := db.CreateArticle(stacktest.Context(t), store.NewArticle{Locale: locale, Category: category,
		Title: title, BodyMD: body, Author: "agent:test"})
	require.NoError(t, err)
	t.Cleanup(func() { deleteArticles(db, a.ID) })
	return a
}

func deleteArticles(db *store.Store, ids ...string) {
	_, _ = db.Pool().Exec(context.Background(), `DELETE FROM kb_articles WHERE id = ANY ($1)`, ids)
}

// publishedArticle creates an article and publishes it.
func publishedArticle(t *testing.T, db *store.Store, locale kb.Locale, category vocab.Category, title, body string) store.Article {
	t.Helper()
	a := newArticle(t, db, locale, category, title, body)
	p, err := db.SetArticleStatus(stacktest.Context(t), a.ID, kb.StatusPublished)
	require.NoError(t, err)
	return p
}

func hitIDs(hits []store.ArticleHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func TestFrenchSearchFindsBloquerWhenAskedForBloque(t *testing.T) {
	db := stacktest.Store(t)
	w := kbWord(t)
	a := publishedArticle(t, db, kb.LocaleFR, vocab.CategoryLockedAccount, "Débloquer l'accès "+w,
		"Après cinq essais, nous pouvons bloquer le compte une heure. "+w)
	newArticle(t, db, kb.LocaleEN, vocab.CategoryLockedAccount, "Blocked "+w, "bloqué "+w) // English: no French stemming

	hits, err := db.SearchArticles(stacktest.Context(t), "bloqué "+w, kb.LocaleFR, true, 10)
	require.NoError(t, err)
	require.Equal(t, []string{a.ID}, hitIDs(hits))
	assert.Equal(t, store.MatchedFTS, hits[0].MatchedBy)
	assert.Contains(t, hits[0].Snippet, "<mark>bloquer</mark>")
	assert.Positive(t, hits[0].Rank)
}

func TestFrenchSearchRanksTheArticleTitledWithTheWordsFirst(t *testing.T) {
	db := stacktest.Store(t)
	w := kbWord(t)
	inBody := publishedArticle(t, db, kb.LocaleFR, vocab.CategoryLockedAccount, "Questions fréquentes "+w,
		"Parmi les questions : mon compte est bloqué, que faire ? Et d'autres sujets encore. "+w)
	inTitle := publishedArticle(t, db, kb.LocaleFR, vocab.CategoryLockedAccount, "Compte bloqué après plusieurs essais "+w,
		"Attendez une heure puis réessayez. "+w)

	hits, err := db.SearchArticles(stacktest.Context(t), "compte bloqué "+w, kb.LocaleFR, true, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{inTitle.ID, inBody.ID}, hitIDs(hits))
	assert.Greater(t, hits[0].Rank, hits[1].Rank)
}

func TestEnglishSearchStemsLockingToLocked(t *testing.T) {
	db := stacktest.Store(t)
	w := kbWord(t)
	a := publishedArticle(t, db, kb.LocaleEN, vocab.CategoryLockedAccount, "Why was my account locked? "+w,
		"We locked it after five failed logins. "+w)

	hits, err := db.SearchArticles(stacktest.Context(t), "locking "+w, kb.LocaleEN, true, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{a.ID}, hitIDs(hits))
}

func TestSearchWithoutALocaleSearchesEachLanguageInItsOwnStemming(t *testing.T) {
	db := stacktest.Store(t)
	w := kbWord(t)
	en := publishedArticle(t, db, kb.LocaleEN, vocab.CategoryLockedAccount, "Locked out "+w, "Accounts get locked. "+w)
	fr := publishedArticle(t, db, kb.LocaleFR, vocab.CategoryLockedAccount, "Compte "+w, "Les comptes bloqués. "+w)

	hits, err := db.SearchArticles(stacktest.Context(t), w, "", true, 10)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{en.ID, fr.ID}, hitIDs(hits))
}

func TestATypoFindsTheArticleByTheWordItMisspells(t *testing.T) {
	db := stacktest.Store(t)
	w := kbWord(t)
	locked := publishedArticle(t, db, kb.LocaleEN, vocab.CategoryLockedAccount, "Account locked "+w, "Wait an hour, then sign in.")
	reset := publishedArticle(t, db, kb.LocaleEN, vocab.CategoryPasswordReset, "Reset your password "+w, "Open the email we sent.")
	ctx := stacktest.Context(t)

	hits, err := db.SearchArticles(ctx, "acount locked "+w, kb.LocaleEN, true, 5)
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	assert.Equal(t, locked.ID, hits[0].ID)
	assert.Equal(t, store.MatchedTrigram, hits[0].MatchedBy)
	assert.Contains(t, hits[0].Snippet, "Wait an hour")

	hits, err = db.SearchArticles(ctx, "pasword "+w, kb.LocaleEN, true, 5)
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	assert.Equal(t, reset.ID, hits[0].ID)
	assert.Equal(t, store.MatchedTrigram, hits[0].MatchedBy)
}

func TestFullTextHitsComeBeforeCorrectedHitsAndNoneTwice(t *testing.T) {
	db := stacktest.Store(t)
	w1, w2 := kbWord(t), kbWord(t)
	exact := publishedArticle(t, db, kb.LocaleEN, vocab.CategoryLockedAccount, "Frozen "+w1, "Frozen accounts. "+w1)
	near := publishedArticle(t, db, kb.LocaleEN, vocab.CategoryLockedAccount, "Thawed "+w2, "Thawed accounts. "+w2)

	// The misspelt w2 (a letter dropped from its middle, which no stemmer
	// takes back) is in no article: full text finds w1's article, the
	// corrected query both.
	hits, err := db.SearchArticles(stacktest.Context(t), w1+" or "+w2[:6]+w2[7:], kb.LocaleEN, true, 10)
	require.NoError(t, err)
	require.Len(t, hits, 2)
	assert.Equal(t, exact.ID, hits[0].ID)
	assert.Equal(t, store.MatchedFTS, hits[0].MatchedBy)
	assert.Equal(t, near.ID, hits[1].ID, "found by the corrected word, and w1's article not twice")
	assert.Equal(t, store.MatchedTrigram, hits[1].MatchedBy)
	assert.Contains(t, hits[1].Snippet, "<mark>"+w2+"</mark>", "the snippet marks the corrected word")
}

func TestTheSnippetMarksMatchesAndEscapesTheMarkdownText(t *testing.T) {
	db := stacktest.Store(t)
	w := kbWord(t)
	publishedArticle(t, db, kb.LocaleEN, vocab.CategoryGeneralQuestion, "Safe snippets "+w,
		"Never paste <script>alert('x')</script> into the form: 1 < 2 & 3 > 2 is fine "+w+" and the rest.")

	hits, err := db.SearchArticles(stacktest.Context(t), w, kb.LocaleEN, true, 5)
	require.NoError(t, err)
	require.Len(t, hits, 1)
	s := hits[0].Snippet
	assert.Contains(t, s, "<mark>"+w+"</mark>")
	assert.NotContains(t, s, "<script")
	assert.Contains(t, s, "1 &lt; 2 &amp; 3 &gt; 2")
	assert.Equal(t, 2, strings.Count(s, "<"), s) // <mark> and </mark>, no other tag
}

func TestDraftsAreNotInAPublishedOnlySearch(t *testing.T) {
	db := stacktest.Store(t)
	w := kbWord(t)
	draft := newArticle(t, db, kb.LocaleEN, vocab.CategoryGeneralQuestion, "Upcoming change "+w, "Soon. "+w)
	ctx := stacktest.Context(t)

	hits, err := db.SearchArticles(ctx, w, kb.LocaleEN, true, 10)
	require.NoError(t, err)
	assert.Empty(t, hits)
	hits, err = db.SearchArticles(ctx, w, kb.LocaleEN, false, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{draft.ID}, hitIDs(hits))

	// An archived article leaves the published search too.
	published := publishedArticle(t, db, kb.LocaleEN, vocab.CategoryGeneralQuestion, "Old change "+w, "Then. "+w)
	_, err = db.SetArticleStatus(ctx, published.ID, kb.StatusArchived)
	require.NoError(t, err)
	hits, err = db.SearchArticles(ctx, w, kb.LocaleEN, true, 10)
	require.NoError(t, err)
	assert.Empty(t, hits)
	hits, err = db.Search(ctx, store.ArticleSearch{Query: w, Locale: kb.LocaleEN, Status: kb.StatusArchived, Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{published.ID}, hitIDs(hits))
}

func TestAStaleUpdateIsRefusedWithTheCurrentVersion(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	a := newArticle(t, db, kb.LocaleEN, vocab.CategoryPasswordReset, "Reset your password", "Open the email.")

	v2, err := db.UpdateArticle(ctx, a.ID, 1, store.ArticleEdit{Category: a.Category, Title: a.Title,
		BodyMD: "Open the email we sent you.", Author: "agent:alice"})
	require.NoError(t, err)
	assert.Equal(t, 2, v2.Version)

	_, err = db.UpdateArticle(ctx, a.ID, 1, store.ArticleEdit{Category: a.Category, Title: a.Title,
		BodyMD: "Bob's edit of version 1.", Author: "agent:bob"})
	var stale *store.StaleVersionError
	require.ErrorAs(t, err, &stale)
	assert.Equal(t, store.StaleVersionError{ID: a.ID, Expected: 1, Current: 2}, *stale)

	// Alice's edit retried after its answer was lost is no conflict and no new version.
	again, err := db.UpdateArticle(ctx, a.ID, 1, store.ArticleEdit{Category: a.Category, Title: a.Title,
		BodyMD: "Open the email we sent you.", Author: "agent:alice"})
	require.NoError(t, err)
	assert.Equal(t, 2, again.Version)

	_, err = db.UpdateArticle(ctx, "KB-NOSUCHARTICLE", 1, store.ArticleEdit{Category: a.Category, Title: "A title", BodyMD: "x"})
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestAnInvalidArticleNamesItsFields(t *testing.T) {
	db := stacktest.Store(t)
	_, err := db.CreateArticle(stacktest.Context(t), store.NewArticle{Locale: "de", Category: "billing", Title: "x", BodyMD: ""})
	var inv *kb.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Len(t, inv.Fields, 4)
}

func TestEveryVersionIsKeptAndListedNewestFirst(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	a := newArticle(t, db, kb.LocaleEN, vocab.CategoryDeliveryDelay, "Late parcel", "Wait two days.")
	_, err := db.UpdateArticle(ctx, a.ID, 1, store.ArticleEdit{Category: a.Category, Title: "Late parcel?", BodyMD: "Wait two days.", Author: "agent:bob"})
	require.NoError(t, err)
	_, err = db.UpdateArticle(ctx, a.ID, 2, store.ArticleEdit{Category: vocab.CategoryOrderIssue, Title: "Late parcel?", BodyMD: "Wait three days.", Author: "admin:carol"})
	require.NoError(t, err)

	versions, err := db.ArticleVersions(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, versions, 3)
	assert.Equal(t, []int{3, 2, 1}, []int{versions[0].Version, versions[1].Version, versions[2].Version})
	assert.Equal(t, []string{"admin:carol", "agent:bob", "agent:test"}, []string{versions[0].Author, versions[1].Author, versions[2].Author})
	assert.Empty(t, versions[0].BodyMD)

	first, err := db.ArticleVersion(ctx, a.ID, 1)
	require.NoError(t, err)
	assert.Equal(t, "Wait two days.", first.BodyMD)
	assert.Equal(t, "Late parcel", first.Title)
	third, err := db.ArticleVersion(ctx, a.ID, 3)
	require.NoError(t, err)
	assert.Equal(t, vocab.CategoryOrderIssue, third.Category)

	_, err = db.ArticleVersion(ctx, a.ID, 4)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = db.ArticleVersions(ctx, "KB-NOSUCHARTICLE")
	assert.ErrorIs(t, err, store.ErrNotFound)

	got, err := db.GetArticle(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, got.Version)
	assert.Equal(t, "Wait three days.", got.BodyMD)
	assert.Equal(t, "agent:test", got.Author)
}

func TestPublishingSetsPublishedAtOnce(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	a := newArticle(t, db, kb.LocaleEN, vocab.CategoryGeneralQuestion, "Opening hours", "9 to 5.")
	assert.Nil(t, a.PublishedAt)

	p, err := db.SetArticleStatus(ctx, a.ID, kb.StatusPublished)
	require.NoError(t, err)
	require.NotNil(t, p.PublishedAt)
	_, err = db.SetArticleStatus(ctx, a.ID, kb.StatusArchived)
	require.NoError(t, err)
	again, err := db.SetArticleStatus(ctx, a.ID, kb.StatusPublished)
	require.NoError(t, err)
	assert.Equal(t, *p.PublishedAt, *again.PublishedAt)
	assert.Equal(t, 1, again.Version)

	_, err = db.SetArticleStatus(ctx, "KB-NOSUCHARTICLE", kb.StatusPublished)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestSuggestionsPreferTheCasesCategory(t *testing.T) {
	db := stacktest.Store(t)
	w, w2 := kbWord(t), kbWord(t)
	other := publishedArticle(t, db, kb.LocaleEN, vocab.CategoryGeneralQuestion, "Locked "+w+" "+w2, "When an account is locked. "+w+" "+w2)
	same := publishedArticle(t, db, kb.LocaleEN, vocab.CategoryLockedAccount, "Locked "+w+" "+w2, "When an account is locked. "+w+" "+w2)
	newArticle(t, db, kb.LocaleEN, vocab.CategoryLockedAccount, "Draft "+w+" "+w2, w+" "+w2)                   // a draft
	publishedArticle(t, db, kb.LocaleFR, vocab.CategoryLockedAccount, "Compte "+w+" "+w2, "Bloqué. "+w+" "+w2) // another locale

	hits, err := db.SuggestArticles(stacktest.Context(t), vocab.CategoryLockedAccount, kb.LocaleEN,
		"Help: "+w+" "+w2+" -nothing \"works\" or (so it seems)", 3)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(hits), 2)
	assert.Equal(t, []string{same.ID, other.ID}, hitIDs(hits[:2]))
	assert.Equal(t, store.MatchedFTS, hits[0].MatchedBy)
	for _, h := range hits {
		assert.Equal(t, kb.StatusPublished, h.Status)
		assert.Equal(t, kb.LocaleEN, h.Locale)
	}
}

func TestSuggestionsFallBackOnTheCategoryWhenNoWordMatches(t *testing.T) {
	db := stacktest.Store(t)
	a := publishedArticle(t, db, kb.LocaleEN, vocab.CategorySellerPayment, "Payout schedule", "Payouts run weekly.")

	hits, err := db.SuggestArticles(stacktest.Context(t), vocab.CategorySellerPayment, kb.LocaleEN, kbWord(t), 50)
	require.NoError(t, err)
	require.Contains(t, hitIDs(hits), a.ID)
	for _, h := range hits {
		assert.Equal(t, vocab.CategorySellerPayment, h.Category)
		assert.Equal(t, store.MatchedCategory, h.MatchedBy)
	}
}

func TestAnArticleRecordsEachCaseItAnsweredOnce(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	a := publishedArticle(t, db, kb.LocaleEN, vocab.CategoryLockedAccount, "Account locked", "Wait an hour.")
	first := time.Now().UTC().Truncate(time.Millisecond)
	require.NoError(t, db.RecordArticleUse(ctx, a.ID, "C-kb-1", "agent:alice", first))
	require.NoError(t, db.RecordArticleUse(ctx, a.ID, "C-kb-1", "agent:bob", first.Add(time.Minute)))
	require.NoError(t, db.RecordArticleUse(ctx, a.ID, "C-kb-2", "agent:bob", first.Add(2*time.Minute)))

	uses, err := db.ArticleCases(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, []store.ArticleUse{
		{ArticleID: a.ID, CaseID: "C-kb-2", Actor: "agent:bob", UsedAt: first.Add(2 * time.Minute)},
		{ArticleID: a.ID, CaseID: "C-kb-1", Actor: "agent:alice", UsedAt: first},
	}, uses)

	assert.ErrorIs(t, db.RecordArticleUse(ctx, "KB-NOSUCHARTICLE", "C-kb-1", "agent:alice", first), store.ErrNotFound)
}

func TestListArticlesPagesTheLatestEditedFirst(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	w := kbWord(t)
	var made []string
	for _, title := range []string{"first " + w, "second " + w, "third " + w} {
		made = append(made, newArticle(t, db, kb.LocaleFR, vocab.CategoryAccountMerge, title, "x").ID)
	}
	f := store.ArticleFilter{Locale: kb.LocaleFR, Status: kb.StatusDraft, Category: vocab.CategoryAccountMerge, Limit: 2}
	page, next, err := db.ListArticles(ctx, f)
	require.NoError(t, err)
	require.NotEmpty(t, next)
	assert.Equal(t, []string{made[2], made[1]}, []string{page[0].ID, page[1].ID})
	f.Cursor = next
	page, _, err = db.ListArticles(ctx, f)
	require.NoError(t, err)
	require.NotEmpty(t, page)
	assert.Equal(t, made[0], page[0].ID)

	_, _, err = db.ListArticles(ctx, store.ArticleFilter{Cursor: "garbage"})
	assert.ErrorIs(t, err, store.ErrBadCursor)
	_, _, err = db.ListArticles(ctx, store.ArticleFilter{Limit: store.MaxArticleLimit + 1})
	assert.ErrorIs(t, err, store.ErrBadLimit)
}

func TestCopyArticlesLoadsSearchableArticlesWithTheirVersion(t *testing.T) {
	db := stacktest.Store(t)
	ctx := stacktest.Context(t)
	w := kbWord(t)
	articles := make([]store.Article, 300)
	ids := make([]string, len(articles))
	for i := range articles {
		ids[i] = store.NewArticleID()
		articles[i] = store.Article{ArticleSummary: store.ArticleSummary{ID: ids[i], Locale: kb.LocaleEN,
			Category: vocab.CategoryOrderIssue, Title: "Order issue " + w, Status: kb.StatusPublished, Author: "seed"},
			BodyMD: "Orders that never arrived. " + w}
	}
	t.Cleanup(func() { deleteArticles(db, ids...) })
	n, err := db.CopyArticles(ctx, articles)
	require.NoError(t, err)
	assert.Equal(t, int64(len(articles)), n)

	hits, err := db.SearchArticles(ctx, "order "+w, kb.LocaleEN, true, store.MaxSearchLimit)
	require.NoError(t, err)
	assert.Len(t, hits, store.MaxSearchLimit)
	got, err := db.GetArticle(ctx, ids[7])
	require.NoError(t, err)
	assert.Equal(t, 1, got.Version)
	assert.NotNil(t, got.PublishedAt)
	v, err := db.ArticleVersion(ctx, ids[7], 1)
	require.NoError(t, err)
	assert.Equal(t, articles[7].BodyMD, v.BodyMD)

	_, err = db.CopyArticles(ctx, []store.Article{{ArticleSummary: store.ArticleSummary{Locale: "xx"}}})
	var inv *kb.InvalidError
	assert.ErrorAs(t, err, &inv)
}

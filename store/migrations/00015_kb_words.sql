-- +goose Up
-- Typo tolerance of the knowledge-base search (store/kbsearch.go), as
-- pg_trgm's documentation suggests it: a query word no article holds is
-- replaced by the most similar word the articles do hold ("acount" by
-- "account"), and the corrected query is searched again by full text.
-- Comparing the query with every title instead cost a trigram comparison
-- per article: 40 ms at 5,000 articles whose titles share most of their
-- trigrams. The dictionary is a few thousand words whatever the count of
-- articles.

-- kb_words holds every word of every article's title and body, per
-- locale, lower-cased, letters only, 3 to 40 of them. Words are never
-- removed: one an edit took out may only correct to a word that finds
-- nothing, as before the edit.
CREATE TABLE kb_words (
    locale text NOT NULL,
    word   text NOT NULL,
    PRIMARY KEY (locale, word)
);
CREATE INDEX kb_words_trgm_idx ON kb_words USING gin (word gin_trgm_ops);

-- kb_text_words answers the distinct words of s, as kb_words holds them.
-- +goose StatementBegin
CREATE FUNCTION kb_text_words(s text) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT DISTINCT w FROM regexp_split_to_table(lower(s), '[^[:alpha:]]+') w WHERE length(w) BETWEEN 3 AND 40
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION kb_words_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kb_words (locale, word)
    SELECT NEW.locale, w FROM kb_text_words(NEW.title || ' ' || NEW.body_md) w
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER kb_words_written AFTER INSERT OR UPDATE OF title, body_md, locale ON kb_articles
    FOR EACH ROW EXECUTE FUNCTION kb_words_trigger();

INSERT INTO kb_words (locale, word)
SELECT DISTINCT a.locale, w FROM kb_articles a CROSS JOIN LATERAL kb_text_words(a.title || ' ' || a.body_md) w
ON CONFLICT DO NOTHING;

-- The lexemes of each article's title, in its language: the recurring-
-- issues report (store/recurring.go) matches every issue's wording against
-- the titles of its category, and reading them from the search document
-- (ts_filter on weight A) cost a pass over thousands of documents per
-- report.
ALTER TABLE kb_articles ADD COLUMN title_lexemes text[] NOT NULL GENERATED ALWAYS AS (
    tsvector_to_array(to_tsvector(CASE WHEN locale = 'fr' THEN 'french'::regconfig ELSE 'english'::regconfig END, title))) STORED;

-- +goose Down
ALTER TABLE kb_articles DROP COLUMN title_lexemes;
DROP TRIGGER kb_words_written ON kb_articles;
DROP FUNCTION kb_words_trigger();
DROP FUNCTION kb_text_words(text);
DROP TABLE kb_words;

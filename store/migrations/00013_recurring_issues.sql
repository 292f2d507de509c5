-- +goose Up
-- The recurring-issues report (store/recurring.go) groups the cases of a
-- period by category and by a normalized subject, then merges the keys
-- that are near-identical by trigram similarity. The key is computed once,
-- when the projection writes the row, so the report aggregates a column an
-- index holds instead of normalizing every subject on every read.

-- unaccent is in contrib, beside pg_trgm (migration 00011), so every
-- Postgres that has one has the other.
CREATE EXTENSION IF NOT EXISTS unaccent;

-- normalize_subject folds what does not change an issue: case, accents
-- ("bloqué" is "bloque"), punctuation and spacing ("Can't log in!" is
-- "can t log in"), and any word holding a digit, which is an id, an order
-- number or an error code ("acc-7F3 (order 1234)" is "# order #"). unaccent()
-- is only STABLE because it finds its dictionary through the search_path;
-- this SQL-standard body resolves the function and the dictionary once,
-- when it is created, so the result depends on s alone and the function
-- may be IMMUTABLE, as a generated column needs.
-- +goose StatementBegin
CREATE FUNCTION normalize_subject(s text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN btrim(regexp_replace(
        regexp_replace(lower(unaccent('unaccent'::regdictionary, s)), '\S*[0-9]\S*', '#', 'g'),
        '[^[:alnum:]#]+', ' ', 'g'));
-- +goose StatementEnd

ALTER TABLE cases
    ADD COLUMN subject_key text NOT NULL GENERATED ALWAYS AS (normalize_subject(subject)) STORED;

-- The report's aggregate: the cases opened in a period with every column
-- it groups and filters by, read by an index-only scan of the range.
CREATE INDEX cases_recurring_idx ON cases (created_at)
    INCLUDE (category, subject_key, subject, team, priority);
-- The newest cases of one key, for a cluster's examples: a backward walk
-- of the key's range that stops after a few rows.
CREATE INDEX cases_subject_key_idx ON cases (category, subject_key, created_at, id)
    INCLUDE (team, priority);
-- The subject decides the key (and mostly the category), and cases of one subject
-- come week after week, so the report's groups are far fewer than the
-- product of their columns' distinct counts. Without these statistics the
-- planner expects a group per case and sorts the period on disk, where a
-- hash of its few groups fits in memory; the week is the report's
-- expression (weekSQL) word for word, as the planner matches it.
CREATE STATISTICS cases_subject_key_stats (ndistinct)
    ON category, subject_key, subject, (date_trunc('week', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
    FROM cases;

-- +goose Down
DROP STATISTICS cases_subject_key_stats;
DROP INDEX cases_subject_key_idx;
DROP INDEX cases_recurring_idx;
ALTER TABLE cases DROP COLUMN subject_key;
DROP FUNCTION normalize_subject(text);
DROP EXTENSION IF EXISTS unaccent;

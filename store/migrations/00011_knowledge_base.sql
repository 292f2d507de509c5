-- +goose Up
-- The knowledge base: articles agents write and customers read. Unlike the
-- read models, these tables are the source of truth (the API writes them),
-- so the values the search depends on are checked here too: the locale
-- picks the text search configuration, the status who may read. The
-- category is one of the case categories (vocab.Categories), checked by
-- the API only, as on the other tables: a new category must not need a
-- migration.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE kb_articles (
    id           text        PRIMARY KEY CHECK (id <> ''),
    locale       text        NOT NULL CHECK (locale IN ('en', 'fr')),
    category     text        NOT NULL,
    title        text        NOT NULL,
    body_md      text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    -- Who created the article; each version row says who wrote it.
    author       text        NOT NULL,
    -- The newest version, the one kb_article_versions holds last; an edit
    -- names the version it was made on and loses when it is no longer this.
    version      int         NOT NULL CHECK (version >= 1),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    -- When the article was first published; NULL while it never was.
    published_at timestamptz,
    -- The search document: the title weighs A, the body B, each stemmed by
    -- the article's language ("bloqué" and "bloquer" are one lexeme in
    -- French). to_tsvector(regconfig, text) is immutable and the configs
    -- are constants, so Postgres keeps it STORED, and the GIN index below
    -- answers @@ without reading a body.
    search       tsvector    NOT NULL GENERATED ALWAYS AS (
        setweight(to_tsvector(CASE WHEN locale = 'fr' THEN 'french'::regconfig ELSE 'english'::regconfig END, title), 'A') ||
        setweight(to_tsvector(CASE WHEN locale = 'fr' THEN 'french'::regconfig ELSE 'english'::regconfig END, body_md), 'B')
    ) STORED
);

-- Full-text search and suggestions: @@ on the search document.
CREATE INDEX kb_articles_search_idx ON kb_articles USING gin (search);
-- Typo tolerance: similarity (%) and word similarity (<%) of a query to
-- the title, case-folded as the queries fold it.
CREATE INDEX kb_articles_title_trgm_idx ON kb_articles USING gin (lower(title) gin_trgm_ops);
-- Lists, newest edit first, filtered by locale, status and category (the
-- equality prefix); suggestions find a category's published articles here.
CREATE INDEX kb_articles_list_idx ON kb_articles (locale, status, category, updated_at DESC, id DESC);
-- The unfiltered list (and any filter that skips the locale).
CREATE INDEX kb_articles_updated_idx ON kb_articles (updated_at DESC, id DESC);

-- Every version of every article, the first included, so any two diff.
CREATE TABLE kb_article_versions (
    article_id text        NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    version    int         NOT NULL CHECK (version >= 1),
    title      text        NOT NULL,
    body_md    text        NOT NULL,
    category   text        NOT NULL,
    -- Who wrote this version.
    author     text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (article_id, version)
);

-- The cases an article answered: an agent's reply records the article it
-- used, once per case (the first use is kept, so a retried record changes
-- nothing). No foreign key to cases: the cases table is a projection that
-- may not have caught up with the case yet.
CREATE TABLE kb_article_cases (
    article_id text        NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    case_id    text        NOT NULL CHECK (case_id <> ''),
    actor      text        NOT NULL,
    used_at    timestamptz NOT NULL,
    PRIMARY KEY (article_id, case_id)
);

-- The articles a case used, for the case view.
CREATE INDEX kb_article_cases_case_idx ON kb_article_cases (case_id);

-- +goose Down
DROP TABLE kb_article_cases;
DROP TABLE kb_article_versions;
DROP TABLE kb_articles;

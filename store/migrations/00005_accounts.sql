-- +goose Up
-- Marketplace accounts as Handoff's own directory holds them
-- (ACCOUNT_DIRECTORY=postgres: the local stack, demos and tests; in
-- production the marketplace's account service holds them instead). Only
-- the accounts package writes these tables.
CREATE TABLE accounts (
    id                 text        PRIMARY KEY CHECK (id <> ''),
    status             text        NOT NULL CHECK (status IN ('active', 'locked')),
    -- Why a locked account is locked; '' exactly when it is active, so a
    -- lock can always be explained to whoever reviews it.
    lock_reason        text        NOT NULL DEFAULT '',
    email              text        NOT NULL,
    -- E.164 (+33612345678); '' when unknown.
    phone              text        NOT NULL DEFAULT '',
    mfa_enabled        boolean     NOT NULL DEFAULT false,
    -- Grows by one per credential reset; what was issued under an older
    -- version is no longer valid.
    credential_version int         NOT NULL DEFAULT 1 CHECK (credential_version >= 1),
    active_sessions    int         NOT NULL DEFAULT 0 CHECK (active_sessions >= 0),
    failed_logins      int         NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    last_login_at      timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'locked') = (lock_reason <> ''))
);

-- Cases name accounts by email as often as by id.
CREATE INDEX accounts_email_idx ON accounts (email);

-- The requests that must act once (credential resets, contact changes,
-- merges), keyed by the caller's request key: a retried activity finds its
-- key here and does not act again. What was asked is kept so the same key
-- sent with another request is refused rather than silently dropped.
CREATE TABLE account_requests (
    request_key text        PRIMARY KEY CHECK (request_key <> ''),
    -- reset_credentials, change_contact or merge.
    operation   text        NOT NULL,
    account_id  text        NOT NULL REFERENCES accounts (id),
    -- The request's parameters (reset_mfa; kind and value; into_id).
    params      jsonb       NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX account_requests_account_idx ON account_requests (account_id);

-- Each merge: from_id was folded into into_id and stays locked as merged.
-- An account merges away once, hence the primary key.
CREATE TABLE account_merges (
    from_id     text        PRIMARY KEY REFERENCES accounts (id),
    into_id     text        NOT NULL REFERENCES accounts (id) CHECK (into_id <> from_id),
    request_key text        NOT NULL REFERENCES account_requests (request_key),
    merged_at   timestamptz NOT NULL DEFAULT now()
);

-- What was merged into an account.
CREATE INDEX account_merges_into_idx ON account_merges (into_id);

-- +goose Down
DROP TABLE account_merges;
DROP TABLE account_requests;
DROP TABLE accounts;

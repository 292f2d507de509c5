-- +goose Up
-- API keys: only a SHA-256 hash of each key is kept; the key itself is shown once.
CREATE TABLE api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL CHECK (name <> ''),
    role        text        NOT NULL CHECK (role IN
                    ('integration', 'agent', 'account_manager', 'security', 'trust_safety', 'admin')),
    key_hash    bytea       NOT NULL UNIQUE,
    key_prefix  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- +goose Down
DROP TABLE api_keys;

-- +goose Up
-- The evidence files attached to cases, as the SupportCase workflow recorded
-- them; the bytes are in S3 under key. Written only by the ProjectCase
-- activity (insert once, never updated: a file's record does not change).
-- No foreign key to cases: the case row and its evidence are written in the
-- same transaction, and no CHECK on kind, as for the cases table.
CREATE TABLE evidence (
    id           text        PRIMARY KEY CHECK (id <> ''),
    case_id      text        NOT NULL,
    kind         text        NOT NULL,
    key          text        NOT NULL,
    sha256       text        NOT NULL,
    size         bigint      NOT NULL,
    content_type text        NOT NULL,
    note         text        NOT NULL DEFAULT '',
    -- True when S3 Object Lock keeps the file from change or early deletion.
    retained     boolean     NOT NULL DEFAULT false,
    uploaded_by  text        NOT NULL,
    -- The timeline event that recorded the file.
    seq          int         NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX evidence_case_idx ON evidence (case_id);

-- +goose Down
DROP TABLE evidence;

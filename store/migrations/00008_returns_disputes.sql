-- +goose Up
-- The read models of returns and disputes. Only their workflows write them,
-- through the ProjectReturn and ProjectDispute activities; the workflows
-- stay the source of truth. As for cases and deliveries, no CHECK
-- constraints on status: a projection must never fail forever because a
-- workflow learnt a new value before the schema did.
CREATE TABLE returns (
    id          text        PRIMARY KEY CHECK (id <> ''),
    -- The case the return reports to, its order, seller and buyer: the
    -- case fills each of them when it starts the return.
    case_id     text        NOT NULL,
    order_id    text        NOT NULL,
    seller_id   text        NOT NULL,
    customer_id text        NOT NULL,
    status      text        NOT NULL,
    -- The deadline the return waits on a party for; NULL when none.
    respond_by  timestamptz,
    -- The list's sort key: respond_by with NULL as 'infinity', so
    -- "ORDER BY respond_sort, id" is "respond_by ASC NULLS LAST, id" and a
    -- keyset page is one row comparison a btree answers as a range (the
    -- deliveries table's warranty_sort, for the same reasons).
    respond_sort timestamptz NOT NULL
                 GENERATED ALWAYS AS (coalesce(respond_by, 'infinity'::timestamptz)) STORED,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    -- Sequence of the newest timeline event projected; an older projection
    -- (a retried activity) never overwrites a newer row.
    last_seq    int         NOT NULL,
    -- The whole return as the API answers it, without its timeline.
    view        jsonb       NOT NULL
);

-- Every list is sorted by (respond_sort, id): the queue of what is due
-- next, the status and seller queues in order; case, order and customer
-- ids match a handful of returns each, a lookup then a sort of those few.
CREATE INDEX returns_queue_idx ON returns (respond_sort, id);
CREATE INDEX returns_status_queue_idx ON returns (status, respond_sort, id);
CREATE INDEX returns_seller_queue_idx ON returns (seller_id, respond_sort, id);
CREATE INDEX returns_case_idx ON returns (case_id);
CREATE INDEX returns_order_idx ON returns (order_id);
CREATE INDEX returns_customer_idx ON returns (customer_id);

-- A return's timeline, one row per event, keyed so a retried projection
-- inserts nothing twice; the return row is written first in the same
-- transaction, so the foreign key holds.
CREATE TABLE return_events (
    return_id text        NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    seq       int         NOT NULL,
    actor     text        NOT NULL,
    kind      text        NOT NULL,
    at        timestamptz NOT NULL,
    -- NULL when the event carries no payload.
    payload   jsonb,
    PRIMARY KEY (return_id, seq)
);

-- Disputes, in the same shape. created_at is when the dispute was opened.
CREATE TABLE disputes (
    id          text        PRIMARY KEY CHECK (id <> ''),
    case_id     text        NOT NULL,
    order_id    text        NOT NULL,
    seller_id   text        NOT NULL,
    customer_id text        NOT NULL,
    status      text        NOT NULL,
    -- When the party the dispute waits on must act; NULL when none.
    respond_by  timestamptz,
    respond_sort timestamptz NOT NULL
                 GENERATED ALWAYS AS (coalesce(respond_by, 'infinity'::timestamptz)) STORED,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    last_seq    int         NOT NULL,
    view        jsonb       NOT NULL
);

CREATE INDEX disputes_queue_idx ON disputes (respond_sort, id);
CREATE INDEX disputes_status_queue_idx ON disputes (status, respond_sort, id);
CREATE INDEX disputes_seller_queue_idx ON disputes (seller_id, respond_sort, id);
CREATE INDEX disputes_case_idx ON disputes (case_id);
CREATE INDEX disputes_order_idx ON disputes (order_id);
CREATE INDEX disputes_customer_idx ON disputes (customer_id);

CREATE TABLE dispute_events (
    dispute_id text        NOT NULL REFERENCES disputes (id) ON DELETE CASCADE,
    seq        int         NOT NULL,
    actor      text        NOT NULL,
    kind       text        NOT NULL,
    at         timestamptz NOT NULL,
    payload    jsonb,
    PRIMARY KEY (dispute_id, seq)
);

-- +goose Down
DROP TABLE dispute_events;
DROP TABLE disputes;
DROP TABLE return_events;
DROP TABLE returns;

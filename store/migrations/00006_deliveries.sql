-- +goose Up
-- The read model of account deliveries. Only the AccountDelivery workflow
-- writes it, through the ProjectDelivery activity; the workflow stays the
-- source of truth. As for cases, no CHECK constraints on status and the
-- like: a projection must never fail forever because the workflow learnt a
-- new value before the schema did.
CREATE TABLE deliveries (
    id               text        PRIMARY KEY CHECK (id <> ''),
    status           text        NOT NULL,
    -- The handoff record's account and order, the buyer and the seller: the
    -- delivery's starter requires each of them, so they are never absent.
    account_id       text        NOT NULL,
    order_id         text        NOT NULL,
    buyer_id         text        NOT NULL,
    buyer_email      text        NOT NULL,
    seller_id        text        NOT NULL,
    product          text        NOT NULL,
    region           text        NOT NULL,
    -- NULL until the account is delivered.
    warranty_ends_at timestamptz,
    -- The list's sort key: warranty_ends_at with NULL as 'infinity', so
    -- "ORDER BY warranty_sort, id" is "warranty_ends_at ASC NULLS LAST, id"
    -- and a keyset page is one row comparison a btree answers as a range
    -- (the cases table's sla_due_sort, for the same reasons).
    warranty_sort    timestamptz NOT NULL
                     GENERATED ALWAYS AS (coalesce(warranty_ends_at, 'infinity'::timestamptz)) STORED,
    -- While the buyer may still confirm or report a problem.
    confirm_by       timestamptz,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- Sequence of the newest timeline event projected; an older projection
    -- (a retried activity) never overwrites a newer row.
    last_seq         int         NOT NULL,
    -- The whole delivery as the API answers it, without its timeline.
    view             jsonb       NOT NULL
);

-- Every list is sorted by (warranty_sort, id); these indexes answer a page
-- in order and stop after LIMIT rows, on the first page and on later ones.

-- No filter, or warranty_ends_before alone (written as warranty_sort < $1,
-- a range on this key): the warranties that end next.
CREATE INDEX deliveries_queue_idx ON deliveries (warranty_sort, id);
-- Status queues (every delivery under review, every one waiting on its buyer).
CREATE INDEX deliveries_status_queue_idx ON deliveries (status, warranty_sort, id);
-- A seller has many deliveries: their queue in order.
CREATE INDEX deliveries_seller_queue_idx ON deliveries (seller_id, warranty_sort, id);
-- Account, order and buyer ids match a handful of deliveries each: a plain
-- lookup then a sort of those few rows.
CREATE INDEX deliveries_account_idx ON deliveries (account_id);
CREATE INDEX deliveries_order_idx ON deliveries (order_id);
CREATE INDEX deliveries_buyer_idx ON deliveries (buyer_id);

-- The timeline, one row per event, keyed so a retried projection inserts
-- nothing twice. The delivery row is always written first in the same
-- transaction, so the foreign key holds.
CREATE TABLE delivery_events (
    delivery_id text        NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    seq         int         NOT NULL,
    actor       text        NOT NULL,
    kind        text        NOT NULL,
    at          timestamptz NOT NULL,
    -- NULL when the event carries no payload.
    payload     jsonb,
    PRIMARY KEY (delivery_id, seq)
);

-- +goose Down
DROP TABLE delivery_events;
DROP TABLE deliveries;

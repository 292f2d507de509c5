-- +goose Up
-- The read model of cases. Only the SupportCase workflow writes it, through
-- the ProjectCase activity; the workflow stays the source of truth. No CHECK
-- constraints on status, team and the like: a projection must never fail
-- forever because the workflow learnt a new value before the schema did.
CREATE TABLE cases (
    id               text        PRIMARY KEY CHECK (id <> ''),
    status           text        NOT NULL,
    priority         text        NOT NULL,
    category         text        NOT NULL,
    team             text        NOT NULL,
    -- assignee, account_id and order_id are NULL when absent (never ''), so
    -- their partial indexes (WHERE ... IS NOT NULL) are usable by a
    -- parameterised "col = $1": a strict operator implies IS NOT NULL even in
    -- a generic plan, where "col <> ''" could not be proven.
    assignee         text,
    escalation_level int         NOT NULL,
    customer_id      text        NOT NULL,
    account_id       text,
    order_id         text,
    channel          text        NOT NULL DEFAULT '',
    subject          text        NOT NULL,
    description      text        NOT NULL DEFAULT '',
    breached         boolean     NOT NULL DEFAULT false,
    -- The nearest running SLA deadline; NULL when none runs or the clock is paused.
    sla_due_at       timestamptz,
    -- The work-queue sort key: sla_due_at with NULL as 'infinity', so
    -- "ORDER BY sla_due_sort, id" is exactly "sla_due_at ASC NULLS LAST, id"
    -- and a keyset page is one row comparison, (sla_due_sort, id) > ($1, $2),
    -- that a btree index answers as a range. On sla_due_at itself the NULLs
    -- need an "OR sla_due_at IS NULL" that turns every later page into a
    -- scan from the top of the queue.
    sla_due_sort     timestamptz NOT NULL
                     GENERATED ALWAYS AS (coalesce(sla_due_at, 'infinity'::timestamptz)) STORED,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    closed_at        timestamptz,
    -- Sequence of the newest timeline event projected; an older projection
    -- (a retried activity) never overwrites a newer row.
    last_seq         int         NOT NULL,
    -- The whole case as the API answers it, without its timeline.
    view             jsonb       NOT NULL,
    -- Free-text search over subject and description; 'simple' because cases
    -- come in several languages and ids or product names must match as typed.
    search           tsvector    NOT NULL
                     GENERATED ALWAYS AS (to_tsvector('simple', subject || ' ' || description)) STORED
);

-- Every list is sorted by (sla_due_sort, id). Indexes whose columns are the
-- equality filters followed by that key return a page in order and stop
-- after LIMIT rows, on the first page and on every later one.

-- The hot query: a team's work queue, "team = $1 AND breached = false".
CREATE INDEX cases_team_queue_idx ON cases (team, breached, sla_due_sort, id);
-- No filter, or only filters without an index of their own (priority,
-- category, due_before): walk the queue in order and filter until LIMIT.
-- due_before is written as sla_due_sort < $1, a range on this key.
CREATE INDEX cases_queue_idx ON cases (sla_due_sort, id);
-- Breached cases across teams, in queue order; they are few, so partial.
CREATE INDEX cases_breached_queue_idx ON cases (sla_due_sort, id) WHERE breached;
-- Status queues (every escalated case, every case waiting on a customer).
CREATE INDEX cases_status_queue_idx ON cases (status, sla_due_sort, id);
-- An agent's own queue.
CREATE INDEX cases_assignee_queue_idx ON cases (assignee, sla_due_sort, id) WHERE assignee IS NOT NULL;
-- Customer, account and order ids match a handful of cases each: a plain
-- lookup then a sort of those few rows beats a wider index to maintain on
-- every projection.
CREATE INDEX cases_customer_idx ON cases (customer_id);
CREATE INDEX cases_account_idx ON cases (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX cases_order_idx ON cases (order_id) WHERE order_id IS NOT NULL;
-- Free text q: search @@ websearch_to_tsquery('simple', $1).
CREATE INDEX cases_search_idx ON cases USING gin (search);

-- The timeline, one row per event, keyed so a retried projection inserts
-- nothing twice. The case row is always written first in the same
-- transaction, so the foreign key holds.
CREATE TABLE case_events (
    case_id text        NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq     int         NOT NULL,
    actor   text        NOT NULL,
    kind    text        NOT NULL,
    at      timestamptz NOT NULL,
    -- NULL when the event carries no payload.
    payload jsonb,
    PRIMARY KEY (case_id, seq)
);

-- +goose Down
DROP TABLE case_events;
DROP TABLE cases;

-- +goose Up
-- The read model of sellers and of the holds on their payouts. Only the
-- workflows write them: SellerOnboarding through ProjectSeller, every
-- owner of a payout hold (SellerVerification, the fraud watch) through
-- ProjectPayoutHold; the workflows stay the source of truth. As for the
-- other read models, no CHECK constraints on statuses or states: a
-- projection must never fail forever because a workflow learnt a new
-- value before the schema did.
CREATE TABLE sellers (
    seller_id   text        PRIMARY KEY CHECK (seller_id <> ''),
    region      text        NOT NULL,
    status      text        NOT NULL,
    -- Why a seller is suspended or closed; '' when neither.
    reason      text        NOT NULL DEFAULT '',
    -- Where the identity check is (sellers.Verification*), the provider's
    -- check id, its reasons, its review case, and who moved it last when.
    verification_status   text        NOT NULL,
    verification_check_id text        NOT NULL DEFAULT '',
    verification_reasons  text[]      NOT NULL DEFAULT '{}',
    verification_case_id  text        NOT NULL DEFAULT '',
    verification_actor    text        NOT NULL DEFAULT '',
    verification_at       timestamptz,
    -- The seller's onboarding case, once a step stalled; NULL when none
    -- (never ''), as cases.assignee.
    case_id     text,
    -- The checklist as the workflow keeps it (sellers.Step, in order).
    steps       jsonb       NOT NULL,
    started_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    -- Sequence of the newest timeline event projected; an older projection
    -- (a retried activity) never overwrites a newer row.
    last_seq    int         NOT NULL,
    -- The onboarding's workflow id (seller/<id>).
    workflow_id text        NOT NULL
);

-- trust_safety's queues: every seller in a status, in a verification status.
CREATE INDEX sellers_status_idx ON sellers (status, seller_id);
CREATE INDEX sellers_verification_idx ON sellers (verification_status, seller_id);

-- A seller's timeline, one row per onboarding event, keyed so a retried
-- projection inserts nothing twice: a seller has one onboarding workflow
-- (its continued runs carry the sequence on), so (seller_id, seq) is
-- (workflow id, seq). The seller row is written first in the same batch,
-- so the foreign key holds.
CREATE TABLE seller_events (
    seller_id text        NOT NULL REFERENCES sellers (seller_id) ON DELETE CASCADE,
    seq       int         NOT NULL,
    actor     text        NOT NULL,
    kind      text        NOT NULL,
    at        timestamptz NOT NULL,
    -- NULL when the event carries no payload.
    payload   jsonb,
    PRIMARY KEY (seller_id, seq)
);

-- Holds on a seller's payouts (vocab.PayoutHold), whoever placed them. A
-- hold is named by its idempotency key before the provider answers its
-- id; no foreign key to sellers: a fraud watch may hold the payouts of a
-- seller whose onboarding is not projected (yet, or ever).
CREATE TABLE payout_holds (
    hold_key       text        PRIMARY KEY CHECK (hold_key <> ''),
    -- The provider's id of the hold; NULL until it answered one.
    hold_id        text,
    seller_id      text        NOT NULL,
    reason         text        NOT NULL,
    detail         text        NOT NULL DEFAULT '',
    -- The workflow that placed the hold: it takes the release and extend updates.
    owner          text        NOT NULL,
    state          text        NOT NULL,
    placed_at      timestamptz NOT NULL,
    -- NULL holds until the owner decides.
    until          timestamptz,
    case_id        text,
    released_at    timestamptz,
    released_by    text        NOT NULL DEFAULT '',
    release_reason text        NOT NULL DEFAULT '',
    error          text        NOT NULL DEFAULT '',
    -- When the owner asked for this write (the activity's scheduled time,
    -- the same on every retry): a write asked earlier never overwrites one
    -- asked later, and a released hold stays released.
    updated_at     timestamptz NOT NULL
);

CREATE INDEX payout_holds_seller_idx ON payout_holds (seller_id);
-- The API finds a hold by the provider's id too.
CREATE INDEX payout_holds_hold_id_idx ON payout_holds (hold_id) WHERE hold_id IS NOT NULL;

-- +goose Down
DROP TABLE payout_holds;
DROP TABLE seller_events;
DROP TABLE sellers;

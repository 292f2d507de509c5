-- +goose Up
-- One row per notification and channel the Notify activity delivers on: the
-- record that lets a retried activity skip what it already sent. The row is
-- claimed ('sending', with a lease) before the send and marked 'sent' after
-- it; a crash between the two leaves 'sending', so the retry sends again
-- under the same id (email Message-ID, webhook-id) for the receiver to
-- drop. No CHECK on channel or event: a delivery must never fail forever
-- because the code learnt a new value before the schema did.
CREATE TABLE notification_deliveries (
    -- The workflow's notification id: case/<id>/<seq>/<audience>.
    notification_id text        NOT NULL CHECK (notification_id <> ''),
    -- email, team_webhook or marketplace_webhook.
    channel         text        NOT NULL CHECK (channel <> ''),
    case_id         text        NOT NULL,
    event           text        NOT NULL,
    -- The email address, or the webhook's scheme and host only (a Slack
    -- webhook's path is its secret).
    target          text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    -- Sends tried, counting the one in flight.
    attempts        int         NOT NULL,
    -- While in the future, an attempt is sending; another waits for it.
    claimed_until   timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    PRIMARY KEY (notification_id, channel)
);

-- What a case was told, for operators and support.
CREATE INDEX notification_deliveries_case_idx ON notification_deliveries (case_id);

-- +goose Down
DROP TABLE notification_deliveries;

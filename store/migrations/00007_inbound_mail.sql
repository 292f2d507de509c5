-- +goose Up
-- Every email that reached a case's reply address, once per Message-ID and
-- case: the inbound gateway claims the row before it acts and marks it
-- delivered once the case has the message, so a mail delivered twice (a
-- sender's retry, a second copy) acts once, and a crash in between is
-- finished by the sender's retry.
CREATE TABLE inbound_messages (
    message_id     text        NOT NULL CHECK (message_id <> ''),
    -- The case the reply address named.
    case_id        text        NOT NULL,
    -- customer, auto_reply, bounce or unverified_sender (cases.InboundKinds).
    kind           text        NOT NULL,
    mail_from      text        NOT NULL,
    header_from    text        NOT NULL,
    subject        text        NOT NULL,
    -- The receiving server's Authentication-Results, as received.
    authentication text        NOT NULL DEFAULT '',
    size_bytes     bigint      NOT NULL,
    attachments    int         NOT NULL,
    status         text        NOT NULL CHECK (status IN ('receiving', 'delivered')),
    -- The case that took the message: case_id, or the case opened to follow
    -- it up when it was closed.
    delivered_to   text        NOT NULL DEFAULT '',
    received_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at   timestamptz,
    PRIMARY KEY (message_id, case_id)
);

CREATE INDEX inbound_messages_case_idx ON inbound_messages (case_id, received_at);

-- +goose Down
DROP TABLE inbound_messages;

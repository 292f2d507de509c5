-- +goose Up
-- What the reports (store/reports.go) read, in columns and indexes their
-- plans use: each report is one aggregate over a range of one timestamp,
-- answered by an index-only scan of that range (the visibility map is kept
-- by autovacuum), never by reading the views.

-- report_instant reads an instant the projection wrote into a view (Go's
-- RFC 3339, always with its offset). A text to timestamptz cast is only
-- STABLE because of the DateStyle and TimeZone settings and of inputs
-- such as 'now'; for a full RFC 3339 timestamp with an offset none of them
-- changes the result, so the pattern below keeps anything else out and
-- the function may be IMMUTABLE, as a generated column needs. A value that
-- is not such a timestamp is NULL rather than an error: a projection must
-- never fail forever because a view changed shape.
-- +goose StatementBegin
CREATE FUNCTION report_instant(s text) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE
        WHEN s ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$' THEN s::timestamptz
    END;
-- +goose StatementEnd

-- The facts of a case only its view holds, as columns Postgres computes on
-- every write of the row: the projection's statements stay as they are.
-- The rating is read only when it is a JSON number, for the same reason.
ALTER TABLE cases
    ADD COLUMN first_response_at timestamptz
        GENERATED ALWAYS AS (report_instant(view ->> 'first_response_at')) STORED,
    ADD COLUMN resolved_at timestamptz
        GENERATED ALWAYS AS (report_instant(view ->> 'resolved_at')) STORED,
    ADD COLUMN csat_rating int
        GENERATED ALWAYS AS (CASE WHEN jsonb_typeof(view -> 'csat' -> 'rating') = 'number'
                                  THEN round((view -> 'csat' ->> 'rating')::numeric)::int END) STORED,
    ADD COLUMN csat_at timestamptz
        GENERATED ALWAYS AS (report_instant(view -> 'csat' ->> 'at')) STORED;

-- SLA compliance and response times: the cases opened in a period, with
-- every column they group, filter and measure by.
CREATE INDEX cases_report_idx ON cases (created_at)
    INCLUDE (team, priority, category, breached, first_response_at, resolved_at);
-- The backlog: open cases only. The report's WHERE repeats this predicate
-- word for word so the planner can prove it.
CREATE INDEX cases_backlog_idx ON cases (created_at)
    INCLUDE (status, team, priority, category)
    WHERE status NOT IN ('resolved', 'closed');
-- CSAT: the rated cases by when they were rated; the latest comments walk
-- it backwards and stop after a page.
CREATE INDEX cases_csat_idx ON cases (csat_at)
    INCLUDE (csat_rating, team, priority, category)
    WHERE csat_at IS NOT NULL;
-- Escalations and security: the few timeline kinds they count, by when.
-- The reports name their kinds as constants, which imply this predicate.
CREATE INDEX case_events_report_idx ON case_events (kind, at)
    WHERE kind IN ('escalated', 'sla_breach', 'account_locked', 'security_decision',
                   'recovery_completed', 'recovery_expired', 'recovery_locked');

-- Deliveries by when they started, and the problem reports among their events.
CREATE INDEX deliveries_report_idx ON deliveries (created_at) INCLUDE (status);
CREATE INDEX delivery_events_problem_idx ON delivery_events (delivery_id)
    WHERE kind = 'delivery_problem_received';

-- Disputes by when they opened, and the seller's first answer among their events.
CREATE INDEX disputes_report_idx ON disputes (created_at) INCLUDE (case_id);
CREATE INDEX dispute_events_seller_idx ON dispute_events (dispute_id, at)
    WHERE kind IN ('dispute_seller_accepted', 'dispute_offer_made', 'dispute_contested');

-- +goose Down
DROP INDEX dispute_events_seller_idx;
DROP INDEX disputes_report_idx;
DROP INDEX delivery_events_problem_idx;
DROP INDEX deliveries_report_idx;
DROP INDEX case_events_report_idx;
DROP INDEX cases_csat_idx;
DROP INDEX cases_backlog_idx;
DROP INDEX cases_report_idx;
ALTER TABLE cases
    DROP COLUMN csat_at,
    DROP COLUMN csat_rating,
    DROP COLUMN resolved_at,
    DROP COLUMN first_response_at;
DROP FUNCTION report_instant(text);

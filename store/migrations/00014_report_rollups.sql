-- +goose Up
-- Weekly rollups of what the slower reports count (store/rollups.go). A
-- report over twelve weeks read up to 100,000 cases or 130,000 timeline
-- events per request; it now reads the rollup rows of the period's whole
-- weeks, a few thousand, and the rows themselves only for the partial
-- weeks at its ends (the current week, by default). Triggers keep the
-- rollups in the transaction that writes the rows, so a report never lags
-- the read model and the projection's statements stay as they are.
--
-- Every rollup row is a sum of +1 and -1 contributions: a row that changes
-- a counted column takes its old contribution back and adds its new one.
-- A count that falls to 0 keeps its row; the reports skip such rows.
-- report_rollups_rebuild() recomputes them all from the rows: this
-- migration's backfill, the seed's bulk load, and the test that proves the
-- triggers agree with a rebuild.

-- report_week answers the Monday 00:00 UTC of t's week, the reports' week
-- (weekSQL in store/reports.go).
CREATE FUNCTION report_week(t timestamptz) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN date_trunc('week', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';

-- report_bucket answers the histogram bucket of a duration in minutes:
-- bucket b holds [1.02^b - 1, 1.02^(b+1) - 1), so a percentile read from
-- the buckets is within 2 % of the exact one (and within 0.02 minutes
-- below one minute). Negative durations (a clock that went back) count as
-- 0. A year is bucket 664.
CREATE FUNCTION report_bucket(minutes float8) RETURNS smallint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN least(floor(ln(1 + greatest(minutes, 0)) / ln(1.02)), 32767)::smallint;

-- report_wording answers a subject with every word holding a digit (an
-- id, an order number) masked as #, the recurring-issues report's wording.
CREATE FUNCTION report_wording(subject text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN regexp_replace(subject, '[\w-]*[0-9][\w-]*', '#', 'g');

-- The cases opened per week and group, and how many breached an SLA
-- target: SLA compliance.
CREATE TABLE report_case_weeks (
    week     timestamptz NOT NULL,
    team     text        NOT NULL,
    priority text        NOT NULL,
    category text        NOT NULL,
    cases    int         NOT NULL,
    breached int         NOT NULL,
    PRIMARY KEY (week, team, priority, category)
);

-- Histograms of the first response and resolution times of the cases
-- opened per week, in report_bucket's buckets, each with the sum of its
-- durations: response times. A case counts four times, once in each
-- dimension the report filters by: in dim 'all' (value ''), and in
-- 'team', 'priority' and 'category' under its own. A report without a
-- filter or with one reads that dimension's few thousand rows; with two
-- or more it reads the cases (store/reports.go). Keyed by every group at
-- once, the histograms held almost a row per case. A percentile takes each bucket's
-- durations to be their mean, so it is exact when the durations around it
-- fall in different buckets, and within a bucket's width otherwise.
CREATE TABLE report_duration_weeks (
    dim     text        NOT NULL, -- all, team, priority or category
    value   text        NOT NULL,
    week    timestamptz NOT NULL,
    measure text        NOT NULL, -- first_response or resolution
    bucket  smallint    NOT NULL,
    n       int         NOT NULL,
    minutes float8      NOT NULL,
    PRIMARY KEY (dim, value, week, measure, bucket)
);

-- The cases opened per week by category, subject key and wording, in
-- each team and priority: recurring issues.
CREATE TABLE report_subject_weeks (
    week        timestamptz NOT NULL,
    category    text        NOT NULL,
    subject_key text        NOT NULL,
    wording     text        NOT NULL,
    team        text        NOT NULL,
    priority    text        NOT NULL,
    n           int         NOT NULL,
    PRIMARY KEY (week, category, subject_key, wording, team, priority)
);

-- The escalation and security events per week of when they happened, by
-- kind and the group of their case: escalations and security. team is
-- the team escalated to for an escalation, the case's team otherwise;
-- level is -1 when the event did not say; reason is an escalation's
-- reason, a breach's SLA target, '' for the rest. A security decision
-- counts only when it decided a false alarm (an unlock).
CREATE TABLE report_event_weeks (
    week     timestamptz NOT NULL,
    kind     text        NOT NULL,
    team     text        NOT NULL,
    priority text        NOT NULL,
    category text        NOT NULL,
    level    int         NOT NULL,
    reason   text        NOT NULL,
    n        int         NOT NULL,
    PRIMARY KEY (week, kind, team, priority, category, level, reason)
);

-- report_rollups_off answers whether this transaction turned the rollup
-- triggers off (SET LOCAL handoff.rollups = 'off'): a bulk load (the seed)
-- skips millions of row-by-row updates, then calls report_rollups_rebuild
-- for the weeks it wrote before it commits. Unlike ALTER TABLE ... DISABLE
-- TRIGGER it locks no table, and only that transaction skips them.
CREATE FUNCTION report_rollups_off() RETURNS boolean
    LANGUAGE sql STABLE
    RETURN coalesce(current_setting('handoff.rollups', true), '') = 'off';

-- report_case_add adds sign times c's contribution to the case rollups
-- whose columns differ between c and other (every rollup when other is
-- NULL): an update that leaves a rollup's columns alone writes nothing to it.
-- +goose StatementBegin
CREATE FUNCTION report_case_add(c cases, other cases, sign int) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF other IS NULL OR (c.created_at, c.team, c.priority, c.category, c.breached)
            IS DISTINCT FROM (other.created_at, other.team, other.priority, other.category, other.breached) THEN
        INSERT INTO report_case_weeks AS r (week, team, priority, category, cases, breached)
        VALUES (report_week(c.created_at), c.team, c.priority, c.category, sign, CASE WHEN c.breached THEN sign ELSE 0 END)
        ON CONFLICT (week, team, priority, category)
            DO UPDATE SET cases = r.cases + EXCLUDED.cases, breached = r.breached + EXCLUDED.breached;
    END IF;
    IF other IS NULL OR (c.created_at, c.team, c.priority, c.category, c.first_response_at, c.resolved_at)
            IS DISTINCT FROM (other.created_at, other.team, other.priority, other.category, other.first_response_at, other.resolved_at) THEN
        INSERT INTO report_duration_weeks AS r (dim, value, week, measure, bucket, n, minutes)
        SELECT d.dim, d.value, report_week(c.created_at), m.measure, report_bucket(m.minutes),
               sign, sign * greatest(m.minutes, 0)
        FROM (VALUES ('first_response', extract(epoch FROM c.first_response_at - c.created_at)::float8 / 60),
                     ('resolution', extract(epoch FROM c.resolved_at - c.created_at)::float8 / 60)) m (measure, minutes)
        CROSS JOIN (VALUES ('all', ''), ('team', c.team), ('priority', c.priority), ('category', c.category)) d (dim, value)
        WHERE m.minutes IS NOT NULL
        ON CONFLICT (dim, value, week, measure, bucket)
            DO UPDATE SET n = r.n + EXCLUDED.n, minutes = r.minutes + EXCLUDED.minutes;
    END IF;
    IF c.subject_key <> '' AND (other IS NULL OR (c.created_at, c.category, c.subject_key, c.subject, c.team, c.priority)
            IS DISTINCT FROM (other.created_at, other.category, other.subject_key, other.subject, other.team, other.priority)) THEN
        INSERT INTO report_subject_weeks AS r (week, category, subject_key, wording, team, priority, n)
        VALUES (report_week(c.created_at), c.category, c.subject_key, report_wording(c.subject), c.team, c.priority, sign)
        ON CONFLICT (week, category, subject_key, wording, team, priority) DO UPDATE SET n = r.n + EXCLUDED.n;
    END IF;
END $$;
-- +goose StatementEnd

-- report_events_add adds sign times the contribution of each event of
-- events that the event rollup counts, in the group p_team (the case's),
-- p_priority and p_category.
-- +goose StatementBegin
CREATE FUNCTION report_events_add(events case_events[], p_team text, p_priority text, p_category text, sign int) RETURNS void
    LANGUAGE sql AS $$
    INSERT INTO report_event_weeks AS r (week, kind, team, priority, category, level, reason, n)
    SELECT report_week(e.at), e.kind,
           CASE WHEN e.kind = 'escalated' THEN coalesce(e.payload ->> 'to_team', p_team) ELSE p_team END,
           p_priority, p_category,
           coalesce(CASE WHEN e.payload ->> 'level' ~ '^[0-9]{1,4}$' THEN (e.payload ->> 'level')::int END, -1),
           coalesce(CASE e.kind WHEN 'escalated' THEN e.payload ->> 'reason'
                                WHEN 'sla_breach' THEN e.payload ->> 'target' END, ''),
           sum(sign)
    FROM unnest(events) e
    WHERE e.kind IN ('escalated', 'sla_breach', 'account_locked', 'security_decision',
                     'recovery_completed', 'recovery_expired', 'recovery_locked')
      AND (e.kind <> 'security_decision' OR e.payload ->> 'decision' = 'false_alarm')
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (week, kind, team, priority, category, level, reason) DO UPDATE SET n = r.n + EXCLUDED.n
$$;
-- +goose StatementEnd

-- A case's rows: its own rollups, and its events' when its group changes
-- (they count in the case's group now, as the reports always did). A
-- deleted case takes its events back before ON DELETE CASCADE removes
-- them, hence BEFORE: after it, neither the case nor its events are left
-- to say what to take back.
-- +goose StatementBegin
CREATE FUNCTION report_cases_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF report_rollups_off() THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD END;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM report_case_add(NEW, NULL, 1);
        PERFORM report_events_add(ARRAY(SELECT e FROM case_events e WHERE e.case_id = NEW.id), NEW.team, NEW.priority, NEW.category, 1);
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM report_case_add(OLD, NULL, -1);
        PERFORM report_events_add(ARRAY(SELECT e FROM case_events e WHERE e.case_id = OLD.id), OLD.team, OLD.priority, OLD.category, -1);
        RETURN OLD;
    END IF;
    PERFORM report_case_add(OLD, NEW, -1);
    PERFORM report_case_add(NEW, OLD, 1);
    IF (OLD.team, OLD.priority, OLD.category) IS DISTINCT FROM (NEW.team, NEW.priority, NEW.category) THEN
        PERFORM report_events_add(ARRAY(SELECT e FROM case_events e WHERE e.case_id = OLD.id), OLD.team, OLD.priority, OLD.category, -1);
        PERFORM report_events_add(ARRAY(SELECT e FROM case_events e WHERE e.case_id = NEW.id), NEW.team, NEW.priority, NEW.category, 1);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER report_cases_written AFTER INSERT OR UPDATE ON cases
    FOR EACH ROW EXECUTE FUNCTION report_cases_trigger();
CREATE TRIGGER report_cases_deleted BEFORE DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION report_cases_trigger();

-- An event counts in its case's group; an event whose case is gone (its
-- cascade) was taken back with the case.
-- +goose StatementBegin
CREATE FUNCTION report_case_events_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    IF report_rollups_off() THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT team, priority, category INTO c FROM cases WHERE id = OLD.case_id;
        IF FOUND THEN
            PERFORM report_events_add(ARRAY[OLD], c.team, c.priority, c.category, -1);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT team, priority, category INTO c FROM cases WHERE id = NEW.case_id;
        IF FOUND THEN
            PERFORM report_events_add(ARRAY[NEW], c.team, c.priority, c.category, 1);
        END IF;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- Of the inserts, the hot path, only the kinds the rollup counts reach
-- the function; updates and deletes of events are rare.
CREATE TRIGGER report_case_events_inserted AFTER INSERT ON case_events
    FOR EACH ROW WHEN (NEW.kind IN ('escalated', 'sla_breach', 'account_locked', 'security_decision',
                                    'recovery_completed', 'recovery_expired', 'recovery_locked'))
    EXECUTE FUNCTION report_case_events_trigger();
CREATE TRIGGER report_case_events_changed AFTER UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION report_case_events_trigger();

-- Deliveries: whether the buyer reported a problem, kept on the delivery
-- so the deliveries report reads it from an index instead of probing the
-- timeline of every delivery. The delivery row is written before its
-- events, in the same transaction; a delivery inserted after its events
-- (a restore) looks them up.
ALTER TABLE deliveries ADD COLUMN problem_reported boolean NOT NULL DEFAULT false;

-- +goose StatementBegin
CREATE FUNCTION report_delivery_events_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF report_rollups_off() THEN
        RETURN NULL;
    END IF;
    UPDATE deliveries SET problem_reported = true WHERE id = NEW.delivery_id AND NOT problem_reported;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER report_delivery_problem AFTER INSERT ON delivery_events
    FOR EACH ROW WHEN (NEW.kind = 'delivery_problem_received')
    EXECUTE FUNCTION report_delivery_events_trigger();

-- +goose StatementBegin
CREATE FUNCTION report_deliveries_trigger() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF report_rollups_off() THEN
        RETURN NEW;
    END IF;
    NEW.problem_reported := EXISTS (SELECT 1 FROM delivery_events e
                                    WHERE e.delivery_id = NEW.id AND e.kind = 'delivery_problem_received');
    RETURN NEW;
END $$;
-- +goose StatementEnd

CREATE TRIGGER report_delivery_inserted BEFORE INSERT ON deliveries
    FOR EACH ROW EXECUTE FUNCTION report_deliveries_trigger();

CREATE INDEX deliveries_report_problem_idx ON deliveries (created_at) INCLUDE (status, problem_reported);
DROP INDEX deliveries_report_idx;

-- report_rollups_rebuild recomputes the rollups of the weeks from
-- p_from's to p_to's (excluded), every week by default, and the problem
-- flag of the deliveries started in them, from the rows. A writer that
-- commits while it runs adds its own contribution to the rebuilt rows
-- (the inserts add on conflict), so none is lost or counted twice.
-- +goose StatementBegin
CREATE FUNCTION report_rollups_rebuild(p_from timestamptz DEFAULT '-infinity', p_to timestamptz DEFAULT 'infinity') RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    w_from timestamptz := report_week(p_from);
    w_to   timestamptz := report_week(p_to);
BEGIN
    DELETE FROM report_case_weeks WHERE week >= w_from AND week < w_to;
    DELETE FROM report_duration_weeks WHERE week >= w_from AND week < w_to;
    DELETE FROM report_subject_weeks WHERE week >= w_from AND week < w_to;
    DELETE FROM report_event_weeks WHERE week >= w_from AND week < w_to;
    INSERT INTO report_case_weeks (week, team, priority, category, cases, breached)
    SELECT report_week(created_at), team, priority, category, count(*), count(*) FILTER (WHERE breached)
    FROM cases WHERE created_at >= w_from AND created_at < w_to
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (week, team, priority, category)
        DO UPDATE SET cases = report_case_weeks.cases + EXCLUDED.cases, breached = report_case_weeks.breached + EXCLUDED.breached;
    INSERT INTO report_duration_weeks (dim, value, week, measure, bucket, n, minutes)
    SELECT d.dim, d.value, report_week(c.created_at), m.measure, report_bucket(m.minutes),
           count(*), sum(greatest(m.minutes, 0))
    FROM cases c CROSS JOIN LATERAL (
             VALUES ('first_response', extract(epoch FROM c.first_response_at - c.created_at)::float8 / 60),
                    ('resolution', extract(epoch FROM c.resolved_at - c.created_at)::float8 / 60)) m (measure, minutes)
    CROSS JOIN LATERAL (VALUES ('all', ''), ('team', c.team), ('priority', c.priority), ('category', c.category)) d (dim, value)
    WHERE c.created_at >= w_from AND c.created_at < w_to AND m.minutes IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (dim, value, week, measure, bucket)
        DO UPDATE SET n = report_duration_weeks.n + EXCLUDED.n, minutes = report_duration_weeks.minutes + EXCLUDED.minutes;
    INSERT INTO report_subject_weeks (week, category, subject_key, wording, team, priority, n)
    SELECT report_week(created_at), category, subject_key, report_wording(subject), team, priority, count(*)
    FROM cases WHERE created_at >= w_from AND created_at < w_to AND subject_key <> ''
    GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (week, category, subject_key, wording, team, priority)
        DO UPDATE SET n = report_subject_weeks.n + EXCLUDED.n;
    INSERT INTO report_event_weeks (week, kind, team, priority, category, level, reason, n)
    SELECT report_week(e.at), e.kind,
           CASE WHEN e.kind = 'escalated' THEN coalesce(e.payload ->> 'to_team', c.team) ELSE c.team END,
           c.priority, c.category,
           coalesce(CASE WHEN e.payload ->> 'level' ~ '^[0-9]{1,4}$' THEN (e.payload ->> 'level')::int END, -1),
           coalesce(CASE e.kind WHEN 'escalated' THEN e.payload ->> 'reason'
                                WHEN 'sla_breach' THEN e.payload ->> 'target' END, ''),
           count(*)
    FROM case_events e JOIN cases c ON c.id = e.case_id
    WHERE e.at >= w_from AND e.at < w_to
      AND e.kind IN ('escalated', 'sla_breach', 'account_locked', 'security_decision',
                     'recovery_completed', 'recovery_expired', 'recovery_locked')
      AND (e.kind <> 'security_decision' OR e.payload ->> 'decision' = 'false_alarm')
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (week, kind, team, priority, category, level, reason)
        DO UPDATE SET n = report_event_weeks.n + EXCLUDED.n;
    UPDATE deliveries d SET problem_reported = NOT d.problem_reported
    WHERE d.created_at >= w_from AND d.created_at < w_to
      AND d.problem_reported <> EXISTS (SELECT 1 FROM delivery_events e
                                        WHERE e.delivery_id = d.id AND e.kind = 'delivery_problem_received');
END $$;
-- +goose StatementEnd

SELECT report_rollups_rebuild();

-- +goose Down
DROP FUNCTION report_rollups_rebuild(timestamptz, timestamptz);
CREATE INDEX deliveries_report_idx ON deliveries (created_at) INCLUDE (status);
DROP INDEX deliveries_report_problem_idx;
DROP TRIGGER report_delivery_inserted ON deliveries;
DROP FUNCTION report_deliveries_trigger();
DROP TRIGGER report_delivery_problem ON delivery_events;
DROP FUNCTION report_delivery_events_trigger();
ALTER TABLE deliveries DROP COLUMN problem_reported;
DROP TRIGGER report_case_events_changed ON case_events;
DROP TRIGGER report_case_events_inserted ON case_events;
DROP FUNCTION report_case_events_trigger();
DROP TRIGGER report_cases_deleted ON cases;
DROP TRIGGER report_cases_written ON cases;
DROP FUNCTION report_cases_trigger();
DROP FUNCTION report_events_add(case_events[], text, text, text, int);
DROP FUNCTION report_case_add(cases, cases, int);
DROP FUNCTION report_rollups_off();
DROP TABLE report_event_weeks, report_subject_weeks, report_duration_weeks, report_case_weeks;
DROP FUNCTION report_wording(text);
DROP FUNCTION report_bucket(float8);
DROP FUNCTION report_week(timestamptz);

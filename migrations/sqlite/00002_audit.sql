-- +goose Up

-- The audit trail: one row per audited request. AUTOINCREMENT numbers the
-- rows in the order they are inserted and never hands out a number twice,
-- not even that of the newest row after pruning deleted it, so IDs grow as
-- PostgreSQL's identity column does. Optional values are NULL, never '', so
-- that the partial indexes below leave out the rows that lack them. There is
-- no foreign key to endpoints or tokens on purpose: an event outlives the
-- endpoint or token it names.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    time        INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    endpoint    TEXT,
    token_id    TEXT,
    token_name  TEXT,
    remote_addr TEXT,
    request_id  TEXT,
    detail      TEXT,

    CONSTRAINT audit_events_action_check CHECK (action IN (
        'endpoint.create', 'endpoint.update', 'endpoint.secret_replace', 'endpoint.delete',
        'code.read', 'code.claim', 'code.verify',
        'token.create', 'token.revoke', 'auth.denied'
    )),
    CONSTRAINT audit_events_outcome_check CHECK (outcome IN ('success', 'denied', 'error')),
    CONSTRAINT audit_events_token_id_check CHECK (
        token_id IS NULL OR (length(token_id) = 36 AND token_id NOT GLOB '*[^0-9a-f-]*'))
) STRICT;

-- Listing reads newest first, ordered by (time, id) descending, and pages by
-- keyset: (time, id) < (last time, last id). Each filter the API offers gets
-- an index that starts with its column and goes on with (time, id), so that
-- the filter, since/until and the keyset all become one index range, read
-- backwards in the listing's order. The unfiltered index also serves
-- pruning, read from its oldest end.
CREATE INDEX audit_events_time_idx ON audit_events (time, id);
CREATE INDEX audit_events_action_idx ON audit_events (action, time, id);

-- Events without an endpoint (token changes, refusals before routing) or
-- without a token (refused requests) can never match these filters.
CREATE INDEX audit_events_endpoint_idx ON audit_events (endpoint, time, id)
    WHERE endpoint IS NOT NULL;
CREATE INDEX audit_events_token_id_idx ON audit_events (token_id, time, id)
    WHERE token_id IS NOT NULL;

-- +goose Down

DROP TABLE audit_events;

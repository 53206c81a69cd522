-- +goose Up

-- The audit trail: one row per audited request. The database numbers the
-- rows in the order they are inserted (which concurrent transactions may
-- commit in another order). Optional values are NULL, never '', so that the
-- partial indexes below leave out the rows that lack them. There is no
-- foreign key to endpoints or tokens on purpose: an event outlives the
-- endpoint or token it names.
CREATE TABLE audit_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time        timestamptz NOT NULL,
    action      text        NOT NULL,
    outcome     text        NOT NULL,
    endpoint    text        COLLATE "C",
    token_id    uuid,
    token_name  text,
    remote_addr text,
    request_id  text,
    detail      text,

    CONSTRAINT audit_events_action_check CHECK (action IN (
        'endpoint.create', 'endpoint.update', 'endpoint.secret_replace', 'endpoint.delete',
        'code.read', 'code.claim', 'code.verify',
        'token.create', 'token.revoke', 'auth.denied'
    )),
    CONSTRAINT audit_events_outcome_check CHECK (outcome IN ('success', 'denied', 'error'))
);

-- Listing reads newest first, ordered by (time, id) descending, and pages by
-- keyset: (time, id) < (last time, last id). Each filter the API offers gets
-- an index that starts with its column and goes on with (time, id), so that
-- the filter, since/until and the keyset all become one index range read in
-- the listing's order, and a page costs its own rows however deep it is.
-- The unfiltered index also serves pruning, read from its oldest end.
CREATE INDEX audit_events_time_idx ON audit_events (time DESC, id DESC);
CREATE INDEX audit_events_action_idx ON audit_events (action, time DESC, id DESC);

-- Events without an endpoint (token changes, refusals before routing) or
-- without a token (refused requests) can never match these filters.
CREATE INDEX audit_events_endpoint_idx ON audit_events (endpoint, time DESC, id DESC)
    WHERE endpoint IS NOT NULL;
CREATE INDEX audit_events_token_id_idx ON audit_events (token_id, time DESC, id DESC)
    WHERE token_id IS NOT NULL;

-- +goose Down

DROP TABLE audit_events;

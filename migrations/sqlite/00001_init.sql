-- +goose Up

-- The embedded store's schema mirrors the PostgreSQL one: a schema version
-- means the same tables in both, and a version that only PostgreSQL needs
-- has no file here. Tables
-- are STRICT: a value of the wrong type is refused, as PostgreSQL refuses it,
-- instead of being stored as whatever it is. Times are INTEGER microseconds
-- since the Unix epoch (UTC), which compare and sort as the instants do.

-- One row per monitored account. name keeps SQLite's default BINARY
-- collation, which compares bytes, so its unique index serves ORDER BY name,
-- name > ? and the prefix range alike. sealed_secret is opaque here: the
-- keyring sealed it with id as associated data, which is why id never
-- changes. IDs are UUIDs in their canonical lower-case form (the store
-- writes them so), which sort as PostgreSQL sorts its uuid type.
CREATE TABLE endpoints (
    id            TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL,
    issuer        TEXT    NOT NULL DEFAULT '',
    account       TEXT    NOT NULL DEFAULT '',
    algorithm     TEXT    NOT NULL,
    digits        INTEGER NOT NULL,
    period        INTEGER NOT NULL,
    labels        TEXT    NOT NULL DEFAULT '{}',
    sealed_secret BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,

    CONSTRAINT endpoints_name_key UNIQUE (name),
    CONSTRAINT endpoints_id_check CHECK (length(id) = 36 AND id NOT GLOB '*[^0-9a-f-]*'),
    CONSTRAINT endpoints_algorithm_check CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
    CONSTRAINT endpoints_digits_check CHECK (digits BETWEEN 6 AND 8),
    CONSTRAINT endpoints_period_check CHECK (period BETWEEN 10 AND 300),

    -- labels is a JSON object of strings; a JSON null or array would break
    -- the labels filter.
    CONSTRAINT endpoints_labels_check CHECK (json_valid(labels) AND json_type(labels) = 'object')
) STRICT;

-- Bearer credentials: only the SHA-256 of a token's value is kept. scopes is
-- a JSON array of strings. expires_at NULL means never; revoked_at NULL means
-- not revoked.
CREATE TABLE tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    scopes     TEXT    NOT NULL DEFAULT '[]',
    token_hash BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,

    CONSTRAINT tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT tokens_id_check CHECK (length(id) = 36 AND id NOT GLOB '*[^0-9a-f-]*'),
    CONSTRAINT tokens_role_check CHECK (role IN ('admin', 'runner')),
    CONSTRAINT tokens_scopes_check CHECK (json_valid(scopes) AND json_type(scopes) = 'array')
) STRICT;

-- Listing pages through the tokens that were not revoked, in id order.
CREATE INDEX tokens_unrevoked_id_idx ON tokens (id) WHERE revoked_at IS NULL;

-- +goose Down

DROP TABLE tokens;
DROP TABLE endpoints;

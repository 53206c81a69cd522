-- +goose Up

-- One row per monitored account. name is unique and compared in byte order
-- (COLLATE "C"), so its unique index serves ORDER BY name, name > $1 and
-- prefix LIKE alike. sealed_secret is opaque here: the keyring sealed it with
-- id as associated data, which is why id never changes.
CREATE TABLE endpoints (
    id            uuid        PRIMARY KEY,
    name          text        COLLATE "C" NOT NULL,
    issuer        text        NOT NULL DEFAULT '',
    account       text        NOT NULL DEFAULT '',
    algorithm     text        NOT NULL,
    digits        smallint    NOT NULL,
    period        integer     NOT NULL,
    labels        jsonb       NOT NULL DEFAULT '{}',
    sealed_secret bytea       NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,

    CONSTRAINT endpoints_name_key UNIQUE (name),
    CONSTRAINT endpoints_algorithm_check CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
    CONSTRAINT endpoints_digits_check CHECK (digits BETWEEN 6 AND 8),
    CONSTRAINT endpoints_period_check CHECK (period BETWEEN 10 AND 300),

    -- A JSON null or array would pass NOT NULL yet break labels @> '{...}'.
    CONSTRAINT endpoints_labels_check CHECK (jsonb_typeof(labels) = 'object')
);

-- jsonb_path_ops answers only @>, which is the one operator the store uses,
-- and is smaller than the default jsonb_ops.
CREATE INDEX endpoints_labels_idx ON endpoints USING gin (labels jsonb_path_ops);

-- Bearer credentials: only the SHA-256 of a token's value is kept.
-- expires_at NULL means never; revoked_at NULL means not revoked.
CREATE TABLE tokens (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL,
    role       text        NOT NULL,
    scopes     text[]      NOT NULL DEFAULT '{}',
    token_hash bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz,

    CONSTRAINT tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT tokens_role_check CHECK (role IN ('admin', 'runner'))
);

-- Listing pages through the tokens that were not revoked, in id order.
CREATE INDEX tokens_unrevoked_id_idx ON tokens (id) WHERE revoked_at IS NULL;

-- +goose Down

DROP TABLE tokens;
DROP TABLE endpoints;

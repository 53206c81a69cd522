-- +goose Up

-- The last time step handed to a claimer of the endpoint, -1 before the
-- first claim. Claims reserve steps by a conditional update of this column,
-- which is what keeps a code single-use.
ALTER TABLE endpoints ADD COLUMN claimed_step INTEGER NOT NULL DEFAULT -1;

-- +goose Down

ALTER TABLE endpoints DROP COLUMN claimed_step;

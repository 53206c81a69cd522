-- +goose Up

-- Every instance keeps the records that requests look up in memory and
-- listens on the channel totpvault_changes to forget what another instance
-- changed. A notification is delivered once its transaction commits.
-- Claims update only claimed_step, which announces nothing.

-- +goose StatementBegin
CREATE FUNCTION totpvault_endpoint_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('totpvault_changes', 'endpoint:' || NEW.name);
    ELSE
        PERFORM pg_notify('totpvault_changes', 'endpoint:' || OLD.name);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION totpvault_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('totpvault_changes', 'tokens');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER endpoints_changed
    AFTER INSERT OR DELETE OR UPDATE OF name, issuer, account, algorithm, digits, period,
        labels, sealed_secret
    ON endpoints FOR EACH ROW EXECUTE FUNCTION totpvault_endpoint_changed();

CREATE TRIGGER tokens_changed
    AFTER INSERT OR UPDATE OR DELETE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION totpvault_tokens_changed();

-- +goose Down

DROP TRIGGER tokens_changed ON tokens;
DROP TRIGGER endpoints_changed ON endpoints;
DROP FUNCTION totpvault_tokens_changed();
DROP FUNCTION totpvault_endpoint_changed();

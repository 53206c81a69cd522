package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/totpvault/totpvault/internal/store"
)

// CreateEndpoint stores e, and ev that records it in the same transaction,
// and returns the stored record (times as PostgreSQL keeps them, to the
// microsecond). The caller sets every field, e.ID (a UUID, see store.NewID)
// included, since the secret was sealed with it; nil Labels are stored as an
// empty map. It returns an error wrapping store.ErrAlreadyExists, and writes
// nothing, when an endpoint has that name already; when ev cannot be
// written, the endpoint is not created either.
func (db *DB) CreateEndpoint(
	ctx context.Context, e store.Endpoint, ev store.Event,
) (store.Endpoint, error) {
	const query = `INSERT INTO endpoints (` + endpointColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		RETURNING ` + endpointColumns

	created, err := queryOneWithEvent(ctx, db, ev, rowToEndpoint, query,
		e.ID, e.Name, e.Issuer, e.Account, e.Algorithm, e.Digits, e.Period,
		labelsOrEmpty(e.Labels), e.SealedSecret, e.CreatedAt, e.UpdatedAt)
	if err != nil {
		return store.Endpoint{}, wrap(fmt.Sprintf("create endpoint %q", e.Name), err)
	}

	return created, nil
}

// GetEndpoint returns the endpoint called name, or an error wrapping
// store.ErrNotFound when there is none.
func (db *DB) GetEndpoint(ctx context.Context, name string) (store.Endpoint, error) {
	const query = `SELECT ` + endpointColumns + ` FROM endpoints WHERE name = $1`

	e, err := queryOne(ctx, db.pool, rowToEndpoint, query, name)
	if err != nil {
		return store.Endpoint{}, wrap(fmt.Sprintf("get endpoint %q", name), err)
	}

	return e, nil
}

// ListEndpoints returns up to q.Limit endpoints in byte order of their names:
// those whose name starts with q.Prefix (taken literally, '%' and '_'
// included), that carry every pair of q.Labels and whose name sorts after
// q.After. The list is empty, never nil, when none match. A q.Limit that is
// not positive is an error.
func (db *DB) ListEndpoints(ctx context.Context, q store.EndpointQuery) ([]store.Endpoint, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("list endpoints: limit %d is not positive", q.Limit)
	}

	query, args := endpointListQuery(q)
	list, err := queryAll(ctx, db.pool, rowToEndpoint, query, args...)
	if err != nil {
		return nil, wrap("list endpoints", err)
	}

	return list, nil
}

// endpointListQuery builds ListEndpoints' statement: one condition for each
// filter that q sets, so that the planner sees only what it must check.
func endpointListQuery(q store.EndpointQuery) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}

	if q.Prefix != "" {
		add(`name LIKE $%d ESCAPE '\'`, likeEscaper.Replace(q.Prefix)+"%")
	}
	if len(q.Labels) > 0 {
		add(`labels @> $%d::jsonb`, q.Labels)
	}
	if q.After != "" {
		add(`name > $%d`, q.After)
	}

	query := `SELECT ` + endpointColumns + ` FROM endpoints`
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, ` AND `)
	}

	args = append(args, q.Limit)
	query += fmt.Sprintf(` ORDER BY name LIMIT $%d`, len(args))

	return query, args
}

// likeEscaper makes a string match itself alone in a LIKE pattern whose
// escape character is '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// UpdateEndpoint changes the descriptive fields of the endpoint called name
// that u sets (a nil field is left as it is; Labels pointing at a nil map
// clears them), sets its UpdatedAt to u.UpdatedAt, writes ev in the same
// transaction, and returns the stored record. It returns an error wrapping
// store.ErrNotFound, and writes nothing, when there is no such endpoint;
// when ev cannot be written, the endpoint is left as it was.
func (db *DB) UpdateEndpoint(
	ctx context.Context, name string, u store.EndpointUpdate, ev store.Event,
) (store.Endpoint, error) {
	const query = `UPDATE endpoints SET
		issuer = coalesce($2, issuer),
		account = coalesce($3, account),
		labels = coalesce($4::jsonb, labels),
		updated_at = $5
		WHERE name = $1
		RETURNING ` + endpointColumns

	var labels any
	if u.Labels != nil {
		labels = labelsOrEmpty(*u.Labels)
	}

	e, err := queryOneWithEvent(ctx, db, ev, rowToEndpoint, query,
		name, u.Issuer, u.Account, labels, u.UpdatedAt)
	if err != nil {
		return store.Endpoint{}, wrap(fmt.Sprintf("update endpoint %q", name), err)
	}

	return e, nil
}

// ReplaceSecret finds the endpoint whose ID is e.ID and sets its sealed
// secret, issuer, account, algorithm, digits, period and UpdatedAt to e's;
// its name, labels and CreatedAt stay, and its claim history starts over. It
// writes ev in the same transaction
// and returns the stored record. It returns an error wrapping
// store.ErrNotFound, and writes nothing, when no endpoint has that ID (or
// e.ID is not a UUID); when ev cannot be written, the endpoint is left as it
// was.
func (db *DB) ReplaceSecret(
	ctx context.Context, e store.Endpoint, ev store.Event,
) (store.Endpoint, error) {
	const query = `UPDATE endpoints SET
		sealed_secret = $2, issuer = $3, account = $4,
		algorithm = $5, digits = $6, period = $7, updated_at = $8, claimed_step = -1
		WHERE id = $1
		RETURNING ` + endpointColumns

	id, ok := parseID(e.ID)
	if !ok {
		return store.Endpoint{}, fmt.Errorf("replace secret: %w", store.ErrNotFound)
	}

	replaced, err := queryOneWithEvent(ctx, db, ev, rowToEndpoint, query,
		id, e.SealedSecret, e.Issuer, e.Account, e.Algorithm, e.Digits, e.Period, e.UpdatedAt)
	if err != nil {
		return store.Endpoint{}, wrap(fmt.Sprintf("replace secret of %s", id), err)
	}

	return replaced, nil
}

// DeleteEndpoint deletes the endpoint called name and writes ev in the same
// transaction. It returns an error wrapping store.ErrNotFound, and writes
// nothing, when there is no such endpoint; when ev cannot be written, the
// endpoint stays.
func (db *DB) DeleteEndpoint(ctx context.Context, name string, ev store.Event) error {
	err := db.execOneWithEvent(ctx, ev, `DELETE FROM endpoints WHERE name = $1`, name)
	if err != nil {
		return wrap(fmt.Sprintf("delete endpoint %q", name), err)
	}

	return nil
}

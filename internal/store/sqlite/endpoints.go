package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/totpvault/totpvault/internal/store"
)

// CreateEndpoint stores e, and ev that records it in the same transaction,
// and returns the stored record (times to the microsecond, as the
// PostgreSQL store keeps them). The caller sets every field, e.ID (a UUID,
// see store.NewID) included, since the secret was sealed with it; nil Labels
// are stored as an empty map. It returns an error wrapping
// store.ErrAlreadyExists, and writes nothing, when an endpoint has that name
// already; when ev cannot be written, the endpoint is not created either.
// An e.ID that is not a UUID is refused.
func (db *DB) CreateEndpoint(
	ctx context.Context, e store.Endpoint, ev store.Event,
) (store.Endpoint, error) {
	const query = `INSERT INTO endpoints (` + endpointColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING ` + endpointColumns

	what := fmt.Sprintf("create endpoint %q", e.Name)
	id, ok := parseID(e.ID)
	if !ok {
		return store.Endpoint{}, fmt.Errorf("%s: %w", what, errNotUUID)
	}

	created, err := queryOneWithEvent(ctx, db, ev, scanEndpoint, query,
		id, e.Name, e.Issuer, e.Account, e.Algorithm, e.Digits, e.Period,
		labelsJSON(e.Labels), e.SealedSecret, micros(e.CreatedAt), micros(e.UpdatedAt))
	if err != nil {
		return store.Endpoint{}, wrap(what, err)
	}

	return created, nil
}

// GetEndpoint returns the endpoint called name, or an error wrapping
// store.ErrNotFound when there is none.
func (db *DB) GetEndpoint(ctx context.Context, name string) (store.Endpoint, error) {
	const query = `SELECT ` + endpointColumns + ` FROM endpoints WHERE name = ?`

	e, err := readOne(ctx, db, scanEndpoint, query, name)
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
	list, err := queryAll(ctx, db.read, scanEndpoint, query, args...)
	if err != nil {
		return nil, wrap("list endpoints", err)
	}

	return list, nil
}

// hasLabels keeps the endpoints whose labels hold every pair of the JSON
// object given as its parameter: no wanted pair lacks a label of the same
// key and value. json_each compares keys as they are, whatever characters
// they hold, where a JSON path would need them quoted.
const hasLabels = `NOT EXISTS (
	SELECT 1 FROM json_each(?) AS want WHERE NOT EXISTS (
		SELECT 1 FROM json_each(endpoints.labels) AS have
		WHERE have.key = want.key AND have.value = want.value))`

// endpointListQuery builds ListEndpoints' statement: one condition for each
// filter that q sets. Every comparison of names is in byte order (SQLite's
// BINARY collation), and the prefix is a range of the name index, since
// SQLite's LIKE ignores case and GLOB has wildcards of its own.
func endpointListQuery(q store.EndpointQuery) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}

	if q.Prefix != "" {
		add(`name >= ?`, q.Prefix)
		if end, ok := prefixEnd(q.Prefix); ok {
			add(`name < ?`, end)
		}
	}
	if len(q.Labels) > 0 {
		add(hasLabels, jsonText(q.Labels))
	}
	if q.After != "" {
		add(`name > ?`, q.After)
	}

	query := `SELECT ` + endpointColumns + ` FROM endpoints`
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, ` AND `)
	}
	query += ` ORDER BY name LIMIT ?`

	return query, append(args, q.Limit)
}

// prefixEnd returns the least string, in byte order, that sorts after every
// string starting with prefix: prefix without its trailing 0xff bytes and
// with its last byte increased. It reports false when there is none (prefix
// is nothing but 0xff bytes), and every string from prefix on starts with it.
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "", false
	}

	b[len(b)-1]++

	return string(b), true
}

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
		issuer = coalesce(?2, issuer),
		account = coalesce(?3, account),
		labels = coalesce(?4, labels),
		updated_at = ?5
		WHERE name = ?1
		RETURNING ` + endpointColumns

	var labels any
	if u.Labels != nil {
		labels = labelsJSON(*u.Labels)
	}

	e, err := queryOneWithEvent(ctx, db, ev, scanEndpoint, query,
		name, u.Issuer, u.Account, labels, micros(u.UpdatedAt))
	if err != nil {
		return store.Endpoint{}, wrap(fmt.Sprintf("update endpoint %q", name), err)
	}

	return e, nil
}

// ReplaceSecret finds the endpoint whose ID is e.ID and sets its sealed
// secret, issuer, account, algorithm, digits, period and UpdatedAt to e's;
// its name, labels and CreatedAt stay, and its claim history starts over. It
// writes ev in the same transaction and returns the stored record. It
// returns an error wrapping store.ErrNotFound, and writes nothing, when no
// endpoint has that ID (or e.ID is not a UUID); when ev cannot be written,
// the endpoint is left as it was.
func (db *DB) ReplaceSecret(
	ctx context.Context, e store.Endpoint, ev store.Event,
) (store.Endpoint, error) {
	const query = `UPDATE endpoints SET
		sealed_secret = ?2, issuer = ?3, account = ?4,
		algorithm = ?5, digits = ?6, period = ?7, updated_at = ?8, claimed_step = -1
		WHERE id = ?1
		RETURNING ` + endpointColumns

	id, ok := parseID(e.ID)
	if !ok {
		return store.Endpoint{}, fmt.Errorf("replace secret: %w", store.ErrNotFound)
	}

	replaced, err := queryOneWithEvent(ctx, db, ev, scanEndpoint, query,
		id, e.SealedSecret, e.Issuer, e.Account, e.Algorithm, e.Digits, e.Period,
		micros(e.UpdatedAt))
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
	err := db.execOneWithEvent(ctx, ev, `DELETE FROM endpoints WHERE name = ?`, name)
	if err != nil {
		return wrap(fmt.Sprintf("delete endpoint %q", name), err)
	}

	return nil
}

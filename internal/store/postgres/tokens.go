package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault/internal/store"
)

// insertToken stores one token given tokenArgs and returns it.
const insertToken = `INSERT INTO tokens (` + tokenColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
	RETURNING ` + tokenColumns

// firstAdminLock is the key of the transaction advisory lock that serialises
// CreateFirstAdminToken across every instance: "totpadmn" in ASCII, far from
// goose's migration lock.
const firstAdminLock int64 = 0x746f7470_61646d6e

// tokenArgs returns the arguments of insertToken for t: nil Scopes as an
// empty array and zero times as NULL.
func tokenArgs(t store.Token) []any {
	scopes := t.Scopes
	if scopes == nil {
		scopes = []string{}
	}

	return []any{
		t.ID, t.Name, string(t.Role), scopes, t.Hash, t.CreatedAt,
		nullTime(t.ExpiresAt), nullTime(t.RevokedAt),
	}
}

// CreateToken stores t, whose fields the caller sets (t.ID a UUID, see
// store.NewID), writes ev in the same transaction, and returns the stored
// record. It returns an error wrapping store.ErrAlreadyExists, and writes
// nothing, when a token has that ID or that hash already; when ev cannot be
// written, the token is not created either.
func (db *DB) CreateToken(
	ctx context.Context, t store.Token, ev store.Event,
) (store.Token, error) {
	created, err := queryOneWithEvent(ctx, db, ev, rowToToken, insertToken, tokenArgs(t)...)
	if err != nil {
		return store.Token{}, wrap("create token", err)
	}

	return created, nil
}

// errAdminExists ends CreateFirstAdminToken's transaction, before its event
// is written, when the store holds an admin token already.
var errAdminExists = errors.New("an admin token exists")

// CreateFirstAdminToken stores t, an admin token, and ev that records it,
// only when the store holds no admin token at all (revoked and expired ones
// count), and reports whether it did: when it does not create the token it
// writes no event either. The check, the insert and ev run in one
// transaction under an advisory lock, so of several instances starting at
// once exactly one creates it; when ev cannot be written, no token is
// created.
func (db *DB) CreateFirstAdminToken(
	ctx context.Context, t store.Token, ev store.Event,
) (bool, error) {
	if t.Role != store.RoleAdmin {
		return false, fmt.Errorf("create first admin token: role %q is not admin", t.Role)
	}

	err := db.withEvent(ctx, ev, func(tx pgx.Tx) error {
		return insertFirstAdmin(ctx, tx, t)
	})
	if errors.Is(err, errAdminExists) {
		return false, nil
	}
	if err != nil {
		return false, wrap("create first admin token", err)
	}

	return true, nil
}

// insertFirstAdmin does the work of CreateFirstAdminToken inside tx, or
// returns errAdminExists. Under READ COMMITTED each statement sees what was
// committed before it began, so once the lock is held the check sees any
// token that an earlier holder inserted.
func insertFirstAdmin(ctx context.Context, tx pgx.Tx, t store.Token) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, firstAdminLock)
	if err != nil {
		return err
	}

	var exists bool
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tokens WHERE role = 'admin')`).
		Scan(&exists)
	if err != nil {
		return err
	}
	if exists {
		return errAdminExists
	}

	_, err = tx.Exec(ctx, insertToken, tokenArgs(t)...)

	return err
}

// GetToken returns the token with this ID. It returns an error wrapping
// store.ErrNotFound when there is none, when it was revoked, or when id is
// not a UUID.
func (db *DB) GetToken(ctx context.Context, id string) (store.Token, error) {
	const query = `SELECT ` + tokenColumns + ` FROM tokens
		WHERE id = $1 AND revoked_at IS NULL`

	uid, ok := parseID(id)
	if !ok {
		return store.Token{}, fmt.Errorf("get token: %w", store.ErrNotFound)
	}

	t, err := queryOne(ctx, db.pool, rowToToken, query, uid)
	if err != nil {
		return store.Token{}, wrap(fmt.Sprintf("get token %s", uid), err)
	}

	return t, nil
}

// ListTokens returns up to q.Limit tokens that were not revoked (expired ones
// included), ordered by ID, whose ID sorts after q.After. The list is empty,
// never nil, when none match. A q.After that is not a UUID, or a q.Limit that
// is not positive, is an error.
func (db *DB) ListTokens(ctx context.Context, q store.TokenQuery) ([]store.Token, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("list tokens: limit %d is not positive", q.Limit)
	}

	query := `SELECT ` + tokenColumns + ` FROM tokens WHERE revoked_at IS NULL`
	args := []any{q.Limit}
	if q.After != "" {
		after, ok := parseID(q.After)
		if !ok {
			return nil, fmt.Errorf("list tokens: cursor id is not a UUID")
		}

		query += ` AND id > $2`
		args = append(args, after)
	}
	query += ` ORDER BY id LIMIT $1`

	list, err := queryAll(ctx, db.pool, rowToToken, query, args...)
	if err != nil {
		return nil, wrap("list tokens", err)
	}

	return list, nil
}

// RevokeToken records that the token with this ID was revoked at at (which
// must not be zero), and writes ev in the same transaction. It returns an
// error wrapping store.ErrNotFound, and writes nothing, when there is no
// such token, when it was revoked already, or when id is not a UUID; when ev
// cannot be written, the token is not revoked.
func (db *DB) RevokeToken(ctx context.Context, id string, at time.Time, ev store.Event) error {
	const query = `UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`

	if at.IsZero() {
		return fmt.Errorf("revoke token: zero revocation time")
	}

	uid, ok := parseID(id)
	if !ok {
		return fmt.Errorf("revoke token: %w", store.ErrNotFound)
	}

	err := db.execOneWithEvent(ctx, ev, query, uid, at)
	if err != nil {
		return wrap(fmt.Sprintf("revoke token %s", uid), err)
	}

	return nil
}

// TokenByHash returns the token whose hash is hash, revoked and expired ones
// included: the caller decides what they may do. It returns an error
// wrapping store.ErrNotFound when no token has it.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	const query = `SELECT ` + tokenColumns + ` FROM tokens WHERE token_hash = $1`

	t, err := queryOne(ctx, db.pool, rowToToken, query, hash)
	if err != nil {
		return store.Token{}, wrap("token by hash", err)
	}

	return t, nil
}

// tokenAndEndpoint is TokenAndEndpoint's statement: the token's columns, then
// the endpoint's, all NULL when no endpoint has the name.
var tokenAndEndpoint = `SELECT ` + qualify("t", tokenColumns) + `, ` +
	qualify("e", endpointColumns) + `
	FROM tokens t LEFT JOIN endpoints e ON e.name = $2
	WHERE t.token_hash = $1`

// TokenAndEndpoint returns, in one round trip, the token whose hash is hash
// (revoked and expired ones included, as TokenByHash) and the endpoint
// called name, or a nil endpoint when there is none. It returns an error
// wrapping store.ErrNotFound when no token has the hash, whether or not the
// endpoint exists.
func (db *DB) TokenAndEndpoint(
	ctx context.Context, hash []byte, name string,
) (store.Token, *store.Endpoint, error) {
	var t tokenRow
	var e store.Endpoint
	endpoint := newOptional(endpointTargets(&e))

	targets := append(t.targets(), endpoint.targets()...)
	err := db.pool.QueryRow(ctx, tokenAndEndpoint, hash, name).Scan(targets...)
	if err != nil {
		return store.Token{}, nil, wrap("token and endpoint", err)
	}

	if !endpoint.copy() {
		return t.record(), nil, nil
	}

	e = finishEndpoint(e)

	return t.record(), &e, nil
}

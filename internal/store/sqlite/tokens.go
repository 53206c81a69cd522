package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/totpvault/totpvault/internal/store"
)

// insertToken stores one token given tokenArgs and returns it.
const insertToken = `INSERT INTO tokens (` + tokenColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	RETURNING ` + tokenColumns

// tokenArgs returns the arguments of insertToken for t: the ID in canonical
// form, Scopes as a JSON array ("[]" for nil) and zero times as NULL. It
// returns errNotUUID when t.ID is not a UUID.
func tokenArgs(t store.Token) ([]any, error) {
	id, ok := parseID(t.ID)
	if !ok {
		return nil, errNotUUID
	}

	scopes := t.Scopes
	if scopes == nil {
		scopes = []string{}
	}

	return []any{
		id, t.Name, string(t.Role), jsonText(scopes), t.Hash, micros(t.CreatedAt),
		nullMicros(t.ExpiresAt), nullMicros(t.RevokedAt),
	}, nil
}

// CreateToken stores t, whose fields the caller sets (t.ID a UUID, see
// store.NewID), writes ev in the same transaction, and returns the stored
// record. It returns an error wrapping store.ErrAlreadyExists, and writes
// nothing, when a token has that ID or that hash already; when ev cannot be
// written, the token is not created either. A t.ID that is not a UUID is
// refused.
func (db *DB) CreateToken(
	ctx context.Context, t store.Token, ev store.Event,
) (store.Token, error) {
	args, err := tokenArgs(t)
	if err != nil {
		return store.Token{}, fmt.Errorf("create token: %w", err)
	}

	created, err := queryOneWithEvent(ctx, db, ev, scanToken, insertToken, args...)
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
// writes no event either. The check, the insert and ev run in one IMMEDIATE
// transaction, which holds the file's write lock from its start, so of
// several callers at once (in this process or another on the same file)
// exactly one creates it; when ev cannot be written, no token is created.
func (db *DB) CreateFirstAdminToken(
	ctx context.Context, t store.Token, ev store.Event,
) (bool, error) {
	if t.Role != store.RoleAdmin {
		return false, fmt.Errorf("create first admin token: role %q is not admin", t.Role)
	}

	args, err := tokenArgs(t)
	if err != nil {
		return false, fmt.Errorf("create first admin token: %w", err)
	}

	err = db.withEvent(ctx, ev, func(tx *sql.Tx) error {
		return insertFirstAdmin(ctx, tx, args)
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
// returns errAdminExists. args are tokenArgs of the token.
func insertFirstAdmin(ctx context.Context, tx *sql.Tx, args []any) error {
	var exists bool
	err := tx.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM tokens WHERE role = 'admin')`).Scan(&exists)
	if err != nil {
		return err
	}
	if exists {
		return errAdminExists
	}

	_, err = tx.ExecContext(ctx, insertToken, args...)

	return err
}

// GetToken returns the token with this ID. It returns an error wrapping
// store.ErrNotFound when there is none, when it was revoked, or when id is
// not a UUID.
func (db *DB) GetToken(ctx context.Context, id string) (store.Token, error) {
	const query = `SELECT ` + tokenColumns + ` FROM tokens
		WHERE id = ? AND revoked_at IS NULL`

	uid, ok := parseID(id)
	if !ok {
		return store.Token{}, fmt.Errorf("get token: %w", store.ErrNotFound)
	}

	t, err := readOne(ctx, db, scanToken, query, uid)
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
	var args []any
	if q.After != "" {
		after, ok := parseID(q.After)
		if !ok {
			return nil, fmt.Errorf("list tokens: cursor id is not a UUID")
		}

		query += ` AND id > ?`
		args = append(args, after)
	}
	query += ` ORDER BY id LIMIT ?`

	list, err := queryAll(ctx, db.read, scanToken, query, append(args, q.Limit)...)
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
	const query = `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`

	if at.IsZero() {
		return fmt.Errorf("revoke token: zero revocation time")
	}

	uid, ok := parseID(id)
	if !ok {
		return fmt.Errorf("revoke token: %w", store.ErrNotFound)
	}

	err := db.execOneWithEvent(ctx, ev, query, micros(at), uid)
	if err != nil {
		return wrap(fmt.Sprintf("revoke token %s", uid), err)
	}

	return nil
}

// TokenByHash returns the token whose hash is hash, revoked and expired ones
// included: the caller decides what they may do. It returns an error
// wrapping store.ErrNotFound when no token has it.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	const query = `SELECT ` + tokenColumns + ` FROM tokens WHERE token_hash = ?`

	t, err := readOne(ctx, db, scanToken, query, hash)
	if err != nil {
		return store.Token{}, wrap("token by hash", err)
	}

	return t, nil
}

// tokenAndEndpoint is TokenAndEndpoint's statement: the token's columns, then
// the endpoint's, all NULL when no endpoint has the name.
var tokenAndEndpoint = `SELECT ` + qualify("t", tokenColumns) + `, ` +
	qualify("e", endpointColumns) + `
	FROM tokens t LEFT JOIN endpoints e ON e.name = ?2
	WHERE t.token_hash = ?1`

// TokenAndEndpoint returns, in one query, the token whose hash is hash
// (revoked and expired ones included, as TokenByHash) and the endpoint
// called name, or a nil endpoint when there is none. It returns an error
// wrapping store.ErrNotFound when no token has the hash, whether or not the
// endpoint exists.
func (db *DB) TokenAndEndpoint(
	ctx context.Context, hash []byte, name string,
) (store.Token, *store.Endpoint, error) {
	var t tokenRow
	var e endpointRow

	stmt, err := db.prepared(ctx, tokenAndEndpoint)
	if err == nil {
		err = stmt.QueryRowContext(ctx, hash, name).Scan(append(t.targets(), e.targets()...)...)
	}
	if err != nil {
		return store.Token{}, nil, wrap("token and endpoint", err)
	}

	token, err := t.record()
	if err != nil {
		return store.Token{}, nil, wrap("token and endpoint", err)
	}
	if !e.present() {
		return token, nil, nil
	}

	endpoint, err := e.record()
	if err != nil {
		return store.Token{}, nil, wrap("token and endpoint", err)
	}

	return token, &endpoint, nil
}

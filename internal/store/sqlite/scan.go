package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/totpvault/totpvault/internal/store"
)

// endpointColumns are the endpoints table's columns, in the order of
// endpointRow.targets. Every query that returns endpoints selects exactly
// these.
const endpointColumns = `id, name, issuer, account, algorithm, digits, period, labels, ` +
	`sealed_secret, created_at, updated_at`

// tokenColumns are the tokens table's columns, in the order of
// tokenRow.targets. Every query that returns tokens selects exactly these.
const tokenColumns = `id, name, role, scopes, token_hash, created_at, expires_at, revoked_at`

// eventColumns are the audit_events table's columns, in the order of
// eventRow.targets. Every query that returns events selects exactly these.
const eventColumns = `id, time, action, outcome, endpoint, token_id, token_name, ` +
	`remote_addr, request_id, detail`

// endpointRow receives one row of endpointColumns. Its fields take NULL, so
// that it also serves the LEFT JOIN of TokenAndEndpoint, where every column
// is NULL when there is no endpoint.
type endpointRow struct {
	id, name, issuer, account, algorithm, labels sql.NullString

	digits, period, createdAt, updatedAt sql.NullInt64

	sealedSecret []byte
}

// targets returns where each of endpointColumns is scanned.
func (r *endpointRow) targets() []any {
	return []any{
		&r.id, &r.name, &r.issuer, &r.account, &r.algorithm, &r.digits, &r.period,
		&r.labels, &r.sealedSecret, &r.createdAt, &r.updatedAt,
	}
}

// present reports whether a row was scanned, rather than the NULLs of a
// LEFT JOIN that found none.
func (r *endpointRow) present() bool {
	return r.id.Valid
}

// record returns the scanned endpoint as the store hands it out: times in
// UTC and Labels not nil.
func (r *endpointRow) record() (store.Endpoint, error) {
	labels := map[string]string{}
	err := json.Unmarshal([]byte(r.labels.String), &labels)
	if err != nil {
		return store.Endpoint{}, fmt.Errorf("labels of endpoint %q: %w", r.name.String, err)
	}

	return store.Endpoint{
		ID:           r.id.String,
		Name:         r.name.String,
		Issuer:       r.issuer.String,
		Account:      r.account.String,
		Algorithm:    r.algorithm.String,
		Digits:       int(r.digits.Int64),
		Period:       int(r.period.Int64),
		Labels:       labels,
		SealedSecret: r.sealedSecret,
		CreatedAt:    fromMicros(r.createdAt.Int64),
		UpdatedAt:    fromMicros(r.updatedAt.Int64),
	}, nil
}

// scanEndpoint scans one row of endpointColumns.
func scanEndpoint(row scanner) (store.Endpoint, error) {
	var r endpointRow
	err := row.Scan(r.targets()...)
	if err != nil {
		return store.Endpoint{}, err
	}

	return r.record()
}

// tokenRow receives one row of tokenColumns.
type tokenRow struct {
	id, name, role, scopes string
	hash                   []byte
	createdAt              int64
	expiresAt, revokedAt   sql.NullInt64
}

// targets returns where each of tokenColumns is scanned.
func (r *tokenRow) targets() []any {
	return []any{
		&r.id, &r.name, &r.role, &r.scopes, &r.hash, &r.createdAt, &r.expiresAt, &r.revokedAt,
	}
}

// record returns the scanned token as the store hands it out: times in UTC,
// NULL times as zero, and Scopes not nil.
func (r *tokenRow) record() (store.Token, error) {
	scopes := []string{}
	err := json.Unmarshal([]byte(r.scopes), &scopes)
	if err != nil {
		return store.Token{}, fmt.Errorf("scopes of token %s: %w", r.id, err)
	}

	return store.Token{
		ID:        r.id,
		Name:      r.name,
		Role:      store.Role(r.role),
		Scopes:    scopes,
		Hash:      r.hash,
		CreatedAt: fromMicros(r.createdAt),
		ExpiresAt: fromNullMicros(r.expiresAt),
		RevokedAt: fromNullMicros(r.revokedAt),
	}, nil
}

// scanToken scans one row of tokenColumns.
func scanToken(row scanner) (store.Token, error) {
	var r tokenRow
	err := row.Scan(r.targets()...)
	if err != nil {
		return store.Token{}, err
	}

	return r.record()
}

// eventRow receives one row of eventColumns; NULL text columns read as "".
type eventRow struct {
	id, time        int64
	action, outcome string

	endpoint, tokenID, tokenName, remoteAddr, requestID, detail sql.NullString
}

// targets returns where each of eventColumns is scanned.
func (r *eventRow) targets() []any {
	return []any{
		&r.id, &r.time, &r.action, &r.outcome, &r.endpoint, &r.tokenID, &r.tokenName,
		&r.remoteAddr, &r.requestID, &r.detail,
	}
}

// scanEvent scans one row of eventColumns: the ID in decimal, the time in
// UTC and NULLs as empty strings.
func scanEvent(row scanner) (store.Event, error) {
	var r eventRow
	err := row.Scan(r.targets()...)
	if err != nil {
		return store.Event{}, err
	}

	return store.Event{
		ID:         strconv.FormatInt(r.id, 10),
		Time:       fromMicros(r.time),
		Action:     store.Action(r.action),
		Outcome:    store.Outcome(r.outcome),
		Endpoint:   r.endpoint.String,
		TokenID:    r.tokenID.String,
		TokenName:  r.tokenName.String,
		RemoteAddr: r.remoteAddr.String,
		RequestID:  r.requestID.String,
		Detail:     r.detail.String,
	}, nil
}

// qualify prefixes each of columns (a comma-separated list) with alias.
func qualify(alias, columns string) string {
	names := strings.Split(columns, ", ")
	for i, n := range names {
		names[i] = alias + "." + n
	}

	return strings.Join(names, ", ")
}

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// querier runs queries: a pool, or one of its transactions.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// execer runs statements: a pool, or one of its transactions.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queryOne runs query and scans its single row with scan; sql.ErrNoRows
// when it returns none.
func queryOne[T any](
	ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any,
) (T, error) {
	return scan(q.QueryRowContext(ctx, query, args...))
}

// readOne runs query, prepared on the reader pool (see DB.prepared), and
// scans its single row with scan; sql.ErrNoRows when it returns none.
func readOne[T any](
	ctx context.Context, db *DB, scan func(scanner) (T, error), query string, args ...any,
) (T, error) {
	stmt, err := db.prepared(ctx, query)
	if err != nil {
		var zero T
		return zero, err
	}

	return scan(stmt.QueryRowContext(ctx, args...))
}

// queryAll runs query and scans every row with scan. The list is empty, not
// nil, when there are none.
func queryAll[T any](
	ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any,
) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	list := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}

	return list, rows.Err()
}

// micros returns t as the columns keep it: whole microseconds since the
// Unix epoch, rounded down as PostgreSQL's driver does.
func micros(t time.Time) int64 {
	return t.UnixMicro()
}

// nullMicros returns nil for the zero time (stored as NULL), else micros(t).
func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}

	return micros(t)
}

// fromMicros returns the instant that micros gave us, in UTC.
func fromMicros(us int64) time.Time {
	return time.UnixMicro(us).UTC()
}

// fromNullMicros returns the zero time for NULL, else fromMicros.
func fromNullMicros(us sql.NullInt64) time.Time {
	if !us.Valid {
		return time.Time{}
	}

	return fromMicros(us.Int64)
}

// jsonText returns v as JSON text, for the labels and scopes columns. Maps
// of strings and lists of strings always encode.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("sqlite: encode " + err.Error())
	}

	return string(b)
}

// labelsJSON returns labels as the labels column keeps them: a JSON object,
// "{}" for nil.
func labelsJSON(labels map[string]string) string {
	if labels == nil {
		return "{}"
	}

	return jsonText(labels)
}

// parseID returns id in the canonical form of a UUID, which is how the
// tables keep IDs, or false when id is not a UUID and so names no row.
func parseID(id string) (string, bool) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", false
	}

	return u.String(), true
}

// errNotUUID refuses a record whose ID is not a UUID, as PostgreSQL's uuid
// columns do.
var errNotUUID = errors.New("ID is not a UUID")

// wrap returns err with the context what, after translating it:
// sql.ErrNoRows becomes store.ErrNotFound, and a violated UNIQUE or PRIMARY
// KEY constraint (told by SQLite's extended result code, not by the message)
// store.ErrAlreadyExists. SQLite's message, kept in the text, names the
// column at fault and never its value.
func wrap(what string, err error) error {
	var sqlErr *sqlitedriver.Error

	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	case errors.As(err, &sqlErr) && isUniqueViolation(sqlErr.Code()):
		return fmt.Errorf("%s: %w (%s)", what, store.ErrAlreadyExists, sqlErr)
	}

	return fmt.Errorf("%s: %w", what, err)
}

// isUniqueViolation reports whether code, an extended result code, is that
// of a violated UNIQUE or PRIMARY KEY constraint.
func isUniqueViolation(code int) bool {
	return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

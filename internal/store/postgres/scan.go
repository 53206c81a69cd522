package postgres

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/totpvault/totpvault/internal/store"
)

// endpointColumns are the endpoints table's columns, in the order of
// endpointTargets. Every query that returns endpoints selects exactly these.
const endpointColumns = `id, name, issuer, account, algorithm, digits, period, labels, ` +
	`sealed_secret, created_at, updated_at`

// tokenColumns are the tokens table's columns, in the order of
// tokenRow.targets. Every query that returns tokens selects exactly these.
const tokenColumns = `id, name, role, scopes, token_hash, created_at, expires_at, revoked_at`

// eventColumns are the audit_events table's columns, in the order of
// eventRow.targets. Every query that returns events selects exactly these.
const eventColumns = `id, time, action, outcome, endpoint, token_id, token_name, ` +
	`remote_addr, request_id, detail`

// endpointTargets returns where each of endpointColumns is scanned into e.
func endpointTargets(e *store.Endpoint) []any {
	return []any{
		&e.ID, &e.Name, &e.Issuer, &e.Account, &e.Algorithm, &e.Digits, &e.Period,
		&e.Labels, &e.SealedSecret, &e.CreatedAt, &e.UpdatedAt,
	}
}

// finishEndpoint returns e as the store hands it out: times in UTC and
// Labels not nil.
func finishEndpoint(e store.Endpoint) store.Endpoint {
	e.Labels = labelsOrEmpty(e.Labels)
	e.CreatedAt = e.CreatedAt.UTC()
	e.UpdatedAt = e.UpdatedAt.UTC()

	return e
}

// rowToEndpoint scans one row of endpointColumns.
func rowToEndpoint(row pgx.CollectableRow) (store.Endpoint, error) {
	var e store.Endpoint
	err := row.Scan(endpointTargets(&e)...)
	if err != nil {
		return store.Endpoint{}, err
	}

	return finishEndpoint(e), nil
}

// tokenRow receives one row of tokenColumns; the nullable times land in
// pointers first.
type tokenRow struct {
	token     store.Token
	expiresAt *time.Time
	revokedAt *time.Time
}

// targets returns where each of tokenColumns is scanned.
func (r *tokenRow) targets() []any {
	t := &r.token

	return []any{
		&t.ID, &t.Name, &t.Role, &t.Scopes, &t.Hash, &t.CreatedAt, &r.expiresAt, &r.revokedAt,
	}
}

// record returns the scanned token as the store hands it out: times in UTC,
// NULL times as zero, and Scopes not nil.
func (r *tokenRow) record() store.Token {
	t := r.token
	if t.Scopes == nil {
		t.Scopes = []string{}
	}

	t.CreatedAt = t.CreatedAt.UTC()
	if r.expiresAt != nil {
		t.ExpiresAt = r.expiresAt.UTC()
	}
	if r.revokedAt != nil {
		t.RevokedAt = r.revokedAt.UTC()
	}

	return t
}

// rowToToken scans one row of tokenColumns.
func rowToToken(row pgx.CollectableRow) (store.Token, error) {
	var r tokenRow
	err := row.Scan(r.targets()...)
	if err != nil {
		return store.Token{}, err
	}

	return r.record(), nil
}

// eventRow receives one row of eventColumns: the bigint id as a number and
// the nullable columns in pointers first.
type eventRow struct {
	event store.Event
	id    int64

	endpoint, tokenID, tokenName, remoteAddr, requestID, detail *string
}

// targets returns where each of eventColumns is scanned.
func (r *eventRow) targets() []any {
	e := &r.event

	return []any{
		&r.id, &e.Time, &e.Action, &e.Outcome, &r.endpoint, &r.tokenID, &r.tokenName,
		&r.remoteAddr, &r.requestID, &r.detail,
	}
}

// record returns the scanned event as the store hands it out: the ID in
// decimal, the time in UTC and NULLs as empty strings.
func (r *eventRow) record() store.Event {
	e := r.event
	e.ID = strconv.FormatInt(r.id, 10)
	e.Time = e.Time.UTC()
	e.Endpoint = orEmpty(r.endpoint)
	e.TokenID = orEmpty(r.tokenID)
	e.TokenName = orEmpty(r.tokenName)
	e.RemoteAddr = orEmpty(r.remoteAddr)
	e.RequestID = orEmpty(r.requestID)
	e.Detail = orEmpty(r.detail)

	return e
}

// orEmpty returns *s, or "" for nil (a NULL column).
func orEmpty(s *string) string {
	if s == nil {
		return ""
	}

	return *s
}

// rowToEvent scans one row of eventColumns.
func rowToEvent(row pgx.CollectableRow) (store.Event, error) {
	var r eventRow
	err := row.Scan(r.targets()...)
	if err != nil {
		return store.Event{}, err
	}

	return r.record(), nil
}

// optional stands in for the scan targets of the columns that a LEFT JOIN
// fills with NULLs when it finds no row: each column is scanned into a fresh
// **T, which pgx sets to nil for NULL, and copied to its *T afterwards.
type optional struct {
	dst  []any
	ptrs []reflect.Value
}

// newOptional wraps dst, a list of pointers such as endpointTargets returns.
func newOptional(dst []any) *optional {
	o := &optional{dst: dst, ptrs: make([]reflect.Value, len(dst))}
	for i, d := range dst {
		o.ptrs[i] = reflect.New(reflect.TypeOf(d))
	}

	return o
}

// targets returns the stand-in targets to pass to Scan.
func (o *optional) targets() []any {
	t := make([]any, len(o.ptrs))
	for i, p := range o.ptrs {
		t[i] = p.Interface()
	}

	return t
}

// copy stores every scanned value that was not NULL in its original target
// and reports whether there was one.
func (o *optional) copy() bool {
	found := false
	for i, p := range o.ptrs {
		v := p.Elem()
		if v.IsNil() {
			continue
		}

		reflect.ValueOf(o.dst[i]).Elem().Set(v.Elem())
		found = true
	}

	return found
}

// qualify prefixes each of columns (a comma-separated list) with alias.
func qualify(alias, columns string) string {
	names := strings.Split(columns, ", ")
	for i, n := range names {
		names[i] = alias + "." + n
	}

	return strings.Join(names, ", ")
}

// querier runs queries: the pool, or one of its transactions.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryOne runs query and scans its single row with scan; pgx.ErrNoRows when
// it returns none.
func queryOne[T any](
	ctx context.Context, q querier, scan pgx.RowToFunc[T], query string, args ...any,
) (T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		var zero T
		return zero, err
	}

	return pgx.CollectOneRow(rows, scan)
}

// queryAll runs query and scans every row with scan. The list is empty, not
// nil, when there are none.
func queryAll[T any](
	ctx context.Context, q querier, scan pgx.RowToFunc[T], query string, args ...any,
) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}

	list, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []T{}
	}

	return list, nil
}

// labelsOrEmpty returns labels, or an empty map for nil: the column holds a
// JSON object, never a JSON null.
func labelsOrEmpty(labels map[string]string) map[string]string {
	if labels == nil {
		return map[string]string{}
	}

	return labels
}

// nullTime returns nil for the zero time (stored as NULL), else &t.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}

	return &t
}

// parseID returns id in the canonical form of a UUID, or false when id is
// not a UUID and so names no row.
func parseID(id string) (string, bool) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", false
	}

	return u.String(), true
}

// wrap returns err with the context what, after translating it:
// pgx.ErrNoRows becomes store.ErrNotFound, a unique violation (SQLSTATE
// 23505) store.ErrAlreadyExists, and any other PostgreSQL error is redacted.
func wrap(what string, err error) error {
	var pgErr *pgconn.PgError

	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	case errors.As(err, &pgErr) && pgErr.Code == "23505":
		return fmt.Errorf("%s: %w (%s)", what, store.ErrAlreadyExists, pgErr.ConstraintName)
	}

	return fmt.Errorf("%s: %w", what, redact(err))
}

// redact returns err with the Detail of its PostgreSQL error removed:
// "Failing row contains (...)" and "Key (...)=(...)" quote stored values,
// sealed secrets and token hashes among them. Errors of other kinds come back
// as they are.
func redact(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Detail == "" {
		return err
	}

	c := *pgErr
	c.Detail = ""

	return &c
}

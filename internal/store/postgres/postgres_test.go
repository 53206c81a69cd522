package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/postgres"
	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
	"github.com/totpvault/totpvault/internal/store/storetest"
)

// The PostgreSQL store is a complete store.
var _ storetest.Store = (*postgres.DB)(nil)

func TestContract(t *testing.T) {
	pgtest.URL(t) // skips the whole suite at once when there is no server

	storetest.Run(t, func(t *testing.T) storetest.Store {
		return openMigrated(t, newSchema(t))
	})
}

// newSchema creates an empty schema in the package's database, for t alone,
// and returns a URL whose connections work in it; the schema is dropped when
// t ends. A schema costs milliseconds where a database costs seconds on a
// busy server, and the store must not care which schema it is given.
func newSchema(t *testing.T) string {
	t.Helper()

	name := "contract_" + strings.ReplaceAll(store.NewID(), "-", "")
	conn := connect(t, pgtest.URL(t))
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}

	t.Cleanup(func() {
		_, err := conn.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE")
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})

	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatalf("parse the package's URL: %v", err)
	}
	query := u.Query()
	query.Set("search_path", name)
	u.RawQuery = query.Encode()

	return u.String()
}

// open opens the database at url and closes it when t ends.
func open(t *testing.T, url string) *postgres.DB {
	t.Helper()

	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(db.Close)

	return db
}

// openMigrated opens and migrates the database at url.
func openMigrated(t *testing.T, url string) *postgres.DB {
	t.Helper()

	db := open(t, url)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}

	return db
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()

	db := open(t, pgtest.NewDatabase(t))
	for i := range 3 {
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}

	if err := db.Ready(t.Context()); err != nil {
		t.Errorf("Ready after Migrate: %v", err)
	}
}

func TestConcurrentMigrate(t *testing.T) {
	t.Parallel()

	const instances = 5

	url := pgtest.NewDatabase(t)
	dbs := make([]*postgres.DB, instances)
	for i := range dbs {
		dbs[i] = open(t, url)
	}

	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() { errs[i] = db.Migrate(t.Context()) })
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: Migrate: %v", i, err)
		}
	}

	checkAppliedOnce(t, url)
	for i, db := range dbs {
		if err := db.Ready(t.Context()); err != nil {
			t.Errorf("instance %d: Ready: %v", i, err)
		}
	}
}

// checkAppliedOnce reports a migration that the database at url recorded
// more than once.
func checkAppliedOnce(t *testing.T, url string) {
	t.Helper()

	const query = `SELECT count(*), count(DISTINCT version_id) FROM goose_db_version`

	var rows, versions int
	err := connect(t, url).QueryRow(t.Context(), query).Scan(&rows, &versions)
	if err != nil {
		t.Fatalf("count versions: %v", err)
	}
	if rows != versions {
		t.Errorf("goose_db_version has %d rows for %d versions", rows, versions)
	}
}

// connect opens a plain connection to url, closed when t ends.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()

	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })

	return conn
}

func TestReady(t *testing.T) {
	t.Parallel()

	untouched := func(*testing.T, *postgres.DB, string) {}
	migrate := func(t *testing.T, db *postgres.DB, _ string) {
		t.Helper()

		if err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	ahead := func(t *testing.T, db *postgres.DB, url string) {
		t.Helper()

		migrate(t, db, url)
		_, err := connect(t, url).Exec(t.Context(),
			`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`)
		if err != nil {
			t.Fatalf("record a future version: %v", err)
		}
	}

	tests := []struct {
		name    string
		prepare func(t *testing.T, db *postgres.DB, url string)
		want    error
	}{
		{"a database never migrated", untouched, store.ErrSchemaNotCurrent},
		{"a migrated database", migrate, nil},
		{"a database migrated by a newer build", ahead, store.ErrSchemaNotCurrent},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			url := pgtest.NewDatabase(t)
			db := open(t, url)
			tt.prepare(t, db, url)

			err := db.Ready(t.Context())
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Ready() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReadyWithoutAnswer(t *testing.T) {
	t.Parallel()

	db := openMigrated(t, pgtest.NewDatabase(t))
	db.Close()

	err := db.Ready(t.Context())
	if err == nil || errors.Is(err, store.ErrSchemaNotCurrent) {
		t.Errorf("Ready() of a closed DB = %v, want a connection error", err)
	}
}

func TestOpenHidesPassword(t *testing.T) {
	t.Parallel()

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	_, err := postgres.Open(ctx, "postgres://postgres:hunter2@127.0.0.1:1/none?sslmode=disable")
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open's error %q shows the password", err)
	}
}

func TestSealedSecretStoredAsGiven(t *testing.T) {
	t.Parallel()

	secret := make([]byte, 256)
	for i := range secret {
		secret[i] = byte(i)
	}

	e := endpoint("stored-bytes", secret)
	if _, err := pgtest.DB(t).CreateEndpoint(t.Context(), e, createEvent(e)); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}

	var stored []byte
	err := connect(t, pgtest.URL(t)).QueryRow(t.Context(),
		`SELECT sealed_secret FROM endpoints WHERE name = $1`, e.Name).Scan(&stored)
	if err != nil {
		t.Fatalf("read sealed_secret: %v", err)
	}
	if !bytes.Equal(stored, secret) {
		t.Errorf("sealed_secret = %x, want %x", stored, secret)
	}
}

func TestErrorsDropRowDetail(t *testing.T) {
	t.Parallel()

	e := endpoint("nine-digits", []byte("sealed bytes that must stay out of errors"))
	e.Digits = 9

	_, err := pgtest.DB(t).CreateEndpoint(t.Context(), e, createEvent(e))

	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Fatalf("CreateEndpoint of 9 digits: error = %v, want a *pgconn.PgError", err)
	}
	if pgErr.Code != "23514" {
		t.Errorf("SQLSTATE = %s, want 23514 (check_violation)", pgErr.Code)
	}
	if pgErr.Detail != "" {
		t.Errorf("Detail = %q, want it removed", pgErr.Detail)
	}
}

// createEvent returns the event that records the creation of e.
func createEvent(e store.Endpoint) store.Event {
	return store.Event{
		Time:     e.CreatedAt,
		Action:   store.ActionEndpointCreate,
		Outcome:  store.OutcomeSuccess,
		Endpoint: e.Name,
	}
}

// endpoint returns a valid endpoint holding sealed, whose name is prefix
// and a random suffix: the package's database outlives one run of a test.
func endpoint(prefix string, sealed []byte) store.Endpoint {
	now := time.Now().UTC().Truncate(time.Microsecond)
	id := store.NewID()

	return store.Endpoint{
		ID:           id,
		Name:         prefix + "-" + id[len(id)-12:],
		Algorithm:    "SHA1",
		Digits:       6,
		Period:       30,
		SealedSecret: sealed,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
}

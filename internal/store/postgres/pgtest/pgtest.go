// Package pgtest gives test packages a PostgreSQL database of their own.
//
// A package that needs one calls Main from its TestMain; its tests then call
// URL, DB or NewDatabase. The server is named by TOTPVAULT_TEST_DATABASE_URL
// (a postgres:// URL of a role that may create databases), by default the
// local one. Without a server the tests skip, unless CI=true: there they fail,
// so that a broken CI set-up cannot pass by skipping everything.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/totpvault/totpvault/internal/store/postgres"
)

// EnvURL names the variable holding the server's URL.
const EnvURL = "TOTPVAULT_TEST_DATABASE_URL"

// defaultURL is the server used when EnvURL is not set.
const defaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// pingTimeout bounds the first attempt to reach the server.
const pingTimeout = 5 * time.Second

// setupTimeout bounds each creation or removal of a database.
const setupTimeout = 30 * time.Second

// pkg is the state Main sets up for the calling test package.
var pkg struct {
	// server is the URL of the server's maintenance database.
	server string

	// url is the package's database; empty when there is none.
	url string

	// unavailable says, in one line, why there is no database.
	unavailable string

	once sync.Once
	db   *postgres.DB
	err  error
}

// Main gives the calling test package a database of its own: it connects to
// the server named by TOTPVAULT_TEST_DATABASE_URL, creates a database with a
// unique name, runs m, drops the database (WITH (FORCE)) and exits. When no
// server answers it still runs m, so that the tests can skip; under CI=true it
// fails at once with a one-line message.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run does Main's work and returns the exit code instead of exiting, for a
// TestMain that checks more once the tests have run.
func Run(m *testing.M) int {
	pkg.server = serverURL()

	pkg.unavailable = unavailable(pkg.server)
	if pkg.unavailable != "" {
		if inCI() {
			fmt.Fprintln(os.Stderr, "pgtest: "+pkg.unavailable)
			return 1
		}

		return m.Run()
	}

	name := "totpvault_test_" + randomHex()
	err := createDatabase(pkg.server, name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: create database %s: %v\n", name, err)
		return 1
	}

	pkg.url = databaseURL(pkg.server, name)
	code := m.Run()

	if pkg.db != nil {
		pkg.db.Close()
	}

	err = dropDatabase(pkg.server, name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: drop database %s: %v\n", name, err)
		return max(code, 1)
	}

	return code
}

// unavailable returns, in one line, why the server at server cannot be used,
// or "" when it answers.
func unavailable(server string) string {
	if !isURL(server) {
		return EnvURL + " is not a postgres:// URL"
	}

	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()

	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return noServer(server)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	err = conn.Ping(ctx)
	if err != nil {
		return noServer(server)
	}

	return ""
}

// URL returns the URL of the package's database, which is not migrated. When
// there is none it skips t with one line saying how to get PostgreSQL, or
// under CI=true fails t.
func URL(t testing.TB) string {
	t.Helper()

	if pkg.url != "" {
		return pkg.url
	}

	reason := pkg.unavailable
	if pkg.server == "" {
		reason = "pgtest.Main was not called: add func TestMain(m *testing.M) { pgtest.Main(m) }"
	}

	if inCI() {
		t.Fatal(reason)
	}
	t.Skip(reason)

	return ""
}

// DB returns a migrated store on the package's database. It is opened once
// per package and shared, so tests that run in parallel must use names of
// their own; Main closes it. Skips or fails t as URL does.
func DB(t testing.TB) *postgres.DB {
	t.Helper()

	url := URL(t)
	pkg.once.Do(func() {
		pkg.db, pkg.err = openMigrated(url)
	})

	if pkg.err != nil {
		t.Fatalf("pgtest: %v", pkg.err)
	}

	return pkg.db
}

// NewDatabase creates one more empty database, for t alone, and drops it
// when t ends. It returns the database's URL. Skips or fails t as URL does.
func NewDatabase(t testing.TB) string {
	t.Helper()

	URL(t)

	name := "totpvault_test_" + randomHex()
	err := createDatabase(pkg.server, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}

	t.Cleanup(func() {
		err := dropDatabase(pkg.server, name)
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})

	return databaseURL(pkg.server, name)
}

// openMigrated opens the database at url and migrates it.
func openMigrated(url string) (*postgres.DB, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	db, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, err
	}

	err = db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}

	return db, nil
}

// createDatabase creates the database name on the server at server. Where
// the server has ICU it gets a linguistic default collation (en-US), as many
// production servers have, so that a query that leans on the default
// collation instead of the schema's COLLATE "C" fails in tests too.
func createDatabase(server, name string) error {
	create := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()

	err := execOn(server, create+
		" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
	if err == nil {
		return nil
	}

	return execOn(server, create)
}

// dropDatabase drops the database name on the server at server, ending the
// sessions still connected to it.
func dropDatabase(server, name string) error {
	return execOn(server, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+
		" WITH (FORCE)")
}

// execOn connects to url and runs one statement.
func execOn(url, statement string) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))

	_, err = conn.Exec(ctx, statement)

	return err
}

package api_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/audit"
	"github.com/totpvault/totpvault/internal/store/postgres"
	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
	"github.com/totpvault/totpvault/internal/store/sqlite"
)

// testDB is a store the API tests run on.
type testDB interface {
	api.Store
	audit.Sink
}

// onSQLite is true when the tests run on the embedded store: with
// TOTPVAULT_TEST_STORE=sqlite. By default they run on PostgreSQL.
var onSQLite = os.Getenv("TOTPVAULT_TEST_STORE") == "sqlite"

// openTestDB returns the package's shared store, migrated.
func openTestDB(t testing.TB) testDB {
	t.Helper()

	if !onSQLite {
		return pgtest.DB(t)
	}
	db, err := sharedSQLite()
	if err != nil {
		t.Fatalf("embedded store: %v", err)
	}
	return db
}

// sharedSQLite opens the package's embedded store once, in a folder of its
// own that the operating system's temporary folder cleaning removes.
var sharedSQLite = sync.OnceValues(func() (*sqlite.DB, error) {
	dir, err := os.MkdirTemp("", "totpvault-api-test-")
	if err != nil {
		return nil, err
	}

	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "totpvault.db"))
	if err != nil {
		return nil, err
	}
	return db, db.Migrate(ctx)
})

// needPostgres skips a test that reaches into PostgreSQL with SQL of its
// own when the tests run on the embedded store.
func needPostgres(t *testing.T) {
	t.Helper()

	if onSQLite {
		t.Skip("this test reads or changes PostgreSQL tables directly")
	}
}

// unmigratedDB is a store whose schema a test brings up itself.
type unmigratedDB interface {
	api.Store
	Migrate(ctx context.Context) error
}

// newUnmigratedDB returns a store of the kind the tests run on, in a
// database or file of its own that was never migrated. It is closed when t
// ends.
func newUnmigratedDB(t *testing.T) unmigratedDB {
	t.Helper()

	var db interface {
		unmigratedDB
		Close()
	}
	var err error
	if onSQLite {
		db, err = sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "totpvault.db"))
	} else {
		db, err = postgres.Open(t.Context(), pgtest.NewDatabase(t))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// sqliteConn is a second connection to the package's embedded store, for
// tests that read or change its tables with SQL of their own, as they do
// with a connection of their own to PostgreSQL.
var sqliteConn = sync.OnceValues(func() (*sql.DB, error) {
	db, err := sharedSQLite()
	if err != nil {
		return nil, err
	}

	dsn := url.URL{Scheme: "file", Path: filepath.ToSlash(db.Path()),
		RawQuery: url.Values{"_pragma": {"busy_timeout(5000)"}}.Encode()}
	return sql.Open("sqlite", dsn.String())
})

// sqliteDB returns sqliteConn, failing t when it cannot be opened. Its
// callers run with context.Background(), as cleanups do too, after t's
// own context has ended.
func sqliteDB(t *testing.T) *sql.DB {
	t.Helper()

	db, err := sqliteConn()
	if err != nil {
		t.Fatalf("embedded store: %v", err)
	}
	return db
}

// auditRowText is every column of an audit_events row e, as one text.
const auditRowText = `concat_ws(' ', e.id, e.time, e.action, e.outcome, e.endpoint, e.token_id, ` +
	`e.token_name, e.remote_addr, e.request_id, e.detail)`

// sqliteForms pairs the statements of PostgreSQL's own that tests run
// through execSQL and queryInt with their SQLite forms; an empty form is a
// statement that SQLite needs nothing for. Statements match with their white
// space collapsed. A statement not listed runs on SQLite as it is: $1 binds
// the first argument there too.
var sqliteForms = []struct{ postgres, sqlite string }{
	// A trigger that refuses every audit event; SQLite's needs no function.
	{postgres: `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'audit trail unwritable'; END $$`},
	{postgres: `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events
		FOR EACH ROW EXECUTE FUNCTION refuse_audit()`,
		sqlite: `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events
		BEGIN SELECT RAISE(ABORT, 'audit trail unwritable'); END`},
	{postgres: `DROP TRIGGER IF EXISTS refuse_audit ON audit_events`,
		sqlite: `DROP TRIGGER IF EXISTS refuse_audit`},
	{postgres: `DROP FUNCTION IF EXISTS refuse_audit()`},

	// Byte 40 of a sealed secret with its lowest bit flipped: in hex, its
	// second digit (the 82nd) swapped for its partner.
	{postgres: `UPDATE endpoints SET sealed_secret =
		set_byte(sealed_secret, 40, get_byte(sealed_secret, 40) # 1) WHERE name = $1`,
		sqlite: `UPDATE endpoints SET sealed_secret = unhex(substr(hex(sealed_secret), 1, 81) ||
		substr('1032547698BADCFE', instr('0123456789ABCDEF', substr(hex(sealed_secret), 82, 1)), 1) ||
		substr(hex(sealed_secret), 83)) WHERE name = $1`},

	// Audit rows that hold either text in any column.
	{postgres: `SELECT count(*) FROM audit_events e
		WHERE e::text LIKE '%' || $1 || '%' OR e::text LIKE '%' || $2 || '%'`,
		sqlite: `SELECT count(*) FROM audit_events e
		WHERE instr(` + auditRowText + `, $1) > 0 OR instr(` + auditRowText + `, $2) > 0`},
}

// sqliteForm returns the statement to run on SQLite for statement.
func sqliteForm(statement string) string {
	collapse := func(s string) string { return strings.Join(strings.Fields(s), " ") }

	for _, f := range sqliteForms {
		if collapse(f.postgres) == collapse(statement) {
			return f.sqlite
		}
	}
	return statement
}

// sqliteExec runs statement, in its SQLite form, on the embedded store.
func sqliteExec(t *testing.T, statement string, args ...any) {
	t.Helper()

	form := sqliteForm(statement)
	if form == "" {
		return
	}
	if _, err := sqliteDB(t).ExecContext(context.Background(), form, args...); err != nil {
		t.Fatalf("%s: %v (a statement of PostgreSQL's own needs its form in sqliteForms)",
			form, err)
	}
}

// sqliteQueryInt runs query, in its SQLite form, on the embedded store and
// returns the one integer it answers.
func sqliteQueryInt(t *testing.T, query string, args ...any) int {
	t.Helper()

	var n int
	err := sqliteDB(t).QueryRowContext(context.Background(), sqliteForm(query), args...).Scan(&n)
	if err != nil {
		t.Fatalf("%s: %v (a query of PostgreSQL's own needs its form in sqliteForms)",
			sqliteForm(query), err)
	}
	return n
}

// sqliteRows returns each row that query answers on the embedded store as
// one text: its columns in order, bytes in hex as PostgreSQL shows bytea.
func sqliteRows(t *testing.T, query string, args ...any) []string {
	t.Helper()

	rows, err := sqliteDB(t).QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}

	var texts []string
	for rows.Next() {
		values := make([]any, len(columns))
		targets := make([]any, len(columns))
		for i := range values {
			targets[i] = &values[i]
		}
		if err := rows.Scan(targets...); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, rowAsText(values))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return texts
}

// rowAsText writes the values of a row as PostgreSQL writes a row as text.
func rowAsText(values []any) string {
	fields := make([]string, len(values))
	for i, v := range values {
		switch v := v.(type) {
		case nil:
		case []byte:
			fields[i] = `\x` + hex.EncodeToString(v)
		default:
			fields[i] = fmt.Sprint(v)
		}
	}
	return "(" + strings.Join(fields, ",") + ")"
}

// sqliteFingerprint sums up every endpoint and token row of the embedded
// store, as fingerprint does on PostgreSQL.
func sqliteFingerprint(t *testing.T) string {
	t.Helper()

	var parts []string
	for _, table := range []string{"endpoints", "tokens"} {
		rows := sqliteRows(t, `SELECT * FROM `+table+` ORDER BY id`)
		sum := sha256.Sum256([]byte(strings.Join(rows, ",")))
		parts = append(parts, fmt.Sprint(len(rows)), hex.EncodeToString(sum[:]))
	}
	return strings.Join(parts, " ")
}

// sqliteRowText returns the endpoints row of name on the embedded store as
// text, as rowText does on PostgreSQL.
func sqliteRowText(t *testing.T, name string) string {
	t.Helper()

	rows := sqliteRows(t, `SELECT * FROM endpoints WHERE name = $1`, name)
	if len(rows) != 1 {
		t.Fatalf("%d endpoints rows are called %q", len(rows), name)
	}
	return rows[0]
}

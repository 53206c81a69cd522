package api_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/audit"
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

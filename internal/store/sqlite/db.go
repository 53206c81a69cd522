// Package sqlite keeps totpvault's records in one SQLite file, for one
// instance of the service on one machine, through a pure-Go driver
// (modernc.org/sqlite, no cgo). Its schema comes from the embedded SQLite
// migrations in package migrations; Open never changes it, Migrate does. It
// does what the PostgreSQL store does, method for method; where the two
// differ in how, the doc comments say so.
//
// Every method returns the errors of package store, wrapped with context:
// store.ErrNotFound, store.ErrAlreadyExists, store.ErrNoFreeStep and
// store.ErrSchemaNotCurrent. Other failures (a closed DB, a violated CHECK)
// come back wrapped as they are. SQLite's messages name the table, column or
// constraint at fault but never quote a stored value, so unlike PostgreSQL's
// they carry no sealed secret or token hash.
//
// # Connections
//
// A DB keeps two pools on the file. Every change goes through the writer
// pool, which holds a single connection: SQLite lets one writer at a time
// in any case, and queueing the writers of this process in database/sql,
// where a waiting caller's context still counts, means that they never meet
// SQLITE_BUSY on each other. Its transactions begin IMMEDIATE, taking the
// write lock at BEGIN rather than at the first write: what a change reads
// (CreateFirstAdminToken's check for an admin, say) cannot be changed by
// another process on the file (totpvault token create) before it commits,
// and waiting for that process's lock is a wait under busy_timeout, never
// a failed upgrade from reading to writing. Reads go through a
// reader pool of several query-only connections that, in WAL mode, neither
// wait for the writer nor hold it up; each statement reads what was
// committed before it began.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/migrations"
)

// busyTimeout is how long a connection waits for a lock that another
// process holds (another writer, a checkpoint) before it gives up with
// SQLITE_BUSY.
const busyTimeout = 5000 // milliseconds

// minReaders is the fewest connections of the reader pool; there are as
// many as GOMAXPROCS when that is more.
const minReaders = 4

// DB is a SQLite store. It is safe for concurrent use by the goroutines of
// one process.
type DB struct {
	path string

	// write holds the one connection that changes the file; read holds the
	// query-only connections. See the package comment.
	write *sql.DB
	read  *sql.DB

	// stmts holds statements of the reader pool prepared by prepared, by
	// their text; mu guards it.
	mu    sync.Mutex
	stmts map[string]*sql.Stmt

	// latest is the version of the newest embedded migration.
	latest int64
}

// Open opens (creating when missing) the store file at path: its folder is
// created 0700 and the file 0600 before the driver touches it, and SQLite
// gives its -wal and -shm files the file's permissions. A folder or file that
// exists keeps its permissions. Every connection runs with the WAL journal,
// synchronous=FULL (a committed change survives a power cut), a busy_timeout
// and foreign_keys on. Open fails when the file cannot be put in WAL mode
// (on a network file system, say). It does not migrate: see Migrate. The
// caller closes the DB.
func Open(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}

	err = createPrivate(abs)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}

	db := &DB{path: path, stmts: map[string]*sql.Stmt{}}
	err = db.openPools(ctx, abs)
	if err != nil {
		db.Close()
		return nil, err
	}

	migrator, err := db.migrator()
	if err != nil {
		db.Close()
		return nil, err
	}

	sources := migrator.ListSources()
	db.latest = sources[len(sources)-1].Version

	return db, nil
}

// createPrivate creates the folder of the file at path (0700) and the file
// itself (0600, empty) when they are missing, so that the driver, which
// would create them with the umask's permissions, finds them there.
func createPrivate(path string) error {
	err := os.MkdirAll(filepath.Dir(path), 0o700)
	if err != nil {
		return err
	}

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}

	return f.Close()
}

// openPools opens the writer pool, puts the file in WAL mode through it,
// and then opens the reader pool.
func (db *DB) openPools(ctx context.Context, abs string) error {
	// Only the writer sets the journal mode: it is a property of the file,
	// and several connections changing it at once would meet SQLITE_BUSY.
	db.write = openPool(abs, 1, url.Values{
		"_journal_mode": {"WAL"},
		"_txlock":       {"immediate"},
	})
	err := checkWAL(ctx, db.write)
	if err != nil {
		return err
	}

	readers := max(minReaders, runtime.GOMAXPROCS(0))
	db.read = openPool(abs, readers, url.Values{"_query_only": {"1"}})
	err = db.read.PingContext(ctx)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}

	return nil
}

// openPool returns a pool of up to conns connections to the file at abs,
// each set up with the pragmas every connection gets and with extra. The
// pool keeps its connections open: a new one costs a schema parse.
func openPool(abs string, conns int, extra url.Values) *sql.DB {
	params := url.Values{
		"_busy_timeout": {strconv.Itoa(busyTimeout)},
		"_synchronous":  {"FULL"},
		"_foreign_keys": {"1"},
	}
	for k, v := range extra {
		params[k] = v
	}

	// A file: URI with the path escaped, so that a '?' or '#' in a folder
	// name stays part of the path.
	dsn := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: params.Encode()}

	// sql.Open only checks the driver name, which the import registers.
	pool, _ := sql.Open("sqlite", dsn.String())
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)

	return pool
}

// checkWAL connects pool and reports an error unless its file is in WAL
// mode, which SQLite may decline without an error.
func checkWAL(ctx context.Context, pool *sql.DB) error {
	var mode string
	err := pool.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}

	if mode != "wal" {
		return fmt.Errorf("open database: journal mode is %q, not wal", mode)
	}

	return nil
}

// Path returns the file's path, as given to Open.
func (db *DB) Path() string {
	return db.path
}

// migrator returns a goose provider of the embedded migrations on the
// writer pool. Migrate asks for a new one each time because a provider that
// once failed to create its version table never tries again.
func (db *DB) migrator() (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, migrations.SQLite,
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}

	return p, nil
}

// Close closes every connection; calls still running fail. The last
// connection to close checkpoints the WAL into the file.
func (db *DB) Close() {
	db.mu.Lock()
	for _, s := range db.stmts {
		s.Close()
	}
	clear(db.stmts)
	db.mu.Unlock()

	if db.read != nil {
		db.read.Close()
	}
	if db.write != nil {
		db.write.Close()
	}
}

// Migrate brings the schema up to the newest embedded migration, each
// migration in a transaction of its own. It works on the writer connection,
// so the process's other changes wait for it. It takes no lock beyond
// SQLite's own: the store serves one process, and a second process
// migrating the same file at the same moment may fail, finding nothing left
// to do when it tries again. A database that is already current is left
// alone.
func (db *DB) Migrate(ctx context.Context) error {
	migrator, err := db.migrator()
	if err != nil {
		return err
	}

	_, err = migrator.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	return nil
}

// Ready returns nil when the database answers and its schema version is that
// of the newest embedded migration. It returns an error wrapping
// store.ErrSchemaNotCurrent when the version differs (or no migration was
// ever applied), and the connection's error when the database does not
// answer (after Close, say). It costs two queries of the local file: one
// for whether goose's version table exists, one for the version.
func (db *DB) Ready(ctx context.Context) error {
	const tables = `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`
	const query = `SELECT coalesce(max(version_id), 0) FROM ` + goose.DefaultTablename

	var n int
	err := db.read.QueryRowContext(ctx, tables, goose.DefaultTablename).Scan(&n)
	if err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("ready: never migrated: %w", store.ErrSchemaNotCurrent)
	}

	var version int64
	err = db.read.QueryRowContext(ctx, query).Scan(&version)
	if err != nil {
		return fmt.Errorf("ready: %w", err)
	}

	if version != db.latest {
		return fmt.Errorf("ready: schema version %d, this build needs %d: %w",
			version, db.latest, store.ErrSchemaNotCurrent)
	}

	return nil
}

// prepared returns query prepared on the reader pool, preparing it the first
// time. It serves the point reads that every request makes, whose fixed text
// SQLite would otherwise parse and plan on each call: that is more than half
// the cost of TokenAndEndpoint. SQLite prepares a statement again on its own
// when a migration changes the schema. A failed preparation (before the
// first Migrate, say) is not kept.
func (db *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	db.mu.Lock()
	defer db.mu.Unlock()

	if s, ok := db.stmts[query]; ok {
		return s, nil
	}

	s, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	db.stmts[query] = s

	return s, nil
}

// inTx runs f in a transaction of the writer connection, which begins
// IMMEDIATE (see the package comment), and commits it when f returns nil.
// When f fails the transaction is rolled back and f's error comes back as
// it is: it is the one that tells what went wrong.
func (db *DB) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}

	err = f(tx)
	if err != nil {
		_ = tx.Rollback()
		return err
	}

	return tx.Commit()
}

// Package postgres keeps totpvault's records in PostgreSQL through a pgx v5
// connection pool. Its schema comes from the embedded migrations in package
// migrations; Open never changes it, Migrate does.
//
// Every method returns the errors of package store, wrapped with context:
// store.ErrNotFound, store.ErrAlreadyExists and store.ErrSchemaNotCurrent.
// Other failures (a lost connection, a violated CHECK) come back wrapped as
// they are, except that a PostgreSQL error loses its Detail field, which may
// quote a whole row and with it a sealed secret or a token hash.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/migrations"
)

// DB is a PostgreSQL store. It is safe for concurrent use.
type DB struct {
	pool *pgxpool.Pool

	// sqlDB is a database/sql view of pool, which goose needs.
	sqlDB *sql.DB

	// latest is the version of the newest embedded migration.
	latest int64
}

// Open connects a pool to the database at url (a postgres:// URL or a
// key=value string) and pings it. It does not migrate: see Migrate. The
// caller closes the DB.
func Open(ctx context.Context, url string) (*DB, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}

	err = pool.Ping(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}

	db := &DB{pool: pool, sqlDB: stdlib.OpenDBFromPool(pool)}
	migrator, err := db.migrator()
	if err != nil {
		db.Close()
		return nil, err
	}

	sources := migrator.ListSources()
	db.latest = sources[len(sources)-1].Version

	return db, nil
}

// migrator returns a goose provider of the embedded migrations. Migrate asks
// for a new one each time because a provider that once failed to create its
// version table never tries again.
func (db *DB) migrator() (*goose.Provider, error) {
	// Instances that start together queue on a session advisory lock; the
	// waiting ones try again every second for up to five minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}

	p, err := goose.NewProvider(goose.DialectPostgres, db.sqlDB, migrations.Postgres,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}

	return p, nil
}

// Close closes every connection; calls still running fail.
func (db *DB) Close() {
	db.sqlDB.Close()
	db.pool.Close()
}

// Migrate brings the schema up to the newest embedded migration. It holds a
// session advisory lock while it works, so that instances starting at once
// apply each migration exactly once; the others wait and then find nothing
// left to do. A database that is already current is left alone.
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
// answer. It costs one query.
func (db *DB) Ready(ctx context.Context) error {
	const query = `SELECT coalesce(max(version_id), 0) FROM ` + goose.DefaultTablename

	var version int64
	err := db.pool.QueryRow(ctx, query).Scan(&version)
	if isUndefinedTable(err) {
		return fmt.Errorf("ready: never migrated: %w", store.ErrSchemaNotCurrent)
	}
	if err != nil {
		return fmt.Errorf("ready: %w", redact(err))
	}

	if version != db.latest {
		return fmt.Errorf("ready: schema version %d, this build needs %d: %w",
			version, db.latest, store.ErrSchemaNotCurrent)
	}

	return nil
}

// isUndefinedTable reports whether err is PostgreSQL's undefined_table.
func isUndefinedTable(err error) bool {
	var pgErr *pgconn.PgError

	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}

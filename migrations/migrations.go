// Package migrations holds the SQL that builds totpvault's schema, one folder
// per database dialect, embedded in the binary. Files are numbered goose
// migrations (-- +goose Up / -- +goose Down); a migration, once released, is
// never edited: a change is a new, higher-numbered file.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql
var postgresFiles embed.FS

// Postgres holds the PostgreSQL migrations at its root, ready for
// goose.NewProvider.
var Postgres fs.FS = sub(postgresFiles, "postgres")

//go:embed sqlite/*.sql
var sqliteFiles embed.FS

// SQLite holds the SQLite migrations of the embedded store at its root,
// ready for goose.NewProvider. A version number means the same tables and
// columns in both dialects; a version that only PostgreSQL needs (00004, the
// triggers of its change feed) has no SQLite file.
var SQLite fs.FS = sub(sqliteFiles, "sqlite")

// sub returns the folder dir of fsys. It panics only when dir is not a valid
// path, which the embed patterns above rule out at compile time.
func sub(fsys fs.FS, dir string) fs.FS {
	f, err := fs.Sub(fsys, dir)
	if err != nil {
		panic("migrations: " + err.Error())
	}

	return f
}

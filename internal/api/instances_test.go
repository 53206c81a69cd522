package api_test

import (
	"context"
	"testing"

	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/audit"
	"github.com/totpvault/totpvault/internal/store/postgres"
	"github.com/totpvault/totpvault/internal/store/postgres/pgtest"
)

// asInstance makes the harness a service instance of its own over the
// package's database, wired as the binary wires one on PostgreSQL: its own
// connection pool, its own audit writer on that pool, and its own cache of
// lookups kept by the change feed. The embedded store belongs to one
// process, so there the instances share the package's store.
func asInstance(t testing.TB) harnessOption {
	return func(c *api.Config) {
		if onSQLite {
			return
		}

		pgtest.DB(t) // the package's database, migrated once
		db, err := postgres.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatalf("open a pool of the instance's own: %v", err)
		}
		t.Cleanup(db.Close)

		trail := audit.NewBatcher(db, c.Log, audit.Options{})
		t.Cleanup(func() { _ = trail.Close(context.Background()) })

		c.Store, c.Audit = db, trail
		withCache(t)(c)
	}
}

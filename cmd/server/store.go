package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/totpvault/totpvault/internal/api"
	"github.com/totpvault/totpvault/internal/audit"
	"github.com/totpvault/totpvault/internal/cache"
	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/postgres"
	"github.com/totpvault/totpvault/internal/store/sqlite"
)

// backend is a store the binary runs on: PostgreSQL, or the embedded
// SQLite file. It is what the API needs, and what the commands need.
type backend interface {
	api.Store
	audit.Sink
	audit.PruneSink

	Migrate(ctx context.Context) error
	Close()

	GetEndpoint(ctx context.Context, name string) (store.Endpoint, error)
	CreateFirstAdminToken(ctx context.Context, t store.Token, ev store.Event) (bool, error)
	ClaimedSteps(ctx context.Context) (map[string]int64, error)
}

// Compile-time checks that both stores are backends.
var (
	_ backend = (*postgres.DB)(nil)
	_ backend = (*sqlite.DB)(nil)
)

// embeddedFile is the name of the embedded store's file in the data folder.
const embeddedFile = "totpvault.db"

// embedded reports whether the configuration asks for the embedded store.
func (c Config) embedded() bool {
	return c.DatabaseURL == ""
}

// embeddedPath is where the embedded store lives.
func (c Config) embeddedPath() string {
	return filepath.Join(c.DataDir, embeddedFile)
}

// openStore opens the configured store: PostgreSQL at the database URL, or
// else the embedded store in the data folder.
func openStore(ctx context.Context, cfg Config) (backend, error) {
	if cfg.embedded() {
		db, err := sqlite.Open(ctx, cfg.embeddedPath())
		if err != nil {
			return nil, fmt.Errorf("open the embedded store: %w", err)
		}
		return db, nil
	}

	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// openMigrated opens the configured store and brings its schema up to
// date.
func openMigrated(ctx context.Context, cfg Config) (backend, error) {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}

	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db, nil
}

// commandEvent is the audit event of a change that a command, not a
// request, makes.
func commandEvent(action store.Action, detail string) store.Event {
	return store.Event{
		Time:    time.Now(),
		Action:  action,
		Outcome: store.OutcomeSuccess,
		Detail:  detail,
	}
}

// startLookups returns what answers the lookups of every request. On
// PostgreSQL it is a cache kept correct by the database's change feed
// until ctx ends; the embedded store answers them itself, without a
// network round trip.
func startLookups(ctx context.Context, db backend) api.Lookups {
	pg, ok := db.(*postgres.DB)
	if !ok {
		return db
	}

	lookups := cache.New(pg)
	go pg.WatchChanges(ctx, lookups)
	return lookups
}

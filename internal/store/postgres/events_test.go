package postgres_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/postgres"
)

// base is the time the package's events are made at.
var base = time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)

func TestEventEmptyStringsStoredAsNull(t *testing.T) {
	t.Parallel()

	url := newSchema(t)
	db := openMigrated(t, url)

	bare := store.Event{Time: base, Action: store.ActionAuthDenied, Outcome: store.OutcomeDenied}
	if err := db.AppendEvents(t.Context(), []store.Event{bare}); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}

	const query = `SELECT count(*) FROM audit_events WHERE endpoint IS NULL
		AND token_id IS NULL AND token_name IS NULL AND remote_addr IS NULL
		AND request_id IS NULL AND detail IS NULL`

	var nulls int
	if err := connect(t, url).QueryRow(t.Context(), query).Scan(&nulls); err != nil {
		t.Fatalf("count rows of NULLs: %v", err)
	}
	if nulls != 1 {
		t.Errorf("%d rows hold NULL in every optional column, want 1", nulls)
	}
}

func TestAppendEventsRefusal(t *testing.T) {
	t.Parallel()

	db := openMigrated(t, newSchema(t))

	tests := []struct {
		name     string
		change   func(e *store.Event)
		sqlstate string
	}{
		{"an unknown action", func(e *store.Event) { e.Action = "code.steal" }, "23514"},
		{"an unknown outcome", func(e *store.Event) { e.Outcome = "maybe" }, "23514"},
		{"a token ID that is not a UUID", func(e *store.Event) { e.TokenID = "ops" }, "22P02"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := store.Event{Time: base, Action: store.ActionCodeRead, Outcome: store.OutcomeSuccess}
			refused := ok
			tt.change(&refused)

			err := db.AppendEvents(t.Context(), []store.Event{ok, refused, ok})

			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != tt.sqlstate {
				t.Errorf("AppendEvents: error = %v, want SQLSTATE %s", err, tt.sqlstate)
			}
			checkEventCount(t, db, 0)
		})
	}
}

func TestConcurrentPrune(t *testing.T) {
	t.Parallel()

	const old, kept, pruners, batch = 500, 20, 4, 7

	db := openMigrated(t, newSchema(t))
	events := make([]store.Event, old+kept)
	for i := range events {
		at := base.Add(time.Duration(i-old) * time.Second)
		events[i] = store.Event{Time: at, Action: store.ActionCodeRead, Outcome: store.OutcomeSuccess}
	}
	if err := db.AppendEvents(t.Context(), events); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}

	// Each pruner loops until it finds nothing to delete; together they
	// must delete every old event exactly once.
	deleted := make([]int, pruners)
	errs := make([]error, pruners)
	var wg sync.WaitGroup
	for i := range pruners {
		wg.Go(func() {
			for {
				n, err := db.PruneEvents(t.Context(), base, batch)
				deleted[i] += n
				if err != nil || n == 0 {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()

	total := 0
	for i := range pruners {
		if errs[i] != nil {
			t.Errorf("pruner %d: %v", i, errs[i])
		}
		total += deleted[i]
	}

	// A pruner stops when it finds only rows that others hold, but the last
	// one running finds none held, and so stops only when none is left.
	if total != old {
		t.Errorf("pruners deleted %d events, want %d", total, old)
	}
	checkEventCount(t, db, kept)
}

// checkEventCount reports a number of events in db other than want.
func checkEventCount(t *testing.T, db *postgres.DB, want int) {
	t.Helper()

	if n := eventCount(t, db); n != want {
		t.Errorf("%d events, want %d", n, want)
	}
}

func TestChangeAndEventShareTheCommit(t *testing.T) {
	t.Parallel()

	// A deferred trigger fails every change to endpoints and tokens at
	// commit, after its statements and its event's INSERT succeeded. An
	// event written on its own, outside the change's transaction, would
	// stay; written inside, it goes with the change.
	const refuseAtCommit = `
		CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql
			AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
		CREATE CONSTRAINT TRIGGER refuse AFTER INSERT OR UPDATE OR DELETE ON endpoints
			DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse();
		CREATE CONSTRAINT TRIGGER refuse AFTER INSERT OR UPDATE OR DELETE ON tokens
			DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse();`

	url := newSchema(t)
	db := openMigrated(t, url)
	kept := endpoint("kept", []byte("sealed"))
	if _, err := db.CreateEndpoint(t.Context(), kept, createEvent(kept)); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	if _, err := connect(t, url).Exec(t.Context(), refuseAtCommit); err != nil {
		t.Fatalf("create the trigger: %v", err)
	}
	before := eventCount(t, db)

	ev := store.Event{Time: base, Action: store.ActionEndpointDelete, Outcome: store.OutcomeSuccess}
	created := endpoint("created", []byte("sealed"))
	admin := store.Token{ID: store.NewID(), Name: "admin", Role: store.RoleAdmin,
		Hash: []byte("hash of the first admin"), CreatedAt: base}

	calls := map[string]func() error{
		"CreateEndpoint": func() error {
			_, err := db.CreateEndpoint(t.Context(), created, ev)
			return err
		},
		"DeleteEndpoint": func() error { return db.DeleteEndpoint(t.Context(), kept.Name, ev) },
		"CreateFirstAdminToken": func() error {
			_, err := db.CreateFirstAdminToken(t.Context(), admin, ev)
			return err
		},
	}

	for name, call := range calls {
		var pgErr *pgconn.PgError
		if err := call(); !errors.As(err, &pgErr) || pgErr.Code != "P0001" {
			t.Errorf("%s: error = %v, want the trigger's (SQLSTATE P0001)", name, err)
		}
	}
	checkEventCount(t, db, before)
}

// eventCount returns the number of events in db, up to 1000.
func eventCount(t *testing.T, db *postgres.DB) int {
	t.Helper()

	list, err := db.ListEvents(t.Context(), store.EventQuery{Limit: 1000})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}

	return len(list)
}

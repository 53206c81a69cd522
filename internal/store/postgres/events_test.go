package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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

func TestEventListsReadOneIndexRangeInOrder(t *testing.T) {
	t.Parallel()

	url := newSchema(t)
	db := openMigrated(t, url)
	tokens := seedEvents(t, db, 20000)
	// At this size, reading the few matching rows through a bitmap and
	// sorting them is cheapest, and PostgreSQL rightly plans so; at the
	// sizes the indexes are for, it is not. Without bitmap and sequential
	// scans the session plans as it would at scale.
	conn := connect(t, url)
	const session = `ANALYZE audit_events;
		SET enable_seqscan = off; SET enable_bitmapscan = off`
	if _, err := conn.Exec(t.Context(), session); err != nil {
		t.Fatalf("prepare the session: %v", err)
	}
	traced, app := openTraced(t, url)
	key := middleKey(t, db)

	filters := []struct {
		name  string
		query store.EventQuery
		index string
	}{
		{"no filter", store.EventQuery{}, "audit_events_time_idx"},
		{"an endpoint", store.EventQuery{Endpoint: "o365-007"}, "audit_events_endpoint_idx"},
		{"an action", store.EventQuery{Action: store.ActionCodeClaim}, "audit_events_action_idx"},
		{"a token", store.EventQuery{TokenID: tokens[3]}, "audit_events_token_id_idx"},
	}
	bounds := []struct {
		name string
		set  func(q *store.EventQuery)
	}{
		{"alone", func(q *store.EventQuery) {}},
		{"with since and until", func(q *store.EventQuery) {
			q.Since, q.Until = base.Add(2*time.Hour), base.Add(4*time.Hour)
		}},
		{"with a cursor", func(q *store.EventQuery) { q.Before = &key }},
		{"with since, until and a cursor", func(q *store.EventQuery) {
			q.Since, q.Until, q.Before = base.Add(time.Hour), base.Add(5*time.Hour), &key
		}},
	}

	for _, f := range filters {
		for _, b := range bounds {
			t.Run(f.name+" "+b.name, func(t *testing.T) {
				q := f.query
				b.set(&q)
				q.Limit = 100
				if _, err := traced.ListEvents(t.Context(), q); err != nil {
					t.Fatalf("ListEvents: %v", err)
				}

				checkPlan(t, explain(t, conn, lastQuery(t, conn, app)), f.index)
			})
		}
	}
}

// seedEvents writes n events a second apart from base, as a busy trail
// holds them: nine in ten read codes, the rest spread over the other
// actions, and all spread over 200 endpoints and 100 tokens. It returns
// the tokens' IDs.
func seedEvents(t *testing.T, db *postgres.DB, n int) []string {
	t.Helper()

	tokens := make([]string, 100)
	for i := range tokens {
		tokens[i] = store.NewID()
	}
	others := []store.Action{store.ActionEndpointCreate, store.ActionEndpointUpdate,
		store.ActionSecretReplace, store.ActionEndpointDelete, store.ActionCodeClaim,
		store.ActionCodeVerify, store.ActionTokenCreate, store.ActionTokenRevoke,
		store.ActionAuthDenied}

	events := make([]store.Event, n)
	for i := range events {
		action := store.ActionCodeRead
		if i%10 == 0 {
			action = others[i/10%len(others)]
		}
		events[i] = store.Event{Time: base.Add(time.Duration(i) * time.Second),
			Action: action, Outcome: store.OutcomeSuccess,
			Endpoint: fmt.Sprintf("o365-%03d", i%200), TokenID: tokens[i%len(tokens)]}
	}
	if err := db.AppendEvents(t.Context(), events); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}

	return tokens
}

// middleKey returns the position of an event halfway through the seeded
// ones, for a cursor.
func middleKey(t *testing.T, db *postgres.DB) store.EventKey {
	t.Helper()

	list, err := db.ListEvents(t.Context(), store.EventQuery{Until: base.Add(3 * time.Hour),
		Limit: 1})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListEvents: %v, %d events", err, len(list))
	}

	return store.EventKey{Time: list[0].Time, ID: list[0].ID}
}

// openTraced opens a store on url of one connection that sends each
// statement as text with its values written in, so that pg_stat_activity
// shows it as the store made it; it returns the store and the connection's
// application_name.
func openTraced(t *testing.T, url string) (*postgres.DB, string) {
	t.Helper()

	app := "explained-" + strings.ReplaceAll(store.NewID(), "-", "")
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}

	return open(t, url+sep+"default_query_exec_mode=simple_protocol&pool_max_conns=1"+
		"&application_name="+app), app
}

// lastQuery returns the statement that the connection called app ran last.
func lastQuery(t *testing.T, conn *pgx.Conn, app string) string {
	t.Helper()

	var query string
	err := conn.QueryRow(t.Context(),
		`SELECT query FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&query)
	if err != nil {
		t.Fatalf("read the last statement: %v", err)
	}
	if !strings.Contains(query, "FROM audit_events") || !strings.Contains(query, "LIMIT") {
		t.Fatalf("the last statement is %q, not a whole listing of events", query)
	}

	return query
}

// planNode is one node of a plan that EXPLAIN (FORMAT JSON) shows.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	IndexName string     `json:"Index Name"`
	Filter    string     `json:"Filter"`
	Plans     []planNode `json:"Plans"`
}

// explain returns the plan of query.
func explain(t *testing.T, conn *pgx.Conn, query string) planNode {
	t.Helper()

	var out []struct {
		Plan planNode `json:"Plan"`
	}
	if err := conn.QueryRow(t.Context(), "EXPLAIN (FORMAT JSON) "+query).Scan(&out); err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}

	return out[0].Plan
}

// checkPlan reports a plan that does not read the events from one range of
// index, already in order: an Index Scan of it whose conditions leave
// nothing to filter, and no sort.
func checkPlan(t *testing.T, plan planNode, index string) {
	t.Helper()

	var scans []planNode
	var walk func(n planNode)
	walk = func(n planNode) {
		switch n.NodeType {
		case "Sort", "Incremental Sort":
			t.Errorf("the plan sorts: %+v", plan)
		case "Index Scan", "Seq Scan", "Bitmap Heap Scan", "Index Only Scan":
			scans = append(scans, n)
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plan)

	if len(scans) != 1 || scans[0].NodeType != "Index Scan" || scans[0].IndexName != index {
		t.Errorf("the plan reads %+v, want one Index Scan of %s", scans, index)
	}
	if len(scans) == 1 && scans[0].Filter != "" {
		t.Errorf("the scan of %s filters on %s", scans[0].IndexName, scans[0].Filter)
	}
}

package sqlite

import (
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/totpvault/totpvault/internal/store"
	"github.com/totpvault/totpvault/internal/store/storetest"
)

// The SQLite store is a complete store.
var _ storetest.Store = (*DB)(nil)

// base is the time the package's records are made at.
var base = time.Date(2026, 12, 3, 18, 0, 0, 123456000, time.UTC)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return openMigrated(t, newPath(t))
	})
}

// newPath returns the path of a store file, not yet created, in a folder
// that is removed when t ends.
func newPath(t testing.TB) string {
	t.Helper()

	return filepath.Join(t.TempDir(), "totpvault.db")
}

// open opens the store at path and closes it when t ends.
func open(t testing.TB, path string) *DB {
	t.Helper()

	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(db.Close)

	return db
}

// openMigrated opens and migrates the store at path.
func openMigrated(t testing.TB, path string) *DB {
	t.Helper()

	db := open(t, path)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}

	return db
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	t.Parallel()

	dir := filepath.Join(t.TempDir(), "data", "store")
	path := filepath.Join(dir, "totpvault.db")
	db := openMigrated(t, path)
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}

	// A write leaves the -wal file in place while the store is open.
	e := newEndpoint("private")
	if _, err := db.CreateEndpoint(t.Context(), e, createEvent(e)); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}

	checkMode(t, filepath.Dir(dir), fs.ModeDir|0o700)
	checkMode(t, dir, fs.ModeDir|0o700)
	checkMode(t, path, 0o600)
	checkMode(t, path+"-wal", 0o600)
	checkMode(t, path+"-shm", 0o600)
}

// checkMode reports a file at path whose type and permissions are not want.
func checkMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()

	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if got := info.Mode(); got != want {
		t.Errorf("%s has mode %v, want %v", filepath.Base(path), got, want)
	}
}

func TestOpenKeepsAnExistingFolder(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatalf("chmod: %v", err)
	}

	open(t, filepath.Join(dir, "totpvault.db"))
	checkMode(t, dir, fs.ModeDir|0o750)
}

func TestConnectionSettings(t *testing.T) {
	t.Parallel()

	db := open(t, newPath(t))

	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", strconv.Itoa(busyTimeout)},
		{"foreign_keys", "1"},
	}

	pools := []struct {
		name string
		pool *sql.DB
	}{
		{"writer", db.write},
		{"reader", db.read},
	}

	for _, p := range pools {
		for _, tt := range tests {
			var got string
			if err := p.pool.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", p.name, tt.pragma, err)
			}
			if got != tt.want {
				t.Errorf("%s: %s = %q, want %q", p.name, tt.pragma, got, tt.want)
			}
		}
	}
}

func TestReaderCannotWrite(t *testing.T) {
	t.Parallel()

	db := openMigrated(t, newPath(t))

	_, err := db.read.Exec(`DELETE FROM tokens`)
	if err == nil {
		t.Error("a DELETE through the reader pool succeeded")
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	t.Parallel()

	path := newPath(t)
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}

	e := newEndpoint("durable")
	created, err := db.CreateEndpoint(t.Context(), e, createEvent(e))
	if err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	tok := newToken("durable")
	if _, err := db.CreateToken(t.Context(), tok, createEvent(e)); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	db.Close()

	again := open(t, path)
	if err := again.Ready(t.Context()); err != nil {
		t.Errorf("Ready after reopening: %v", err)
	}

	got, err := again.GetEndpoint(t.Context(), e.Name)
	if err != nil {
		t.Fatalf("GetEndpoint after reopening: %v", err)
	}
	if got.ID != created.ID || string(got.SealedSecret) != string(created.SealedSecret) {
		t.Errorf("endpoint after reopening = %+v, want %+v", got, created)
	}

	if _, err := again.TokenByHash(t.Context(), tok.Hash); err != nil {
		t.Errorf("TokenByHash after reopening: %v", err)
	}
	if n := len(allEvents(t, again)); n != 2 {
		t.Errorf("%d events after reopening, want 2", n)
	}
}

func TestReady(t *testing.T) {
	t.Parallel()

	db := open(t, newPath(t))

	err := db.Ready(t.Context())
	if !errors.Is(err, store.ErrSchemaNotCurrent) {
		t.Errorf("Ready before Migrate = %v, want %v", err, store.ErrSchemaNotCurrent)
	}

	for i := range 2 {
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
		if err := db.Ready(t.Context()); err != nil {
			t.Errorf("Ready after Migrate #%d: %v", i+1, err)
		}
	}

	_, err = db.write.Exec(
		`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)`)
	if err != nil {
		t.Fatalf("record a future version: %v", err)
	}
	err = db.Ready(t.Context())
	if !errors.Is(err, store.ErrSchemaNotCurrent) {
		t.Errorf("Ready of a newer schema = %v, want %v", err, store.ErrSchemaNotCurrent)
	}

	db.Close()
	err = db.Ready(t.Context())
	if err == nil || errors.Is(err, store.ErrSchemaNotCurrent) {
		t.Errorf("Ready of a closed DB = %v, want a connection error", err)
	}
}

func TestConcurrentClaims(t *testing.T) {
	t.Parallel()

	const claimers = 50

	db := openMigrated(t, newPath(t))
	e := newEndpoint("crowded")
	e, err := db.CreateEndpoint(t.Context(), e, createEvent(e))
	if err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}

	steps := make([]uint64, claimers)
	errs := race(claimers, func(i int) error {
		var err error
		_, steps[i], err = db.ClaimStep(t.Context(), e, 1000, 2000)
		return err
	})

	for i, err := range errs {
		if err != nil {
			t.Errorf("claimer %d: %v", i, err)
		}
	}

	slices.Sort(steps)
	for i, step := range steps {
		if step != 1000+uint64(i) {
			t.Fatalf("steps %v, want each of 1000..%d once", steps, 1000+claimers-1)
		}
	}
}

func TestConcurrentAppendEvents(t *testing.T) {
	t.Parallel()

	const writers, perBatch = 64, 8

	db := openMigrated(t, newPath(t))
	errs := race(writers, func(i int) error {
		batch := make([]store.Event, perBatch)
		for j := range batch {
			batch[j] = newEvent(fmt.Sprintf("w%d-e%d", i, j))
		}
		return db.AppendEvents(t.Context(), batch)
	})

	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}

	events := allEvents(t, db)
	if len(events) != writers*perBatch {
		t.Fatalf("%d events, want %d", len(events), writers*perBatch)
	}

	// Within a batch, IDs follow the order of the slice.
	ids := map[string]int{}
	for _, e := range events {
		id, _ := strconv.Atoi(e.ID)
		ids[e.RequestID] = id
	}
	for i := range writers {
		for j := 1; j < perBatch; j++ {
			prev, cur := fmt.Sprintf("w%d-e%d", i, j-1), fmt.Sprintf("w%d-e%d", i, j)
			if ids[cur] != ids[prev]+1 {
				t.Fatalf("%s has ID %d after %s with %d", cur, ids[cur], prev, ids[prev])
			}
		}
	}
}

func TestAppendEventsRefusal(t *testing.T) {
	t.Parallel()

	db := openMigrated(t, newPath(t))

	tests := []struct {
		name   string
		change func(e *store.Event)
	}{
		{"an unknown action", func(e *store.Event) { e.Action = "code.steal" }},
		{"an unknown outcome", func(e *store.Event) { e.Outcome = "maybe" }},
		{"a token ID that is not a UUID", func(e *store.Event) { e.TokenID = "ops" }},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := newEvent("ok")
			refused := ok
			tt.change(&refused)

			err := db.AppendEvents(t.Context(), []store.Event{ok, refused, ok})
			if err == nil {
				t.Error("AppendEvents succeeded")
			}
			if n := len(allEvents(t, db)); n != 0 {
				t.Errorf("%d events written, want 0", n)
			}
		})
	}
}

func TestAppendEventsOverOneStatement(t *testing.T) {
	t.Parallel()

	db := openMigrated(t, newPath(t))

	batch := make([]store.Event, 2*maxEventsPerInsert+1)
	for i := range batch {
		batch[i] = newEvent(strconv.Itoa(i))
	}
	if err := db.AppendEvents(t.Context(), batch); err != nil {
		t.Fatalf("AppendEvents of %d: %v", len(batch), err)
	}

	list, err := db.ListEvents(t.Context(), store.EventQuery{Limit: len(batch) + 1})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if len(list) != len(batch) {
		t.Errorf("%d events, want %d", len(list), len(batch))
	}

	// A refused event in the last statement takes the first two back too.
	batch[len(batch)-1].Action = "code.steal"
	if err := db.AppendEvents(t.Context(), batch); err == nil {
		t.Fatal("AppendEvents with a refused event succeeded")
	}
	list, err = db.ListEvents(t.Context(), store.EventQuery{Limit: 2*len(batch) + 1})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if len(list) != len(batch) {
		t.Errorf("%d events after a refused batch, want %d", len(list), len(batch))
	}
}

func TestTokenIDsStoredCanonical(t *testing.T) {
	t.Parallel()

	db := openMigrated(t, newPath(t))
	tok := newToken("upper")
	lower := tok.ID
	tok.ID = "{" + strings.ToUpper(lower) + "}"

	created, err := db.CreateToken(t.Context(), tok, createEvent(newEndpoint("x")))
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if created.ID != lower {
		t.Errorf("ID = %q, want %q", created.ID, lower)
	}
	if _, err := db.GetToken(t.Context(), strings.ToUpper(lower)); err != nil {
		t.Errorf("GetToken in upper case: %v", err)
	}

	tok = newToken("not a UUID")
	tok.ID = "ops"
	if _, err := db.CreateToken(t.Context(), tok, createEvent(newEndpoint("x"))); err == nil {
		t.Error("CreateToken of an ID that is not a UUID succeeded")
	}
}

func TestLabelKeysTakenLiterally(t *testing.T) {
	t.Parallel()

	// Keys that a JSON path would read as syntax.
	odd := map[string]string{
		"a.b": "1", `quo"te`: "2", "$": "3", "sp ace": "4", "[0]": "5", "": "6",
	}

	db := openMigrated(t, newPath(t))
	e := newEndpoint("odd-labels")
	e.Labels = odd
	if _, err := db.CreateEndpoint(t.Context(), e, createEvent(e)); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	plain := newEndpoint("plain-labels")
	plain.Labels = map[string]string{"a": "1", "b": "1", "a.b": "2"}
	if _, err := db.CreateEndpoint(t.Context(), plain, createEvent(plain)); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}

	for k, v := range odd {
		q := store.EndpointQuery{Labels: map[string]string{k: v}, Limit: 10}

		list, err := db.ListEndpoints(t.Context(), q)
		if err != nil {
			t.Fatalf("ListEndpoints(%q: %q): %v", k, v, err)
		}
		if len(list) != 1 || list[0].Name != e.Name {
			t.Errorf("label %q: %q found %d endpoints, want only %s", k, v, len(list), e.Name)
		}
	}

	q := store.EndpointQuery{Labels: odd, Limit: 10}
	list, err := db.ListEndpoints(t.Context(), q)
	if err != nil {
		t.Fatalf("ListEndpoints(every odd label): %v", err)
	}
	if len(list) != 1 || list[0].Name != e.Name {
		t.Errorf("every odd label found %d endpoints, want only %s", len(list), e.Name)
	}
}

func TestPrefixOfHighBytes(t *testing.T) {
	t.Parallel()

	db := openMigrated(t, newPath(t))
	for _, name := range []string{"a", "a\xfe", "a\xff", "a\xff\xff", "a\xffz", "b", "\xff", "\xff\xff"} {
		e := newEndpoint(name)
		if _, err := db.CreateEndpoint(t.Context(), e, createEvent(e)); err != nil {
			t.Fatalf("CreateEndpoint(%q): %v", name, err)
		}
	}

	tests := []struct {
		prefix string
		want   []string
	}{
		{"a", []string{"a", "a\xfe", "a\xff", "a\xffz", "a\xff\xff"}},
		{"a\xff", []string{"a\xff", "a\xffz", "a\xff\xff"}},
		{"a\xff\xff", []string{"a\xff\xff"}},
		{"\xff", []string{"\xff", "\xff\xff"}},
		{"\xff\xff", []string{"\xff\xff"}},
	}

	for _, tt := range tests {
		list, err := db.ListEndpoints(t.Context(), store.EndpointQuery{Prefix: tt.prefix, Limit: 10})
		if err != nil {
			t.Fatalf("ListEndpoints(%q): %v", tt.prefix, err)
		}

		var got []string
		for _, e := range list {
			got = append(got, e.Name)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("prefix %q: names %q, want %q", tt.prefix, got, tt.want)
		}
	}
}

func TestEventListsUseIndexes(t *testing.T) {
	t.Parallel()

	db := openMigrated(t, newPath(t))
	before := &store.EventKey{Time: base, ID: "7"}

	queries := map[string]store.EventQuery{
		"everything":      {Before: before},
		"an endpoint":     {Endpoint: "o365-alice", Since: base, Before: before},
		"an action":       {Action: store.ActionCodeRead, Until: base, Before: before},
		"a token":         {TokenID: store.NewID(), Before: before},
		"since and until": {Since: base, Until: base.Add(time.Hour)},
	}

	for name, q := range queries {
		q.Limit = 100
		query, args, _ := eventListQuery(q)

		plan := queryPlan(t, db, query, args...)
		if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "INDEX") {
			t.Errorf("%s: plan %q sorts or reads no index", name, plan)
		}
	}
}

// queryPlan returns what EXPLAIN QUERY PLAN says of query, one step a line.
func queryPlan(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()

	rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
	}
	defer rows.Close()

	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("scan the plan: %v", err)
		}
		plan = append(plan, detail)
	}

	return strings.Join(plan, "\n")
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		prefix, end string
		ok          bool
	}{
		{"a", "b", true},
		{"o365-", "o365.", true},
		{"a_", "a`", true},
		{"a\xff", "b", true},
		{"a\xfe\xff\xff", "a\xff", true},
		{"\xff", "", false},
		{"\xff\xff", "", false},
	}

	for _, tt := range tests {
		end, ok := prefixEnd(tt.prefix)
		if end != tt.end || ok != tt.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tt.prefix, end, ok, tt.end, tt.ok)
		}
	}
}

func TestHoldsEndpoints(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		setUp   func(t *testing.T, path string) *DB
		holds   bool
		unknown bool
	}{
		{"a store never migrated tells nothing", func(t *testing.T, path string) *DB {
			return open(t, path)
		}, false, true},
		{"a migrated store without endpoints holds none", func(t *testing.T, path string) *DB {
			return openMigrated(t, path)
		}, false, false},
		{"a store with an endpoint holds one", func(t *testing.T, path string) *DB {
			db := openMigrated(t, path)
			e := newEndpoint("held")
			if _, err := db.CreateEndpoint(t.Context(), e, createEvent(e)); err != nil {
				t.Fatalf("CreateEndpoint: %v", err)
			}
			return db
		}, true, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := tt.setUp(t, newPath(t))

			holds, err := db.HoldsEndpoints(t.Context())

			if unknown := errors.Is(err, store.ErrSchemaNotCurrent); unknown != tt.unknown {
				t.Fatalf("HoldsEndpoints: %v; want ErrSchemaNotCurrent: %v", err, tt.unknown)
			}
			if !tt.unknown && (err != nil || holds != tt.holds) {
				t.Errorf("HoldsEndpoints = %v, %v; want %v", holds, err, tt.holds)
			}
		})
	}
}

func TestClaimedStepsHoldsTheClaimedEndpointsOnly(t *testing.T) {
	t.Parallel()
	db := openMigrated(t, newPath(t))

	for _, name := range []string{"claimed", "unclaimed"} {
		e := newEndpoint(name)
		if _, err := db.CreateEndpoint(t.Context(), e, createEvent(e)); err != nil {
			t.Fatalf("CreateEndpoint: %v", err)
		}
	}
	claimed, err := db.GetEndpoint(t.Context(), "claimed")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := db.ClaimStep(t.Context(), claimed, 1000, 2000); err != nil {
			t.Fatalf("ClaimStep: %v", err)
		}
	}

	steps, err := db.ClaimedSteps(t.Context())

	want := map[string]int64{"claimed": 1001}
	if err != nil || !maps.Equal(steps, want) {
		t.Errorf("ClaimedSteps = %v, %v; want %v", steps, err, want)
	}
}

func BenchmarkTokenAndEndpoint(b *testing.B) {
	db := openMigrated(b, newPath(b))
	e := newEndpoint("o365-bench")
	if _, err := db.CreateEndpoint(b.Context(), e, createEvent(e)); err != nil {
		b.Fatalf("CreateEndpoint: %v", err)
	}
	tok := newToken("bench")
	if _, err := db.CreateToken(b.Context(), tok, createEvent(e)); err != nil {
		b.Fatalf("CreateToken: %v", err)
	}

	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, got, err := db.TokenAndEndpoint(b.Context(), tok.Hash, e.Name)
			if err != nil || got == nil {
				b.Errorf("TokenAndEndpoint: %v, %v", got, err)
				return
			}
		}
	})
}

func BenchmarkAppendEvents64(b *testing.B) {
	db := openMigrated(b, newPath(b))
	batch := make([]store.Event, 64)
	for i := range batch {
		batch[i] = newEvent(strconv.Itoa(i))
	}

	b.ReportAllocs()
	for b.Loop() {
		if err := db.AppendEvents(b.Context(), batch); err != nil {
			b.Fatalf("AppendEvents: %v", err)
		}
	}
}

// race calls f(0) to f(n-1) in n goroutines released at the same moment,
// and returns what each call returned.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})

	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()

	return errs
}

// allEvents returns every event of db, up to 10000, or stops t.
func allEvents(t testing.TB, db *DB) []store.Event {
	t.Helper()

	list, err := db.ListEvents(t.Context(), store.EventQuery{Limit: 10000})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}

	return list
}

// newEndpoint returns a valid endpoint called name, ready to be created.
func newEndpoint(name string) store.Endpoint {
	return store.Endpoint{
		ID:           store.NewID(),
		Name:         name,
		Algorithm:    "SHA1",
		Digits:       6,
		Period:       30,
		Labels:       map[string]string{"env": "prod"},
		SealedSecret: []byte("sealed:" + name),
		CreatedAt:    base,
		UpdatedAt:    base,
	}
}

// newToken returns a valid runner token, ready to be created.
func newToken(name string) store.Token {
	id := store.NewID()
	hash := sha256.Sum256([]byte("value of " + id))

	return store.Token{
		ID:        id,
		Name:      name,
		Role:      store.RoleRunner,
		Scopes:    []string{"o365-*"},
		Hash:      hash[:],
		CreatedAt: base,
	}
}

// createEvent returns the event that records the creation of e.
func createEvent(e store.Endpoint) store.Event {
	return store.Event{
		Time:     base,
		Action:   store.ActionEndpointCreate,
		Outcome:  store.OutcomeSuccess,
		Endpoint: e.Name,
	}
}

// newEvent returns a code read whose RequestID is requestID.
func newEvent(requestID string) store.Event {
	return store.Event{
		Time:       base,
		Action:     store.ActionCodeRead,
		Outcome:    store.OutcomeSuccess,
		Endpoint:   "o365-alice",
		TokenID:    "0190f3a1-7c2e-7b3d-9a4e-5f6a7b8c9d0e",
		RemoteAddr: "192.0.2.7",
		RequestID:  requestID,
	}
}
